//! Races between the steps of a grant: what must hold under any interleaving of concurrent
//! requests, checked with bursts of concurrent attempts, repeated.
//!
//! - Uninstalling ends everything issued under the install: no token issued under an install
//!   stays live once the install is gone, whichever of approve, exchange and uninstall commits
//!   first (`uninstall_racing_code_exchange_leaves_no_live_token`,
//!   `uninstall_racing_an_install_approval_leaves_no_live_token`).
//! - A replayed code revokes what the code issued (RFC 9700 §4.2.4, RFC 6749 §4.1.2), even when
//!   the replay lands between the winner's redemption and the write of its tokens
//!   (`replayed_code_burst_always_revokes_the_winner`).
//! - An edit racing its app's deletion is answered 404 when it loses, not 500
//!   (`app_edit_racing_its_deletion_is_answered_not_found_not_500`).

use std::sync::Arc;

use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::helpers::*;

/// Concurrent attempts in one burst.
const BURST: usize = 20;
/// Bursts per test.
const ROUNDS: usize = 20;

/// An app (scopes `profile company`, confidential, CODE) and `BURST` companies owned by alice,
/// who installs it from the dashboard.
struct World {
    app: TestApp,
    client: TestClient,
    alice: String,
    companies: Vec<i64>,
}

async fn world() -> Arc<World> {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    let alice_id = app.user("alice").await;
    let client = app.register(dev, AppSpec::code("profile company")).await;
    let alice = app.dashboard_token("alice").await;
    let mut companies = Vec::new();
    for i in 0..BURST {
        companies.push(app.company(&format!("Company {i:02}"), alice_id).await);
    }
    Arc::new(World {
        app,
        client,
        alice,
        companies,
    })
}

impl World {
    /// Installs the app into `company` from the dashboard: `Some((install id, code))` when the
    /// install was approved.
    async fn install(&self, company: i64) -> Option<(i64, String)> {
        let res = self
            .app
            .install(
                &self.alice,
                json!({
                    "client_id": self.client.client_id,
                    "company_id": company,
                    "scope": "profile company",
                    "state": "st",
                }),
            )
            .await;
        if res.status() != 200 {
            return None;
        }
        let answer: Value = res.json().await.unwrap();
        let code = query_param(answer["redirect_to"].as_str()?, "code")?;
        Some((answer["install"]["id"].as_i64()?, code))
    }

    async fn uninstall(&self, install: i64) -> u16 {
        self.app
            .call(
                "DELETE",
                &format!("/api/dashboard/installs/{install}"),
                &self.alice,
                None,
            )
            .await
            .status()
            .as_u16()
    }

    async fn install_state(&self, install: i64) -> String {
        let res = self
            .app
            .call(
                "GET",
                &format!("/api/dashboard/installs/{install}"),
                &self.alice,
                None,
            )
            .await;
        assert_eq!(res.status(), 200);
        res.json::<Value>().await.unwrap()["state"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Exchanges a code: the token response when it succeeded.
    async fn exchange(&self, code: &str) -> Option<Value> {
        let res = self
            .app
            .token(
                &self.client,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", REDIRECT),
                ],
            )
            .await;
        (res.status() == 200).then_some(())?;
        Some(res.json().await.unwrap())
    }

    /// Whether any part of a token response still works: its access token reads the company,
    /// or its refresh token rotates.
    async fn still_live(&self, tokens: &Value) -> bool {
        let access = tokens["access_token"].as_str().unwrap();
        if self.app.api("/api/company", access).await.status() != 401 {
            return true;
        }
        let refresh = tokens["refresh_token"].as_str().unwrap();
        let res = self
            .app
            .token(
                &self.client,
                &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
            )
            .await;
        res.status() == 200
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn uninstall_racing_code_exchange_leaves_no_live_token() {
    let w = world().await;
    let mut violations = Vec::new();
    let mut issued = 0;
    for round in 0..ROUNDS {
        // One install per company, each with a code waiting to be exchanged.
        let mut setup = JoinSet::new();
        for &company in &w.companies {
            let w = Arc::clone(&w);
            setup.spawn(async move { w.install(company).await.expect("install approved") });
        }
        let installs = setup.join_all().await;
        // The burst: each code is exchanged while its install is being removed.
        let mut burst = JoinSet::new();
        for (install, code) in installs {
            let exchanging = Arc::clone(&w);
            let uninstalling = Arc::clone(&w);
            burst.spawn(async move {
                let (tokens, status) =
                    tokio::join!(exchanging.exchange(&code), uninstalling.uninstall(install));
                assert_eq!(status, 200, "the uninstall itself succeeds");
                (install, tokens)
            });
        }
        for (install, tokens) in burst.join_all().await {
            let Some(tokens) = tokens else { continue };
            issued += 1;
            if w.still_live(&tokens).await {
                violations.push(format!("round {round}: install {install}"));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "{} live tokens of uninstalled installs ({issued} exchanges won their race): {violations:?}",
        violations.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn uninstall_racing_an_install_approval_leaves_no_live_token() {
    let w = world().await;
    let mut violations = Vec::new();
    for round in 0..ROUNDS {
        // The current active install of each company.
        let mut setup = JoinSet::new();
        for &company in &w.companies {
            let w = Arc::clone(&w);
            setup.spawn(async move { w.install(company).await.expect("install approved").0 });
        }
        let active = setup.join_all().await;
        // The burst: in each company, a new approval (which reuses the active install) races
        // its removal.
        let mut burst = JoinSet::new();
        for (&company, install) in w.companies.iter().zip(active) {
            let approving = Arc::clone(&w);
            let uninstalling = Arc::clone(&w);
            burst.spawn(async move {
                let (approved, _) =
                    tokio::join!(approving.install(company), uninstalling.uninstall(install));
                approved
            });
        }
        for (install, code) in burst.join_all().await.into_iter().flatten() {
            let Some(tokens) = w.exchange(&code).await else {
                continue;
            };
            if w.install_state(install).await != "active" && w.still_live(&tokens).await {
                violations.push(format!("round {round}: install {install}"));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "{} live tokens of uninstalled installs: {violations:?}",
        violations.len()
    );
}

/// A CODE-flow code for `profile`, installed into `company`: alice owns several companies, so
/// the consent form must name one.
async fn code_in(w: &World, browser: &Browser, company: i64) -> String {
    let res = browser
        .authorize(&[
            ("response_type", "code"),
            ("client_id", &w.client.client_id),
            ("redirect_uri", REDIRECT),
            ("scope", "profile"),
            ("state", "xyz"),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    let res = browser
        .decide(&page, "allow", &[("company_id", &company.to_string())])
        .await;
    assert_eq!(res.status(), 303);
    query_param(&location(&res), "code").expect("a code in the redirect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replayed_code_burst_always_revokes_the_winner() {
    let w = world().await;
    let browser = w.app.browser("alice").await;
    let mut violations = Vec::new();
    for round in 0..ROUNDS {
        let code = code_in(&w, &browser, w.companies[0]).await;
        let mut burst = JoinSet::new();
        for _ in 0..BURST {
            let w = Arc::clone(&w);
            let code = code.clone();
            burst.spawn(async move { w.exchange(&code).await });
        }
        let answers = burst.join_all().await;
        let winners: Vec<Value> = answers.into_iter().flatten().collect();
        assert!(
            winners.len() <= 1,
            "round {round}: a code was redeemed twice"
        );
        // Every other attempt was a replay, so whatever the code issued must be dead.
        for tokens in winners {
            let access = tokens["access_token"].as_str().unwrap();
            let alive = w.app.api("/api/username", access).await.status() != 401
                || w.still_live(&tokens).await;
            if alive {
                violations.push(format!("round {round}"));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "the winner of {} bursts kept live tokens after a replay: {violations:?}",
        violations.len()
    );
}

/// An edit racing the app's deletion: whichever commits first, the edit is answered as an edit
/// (200) or as a missing app (404), never as the server's failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn app_edit_racing_its_deletion_is_answered_not_found_not_500() {
    let app = Arc::new(spawn_app().await);
    let dev_id = app.user("dev").await;
    let dev: Arc<str> = app.dashboard_token("dev").await.into();
    let mut answers = Vec::new();
    for _ in 0..ROUNDS / 2 {
        let mut burst = JoinSet::new();
        for _ in 0..BURST {
            let client = app.register(dev_id, AppSpec::code("profile")).await;
            let path = format!("/api/developer/apps/{}", client.client_id);
            let (editing, deleting, dev) = (Arc::clone(&app), Arc::clone(&app), Arc::clone(&dev));
            burst.spawn(async move {
                let (edit, delete) = tokio::join!(
                    editing.call("PATCH", &path, &dev, Some(json!({ "name": "Renamed" }))),
                    deleting.call("DELETE", &path, &dev, None),
                );
                assert!(
                    delete.status().is_success(),
                    "the delete: {}",
                    delete.status()
                );
                let status = edit.status().as_u16();
                let body: Value = edit.json().await.unwrap_or_default();
                (status, body)
            });
        }
        answers.extend(burst.join_all().await);
    }
    let wrong: Vec<_> = answers
        .iter()
        .filter(|(status, body)| {
            !(*status == 200 || (*status == 404 && body["error"] == "not_found"))
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} edits racing a delete were not answered 200 or 404, such as {:?}",
        wrong.len(),
        answers.len(),
        &wrong[..wrong.len().min(3)]
    );
    // The race was run: some edits lost it.
    assert!(
        answers.iter().any(|(status, _)| *status == 404),
        "no edit lost its race"
    );
}
