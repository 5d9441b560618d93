//! Typed helpers for a real Atrium server's HTTP endpoints, one per endpoint.

use atrium_proto::paths;
use reqwest::Response;
use serde_json::Value;

use crate::browser::send;
use crate::urls::query_param;
use crate::{http, Authorize, Browser, Pkce, REDIRECT};

/// A registered app's credentials.
#[derive(Clone, Debug)]
pub struct TestClient {
    pub client_id: String,
    /// `None` for a public client.
    pub secret: Option<String>,
}

/// The redirect URI and client id of Atrium's own desktop client.
pub const DESKTOP_REDIRECT: &str = "atrium://oauth/callback";
pub const DESKTOP_CLIENT: &str = "atrium-desktop";

/// A real Atrium server, by its base URL (the issuer).
#[derive(Clone, Debug)]
pub struct Atrium {
    pub base: String,
}

impl Atrium {
    pub fn new(base: &str) -> Atrium {
        Atrium {
            base: base.to_string(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A browser signed in as `username` (checked).
    pub async fn signed_in(&self, username: &str, password: &str) -> Browser {
        let b = Browser::new(&self.base);
        b.sign_in(username, password).await;
        b
    }

    /// `POST /oauth2/token` with `form` and the client's credentials in the form
    /// (`client_secret_post`; only `client_id` for a public client).
    pub async fn token(&self, client: &TestClient, form: &[(&str, &str)]) -> Response {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("client_id", &client.client_id));
        if let Some(s) = &client.secret {
            fields.push(("client_secret", s));
        }
        send(
            http().post(self.url(paths::TOKEN)).form(&fields),
            "POST /oauth2/token",
        )
        .await
    }

    /// The authorization-code grant with the kit's [`REDIRECT`]: the server's answer.
    pub async fn try_exchange(
        &self,
        client: &TestClient,
        code: &str,
        verifier: Option<&str>,
    ) -> Response {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier", v));
        }
        self.token(client, &form).await
    }

    /// The authorization-code grant, checked to succeed: the token response.
    pub async fn exchange(&self, client: &TestClient, code: &str, verifier: Option<&str>) -> Value {
        let res = self.try_exchange(client, code, verifier).await;
        assert_eq!(res.status(), 200, "token exchange failed");
        res.json().await.expect("a JSON token response")
    }

    /// The refresh-token grant.
    pub async fn refresh(&self, client: &TestClient, refresh_token: &str) -> Response {
        self.token(
            client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    /// The client-credentials grant, with a scope or without.
    pub async fn client_credentials(&self, client: &TestClient, scope: Option<&str>) -> Response {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        self.token(client, &form).await
    }

    /// `POST /oauth2/revoke` (RFC 7009) with `client_secret_basic`.
    pub async fn revoke(&self, client: &TestClient, token: &str, hint: Option<&str>) -> Response {
        let mut form = vec![("token", token)];
        if let Some(h) = hint {
            form.push(("token_type_hint", h));
        }
        send(
            http()
                .post(self.url(paths::REVOKE))
                .basic_auth(&client.client_id, client.secret.as_ref())
                .form(&form),
            "POST /oauth2/revoke",
        )
        .await
    }

    /// `POST /oauth2/introspect` (RFC 7662) with `client_secret_basic`.
    pub async fn introspect(&self, client: &TestClient, token: &str) -> Response {
        send(
            http()
                .post(self.url(paths::INTROSPECT))
                .basic_auth(&client.client_id, client.secret.as_ref())
                .form(&[("token", token)]),
            "POST /oauth2/introspect",
        )
        .await
    }

    /// Runs the CODE flow in `browser` (signed in) to the end of consent, with the state
    /// `xyz`; returns the code.
    pub async fn code_for(
        &self,
        browser: &Browser,
        client: &TestClient,
        scope: &str,
        pkce: Option<&Pkce>,
    ) -> String {
        let mut request = Authorize::code(&client.client_id).scope(scope).state("xyz");
        if let Some(p) = pkce {
            request = request.pkce(p);
        }
        let location = browser.authorize_and_allow(&request).await;
        query_param(&location, "code").expect("a code in the redirect")
    }

    /// A first-party token (Atrium's desktop client, scope `dashboard`) for the user signed in
    /// to `browser`, got the way the desktop gets it: authorization code with PKCE and the
    /// deep-link redirect URI, after "Continue" on the page that names the account.
    pub async fn desktop_token(&self, browser: &Browser) -> String {
        let pkce = Pkce::new();
        let request = Authorize::code(DESKTOP_CLIENT)
            .redirect_uri(DESKTOP_REDIRECT)
            .scope("dashboard profile")
            .state("desk")
            .pkce(&pkce);
        let page = browser.consent_page(&request).await;
        assert!(
            page.contains("to the Atrium app?"),
            "not the desktop's sign-in page: {page}"
        );
        let loc = browser.decide_to(&page, "allow", &[]).await;
        assert!(loc.starts_with("atrium://oauth/callback?"), "{loc}");
        let code = query_param(&loc, "code").expect("a code for the desktop");
        let res = send(
            http().post(self.url(paths::TOKEN)).form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", DESKTOP_REDIRECT),
                ("client_id", DESKTOP_CLIENT),
                ("code_verifier", &pkce.verifier),
            ]),
            "POST /oauth2/token",
        )
        .await;
        assert_eq!(res.status(), 200, "the desktop's code exchange");
        let t: Value = res.json().await.expect("a JSON token response");
        t["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no desktop token: {t}"))
            .to_string()
    }

    /// `GET path` with a bearer token (the resource API).
    pub async fn api(&self, path: &str, token: &str) -> Response {
        send(http().get(self.url(path)).bearer_auth(token), path).await
    }

    /// Any method on `path` with a bearer token and an optional JSON body (the dashboard and
    /// developer APIs).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Response {
        let method: reqwest::Method = method.parse().expect("an HTTP method");
        let mut req = http().request(method, self.url(path)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        send(req, path).await
    }

    /// `POST /api/dashboard/installs`: the user allows an install from the dashboard.
    pub async fn install(&self, token: &str, request: Value) -> Response {
        self.call("POST", paths::INSTALLS, token, Some(request))
            .await
    }
}

/// Checks that `res` is an OAuth error response (RFC 6749 §5.2, RFC 7009, RFC 6750 shapes: a
/// 4xx with a JSON `error`) naming `error`; returns the body for further checks.
pub async fn assert_oauth_error(res: Response, error: &str) -> Value {
    let status = res.status();
    let text = res.text().await.expect("an error body");
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("expected a JSON {error} error, got {status}: {text}"));
    assert_eq!(body["error"], error, "{status}: {body}");
    assert!(
        status.is_client_error(),
        "an {error} error must be a 4xx, got {status}: {body}"
    );
    body
}
