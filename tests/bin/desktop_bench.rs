//! `atrium-desktop-bench`: the desktop figures of `cargo xtask bench`, taken on the real
//! desktop app under Xvfb against a real server and the sample app. Prints JSON:
//!
//! - `binary_bytes`: the size of the `atrium` binary;
//! - `memory`: the app's whole process tree (the shell and every WebKit web and network
//!   process under it), as PSS (each shared page counted once across the tree) and RSS, with
//!   the dashboard alone (`dashboard`), with one, two and three apps open, each in its own
//!   webview (`one_app_open`, `two_apps_open`, `three_apps_open`), and with the three installed
//!   but asleep (`three_apps_asleep`, after "Put all apps to sleep now"), each with the
//!   processes it counted;
//! - `startup_ms`: from starting `atrium` (inside its own `dbus-run-session`) until the UI
//!   reports the signed-in dashboard rendered (`dashboard shown` in the shell's log), for a
//!   returning user: five launches, after the one that signed in.
//!
//! - `paint_ms`: from selecting an app in the sidebar until its page is on screen (as the page
//!   itself reports it, see `Paint`): the first open of App1 and App2 (`first_open`), switching
//!   back to one that is open (`shown_again`), and waking one that is asleep (`woken`), each
//!   with its samples, median and largest.
//!
//! - `notify_ms`: from posting a notification to the server's API (`POST /api/notifications`,
//!   with a token of App2's holding `notifications`, as App2's backend would) until the
//!   dashboard's total of unread notifications shows it: through the server, its event stream,
//!   the shell and the UI. [`NOTIFY_SAMPLES`] samples, one at a time, with their median, p99
//!   (nearest rank) and largest.
//!
//! The binaries come from `ATRIUM_TARGET_DIR` (`cargo xtask bench` points it at
//! `target/release`). Needs an X display and tauri-driver, as the end-to-end tests do.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use atrium_tests::{binary, free_port, Atrium, Desktop, Process, SampleApp, Server};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(60);
const LAUNCHES: usize = 5;

#[tokio::main]
async fn main() -> Result<()> {
    let sample_port = free_port();
    let sample_url = format!("http://127.0.0.1:{sample_port}");
    let (server, mut demo) = Server::start_with_demo(&sample_url).await?;
    // A third app. The sample app serves two; this one is registered with App1's page, so its
    // webview loads that page, whose launch check refuses another app's token: a small page,
    // but a web process of its own like any app's (the engine, not the page, is the cost).
    let third = register_third_app(&server, &sample_url)?;
    demo["apps"]["App3"] = third.clone();
    let _sample = SampleApp::start(&server.url, sample_port, &demo).await?;
    let apps = [
        ("demo-app1", "token", format!("{sample_url}/app1/callback")),
        ("demo-app2", "code", format!("{sample_url}/app2/callback")),
        (
            third["client_id"].as_str().context("no client id")?,
            "token",
            format!("{sample_url}/app1/callback"),
        ),
    ];
    install_all(&server.url, &apps).await?;

    let home = tempfile::tempdir()?;
    let xdg = |sub: &str| home.path().join(sub).display().to_string();
    let env = vec![
        (
            "ATRIUM_BROWSER",
            binary("atrium-scripted-browser")?.display().to_string(),
        ),
        (
            "ATRIUM_DESKTOP_BIN",
            binary("atrium")?.display().to_string(),
        ),
        ("SCRIPTED_USER", "demo".into()),
        ("SCRIPTED_PASSWORD", "atrium-demo".into()),
        ("XDG_DATA_HOME", xdg("data")),
        ("XDG_CONFIG_HOME", xdg("config")),
        ("XDG_CACHE_HOME", xdg("cache")),
    ];

    // Sign in, then measure with the dashboard alone, with one, two and three apps open (each
    // in its own webview), and with the three asleep.
    eprintln!("desktop-bench: signing in, opening three apps, putting them to sleep");
    let desktop = Desktop::launch_with(&server.url, &env).await?;
    desktop
        .wait_for("#server-health[data-state='healthy']", WAIT)
        .await?;
    desktop.click("#sign-in").await?;
    desktop.wait_for("#signed-in-as", WAIT).await?;
    for (client_id, _, _) in &apps {
        desktop.wait_for(&entry(client_id), WAIT).await?;
    }
    wait_for_web_processes(&desktop, 1).await?;
    settle().await;
    let mut memory = serde_json::Map::new();
    memory.insert("dashboard".into(), tree_memory()?);
    let stages = ["one_app_open", "two_apps_open", "three_apps_open"];
    let paint = Paint {
        desktop: &desktop,
        sample_url: &sample_url,
    };
    let mut first_open = Vec::new();
    for (n, ((client_id, _, _), name)) in apps.iter().zip(["App1", "App2", "App3"]).enumerate() {
        if n < 2 {
            first_open.push(paint.time(client_id, name, PAINTED).await?);
        } else {
            // App3's page (App1's, refusing App3's launch) reports as App1: not timed.
            desktop.click(&entry(client_id)).await?;
        }
        desktop
            .wait_for(
                &format!(".app-frame:not(.hidden)[data-name='{name}'] .app-view"),
                WAIT,
            )
            .await?;
        // The dashboard's web process and one per open app (each has a web context of its own).
        wait_for_web_processes(&desktop, n + 2).await?;
        settle().await;
        memory.insert(stages[n].into(), tree_memory()?);
    }
    desktop.screenshot("bench-three-apps").await?;
    // Switching back to an app that is open (loaded, hidden): until its page is on screen.
    let mut shown_again = Vec::new();
    for _ in 0..ROUNDS {
        for ((client_id, _, _), name) in apps.iter().zip(["App1", "App2"]) {
            shown_again.push(paint.time(client_id, name, SHOWN).await?);
        }
    }
    // Hidden (Settings is shown) and put to sleep now: three apps installed, none loaded.
    let client_ids: Vec<&str> = apps.iter().map(|(id, _, _)| *id).collect();
    sleep_all(&desktop, &client_ids).await?;
    settle().await;
    memory.insert("three_apps_asleep".into(), tree_memory()?);
    desktop.screenshot("bench-three-apps-asleep").await?;
    // Waking an app that is asleep: a new webview and a fresh launch, until its page is on
    // screen. Each from the dashboard with every app asleep again.
    let mut woken = Vec::new();
    for _ in 0..ROUNDS {
        for ((client_id, _, _), name) in apps.iter().zip(["App1", "App2"]) {
            sleep_all(&desktop, &client_ids).await?;
            woken.push(paint.time(client_id, name, PAINTED).await?);
        }
    }
    // Notifications while the dashboard is shown (no app on screen, so each one is unread).
    desktop.click("#nav-settings").await?;
    let app2 = app2_token(&server.url, &demo, &apps[1].2).await?;
    let notify = notify_delays(&desktop, &server.url, &app2).await?;
    desktop.close().await?;
    tokio::time::sleep(Duration::from_secs(1)).await;

    // A returning user starts the app: time to the dashboard.
    let mut startup = Vec::new();
    for i in 0..LAUNCHES {
        let ms = time_to_dashboard(&server.url, &env)?;
        eprintln!(
            "desktop-bench: launch {}: dashboard shown after {ms} ms",
            i + 1
        );
        startup.push(ms);
    }
    let mut sorted = startup.clone();
    sorted.sort_unstable();

    println!(
        "{}",
        json!({
            "binary_bytes": std::fs::metadata(binary("atrium")?)?.len(),
            "memory": memory,
            "startup_ms": { "launches": startup, "median": sorted[sorted.len() / 2], "max": sorted[sorted.len() - 1] },
            "paint_ms": {
                "first_open": spread(&first_open),
                "shown_again": spread(&shown_again),
                "woken": spread(&woken),
            },
            "notify_ms": spread(&notify),
        })
    );
    Ok(())
}

/// The probe's field for a page's first paint after loading.
const PAINTED: &str = "painted_at_ms";
/// The probe's field for an open page's first paint after being shown again.
const SHOWN: &str = "shown_at_ms";
/// Samples of each paint figure, per app (App1 and App2).
const ROUNDS: usize = 3;

/// An app's entry in the sidebar.
fn entry(client_id: &str) -> String {
    format!("#installed-apps .app-item[data-client-id='{client_id}']")
}

/// Times from selecting an app in the sidebar to its page on screen. The app's webview is
/// out of WebDriver's reach, so its page says when (the sample app's probe, `static/probe.js`:
/// the second animation frame after loading, or after being shown again, in Unix
/// milliseconds from the page's clock, which is this machine's).
struct Paint<'a> {
    desktop: &'a Desktop,
    sample_url: &'a str,
}

impl Paint<'_> {
    /// Clicks `client_id`'s entry and waits for a report of `app`'s page with `field` at or
    /// after the click: the milliseconds between.
    async fn time(&self, client_id: &str, app: &str, field: &str) -> Result<f64> {
        let clicked = unix_ms();
        self.desktop.click(&entry(client_id)).await?;
        let deadline = Instant::now() + WAIT;
        loop {
            let reports: Vec<Value> = reqwest::get(format!("{}/probe/reports", self.sample_url))
                .await?
                .error_for_status()?
                .json()
                .await?;
            let at = reports
                .iter()
                .filter(|r| r["app"] == app)
                .filter_map(|r| r["findings"][field].as_f64())
                .find(|at| *at >= clicked);
            if let Some(at) = at {
                let ms = at - clicked;
                eprintln!("desktop-bench: {app} on screen ({field}) {ms:.0} ms after selecting it");
                return Ok(ms);
            }
            if Instant::now() > deadline {
                bail!("{app}'s page never reported {field} after it was selected");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn unix_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// Samples as JSON: each (whole milliseconds), the median, the 99th percentile (nearest rank:
/// the largest below 100 samples) and the largest.
fn spread(samples: &[f64]) -> Value {
    let mut sorted: Vec<u64> = samples.iter().map(|ms| ms.round() as u64).collect();
    sorted.sort_unstable();
    let p99 = (sorted.len() * 99).div_ceil(100).max(1) - 1;
    json!({
        "samples": samples.iter().map(|ms| ms.round() as u64).collect::<Vec<_>>(),
        "median": sorted.get(sorted.len() / 2),
        "p99": sorted.get(p99),
        "max": sorted.last(),
    })
}

/// Notifications timed from the app's post to the dashboard.
const NOTIFY_SAMPLES: usize = 40;

/// A token of App2's holding `notifications`, as its backend gets one: the CODE flow with
/// PKCE at App2's redirect URI, and the exchange with App2's secret.
async fn app2_token(server_url: &str, demo: &Value, redirect_uri: &str) -> Result<String> {
    let browser = Atrium::new(server_url)
        .signed_in("demo", "atrium-demo")
        .await;
    let pkce = atrium_tests::Pkce::new();
    let request = atrium_tests::Authorize::code("demo-app2")
        .redirect_uri(redirect_uri)
        .scope("notifications")
        .state("bench")
        .pkce(&pkce);
    let to = browser.authorize_and_allow(&request).await;
    let code = atrium_tests::query_param(&to, "code").context("no code for App2")?;
    let secret = demo["apps"]["App2"]["client_secret"]
        .as_str()
        .context("no secret for App2")?;
    let res = reqwest::Client::new()
        .post(format!("{server_url}{}", atrium_proto::paths::TOKEN))
        .basic_auth("demo-app2", Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri),
            ("code_verifier", pkce.verifier.as_str()),
        ])
        .send()
        .await?;
    let tokens: Value = res.json().await?;
    Ok(tokens["access_token"]
        .as_str()
        .with_context(|| format!("no token for App2: {tokens}"))?
        .to_string())
}

/// Times [`NOTIFY_SAMPLES`] notifications, one at a time: each posted to the server's API with
/// App2's `token`, until the dashboard's total of unread notifications (`#total-badge`) next
/// changes, which it notes in Unix milliseconds from its clock, this machine's.
async fn notify_delays(desktop: &Desktop, server_url: &str, token: &str) -> Result<Vec<f64>> {
    const WATCH: &str = r#"
        const total = () => (document.getElementById("total-badge") || {}).textContent || "0";
        const before = total();
        window.__atriumBenchChanged = null;
        const seen = new MutationObserver(() => {
            if (total() === before) return;
            window.__atriumBenchChanged = performance.timeOrigin + performance.now();
            seen.disconnect();
        });
        seen.observe(document.body, { subtree: true, childList: true, characterData: true });"#;
    let http = reqwest::Client::new();
    let mut samples = Vec::new();
    for i in 0..NOTIFY_SAMPLES {
        desktop.client.execute(WATCH, vec![]).await?;
        let posted = unix_ms();
        let res = http
            .post(format!(
                "{server_url}{}",
                atrium_proto::paths::API_NOTIFICATIONS
            ))
            .bearer_auth(token)
            .json(&json!({ "title": format!("Bench {i}") }))
            .send()
            .await?;
        if res.status() != 201 {
            bail!("App2 could not post a notification: {}", res.status());
        }
        let deadline = Instant::now() + WAIT;
        let shown = loop {
            let at = desktop
                .client
                .execute("return window.__atriumBenchChanged;", vec![])
                .await?;
            if let Some(at) = at.as_f64() {
                break at;
            }
            if Instant::now() > deadline {
                bail!("the dashboard never showed notification {i}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        samples.push(shown - posted);
    }
    let ms = spread(&samples);
    eprintln!(
        "desktop-bench: a notification from post to the dashboard: median {} ms, p99 {} ms",
        ms["median"], ms["p99"]
    );
    Ok(samples)
}

/// Shows Settings, puts every hidden app to sleep, and waits until each of `client_ids` is
/// marked asleep and only the dashboard's web process is left.
async fn sleep_all(desktop: &Desktop, client_ids: &[&str]) -> Result<()> {
    desktop.click("#nav-settings").await?;
    desktop.click("#sleep-now").await?;
    for client_id in client_ids {
        desktop
            .wait_for(
                &format!("#installed-apps .app-item.asleep[data-client-id='{client_id}']"),
                WAIT,
            )
            .await?;
    }
    wait_for_web_processes(desktop, 1).await
}

/// Waits until the desktop runs `n` WebKit web processes: the dashboard's and one per loaded
/// app (a page still loading, or a process not yet ended, would skew the figures).
async fn wait_for_web_processes(desktop: &Desktop, n: usize) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        let running = desktop.web_processes();
        if running == n {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("expected {n} web processes, the desktop runs {running}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Lets pages finish loading and the processes settle before reading memory.
async fn settle() {
    tokio::time::sleep(Duration::from_secs(3)).await;
}

fn register_third_app(server: &Server, sample_url: &str) -> Result<Value> {
    let out = Command::new(binary("atrium-server")?)
        .arg("--db")
        .arg(server.db_path())
        .args(["app", "add", "--owner", "demo", "--name", "App3"])
        .args(["--redirect-uri", &format!("{sample_url}/app1/callback")])
        .args(["--iframe-url", &format!("{sample_url}/app1/")])
        .args([
            "--scopes",
            "profile company",
            "--method",
            "token",
            "--public",
        ])
        .env("RUST_LOG", "warn")
        .output()
        .context("cannot run atrium-server app add")?;
    if !out.status.success() {
        bail!("app add failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// Installs each app in the demo company through the server's consent page, as `demo`.
async fn install_all(server_url: &str, apps: &[(&str, &str, String)]) -> Result<()> {
    let browser = Atrium::new(server_url)
        .signed_in("demo", "atrium-demo")
        .await;
    for (client_id, response_type, redirect_uri) in apps {
        let to = browser
            .authorize_and_allow(&[
                ("client_id", *client_id),
                ("response_type", *response_type),
                ("redirect_uri", redirect_uri.as_str()),
                ("scope", "profile company"),
                ("state", "bench"),
            ])
            .await;
        if to.contains("error=") {
            bail!("installing {client_id} failed: {to}");
        }
    }
    Ok(())
}

/// Starts `atrium` on its own and waits for the shell to log that the dashboard is shown.
fn time_to_dashboard(server_url: &str, env: &[(&str, String)]) -> Result<u64> {
    let started = Instant::now();
    let mut cmd = Command::new("dbus-run-session");
    cmd.arg("--")
        .arg(binary("atrium")?)
        .env("ATRIUM_SERVER_URL", server_url)
        .env("RUST_LOG", "warn,atrium_desktop=info")
        .env("NO_COLOR", "1")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut app = Process::spawn("atrium", &mut cmd)?;
    let stderr = app.take_stderr().context("no stderr")?;
    let (tx, rx) = std::sync::mpsc::channel();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&seen);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("dashboard shown") {
                let _ = tx.send(started.elapsed());
            }
            log.lock().unwrap().push(line);
        }
    });
    let Ok(elapsed) = rx.recv_timeout(WAIT) else {
        let _ = Command::new("import")
            .args(["-window", "root", "/tmp/atrium-desktop-bench-timeout.png"])
            .status();
        let lines = seen.lock().unwrap().join("\n");
        bail!("the desktop never reported the dashboard shown; its log:\n{lines}");
    };
    drop(app);
    Ok(elapsed.as_millis() as u64)
}

/// PSS and RSS of the running `atrium` and every process under it.
fn tree_memory() -> Result<Value> {
    let exe = binary("atrium")?.canonicalize()?;
    // The scripted browser stands in for the user's own browser: not the app's memory.
    let browser = binary("atrium-scripted-browser")?.canonicalize()?;
    let mut parents: HashMap<u32, u32> = HashMap::new();
    let mut roots = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let Some(pid) = entry?
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some(ppid) = parent_of(pid) {
            parents.insert(pid, ppid);
        }
        if std::fs::read_link(format!("/proc/{pid}/exe"))
            .ok()
            .as_deref()
            == Some(exe.as_path())
        {
            roots.push(pid);
        }
    }
    let Some(&root) = roots.first() else {
        bail!("no running {} found", exe.display());
    };
    let in_tree = |mut pid: u32| loop {
        if pid == root {
            return true;
        }
        match parents.get(&pid) {
            Some(&p) if p != 0 && p != pid => pid = p,
            _ => return false,
        }
    };
    let (mut pss, mut rss, mut each) = (0u64, 0u64, Vec::new());
    for &pid in parents.keys().filter(|&&p| in_tree(p)) {
        if std::fs::read_link(format!("/proc/{pid}/exe"))
            .ok()
            .as_deref()
            == Some(browser.as_path())
        {
            continue;
        }
        let rollup =
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        let (p, r) = (field_kib(&rollup, "Pss:"), field_kib(&rollup, "Rss:"));
        if r == 0 {
            continue; // exited, not yet reaped
        }
        pss += p;
        rss += r;
        each.push(json!({ "name": process_name(pid), "pss_kib": p, "rss_kib": r }));
    }
    each.sort_by_key(|v| v["name"].as_str().unwrap_or_default().to_string());
    Ok(json!({ "pss_kib": pss, "rss_kib": rss, "processes": each }))
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name may hold spaces and parentheses: the fields resume after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn process_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn field_kib(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
