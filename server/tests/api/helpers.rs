//! `spawn_app()`: a real server on 127.0.0.1:0 with a fresh SQLite file, plus typed helpers:
//! seeding users, companies and apps, and a scripted browser for the HTML pages.

use std::sync::Arc;

use atrium_server::apps::AppRegistration;
use atrium_server::config::Settings;
use atrium_server::db::Db;
use atrium_server::domain::password;
use atrium_server::startup::Application;
use atrium_server::store::sqlite::SqliteStore;
use atrium_server::store::{NewUser, Store};
use atrium_server::webhooks::egress::Egress;
use atrium_server::webhooks::Policy;
use base64::Engine;
use reqwest::Response;
use sha2::Digest;

pub const PASSWORD: &str = "correct horse battery";
pub const REDIRECT: &str = "https://app.example/callback";

pub struct TestApp {
    /// The issuer (public base URL).
    pub base: String,
    /// Where the server listens (differs from `base` when a public URL is configured).
    pub addr: std::net::SocketAddr,
    pub store: Arc<dyn Store>,
    pub db: Db,
    pub db_path: std::path::PathBuf,
    dir: tempfile::TempDir,
    policy: Policy,
    egress: Egress,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<()>,
}

/// A registered app's credentials.
#[derive(Clone, Debug)]
pub struct TestClient {
    pub client_id: String,
    pub secret: Option<String>,
}

/// A server with the default settings: webhooks only to public https addresses.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Policy::default()).await
}

/// A server whose install notifications follow `policy`.
pub async fn spawn_app_with(policy: Policy) -> TestApp {
    spawn_app_in(
        tempfile::tempdir().expect("temp dir"),
        policy,
        Egress::default(),
    )
    .await
}

/// A server whose operator allows webhooks to loopback and private addresses
/// (`--allow-private-webhooks`): for tests with a webhook receiver on 127.0.0.1.
pub async fn spawn_app_allowing_private_webhooks(policy: Policy) -> TestApp {
    spawn_app_in(
        tempfile::tempdir().expect("temp dir"),
        policy,
        Egress {
            allow_private: true,
        },
    )
    .await
}

/// A server whose settings `configure` adjusts.
pub async fn spawn_app_configured(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_in_with(
        tempfile::tempdir().expect("temp dir"),
        Policy::default(),
        Egress::default(),
        configure,
    )
    .await
}

/// A server on the database in `dir` (kept across [`TestApp::restart`]).
async fn spawn_app_in(dir: tempfile::TempDir, policy: Policy, egress: Egress) -> TestApp {
    spawn_app_in_with(dir, policy, egress, |_| {}).await
}

async fn spawn_app_in_with(
    dir: tempfile::TempDir,
    policy: Policy,
    egress: Egress,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        atrium_server::telemetry::init("debug");
    }
    let mut settings = Settings::new(dir.path().join("atrium.db"));
    settings.addr = "127.0.0.1:0".parse().unwrap();
    settings.webhook_policy = policy.clone();
    settings.egress = egress;
    configure(&mut settings);
    let app = Application::build(&settings).await.expect("server builds");
    let base = app.issuer().to_string();
    let addr = app.addr();
    let db = app.db().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    TestApp {
        base,
        addr,
        store: Arc::new(SqliteStore::new(db.clone())),
        db,
        db_path: settings.db_path,
        dir,
        policy,
        egress,
        stop: tx,
        served,
    }
}

impl TestApp {
    /// Stops the server (as SIGTERM would) and starts a new one on the same database and key
    /// file, with the same settings, on a new port.
    pub async fn restart(self) -> TestApp {
        let _ = self.stop.send(());
        let _ = self.served.await;
        spawn_app_in(self.dir, self.policy, self.egress).await
    }

    /// A first-party token (Atrium's desktop client, scope `dashboard`) for `username`, got the
    /// way the desktop gets it: authorization code with PKCE and a deep-link redirect URI.
    pub async fn dashboard_token(&self, username: &str) -> String {
        let browser = self.browser(username).await;
        let pkce = Pkce::new();
        let res = browser
            .authorize(&[
                ("response_type", "code"),
                ("client_id", "atrium-desktop"),
                ("redirect_uri", "atrium://oauth/callback"),
                ("scope", "dashboard profile"),
                ("state", "desk"),
                ("code_challenge", &pkce.challenge),
                ("code_challenge_method", "S256"),
            ])
            .await;
        assert_eq!(res.status(), 200, "the desktop's sign-in page");
        let page = res.text().await.unwrap();
        let res = browser.decide(&page, "allow", &[]).await;
        assert_eq!(res.status(), 303, "continue signs the desktop in");
        let loc = location(&res);
        assert!(loc.starts_with("atrium://oauth/callback?"), "{loc}");
        let code = query_param(&loc, "code").unwrap();
        let res = http()
            .post(self.url("/oauth2/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "atrium://oauth/callback"),
                ("client_id", "atrium-desktop"),
                ("code_verifier", &pkce.verifier),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let t: serde_json::Value = res.json().await.unwrap();
        t["access_token"].as_str().unwrap().to_string()
    }

    /// Calls the first-party API with a dashboard token.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> Response {
        let mut req = http()
            .request(method.parse().unwrap(), self.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn user(&self, name: &str) -> i64 {
        self.store
            .create_user(NewUser {
                username: name.into(),
                email: Some(format!("{name}@example.com")),
                display_name: format!("{name} display"),
                password_hash: password::hash(PASSWORD),
            })
            .await
            .unwrap()
    }

    pub async fn company(&self, name: &str, owner: i64) -> i64 {
        self.store.create_company(name, owner, None).await.unwrap()
    }

    /// Registers an app owned by `developer` with one redirect URI ([`REDIRECT`]).
    pub async fn register(
        &self,
        developer: i64,
        scopes: &str,
        code: bool,
        token: bool,
        public: bool,
    ) -> TestClient {
        let reg = atrium_server::apps::register(
            developer,
            AppRegistration {
                name: "Test App".into(),
                description: "An app for tests".into(),
                redirect_uris: vec![REDIRECT.to_string()],
                iframe_url: Some("https://app.example/ui".into()),
                install_url: (public && code).then(|| "https://app.example/install".into()),
                scopes: scopes.into(),
                allow_code: code,
                allow_token: token,
                public,
                ..AppRegistration::default()
            },
            Egress::default(),
        )
        .unwrap();
        let client_id = reg.app.client_id.clone();
        self.store.create_app(reg.app, None).await.unwrap();
        TestClient {
            client_id,
            secret: reg.client_secret.map(|s| s.expose().to_string()),
        }
    }

    /// A browser signed in as `username`.
    pub async fn browser(&self, username: &str) -> Browser {
        let b = Browser::new(&self.base);
        b.login(username, PASSWORD).await;
        b
    }

    /// POSTs a form to the token endpoint with client_secret_post.
    pub async fn token(&self, client: &TestClient, form: &[(&str, &str)]) -> Response {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("client_id", &client.client_id));
        if let Some(s) = &client.secret {
            fields.push(("client_secret", s));
        }
        http()
            .post(self.url("/oauth2/token"))
            .form(&fields)
            .send()
            .await
            .unwrap()
    }

    /// GET an API path with a bearer token.
    pub async fn api(&self, path: &str, token: &str) -> Response {
        http()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Runs the CODE flow to the end of consent and returns the code.
    pub async fn code_for(
        &self,
        browser: &Browser,
        client: &TestClient,
        scope: &str,
        pkce: Option<&Pkce>,
    ) -> String {
        let mut q = vec![
            ("response_type", "code"),
            ("client_id", client.client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "xyz"),
        ];
        if let Some(p) = pkce {
            q.push(("code_challenge", &p.challenge));
            q.push(("code_challenge_method", "S256"));
        }
        let location = browser.authorize_and_allow(&q).await;
        query_param(&location, "code").expect("a code in the redirect")
    }

    /// Exchanges a code (confidential client, client_secret_post).
    pub async fn exchange(
        &self,
        client: &TestClient,
        code: &str,
        verifier: Option<&str>,
    ) -> serde_json::Value {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier", v));
        }
        let res = self.token(client, &form).await;
        assert_eq!(res.status(), 200, "token exchange failed");
        res.json().await.unwrap()
    }
}

/// A reqwest client that follows no redirect.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A PKCE pair.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Pkce {
        let verifier = format!("{}-verifier-of-enough-length-for-rfc7636", rand_tag());
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes()));
        Pkce {
            verifier,
            challenge,
        }
    }
}

fn rand_tag() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// A scripted user agent with a cookie jar.
pub struct Browser {
    pub client: reqwest::Client,
    base: String,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_string(),
        }
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        let page = self
            .client
            .get(format!("{}/login", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut fields = hidden_inputs(&page);
        fields.push(("username".into(), username.into()));
        fields.push(("password".into(), password.into()));
        self.client
            .post(format!("{}/login", self.base))
            .form(&fields)
            .send()
            .await
            .unwrap()
    }

    pub async fn authorize(&self, query: &[(&str, &str)]) -> Response {
        self.client
            .get(format!("{}/oauth2/authorize", self.base))
            .query(query)
            .send()
            .await
            .unwrap()
    }

    /// Submits the consent form of `page` with `decision` and extra fields.
    pub async fn decide(&self, page: &str, decision: &str, extra: &[(&str, &str)]) -> Response {
        let mut fields = hidden_inputs(page);
        fields.push(("decision".into(), decision.into()));
        for (k, v) in extra {
            fields.retain(|(name, _)| name != k);
            fields.push((k.to_string(), v.to_string()));
        }
        self.client
            .post(format!("{}/oauth2/authorize", self.base))
            .form(&fields)
            .send()
            .await
            .unwrap()
    }

    /// GET /oauth2/authorize, expect the consent page, allow; returns the Location.
    pub async fn authorize_and_allow(&self, query: &[(&str, &str)]) -> String {
        let res = self.authorize(query).await;
        assert_eq!(res.status(), 200, "expected the consent page");
        let page = res.text().await.unwrap();
        assert!(page.contains("decision"), "not a consent page: {page}");
        let res = self.decide(&page, "allow", &[]).await;
        assert_eq!(res.status(), 303);
        location(&res)
    }
}

pub fn location(res: &Response) -> String {
    res.headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap()
        .to_string()
}

/// A query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The parameters of a URL's fragment.
pub fn fragment_params(url: &str) -> Vec<(String, String)> {
    let u = url::Url::parse(url).unwrap();
    url::form_urlencoded::parse(u.fragment().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The `<input type="hidden">` fields of a page, unescaped.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in html.split("<input type=\"hidden\" ").skip(1) {
        let attr = |name: &str| -> Option<String> {
            let start = chunk.find(&format!("{name}=\""))? + name.len() + 2;
            let end = chunk[start..].find('"')? + start;
            Some(unescape(&chunk[start..end]))
        };
        if let (Some(n), Some(v)) = (attr("name"), attr("value")) {
            out.push((n, v));
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
