//! OpenID Connect interop with a relying party from another ecosystem: Python's Authlib
//! (`server/tests/interop/authlib_rp.py`, its pinned requirements next to it), run as a child
//! process against the real server. Authlib discovers the provider, sends the user (this test's
//! browser) to the authorization endpoint, exchanges the code with PKCE, verifies the ID token
//! against the JWKS (signature, `iss`, `aud`, `exp`, `nonce`, `at_hash`), calls userinfo, and
//! refuses a tampered token.
//!
//! `cargo xtask test` prepares the Python environment and passes it as `ATRIUM_TEST_PYTHON`.
//! Without it the test is skipped, except under `CI=true`, where that is a failure.

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use crate::helpers::*;

fn python() -> Option<String> {
    match std::env::var("ATRIUM_TEST_PYTHON") {
        Ok(p) => Some(p),
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("ATRIUM_TEST_PYTHON is not set: under CI the Authlib interop test must run (cargo xtask test prepares it)")
        }
        Err(_) => {
            eprintln!(
                "skipped: set ATRIUM_TEST_PYTHON to a Python with Authlib (cargo xtask test does)"
            );
            None
        }
    }
}

#[tokio::test]
async fn authlib_signs_a_user_in_and_verifies_the_id_token() {
    let Some(python) = python() else { return };
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    let alice = app.user("alice").await;
    let client = app.register(dev, AppSpec::code("openid profile")).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/authlib_rp.py");
    let mut child = Command::new(python)
        .arg(script)
        .args([
            app.base.as_str(),
            client.client_id.as_str(),
            client.secret.as_deref().expect("a confidential client"),
            REDIRECT,
        ])
        // The server is on loopback http; Authlib refuses plain http unless told.
        .env("AUTHLIB_INSECURE_TRANSPORT", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(
        &lines
            .next_line()
            .await
            .unwrap()
            .expect("the authorization URL"),
    )
    .unwrap();
    let url = first["authorize"].as_str().unwrap();
    let browser = app.browser("alice").await;
    let page = browser
        .client
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let callback = browser.decide_to(&page, "allow", &[]).await;
    stdin
        .write_all(format!("{callback}\n").as_bytes())
        .await
        .unwrap();
    let result: Value =
        serde_json::from_str(&lines.next_line().await.unwrap().expect("Authlib's result")).unwrap();
    let status = child.wait().await.unwrap();
    assert!(status.success(), "authlib_rp.py failed: {status}");
    assert_eq!(result["alg"], "RS256");
    assert_eq!(result["claims"]["sub"], alice.to_string());
    assert_eq!(result["claims"]["aud"], client.client_id);
    assert_eq!(result["claims"]["iss"], app.base);
    assert_eq!(result["userinfo"]["sub"], alice.to_string());
    assert_eq!(result["userinfo"]["preferred_username"], "alice");
    assert_eq!(result["tampered_refused"], true);
}
