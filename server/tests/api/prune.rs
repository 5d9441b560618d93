//! Pruning on a real SQLite file: what has expired goes, in batches; what can still be
//! presented or delivered stays.

use atrium_server::domain::now;
use atrium_server::prune::{self, Retention};
use atrium_server::store::{NewUser, Session};
use rusqlite::params;

use crate::helpers::*;

const DAY: i64 = 24 * 3600;

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    app.db()
        .call(move |c| Ok::<_, atrium_server::db::DbError>(c.query_row(sql, [], |r| r.get(0))?))
        .await
        .unwrap()
}

async fn exec(app: &TestApp, sql: String, values: Vec<i64>) {
    app.db()
        .write(move |c| {
            c.execute(&sql, rusqlite::params_from_iter(values))?;
            Ok::<_, atrium_server::db::DbError>(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn pruning_on_start_removes_what_expired_and_keeps_live_tokens_revoked_families_in_use_and_pending_events(
) {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    let client = app.register(dev, AppSpec::code("profile")).await;
    let browser = app.browser("dev").await;
    let pkce = Pkce::new();
    let code = app
        .code_for(&browser, &client, "profile", Some(&pkce))
        .await;
    let live = app.exchange(&client, &code, Some(&pkce.verifier)).await;
    let app_id: i64 = app
        .store
        .client(&client.client_id)
        .await
        .unwrap()
        .unwrap()
        .app_id;
    let old = now() - 30 * DAY;
    let t = now();
    // A code that expired long ago and issued nothing; an old session.
    exec(
        &app,
        "INSERT INTO authorization_codes (digest, app_id, user_id, redirect_uri, scopes, expires_at)
         VALUES (x'01', ?1, ?2, 'https://app.example/callback', 'profile', ?3)"
            .into(),
        vec![app_id, dev, old],
    )
    .await;
    exec(
        &app,
        "INSERT INTO sessions (digest, user_id, csrf, expires_at) VALUES (x'02', ?1, 'c', ?2)"
            .into(),
        vec![dev, old],
    )
    .await;
    // Family 1001: revoked, every token expired long ago: nothing can be presented.
    // Family 1002: revoked, but its refresh token is still unexpired: it must stay.
    for (family, refresh_exp) in [(1001, old), (1002, t + 10 * DAY)] {
        exec(
            &app,
            "INSERT INTO token_families (id, app_id, user_id, scopes, created_at, revoked_at)
             VALUES (?1, ?2, ?3, 'profile', ?4, ?4)"
                .into(),
            vec![family, app_id, dev, old],
        )
        .await;
        exec(
            &app,
            "INSERT INTO access_tokens (digest, family_id, issued_at, expires_at)
             VALUES (randomblob(32), ?1, ?2, ?2)"
                .into(),
            vec![family, old],
        )
        .await;
        exec(
            &app,
            "INSERT INTO refresh_tokens (digest, family_id, issued_at, expires_at, rotated_at)
             VALUES (randomblob(32), ?1, ?2, ?3, ?2)"
                .into(),
            vec![family, old, refresh_exp],
        )
        .await;
    }
    // Two old events: one delivered, one never delivered.
    for (event, delivered) in [("evt-delivered", Some(old)), ("evt-pending", None)] {
        let event = event.to_string();
        app.db()
            .write(move |c| {
                c.execute(
                    "INSERT INTO outbox (event_id, app_id, event_type, url, body, next_attempt_at,
                                         created_at, delivered_at)
                     VALUES (?1, ?2, 'app.installed', 'https://app.example/hook', '{}', ?3, ?3, ?4)",
                    params![event, app_id, t + 365 * DAY, delivered],
                )?;
                Ok::<_, atrium_server::db::DbError>(())
            })
            .await
            .unwrap();
    }
    let app = app.restart().await;

    // The pass at start runs beside the server; delivered events are its last step.
    let mut done = false;
    for _ in 0..200 {
        if count(
            &app,
            "SELECT count(*) FROM outbox WHERE event_id = 'evt-delivered'",
        )
        .await
            == 0
        {
            done = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        done,
        "an old delivered event is pruned when the server starts"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM authorization_codes WHERE digest = x'01'"
        )
        .await,
        0,
        "the expired code is gone"
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM sessions WHERE digest = x'02'").await,
        0,
        "the expired session is gone"
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM token_families WHERE id = 1001").await,
        0,
        "a revoked family with nothing left to present is gone"
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM token_families WHERE id = 1002").await,
        1,
        "a revoked family whose refresh token could still be presented is kept"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM refresh_tokens WHERE family_id = 1002"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM outbox WHERE event_id = 'evt-pending'"
        )
        .await,
        1,
        "an undelivered event is never pruned"
    );
    // The live grant still works: its access token and its refresh token.
    let token = live["access_token"].as_str().unwrap();
    assert_eq!(app.api("/api/username", token).await.status(), 200);
    let res = app
        .refresh(&client, live["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(res.status(), 200, "the live refresh token still rotates");
}

#[tokio::test]
async fn pruning_deletes_in_small_batches_and_leaves_unexpired_sessions() {
    let app = spawn_app().await;
    let user = app
        .store
        .create_user(NewUser {
            username: "u".into(),
            email: None,
            display_name: "u".into(),
            password_hash: "x".into(),
        })
        .await
        .unwrap();
    // Seven sessions: six expire in an hour, one in ten days. The pass below runs as if a day
    // and an hour had gone by (so the server's own pass, at the real time, touches none).
    let t = now();
    for i in 0..7u8 {
        let expires_at = if i == 0 { t + 10 * DAY } else { t + 3600 };
        app.store
            .create_session(
                atrium_server::domain::secret::TokenDigest([i; 32]),
                Session {
                    user_id: user,
                    csrf: "c".into(),
                    expires_at,
                },
            )
            .await
            .unwrap();
    }
    let later = t + 3600 + DAY + 1;
    let before = count(&app, "SELECT count(*) FROM sessions").await;
    assert_eq!(before, 7);
    let retention = Retention {
        batch: 2,
        ..Retention::default()
    };
    let report = prune::run_once(app.store.as_ref(), &retention, later)
        .await
        .unwrap();
    let after = count(&app, "SELECT count(*) FROM sessions").await;
    assert_eq!(before - after, report.sessions as i64);
    assert_eq!(after, 1, "only the live session is left");
    assert_eq!(report.sessions, 6);
    // Two rows per write: the sessions alone took at least ceil(n / 2) writes.
    assert!(report.batches >= report.sessions.div_ceil(2), "{report:?}");
    // A second pass finds nothing.
    let again = prune::run_once(app.store.as_ref(), &retention, later)
        .await
        .unwrap();
    assert_eq!(again.total(), 0);
}
