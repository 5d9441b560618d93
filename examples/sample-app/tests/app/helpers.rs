//! `spawn()`: the sample app on 127.0.0.1:0 in front of a fake Atrium (also on port 0) that
//! issues tokens, answers the API, publishes signing keys and signs launch tokens — enough to
//! drive every page of the sample app without the real server.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use atrium_sample_app::config::{AppCredentials, Config, Secret};
use atrium_sample_app::{signature, unix_now, SampleApp, State};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use warp::http::StatusCode;
use warp::Filter;

pub const APP1: &str = "demo-app1";
pub const APP2: &str = "demo-app2";
pub const APP2_SECRET: &str = "atr_cs_app2_secret";
pub const WEBHOOK_SECRET_1: &str = "atr_wh_app1_secret";
pub const WEBHOOK_SECRET_2: &str = "atr_wh_app2_secret";

/// A user of the fake Atrium.
#[derive(Clone, Debug)]
pub struct User {
    pub username: String,
    pub company: Option<(i64, String)>,
}

pub fn demo_user(company: bool) -> User {
    User {
        username: "demo".into(),
        company: company.then(|| (1, "Demo Company".to_string())),
    }
}

/// A signing key of the fake Atrium.
pub struct Key {
    pub kid: String,
    encoding: EncodingKey,
    x: String,
}

impl Key {
    pub fn new(seed: u8, kid: &str) -> Key {
        let signing = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        let der = signing.to_pkcs8_der().expect("pkcs8");
        Key {
            kid: kid.into(),
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            x: URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes()),
        }
    }

    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": self.x, "kid": self.kid, "alg": "EdDSA", "use": "sig"})
    }

    pub fn sign(&self, claims: &serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("signs")
    }
}

/// A token request as received: its Authorization header and its form.
pub type TokenRequest = (Option<String>, HashMap<String, String>);

#[derive(Default)]
pub struct FakeState {
    /// access token → user
    pub tokens: Mutex<HashMap<String, User>>,
    /// refresh token → user
    pub refresh: Mutex<HashMap<String, User>>,
    /// code → user
    pub codes: Mutex<HashMap<String, User>>,
    /// code → the ID token its exchange returns
    pub id_tokens: Mutex<HashMap<String, String>>,
    pub jwks: Mutex<serde_json::Value>,
    pub jwks_fetches: AtomicUsize,
    pub issued: AtomicUsize,
    /// The last token request's Authorization header and form.
    pub last_token_request: Mutex<Option<TokenRequest>>,
    pub up: std::sync::atomic::AtomicBool,
    /// The OpenID Connect discovery document.
    pub discovery: Mutex<serde_json::Value>,
}

/// The fake Atrium.
pub struct FakeAtrium {
    pub url: String,
    pub state: Arc<FakeState>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl FakeAtrium {
    /// A code that the token endpoint will exchange for a token of `user`.
    pub fn code_for(&self, user: User) -> String {
        let code = format!("code-{}", self.state.issued.fetch_add(1, Ordering::SeqCst));
        self.state.codes.lock().unwrap().insert(code.clone(), user);
        code
    }

    /// A code whose exchange returns a token of `user` and `id_token`.
    pub fn code_with_id_token(&self, user: User, id_token: String) -> String {
        let code = self.code_for(user);
        self.state
            .id_tokens
            .lock()
            .unwrap()
            .insert(code.clone(), id_token);
        code
    }

    /// The claims of an ID token for App2 as a provider makes them, with `nonce`.
    pub fn id_claims(&self, nonce: &str) -> serde_json::Value {
        let now = unix_now();
        serde_json::json!({
            "iss": self.url, "sub": "7", "aud": APP2, "azp": APP2, "iat": now,
            "exp": now + 300, "auth_time": now - 60, "nonce": nonce,
            "preferred_username": "demo", "name": "Demo User",
        })
    }

    /// An access token of `user`, as the TOKEN method gives one.
    pub fn token_for(&self, user: User) -> String {
        let token = format!(
            "atr_at_{}",
            self.state.issued.fetch_add(1, Ordering::SeqCst)
        );
        self.state
            .tokens
            .lock()
            .unwrap()
            .insert(token.clone(), user);
        token
    }

    /// Revokes every access token (refresh tokens stay).
    pub fn revoke_access_tokens(&self) {
        self.state.tokens.lock().unwrap().clear();
    }

    pub fn publish(&self, keys: &[&Key]) {
        *self.state.jwks.lock().unwrap() =
            serde_json::json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() });
    }

    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    /// Launch claims for `app` as the real server makes them (each with a `jti` of its own).
    pub fn claims(&self, app: &str, exp_in: i64) -> serde_json::Value {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let now = unix_now();
        let jti = format!("lch_test_{}", NEXT.fetch_add(1, Ordering::SeqCst));
        serde_json::json!({
            "iss": self.url, "aud": app, "sub": "7", "username": "demo", "install": 3,
            "company": 1, "company_name": "Demo Company", "app": app,
            "iat": now, "exp": now + exp_in, "jti": jti,
        })
    }

    /// Makes every endpoint answer 503 (`false`) or work again (`true`).
    pub fn set_up(&self, up: bool) {
        self.state.up.store(up, Ordering::SeqCst);
    }
}

fn json(status: StatusCode, body: serde_json::Value) -> warp::reply::Response {
    use warp::Reply;
    warp::reply::with_status(warp::reply::json(&body), status).into_response()
}

fn bearer_user(state: &FakeState, auth: Option<String>) -> Option<User> {
    let token = auth.as_deref()?.strip_prefix("Bearer ")?;
    state.tokens.lock().unwrap().get(token).cloned()
}

fn invalid_token() -> warp::reply::Response {
    json(
        StatusCode::UNAUTHORIZED,
        serde_json::json!({"error": "invalid_token", "error_description": "the access token is unknown, expired or revoked"}),
    )
}

fn token_response(
    state: &FakeState,
    user: User,
    id_token: Option<String>,
) -> warp::reply::Response {
    let n = state.issued.fetch_add(1, Ordering::SeqCst);
    let (access, refresh) = (format!("atr_at_x{n}"), format!("atr_rt_x{n}"));
    state
        .tokens
        .lock()
        .unwrap()
        .insert(access.clone(), user.clone());
    state.refresh.lock().unwrap().insert(refresh.clone(), user);
    let mut body = serde_json::json!({"access_token": access, "token_type": "Bearer",
                                      "expires_in": 3600, "refresh_token": refresh,
                                      "scope": "profile company"});
    if let Some(t) = id_token {
        body["id_token"] = t.into();
    }
    json(StatusCode::OK, body)
}

fn token_endpoint(
    state: Arc<FakeState>,
    auth: Option<String>,
    form: HashMap<String, String>,
) -> warp::reply::Response {
    *state.last_token_request.lock().unwrap() = Some((auth.clone(), form.clone()));
    let expected = format!("Basic {}", STANDARD.encode(format!("{APP2}:{APP2_SECRET}")));
    if auth.as_deref() != Some(expected.as_str()) {
        return json(
            StatusCode::UNAUTHORIZED,
            serde_json::json!({"error": "invalid_client"}),
        );
    }
    let grant = |map: &Mutex<HashMap<String, User>>, key: &str| {
        form.get(key).and_then(|v| map.lock().unwrap().remove(v))
    };
    let id_token = form
        .get("code")
        .and_then(|c| state.id_tokens.lock().unwrap().remove(c));
    let user = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => grant(&state.codes, "code"),
        Some("refresh_token") => grant(&state.refresh, "refresh_token"),
        _ => None,
    };
    match user {
        Some(user) => token_response(&state, user, id_token),
        None => json(
            StatusCode::BAD_REQUEST,
            serde_json::json!({"error": "invalid_grant", "error_description": "the code is unknown, used or expired"}),
        ),
    }
}

pub async fn fake_atrium() -> FakeAtrium {
    let state = Arc::new(FakeState::default());
    state.up.store(true, Ordering::SeqCst);
    let s = state.clone();
    let with = move || {
        let s = s.clone();
        warp::any().map(move || s.clone())
    };
    let up = {
        let s = state.clone();
        warp::any()
            .and_then(move || {
                let up = s.up.load(Ordering::SeqCst);
                async move {
                    if up {
                        Ok::<_, warp::Rejection>(())
                    } else {
                        Err(warp::reject::custom(Down))
                    }
                }
            })
            .untuple_one()
    };
    let jwks = warp::path!(".well-known" / "jwks.json")
        .and(with())
        .map(|s: Arc<FakeState>| {
            s.jwks_fetches.fetch_add(1, Ordering::SeqCst);
            json(StatusCode::OK, s.jwks.lock().unwrap().clone())
        });
    let username = warp::path!("api" / "username")
        .and(with())
        .and(warp::header::optional("authorization"))
        .map(|s: Arc<FakeState>, auth| match bearer_user(&s, auth) {
            Some(u) => json(StatusCode::OK, serde_json::json!({"username": u.username})),
            None => invalid_token(),
        });
    let me = warp::path!("api" / "me")
        .and(with())
        .and(warp::header::optional("authorization"))
        .map(|s: Arc<FakeState>, auth| match bearer_user(&s, auth) {
            Some(u) => json(
                StatusCode::OK,
                serde_json::json!({"username": u.username, "display_name": "Demo User",
                                   "date_joined": "2026-01-01T00:00:00Z", "email": "demo@atrium.invalid"}),
            ),
            None => invalid_token(),
        });
    let company = warp::path!("api" / "company")
        .and(with())
        .and(warp::header::optional("authorization"))
        .map(|s: Arc<FakeState>, auth| match bearer_user(&s, auth) {
            Some(User {
                company: Some((id, name)),
                ..
            }) => json(StatusCode::OK, serde_json::json!({"id": id, "name": name})),
            Some(_) => json(
                StatusCode::FORBIDDEN,
                serde_json::json!({"error": "insufficient_scope"}),
            ),
            None => invalid_token(),
        });
    let discovery = warp::path!(".well-known" / "openid-configuration")
        .and(with())
        .map(|s: Arc<FakeState>| json(StatusCode::OK, s.discovery.lock().unwrap().clone()));
    let token = warp::path!("oauth2" / "token")
        .and(warp::post())
        .and(with())
        .and(warp::header::optional("authorization"))
        .and(warp::body::form())
        .map(token_endpoint);
    let routes = up
        .and(
            jwks.or(username)
                .unify()
                .or(me)
                .unify()
                .or(company)
                .unify()
                .or(token)
                .unify()
                .or(discovery)
                .unify(),
        )
        .recover(|r: warp::Rejection| async move {
            let status = if r.find::<Down>().is_some() {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::NOT_FOUND
            };
            Ok::<_, Infallible>(json(status, serde_json::json!({"error": "unavailable"})))
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    *state.discovery.lock().unwrap() = serde_json::json!({
        "issuer": url,
        "authorization_endpoint": format!("{url}/oauth2/authorize"),
        "token_endpoint": format!("{url}/oauth2/token"),
        "jwks_uri": format!("{url}/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "EdDSA"],
    });
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(
        warp::serve(routes)
            .incoming(listener)
            .graceful(async {
                let _ = rx.await;
            })
            .run(),
    );
    FakeAtrium {
        url,
        state,
        _stop: tx,
    }
}

#[derive(Debug)]
struct Down;
impl warp::reject::Reject for Down {}

/// The sample app, its fake Atrium and an HTTP client that follows no redirect.
pub struct TestApp {
    pub base: String,
    pub atrium: FakeAtrium,
    pub state: State,
    pub http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub async fn spawn() -> TestApp {
    let atrium = fake_atrium().await;
    let config = Config {
        server: atrium.url.clone(),
        addr: "127.0.0.1:0".parse().unwrap(),
        public_url: None,
        app1: AppCredentials {
            client_id: APP1.into(),
            client_secret: None,
            webhook_secret: Some(Secret::new(WEBHOOK_SECRET_1)),
        },
        app2: AppCredentials {
            client_id: APP2.into(),
            client_secret: Some(Secret::new(APP2_SECRET)),
            webhook_secret: Some(Secret::new(WEBHOOK_SECRET_2)),
        },
        probe: false,
        probe_bridge: false,
    };
    let app = SampleApp::bind(config).await.expect("the sample app binds");
    let base = format!("http://{}", app.addr());
    let state = app.state().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    TestApp {
        base,
        atrium,
        state,
        http: atrium_testkit::http(),
        _stop: tx,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let res = self.http.get(self.url(path)).send().await.unwrap();
        let status = StatusCode::from_u16(res.status().as_u16()).unwrap();
        let headers = res.headers().clone();
        (status, headers, res.text().await.unwrap())
    }

    /// Posts a launch token to `app`'s launch endpoint, as the page's script does.
    pub async fn launch(
        &self,
        app: &str,
        token: &str,
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let res = self
            .http
            .post(self.url(&format!("/{app}/launch")))
            .form(&[("atrium_launch", token)])
            .send()
            .await
            .unwrap();
        let status = StatusCode::from_u16(res.status().as_u16()).unwrap();
        let headers = res.headers().clone();
        (status, headers, res.text().await.unwrap())
    }

    /// POSTs a webhook body with a signature header (or none).
    pub async fn webhook(&self, body: &str, signature: Option<String>) -> (u16, serde_json::Value) {
        let mut req = self
            .http
            .post(self.url("/webhook"))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(s) = signature {
            req = req.header("atrium-signature", s);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Installs App2 through its callback, as Atrium's redirect would.
    pub async fn install_app2(&self, user: User) -> String {
        let code = self.atrium.code_for(user);
        let (status, _, page) = self
            .get(&format!(
                "/app2/callback?code={code}&state=st4te&iss={}",
                urlencode(&self.atrium.url)
            ))
            .await;
        assert_eq!(status, 200, "{page}");
        page
    }
}

/// `s` encoded for a query string.
pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A webhook event body.
pub fn event(id: &str, kind: &str, client_id: &str) -> String {
    serde_json::json!({
        "id": id, "type": kind, "created_at": unix_now(),
        "app": {"client_id": client_id}, "company": {"id": 1, "name": "Demo Company"},
        "user": {"username": "demo"}, "install_id": 1, "scopes": "profile email"
    })
    .to_string()
}

/// The header Atrium would send for `body` now.
pub fn signed(secret: &str, body: &str) -> Option<String> {
    Some(signature::sign(
        secret.as_bytes(),
        unix_now(),
        body.as_bytes(),
    ))
}
