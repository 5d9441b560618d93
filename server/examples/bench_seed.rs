//! Seeds a database for `cargo xtask bench` and prints what the load generator needs as JSON:
//! an access token, a confidential client, fresh authorization codes and refresh tokens (each
//! single-use), plus, with `--tokens N --users M`, N extra live access tokens and M extra users
//! so lookups can be measured against a large table. For the install flow, `--companies N`
//! makes the bench user owner of N companies and prints a desktop (`dashboard`) token for them.
//! For the event streams, `--stream-users N` adds a company of N members (owned by the bench
//! user), an app installed there with the `notifications` scope, and prints a desktop token per
//! member (`streams.dashboard_tokens`) and the install's token (`streams.notify_token`).
//!
//! `bench_seed DB_PATH [--codes N] [--refresh N] [--tokens N] [--users N] [--companies N]
//! [--stream-users N]`

mod common;
use common::arg;

use std::sync::Arc;

use atrium_server::apps::{register, AppRegistration};
use atrium_server::db::{Db, DbError};
use atrium_server::domain::redirect::RedirectUri;
use atrium_server::domain::scope::ScopeSet;
use atrium_server::domain::secret::{Kind, Secret};
use atrium_server::domain::{now, password};
use atrium_server::store::sqlite::SqliteStore;
use atrium_server::store::{CodeGrant, Grant, NewToken, NewUser, Role, Store};

const REDIRECT: &str = "https://bench.example/callback";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .expect("usage: bench_seed DB_PATH [options]");
    let db = Db::open(std::path::Path::new(&path))?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::new(db.clone()));
    let user = store
        .create_user(NewUser {
            username: "bench".into(),
            email: None,
            display_name: "Bench".into(),
            password_hash: password::hash("bench-password"),
        })
        .await?;
    let reg = register(
        user,
        AppRegistration {
            name: "Bench".into(),
            redirect_uris: vec![REDIRECT.into()],
            scopes: "profile".into(),
            allow_code: true,
            ..AppRegistration::default()
        },
        atrium_server::webhooks::egress::Egress::default(),
    )?;
    let client_id = reg.app.client_id.clone();
    let app_id = store.create_app(reg.app, None).await?;
    let scopes = ScopeSet::parse("profile")?;
    let at = now();
    let grant = || Grant {
        app_id,
        user_id: Some(user),
        company_id: None,
        scopes: scopes.clone(),
        install_id: None,
    };
    let token = |kind, ttl| {
        let s = Secret::generate(kind);
        let rec = NewToken {
            digest: s.digest(),
            issued_at: at,
            expires_at: at + ttl,
        };
        (s, rec)
    };

    let (access, access_rec) = token(Kind::AccessToken, 86_400);
    store.issue(grant(), None, access_rec, None).await?;

    // The desktop's own client (created by the migrations) acting for the bench user.
    let desktop = store
        .client("atrium-desktop")
        .await?
        .expect("the migrations create the desktop client");
    let (dashboard, dashboard_rec) = token(Kind::AccessToken, 86_400);
    store
        .issue(
            Grant {
                app_id: desktop.app_id,
                user_id: Some(user),
                company_id: None,
                scopes: ScopeSet::parse("profile dashboard")?,
                install_id: None,
            },
            None,
            dashboard_rec,
            None,
        )
        .await?;

    let streams = match arg("--stream-users", 0) {
        0 => serde_json::Value::Null,
        n => {
            let company = store.create_company("Streams", user, None).await?;
            let hash = password::hash("bench-password");
            let mut dashboard_tokens = Vec::with_capacity(n);
            for i in 0..n {
                let member = store
                    .create_user(NewUser {
                        username: format!("streamer{i}"),
                        email: None,
                        display_name: format!("Streamer {i}"),
                        password_hash: hash.clone(),
                    })
                    .await?;
                store.add_member(company, member, Role::Member).await?;
                let (t, rec) = token(Kind::AccessToken, 86_400);
                let desktop_grant = Grant {
                    app_id: desktop.app_id,
                    user_id: Some(member),
                    company_id: None,
                    scopes: ScopeSet::parse("profile dashboard")?,
                    install_id: None,
                };
                store.issue(desktop_grant, None, rec, None).await?;
                dashboard_tokens.push(t.expose().to_string());
            }
            let notifier = register(
                user,
                AppRegistration {
                    name: "Notifier".into(),
                    redirect_uris: vec![REDIRECT.into()],
                    scopes: "profile notifications".into(),
                    allow_code: true,
                    ..AppRegistration::default()
                },
                atrium_server::webhooks::egress::Egress::default(),
            )?;
            let notifier_id = store.create_app(notifier.app, None).await?;
            let notify_scopes = ScopeSet::parse("notifications")?;
            let install = store
                .record_install(notifier_id, company, user, notify_scopes.clone())
                .await?
                .install;
            let (t, rec) = token(Kind::AccessToken, 86_400);
            let install_grant = Grant {
                app_id: notifier_id,
                user_id: Some(user),
                company_id: Some(company),
                scopes: notify_scopes,
                install_id: Some(install.id),
            };
            store.issue(install_grant, None, rec, None).await?;
            serde_json::json!({
                "dashboard_tokens": dashboard_tokens,
                "notify_token": t.expose(),
            })
        }
    };

    let mut codes = Vec::new();
    for _ in 0..arg("--codes", 0) {
        let code = Secret::generate(Kind::AuthorizationCode);
        store
            .save_code(
                code.digest(),
                CodeGrant {
                    app_id,
                    user_id: user,
                    company_id: None,
                    redirect_uri: RedirectUri::absolute(REDIRECT).expect("REDIRECT is a URL"),
                    scopes: scopes.clone(),
                    code_challenge: None,
                    expires_at: at + 600,
                    install_id: None,
                },
            )
            .await?;
        codes.push(code.expose().to_string());
    }
    let mut refresh = Vec::new();
    for _ in 0..arg("--refresh", 0) {
        let (_, a) = token(Kind::AccessToken, 3600);
        let (r, r_rec) = token(Kind::RefreshToken, 86_400);
        store.issue(grant(), None, a, Some(r_rec)).await?;
        refresh.push(r.expose().to_string());
    }

    // Bulk rows, in one transaction each, straight through SQL: only their count matters.
    let extra_tokens = arg("--tokens", 0);
    let extra_users = arg("--users", 0);
    let companies = arg("--companies", 0);
    let hash = password::hash("bench-password");
    db.call(move |c| {
        let tx = c.transaction()?;
        {
            let mut st = tx.prepare(
                "INSERT INTO users (username, email, display_name, password_hash, joined_at) VALUES (?1, NULL, ?1, ?2, ?3)",
            )?;
            for i in 0..extra_users {
                st.execute(rusqlite::params![format!("user{i}"), hash, at])?;
            }
            let mut company = tx.prepare(
                "INSERT INTO companies (name, created_at) VALUES ('Bench ' || ?1, ?2)",
            )?;
            let mut owner = tx.prepare(
                "INSERT INTO memberships (company_id, user_id, role) VALUES (?1, ?2, 'owner')",
            )?;
            for i in 0..companies {
                company.execute(rusqlite::params![i as i64, at])?;
                owner.execute(rusqlite::params![tx.last_insert_rowid(), user])?;
            }
            tx.execute(
                "INSERT INTO token_families (app_id, user_id, scopes, created_at) VALUES (?1, ?2, 'profile', ?3)",
                rusqlite::params![app_id, user, at],
            )?;
            let family = tx.last_insert_rowid();
            let mut st = tx.prepare(
                "INSERT INTO access_tokens (digest, family_id, issued_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for _ in 0..extra_tokens {
                let s = Secret::generate(Kind::AccessToken);
                st.execute(rusqlite::params![s.digest().0.to_vec(), family, at, at + 86_400])?;
            }
        }
        tx.commit()?;
        c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")?;
        Ok::<_, DbError>(())
    })
    .await?;

    let first_company: Option<i64> = db
        .call(|c| Ok::<_, DbError>(c.query_row("SELECT min(id) FROM companies", [], |r| r.get(0))?))
        .await?;
    println!(
        "{}",
        serde_json::json!({
            "client_id": client_id,
            "client_secret": reg.client_secret.map(|s| s.expose().to_string()),
            "redirect_uri": REDIRECT,
            "access_token": access.expose(),
            "dashboard_token": dashboard.expose(),
            "first_company": first_company,
            "companies": companies,
            "codes": codes,
            "refresh_tokens": refresh,
            "streams": streams,
        })
    );
    Ok(())
}
