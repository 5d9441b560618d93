//! The `atrium-server` binary's command line, run for real on a temporary database.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(db: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    run_with_env(db, args, stdin, &[])
}

fn run_with_env(
    db: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_atrium-server"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("ATRIUM_ALLOW_PRIVATE_WEBHOOKS")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn users_companies_and_apps_are_created_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("atrium.db");
    assert!(run(&db, &["migrate"], None).status.success());
    let user = json(&run(
        &db,
        &[
            "user",
            "add",
            "ada",
            "--email",
            "ada@example.com",
            "--password-stdin",
        ],
        Some("a long password\n"),
    ));
    assert_eq!(user["username"], "ada");
    let company = json(&run(
        &db,
        &["company", "add", "Analytical Engines", "--owner", "ada"],
        None,
    ));
    assert_eq!(company["name"], "Analytical Engines");
    let app = json(&run(
        &db,
        &[
            "app",
            "add",
            "--owner",
            "ada",
            "--name",
            "Notes",
            "--redirect-uri",
            "https://notes.example/cb",
            "--scopes",
            "profile email",
            "--method",
            "both",
        ],
        None,
    ));
    assert!(app["client_id"].as_str().unwrap().starts_with("atr_ci_"));
    assert!(app["client_secret"]
        .as_str()
        .unwrap()
        .starts_with("atr_cs_"));
    let public = json(&run(
        &db,
        &[
            "app",
            "add",
            "--owner",
            "ada",
            "--name",
            "Cli",
            "--redirect-uri",
            "http://127.0.0.1/cb",
            "--application-type",
            "native",
            "--install-url",
            "https://cli.example/install",
            "--public",
        ],
        None,
    ));
    assert!(public.get("client_secret").is_none());
}

#[test]
fn bad_input_fails_with_one_line_and_a_non_zero_status() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("atrium.db");
    let cases: &[(&[&str], Option<&str>)] = &[
        (&["user", "add", "ada", "--password-stdin"], Some("short")),
        (
            &["user", "add", "not a name", "--password-stdin"],
            Some("a long password"),
        ),
        (&["company", "add", "X", "--owner", "nobody"], None),
        (&["serve", "--refresh-reuse-interval", "61"], None),
        (&["serve", "--refresh-reuse-interval=-1"], None),
        (
            &[
                "app",
                "add",
                "--owner",
                "nobody",
                "--name",
                "N",
                "--redirect-uri",
                "https://x.example/cb",
            ],
            None,
        ),
    ];
    for (args, stdin) in cases {
        let out = run(&db, args, *stdin);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or_default();
        assert!(last.starts_with("atrium-server: "), "{args:?}: {err}");
    }
    json(&run(
        &db,
        &["user", "add", "ada", "--password-stdin"],
        Some("a long password"),
    ));
    let out = run(
        &db,
        &[
            "app",
            "add",
            "--owner",
            "ada",
            "--name",
            "N",
            "--redirect-uri",
            "http://x.example/cb",
        ],
        None,
    );
    assert!(
        !out.status.success(),
        "plain http redirect URIs are refused"
    );
    // The command line applies the registration rules of the API: the same allowlist of
    // redirect URIs, and an install URL for public CODE apps.
    for extra in [
        &["--redirect-uri", "atrium://oauth/callback"][..],
        &["--redirect-uri", "ms-settings:privacy"][..],
        &["--redirect-uri", "https://x.example/cb", "--public"][..],
    ] {
        let mut args = vec!["app", "add", "--owner", "ada", "--name", "N"];
        args.extend_from_slice(extra);
        let out = run(&db, &args, None);
        assert!(!out.status.success(), "{extra:?} was registered");
    }
    let out = run(
        &db,
        &["user", "add", "ada", "--password-stdin"],
        Some("a long password"),
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}

#[test]
fn demo_is_idempotent_and_rotates_the_secret_it_prints() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("atrium.db");
    // The demo's sample app listens on loopback: the operator must allow that explicitly.
    let refused = run(&db, &["demo"], None);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--allow-private-webhooks"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let first = json(&run(&db, &["demo", "--allow-private-webhooks"], None));
    let second = json(&run_with_env(
        &db,
        &["demo"],
        None,
        &[("ATRIUM_ALLOW_PRIVATE_WEBHOOKS", "1")],
    ));
    assert_eq!(first["username"], "demo");
    assert_eq!(first["company_id"], second["company_id"]);
    assert_eq!(first["apps"]["App1"]["method"], "token");
    assert_eq!(first["apps"]["App2"]["method"], "code");
    assert!(first["apps"]["App1"].get("client_secret").is_none());
    assert_ne!(
        first["apps"]["App2"]["client_secret"],
        second["apps"]["App2"]["client_secret"]
    );
}

/// The command line applies the same limits as the API: the domain types check both.
#[test]
fn the_command_line_refuses_control_characters_and_overlong_fields() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("atrium.db");
    let refused = |args: &[&str], stdin: Option<&str>, words: &[&str]| {
        let out = run(&db, args, stdin);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{args:?} was accepted");
        for w in words {
            assert!(err.contains(w), "{args:?}: {err:?} should mention {w:?}");
        }
    };
    let long_email = format!("{}@example.com", "a".repeat(250));
    refused(
        &[
            "user",
            "add",
            "ada",
            "--email",
            &long_email,
            "--password-stdin",
        ],
        Some("a long password\n"),
        &["email address", "254"],
    );
    refused(
        &[
            "user",
            "add",
            "ada",
            "--display-name",
            "Ada\u{1b}[2J",
            "--password-stdin",
        ],
        Some("a long password\n"),
        &["display name", "control characters"],
    );
    json(&run(
        &db,
        &["user", "add", "ada", "--password-stdin"],
        Some("a long password\n"),
    ));
    refused(
        &["company", "add", "Evil\u{202e}Corp", "--owner", "ada"],
        None,
        &["company name", "control characters"],
    );
    let long_name = "n".repeat(101);
    refused(
        &[
            "app",
            "add",
            "--owner",
            "ada",
            "--name",
            &long_name,
            "--redirect-uri",
            "https://notes.example/cb",
        ],
        None,
        &["app name", "100"],
    );
}

#[test]
fn app_add_refuses_a_webhook_into_the_servers_own_network_unless_the_operator_allows_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("atrium.db");
    json(&run(
        &db,
        &["user", "add", "ada", "--password-stdin"],
        Some("a long password"),
    ));
    let add = |webhook: &'static str| {
        vec![
            "app",
            "add",
            "--owner",
            "ada",
            "--name",
            "Hooked",
            "--redirect-uri",
            "https://x.example/cb",
            "--webhook-url",
            webhook,
        ]
    };
    for bad in [
        "https://[::ffff:127.0.0.1]:8443/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost/hook",
        "http://127.0.0.1:8010/webhook",
        "http://hooks.example.com/hook",
    ] {
        let out = run(&db, &add(bad), None);
        assert!(!out.status.success(), "{bad} was registered");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("webhook URL"), "{bad}: {err}");
    }
    json(&run(&db, &add("https://hooks.example.com/hook"), None));
    // For development, the operator may allow loopback (flag, or config file key).
    let mut dev = add("http://127.0.0.1:8010/webhook");
    dev.push("--allow-private-webhooks");
    json(&run(&db, &dev, None));
    let config = dir.path().join("atrium.toml");
    std::fs::write(&config, "allow_private_webhooks = true\n").unwrap();
    let mut with_config = add("http://127.0.0.1:8011/webhook");
    with_config.extend(["--config", config.to_str().unwrap()]);
    json(&run(&db, &with_config, None));
}

#[test]
fn keys_rotate_adds_signing_key_versions_and_app_add_registers_an_id_token_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("atrium.db");
    assert!(run(&db, &["migrate"], None).status.success());
    run(
        &db,
        &["user", "add", "ada", "--password-stdin"],
        Some("a long password\n"),
    );
    let app = json(&run(
        &db,
        &[
            "app",
            "add",
            "--owner",
            "ada",
            "--name",
            "Notes",
            "--redirect-uri",
            "https://notes.example/cb",
            "--scopes",
            "openid profile",
            "--id-token-alg",
            "EdDSA",
            "--post-logout-redirect-uri",
            "https://notes.example/bye",
        ],
        None,
    ));
    assert_eq!(app["id_token_signed_response_alg"], "EdDSA");
    assert_eq!(
        app["post_logout_redirect_uris"],
        serde_json::json!(["https://notes.example/bye"])
    );
    for expected in ["version 2 added", "version 3 added"] {
        let out = run(&db, &["keys", "rotate"], None);
        assert!(out.status.success());
        let said = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(said.contains(expected), "{said}");
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (alg, post_logout, versions): (String, String, i64) = conn
        .query_row(
            "SELECT (SELECT id_token_signed_response_alg FROM apps WHERE client_id = ?1),
                    (SELECT post_logout_redirect_uris FROM apps WHERE client_id = ?1),
                    (SELECT COUNT(*) FROM signing_keys WHERE retired_at IS NULL)",
            [app["client_id"].as_str().unwrap()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((alg.as_str(), versions), ("EdDSA", 1));
    assert_eq!(post_logout, r#"["https://notes.example/bye"]"#);
}

/// Every key of the configuration file, as the file's own parser lists them when it refuses
/// an unknown one.
fn config_file_keys() -> Vec<String> {
    let err = toml::from_str::<atrium_server::config::FileConfig>("no_such_key = 1")
        .expect_err("an unknown key is refused");
    let text = err.to_string();
    let (_, expected) = text
        .split_once("expected one of ")
        .unwrap_or_else(|| panic!("serde lists the known keys: {text}"));
    expected
        .split(", ")
        .map(|k| k.trim().trim_matches('`').to_owned())
        .collect()
}

#[test]
fn example_config_lists_every_setting_with_its_flag_and_parses_uncommented() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state/atrium.db");
    let out = run(&db, &["example-config"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();

    // --db is written as the one active setting; the rest are commented out.
    let active: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(active, [format!("db = {:?}", db.display().to_string())]);

    let keys = config_file_keys();
    assert!(keys.len() > 20, "{keys:?}");
    for key in &keys {
        let line = text
            .lines()
            .position(|l| {
                l.starts_with(&format!("#{key} = ")) || l.starts_with(&format!("{key} = "))
            })
            .unwrap_or_else(|| panic!("the example config has no line for {key}:\n{text}"));
        // The line above the key names the flag it mirrors.
        let above = text.lines().nth(line - 1).unwrap();
        assert!(above.starts_with("# (flag --"), "{key}: {above}");
    }

    // Uncommented, every sample value has the type the server expects.
    let uncommented: String = text
        .lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest) if keys.iter().any(|k| rest.starts_with(&format!("{k} = "))) => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let file: atrium_server::config::FileConfig =
        toml::from_str(&uncommented).unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
    assert_eq!(file.access_token_ttl_secs, Some(3600));
    assert_eq!(file.refresh_token_ttl_secs, Some(2_592_000));
    assert_eq!(file.idle_timeout_secs, Some(75.0));

    // The server itself accepts the file it wrote.
    let path = dir.path().join("server.toml");
    std::fs::write(&path, &text).unwrap();
    let out = run(&db, &["--config", path.to_str().unwrap(), "migrate"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `--db postgres://…` selects PostgreSQL for every command: `migrate` makes the schema (and
/// does not print the password), the other commands use it, and `backup`, which copies a
/// SQLite file, says to use pg_dump. Needs `ATRIUM_TEST_POSTGRES_URL` (skipped without it,
/// failed without it under `CI=true`).
#[tokio::test(flavor = "multi_thread")]
async fn a_postgres_url_selects_postgresql_for_every_command() {
    use atrium_server::store::postgres::{testing, PostgresStore};
    use atrium_server::store::{OidcStore, UserStore};
    let Some(base) = testing::url() else {
        return;
    };
    let schema = testing::Schema::create(&base).await.unwrap();
    let url = std::path::PathBuf::from(schema.url());
    // The key file of a PostgreSQL deployment is in the data directory.
    let data = tempfile::tempdir().unwrap();
    let env = [("XDG_DATA_HOME", data.path().to_str().unwrap())];
    let migrated = run_with_env(&url, &["migrate"], None, &env);
    let said = String::from_utf8_lossy(&migrated.stdout);
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    assert!(said.contains("is up to date"), "{said}");
    if let Some(password) = url::Url::parse(&base).unwrap().password() {
        assert!(!said.contains(&format!(":{password}@")), "{said}");
    }
    let add = ["user", "add", "ada", "--password-stdin"];
    json(&run_with_env(&url, &add, Some("a long password\n"), &env));
    let again = run_with_env(&url, &add, Some("a long password\n"), &env);
    assert!(!again.status.success(), "the same username twice");
    let store = PostgresStore::connect(schema.config().unwrap())
        .await
        .unwrap();
    assert!(store.user_by_username("ada").await.unwrap().is_some());
    let backup = run_with_env(&url, &["backup", "--to", "x.db"], None, &env);
    assert!(!backup.status.success());
    let err = String::from_utf8_lossy(&backup.stderr);
    assert!(err.contains("pg_dump"), "{err}");
    let rotated = run_with_env(&url, &["keys", "rotate"], None, &env);
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    assert_eq!(store.signing_keys().await.unwrap().len(), 2);
    assert!(
        data.path().join("atrium/atrium.key").exists(),
        "the key is in the data directory"
    );
}

#[test]
fn a_key_file_elsewhere_is_refused_with_sqlite_whose_key_stays_beside_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("atrium.db");
    let elsewhere = dir.path().join("elsewhere.key");
    let out = run(
        &db,
        &["--key-file", elsewhere.to_str().unwrap(), "migrate"],
        None,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--key-file is for PostgreSQL"), "{err}");
    assert!(err.contains("atrium.key"), "{err}");
    assert!(!db.exists() && !elsewhere.exists(), "nothing is created");
}

#[test]
fn with_postgresql_the_key_file_flag_names_the_key_every_replica_reads() {
    let Some(base) = atrium_server::store::postgres::testing::url() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let schema = runtime
        .block_on(atrium_server::store::postgres::testing::Schema::create(
            &base,
        ))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("shared/atrium.key");
    std::fs::create_dir_all(key.parent().unwrap()).unwrap();
    let url = schema.url();
    // `keys rotate` opens the key file and unwraps the stored signing keys with it.
    let rotate = || {
        let out = run(
            std::path::Path::new(&url),
            &["--key-file", key.to_str().unwrap(), "keys", "rotate"],
            None,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    rotate();
    let bytes = std::fs::read(&key).expect("the key file is created where --key-file says");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // Read again, not replaced: the second run opens what the first one wrapped with it.
    rotate();
    assert_eq!(std::fs::read(&key).unwrap(), bytes);
}
