//! An unmodified third-party client — the `oauth2` crate — completes every flow against the
//! real server. Only the HTTP transport is ours (reqwest), as the crate expects.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl,
    RefreshToken, RevocationUrl, Scope, StandardRevocableToken, TokenResponse, TokenUrl,
};

use crate::helpers::*;

#[derive(Debug)]
pub(crate) struct TransportError(String);

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TransportError {}

/// The oauth2 crate's async HTTP client contract, over reqwest (redirects off).
pub(crate) async fn transport(
    req: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, TransportError> {
    let err = |e: reqwest::Error| TransportError(e.to_string());
    let (parts, body) = req.into_parts();
    let res = http()
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .map_err(err)?;
    let mut builder = oauth2::http::Response::builder().status(res.status());
    for (k, v) in res.headers() {
        builder = builder.header(k, v);
    }
    let bytes = res.bytes().await.map_err(err)?;
    builder
        .body(bytes.to_vec())
        .map_err(|e| TransportError(e.to_string()))
}

fn endpoints(
    app: &TestApp,
    client: &TestClient,
) -> (
    AuthUrl,
    TokenUrl,
    RevocationUrl,
    RedirectUrl,
    ClientId,
    Option<ClientSecret>,
) {
    (
        AuthUrl::new(app.url("/oauth2/authorize")).unwrap(),
        TokenUrl::new(app.url("/oauth2/token")).unwrap(),
        RevocationUrl::new(app.url("/oauth2/revoke")).unwrap(),
        RedirectUrl::new(REDIRECT.into()).unwrap(),
        ClientId::new(client.client_id.clone()),
        client.secret.clone().map(ClientSecret::new),
    )
}

/// Lets the scripted browser follow the authorization URL the crate built, and allow it.
async fn consent(app: &TestApp, authorize_url: &url::Url) -> (String, String) {
    let browser = app.browser("alice").await;
    let query: Vec<(String, String)> = authorize_url.query_pairs().into_owned().collect();
    let q: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let loc = browser.authorize_and_allow(&q).await;
    (
        query_param(&loc, "code").unwrap(),
        query_param(&loc, "state").unwrap(),
    )
}

#[tokio::test]
async fn the_oauth2_crate_completes_code_refresh_and_revocation_as_a_confidential_client() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    app.user("alice").await;
    let registered = app.register(dev, AppSpec::code("profile email")).await;
    let (auth, token, revoke, redirect, id, secret) = endpoints(&app, &registered);
    let client = BasicClient::new(id)
        .set_client_secret(secret.unwrap())
        .set_auth_uri(auth)
        .set_token_uri(token)
        .set_revocation_url(revoke)
        .set_redirect_uri(redirect);

    let (url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("profile".into()))
        .url();
    let (code, state) = consent(&app, &url).await;
    assert_eq!(&state, csrf.secret());

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&transport)
        .await
        .expect("code exchange");
    let access = tokens.access_token().secret().clone();
    assert_eq!(app.api("/api/username", &access).await.status(), 200);
    assert_eq!(tokens.scopes().unwrap()[0].as_str(), "profile");

    // Refresh with rotation.
    let refresh = tokens.refresh_token().unwrap().clone();
    let rotated = client
        .exchange_refresh_token(&refresh)
        .request_async(&transport)
        .await
        .expect("refresh");
    let new_refresh = rotated.refresh_token().unwrap().clone();
    assert_ne!(new_refresh.secret(), refresh.secret());
    // Once the new refresh token is used, the old one is reuse (until then, and within the
    // reuse interval, it would be taken for a retry of a lost answer).
    client
        .exchange_refresh_token(&new_refresh)
        .request_async(&transport)
        .await
        .expect("second refresh");
    let replay = client
        .exchange_refresh_token(&RefreshToken::new(refresh.secret().clone()))
        .request_async(&transport)
        .await;
    assert!(
        replay.is_err(),
        "a rotated refresh token must not work twice"
    );

    // Revocation of a fresh grant's access token.
    let (url, _) = client.authorize_url(CsrfToken::new_random).url();
    let (code, _) = consent(&app, &url).await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&transport)
        .await
        .unwrap();
    let access = tokens.access_token().clone();
    // The crate insists on https for RFC 7009 revocation (§2: "MUST use TLS") and these tests
    // speak plain HTTP on loopback, so the revocation request itself is sent by hand, in the
    // crate's shape (client_secret_basic, token + token_type_hint).
    let refused = client.revoke_token(StandardRevocableToken::AccessToken(access.clone()));
    assert!(
        refused.is_err(),
        "the crate refuses a plain-HTTP revocation endpoint"
    );
    let res = http()
        .post(app.url("/oauth2/revoke"))
        .basic_auth(&registered.client_id, registered.secret.as_ref())
        .form(&[
            ("token", access.secret().as_str()),
            ("token_type_hint", "access_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.api("/api/username", access.secret()).await.status(),
        401
    );
}

#[tokio::test]
async fn the_oauth2_crate_completes_code_with_pkce_as_a_public_client() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    app.user("alice").await;
    let registered = app.register(dev, AppSpec::code("profile").public()).await;
    let (auth, token, _, redirect, id, _) = endpoints(&app, &registered);
    let client = BasicClient::new(id)
        .set_auth_uri(auth)
        .set_token_uri(token)
        .set_redirect_uri(redirect);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let (code, _) = consent(&app, &url).await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&transport)
        .await
        .expect("PKCE exchange");
    let res = app
        .api("/api/username", tokens.access_token().secret())
        .await;
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["username"],
        "alice"
    );
}

#[tokio::test]
async fn the_oauth2_crate_gets_client_credentials_tokens() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    let registered = app.register(dev, AppSpec::code("profile email")).await;
    let (auth, token, _, _, id, secret) = endpoints(&app, &registered);
    let client = BasicClient::new(id)
        .set_client_secret(secret.unwrap())
        .set_auth_uri(auth)
        .set_token_uri(token);
    let tokens = client
        .exchange_client_credentials()
        .add_scope(Scope::new("email".into()))
        .request_async(&transport)
        .await
        .expect("client credentials");
    assert!(tokens.access_token().secret().starts_with("atr_at_"));
    assert!(tokens.refresh_token().is_none());
}
