//! `spawn_app()`: a real server on 127.0.0.1:0 with a fresh SQLite file (or, with
//! `spawn_app_on_postgres()`, a fresh PostgreSQL schema), and the seeding that
//! reaches into it (users, companies, apps straight into the store). Everything said over HTTP
//! — the typed endpoint helpers, the scripted browser, form parsing — is the test kit's
//! (`atrium-testkit`): a [`TestApp`] derefs to the kit's [`Atrium`] at its address.

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
pub use atrium_testkit::*;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    /// The kit's typed helpers at the issuer (public base URL): `app.base`, `app.exchange(..)`.
    pub atrium: Atrium,
    /// Where the server listens (differs from `base` when a public URL is configured).
    pub addr: std::net::SocketAddr,
    /// Where `GET /metrics` is served, when the settings asked for it.
    pub metrics_addr: Option<std::net::SocketAddr>,
    pub store: Arc<dyn Store>,
    /// The SQLite database (`None` on PostgreSQL): see [`TestApp::db`].
    sqlite: Option<Db>,
    pub db_path: std::path::PathBuf,
    /// The PostgreSQL schema the server runs in, if it does ([`spawn_app_on_postgres`]).
    postgres: Option<Arc<atrium_server::store::postgres::testing::Schema>>,
    dir: tempfile::TempDir,
    policy: Policy,
    egress: Egress,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<()>,
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

/// A server with the default settings on PostgreSQL, in a schema of its own in the test
/// database (`ATRIUM_TEST_POSTGRES_URL`): the switch that runs a flow on the second backend.
/// `None` (the test is skipped) when no test database is set, outside CI.
/// `allow_private`: webhooks may go to loopback (a receiver in the test).
pub async fn spawn_app_on_postgres(allow_private: bool) -> Option<TestApp> {
    spawn_app_on_postgres_configured(allow_private, |_| {}).await
}

/// [`spawn_app_on_postgres`], its settings adjusted by `configure`.
pub async fn spawn_app_on_postgres_configured(
    allow_private: bool,
    configure: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    use atrium_server::store::postgres::testing;
    let schema = testing::Schema::create(&testing::url()?)
        .await
        .expect("a test schema");
    let url = schema.url();
    let mut app = spawn_app_in_with(
        tempfile::tempdir().expect("temp dir"),
        Policy::default(),
        Egress { allow_private },
        move |s| {
            s.postgres = Some(url);
            configure(s)
        },
    )
    .await;
    app.postgres = Some(Arc::new(schema));
    Some(app)
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
        atrium_server::telemetry::init("debug", atrium_server::telemetry::LogFormat::Text);
    }
    let mut settings = Settings::new(dir.path().join("atrium.db"));
    settings.addr = "127.0.0.1:0".parse().unwrap();
    settings.webhook_policy = policy.clone();
    settings.egress = egress;
    configure(&mut settings);
    let egress = settings.egress;
    let app = Application::build(&settings).await.expect("server builds");
    let atrium = Atrium::new(app.issuer());
    let addr = app.addr();
    let metrics_addr = app.metrics_addr();
    let sqlite = app.db().cloned();
    // The seeding goes through a store of its own on SQLite (as another process would), and
    // through the server's own on PostgreSQL.
    let store: Arc<dyn Store> = match &sqlite {
        Some(db) => Arc::new(SqliteStore::new(db.clone())),
        None => app.store(),
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    TestApp {
        atrium,
        addr,
        metrics_addr,
        store,
        sqlite,
        db_path: settings.db_path,
        postgres: None,
        dir,
        policy,
        egress,
        stop: tx,
        served,
    }
}

impl std::ops::Deref for TestApp {
    type Target = Atrium;

    fn deref(&self) -> &Atrium {
        &self.atrium
    }
}

impl TestApp {
    /// The SQLite database of the server (for the tests of what only SQLite has).
    pub fn db(&self) -> &Db {
        self.sqlite.as_ref().expect("a SQLite test server")
    }

    /// The server's key file (beside its SQLite file, or its data directory on PostgreSQL).
    pub fn key_path(&self) -> std::path::PathBuf {
        atrium_server::keys::key_path_for(&self.db_path)
    }

    /// The URL of the server's PostgreSQL schema, when it runs on one.
    pub fn postgres_url(&self) -> Option<String> {
        self.postgres.as_ref().map(|s| s.url())
    }

    /// Stops the server (as SIGTERM would) and starts a new one on the same database and key
    /// file, with the same settings, on a new port.
    pub async fn restart(self) -> TestApp {
        self.restart_with(|_| {}).await
    }

    /// [`TestApp::restart`], on the same address: the issuer stays the same, as a real
    /// server's does across restarts.
    pub async fn restart_at_same_address(self) -> TestApp {
        let addr = self.addr;
        self.restart_with(move |s| s.addr = addr).await
    }

    /// Stops the server and starts a new one on the same database (SQLite file or PostgreSQL
    /// schema) and key file, its settings adjusted by `configure`.
    async fn restart_with(self, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let _ = self.stop.send(());
        let _ = self.served.await;
        let postgres = self.postgres;
        let url = postgres.as_ref().map(|s| s.url());
        let mut app = spawn_app_in_with(self.dir, self.policy, self.egress, move |s| {
            s.postgres = url;
            configure(s)
        })
        .await;
        app.postgres = postgres;
        app
    }

    /// Stops the server (as SIGTERM would), keeping its database, key file, settings and
    /// address, to start again on them ([`Stopped`]).
    pub async fn stop(self) -> Stopped {
        let _ = self.stop.send(());
        let _ = self.served.await;
        Stopped {
            db_path: self.db_path,
            addr: self.addr,
            dir: self.dir,
            policy: self.policy,
            egress: self.egress,
        }
    }

    /// A first-party token (Atrium's desktop client, scope `dashboard`) for `username`, got the
    /// way the desktop gets it (see [`Atrium::desktop_token`]).
    pub async fn dashboard_token(&self, username: &str) -> String {
        self.desktop_token(&self.browser(username).await).await
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

    /// Registers `app`, owned by `developer`, straight into the store.
    pub async fn register(&self, developer: i64, app: AppSpec) -> TestClient {
        let reg = atrium_server::apps::register(
            developer,
            AppRegistration {
                name: app.name,
                description: app.description,
                redirect_uris: app.redirect_uris,
                iframe_url: app.iframe_url,
                webhook_url: app.webhook_url,
                install_url: app.install_url,
                scopes: app.scopes,
                allow_code: app.allow_code,
                allow_token: app.allow_token,
                public: app.public,
                ..AppRegistration::default()
            },
            self.egress,
        )
        .unwrap();
        let client_id = reg.app.client_id.clone();
        self.store.create_app(reg.app, None).await.unwrap();
        TestClient {
            client_id,
            secret: reg.client_secret.map(|s| s.expose().to_string()),
        }
    }

    /// The common start of a grant: users `dev` and `alice` (in that order); `dev` registers
    /// `spec`; `alice` signs in and allows it `scope` (CODE, no PKCE). Returns the app's
    /// credentials and the code.
    pub async fn alice_allows(&self, spec: AppSpec, scope: &str) -> (TestClient, String) {
        let dev = self.user("dev").await;
        self.user("alice").await;
        let client = self.register(dev, spec).await;
        let browser = self.browser("alice").await;
        let code = self.code_for(&browser, &client, scope, None).await;
        (client, code)
    }

    /// A browser signed in as `username` (with [`PASSWORD`]).
    pub async fn browser(&self, username: &str) -> Browser {
        self.signed_in(username, PASSWORD).await
    }
}

/// A stopped server's files and settings ([`TestApp::stop`]).
pub struct Stopped {
    /// The SQLite database it ran on; its key file is beside it.
    pub db_path: std::path::PathBuf,
    addr: std::net::SocketAddr,
    dir: tempfile::TempDir,
    policy: Policy,
    egress: Egress,
}

impl Stopped {
    /// Starts a server on PostgreSQL in `schema`, with the stopped one's key file, settings and
    /// address (so its issuer, and a browser's cookies for it, stay the same).
    pub async fn start_on_postgres(
        self,
        schema: atrium_server::store::postgres::testing::Schema,
    ) -> TestApp {
        let (url, addr) = (schema.url(), self.addr);
        let mut app = spawn_app_in_with(self.dir, self.policy, self.egress, move |s| {
            s.postgres = Some(url);
            s.addr = addr;
        })
        .await;
        app.postgres = Some(Arc::new(schema));
        app
    }
}
