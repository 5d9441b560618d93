//! `cargo xtask`: Atrium's build, demo and test runner.
//!
//! - `cargo xtask ui`    builds the Yew dashboard into `ui/dist/` (wasm32 + wasm-bindgen, no
//!   downloads, no trunk, no Tauri CLI);
//! - `cargo xtask demo`  builds what is needed and runs the server and the desktop app
//!   (`--postgres`: on PostgreSQL, prepared as for the tests by [`services`]);
//! - `cargo xtask bench` measures the server (and the desktop) in release ([`bench`]);
//!   `--backend postgres`, the server on PostgreSQL, one and two replicas ([`bench_postgres`]);
//! - `cargo xtask test`  builds the UI and runs every test, formatting and lint check;
//! - `cargo xtask dist`  builds the Debian packages of the desktop app and the server ([`dist`]).
//!
//! Each starts by checking the system packages and the wasm32 target ([`preflight`]).

mod bench;
mod bench_events;
mod bench_postgres;
mod dist;
mod preflight;
mod services;
mod ui;
mod watchdog;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Build, demo and test Atrium")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build the Yew dashboard into ui/dist.
    Ui {
        /// Optimised wasm (smaller, slower to build).
        #[arg(long)]
        release: bool,
    },
    /// Run the demo: atrium-server with demo data, the sample app, then the desktop app.
    Demo {
        /// Address for the server.
        #[arg(long, default_value = "127.0.0.1:8000")]
        addr: String,
        /// Where the demo keeps its database (and, with --postgres, its key file).
        #[arg(long, default_value = ".atrium-data")]
        data_dir: PathBuf,
        /// Run on PostgreSQL: the database `atrium_demo` on the local cluster (as root, xtask
        /// installs and starts it and creates the role and database), or the one
        /// ATRIUM_DEMO_POSTGRES_URL names. The key file is DATA_DIR/atrium.key (--key-file).
        #[arg(long)]
        postgres: bool,
    },
    /// Build the UI and run every test, then the format and lint checks.
    Test {
        /// Skip `cargo fmt --check` and clippy's lints.
        #[arg(long)]
        no_lint: bool,
    },
    /// Build Debian packages of the desktop app and the server into target/dist/.
    ///
    /// atrium_VERSION_ARCH.deb: the desktop app, its desktop entry (which registers the
    /// atrium:// scheme) and icons. atrium-server_VERSION_ARCH.deb: the server, a sandboxed
    /// systemd unit run by a user of its own, and /etc/atrium/server.toml. Release binaries by
    /// default (a long build). Needs dpkg-dev; the checks need systemd and desktop-file-utils.
    /// No AppImage: its tools are downloaded at bundle time.
    Dist {
        /// Package the debug binaries `cargo xtask test` builds instead of a release build
        /// (to test the packaging; the desktop app then runs in Tauri's dev mode).
        #[arg(long)]
        debug: bool,
        /// Then install both packages into an empty root (dpkg --root) and check them.
        #[arg(long)]
        check: bool,
    },
    /// Benchmark the server's hot paths beside a floor measured in the same run (needs wrk).
    Bench {
        /// `sqlite` (the default: every scenario, the desktop too), or `postgres`: the server
        /// scenarios on PostgreSQL with one replica and with two behind haproxy, each beside a
        /// floor measured the same way, and revocation propagation between the two (needs
        /// haproxy and a PostgreSQL: see `bench_postgres.rs`).
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: Backend,
    },
    /// Check (and where possible install) the system packages and the wasm32 target.
    Setup,
}

/// The storage backend a bench runs on.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Backend {
    Sqlite,
    Postgres,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let root = workspace_root();
    std::env::set_current_dir(&root)?;
    match cli.command {
        Cmd::Ui { release } => ui::build(&root, release),
        Cmd::Setup => preflight::ensure(),
        Cmd::Bench {
            backend: Backend::Sqlite,
        } => bench::run(&root),
        Cmd::Bench {
            backend: Backend::Postgres,
        } => bench_postgres::run(&root),
        Cmd::Demo {
            addr,
            data_dir,
            postgres,
        } => demo(&root, &addr, &data_dir, postgres),
        Cmd::Test { no_lint } => test(&root, no_lint),
        Cmd::Dist { debug, check } => {
            let profile = if debug {
                dist::Profile::Debug
            } else {
                dist::Profile::Release
            };
            let started = Instant::now();
            dist::build(&root, profile)?;
            let packaging = Instant::now();
            let debs = dist::package(&root, profile)?;
            if check {
                dist::check(&root, &debs)?;
            }
            eprintln!(
                "xtask: dist done in {:.0?} (packaging{}: {:.1?})",
                started.elapsed(),
                if check { " and checks" } else { "" },
                packaging.elapsed()
            );
            Ok(())
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

/// Runs a command, failing with its name when it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = without_passwords(&format!("{cmd:?}"));
    eprintln!("xtask: running {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

/// `text` with the password of every `scheme://user:password@host` URL in it starred out: the
/// commands xtask shows carry database URLs in their environment.
fn without_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        // The authority ends at the first '/', whitespace or quote; userinfo ends at its last '@'.
        let end = tail
            .find(|c: char| c == '/' || c == '"' || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority
            .rfind('@')
            .and_then(|a| Some((a, authority[..a].find(':')?)))
        {
            Some((a, colon)) => {
                out.push_str(&authority[..=colon]);
                out.push_str("***");
                out.push_str(&authority[a..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// The packages built for the host (everything but the wasm-only UI).
pub const HOST_PACKAGES: &[&str] = &["--workspace", "--exclude", "atrium-ui"];

fn demo(root: &Path, addr: &str, data_dir: &Path, postgres: bool) -> Result<()> {
    preflight::ensure()?;
    // Before the long build: a PostgreSQL that cannot be had stops the demo at once.
    let postgres_url = match (postgres, std::env::var("ATRIUM_DEMO_POSTGRES_URL")) {
        (false, _) => None,
        (true, Ok(url)) if !url.is_empty() => Some(url),
        (true, _) => Some(services::local_postgres("atrium_demo")?),
    };
    ui::build(root, false)?;
    // The binaries only: `test` builds them with its test targets (other features), which the
    // demo does not need.
    run(cargo().arg("build").args(HOST_PACKAGES).arg("--bins"))?;
    std::fs::create_dir_all(data_dir)?;
    // `--db` and, on PostgreSQL, `--key-file`: the global options of every command below.
    let mut db: Vec<std::ffi::OsString> = vec!["--db".into()];
    let shown = match &postgres_url {
        Some(url) => {
            db.push(url.into());
            db.push("--key-file".into());
            db.push(data_dir.join("atrium.key").into());
            format!("PostgreSQL {}", url.split('@').next_back().unwrap_or(url))
        }
        None => {
            db.push(data_dir.join("atrium.db").into());
            data_dir.join("atrium.db").display().to_string()
        }
    };
    let bin = root.join("target/debug");
    let sample_addr = "127.0.0.1:8010";
    let sample_url = format!("http://{sample_addr}");
    let url = format!("http://{addr}");

    // Demo data (idempotent): user `demo`, a company, App1 (TOKEN) and App2 (CODE). The
    // sample app listens on loopback, so the demo allows webhooks there (off by default).
    let out = Command::new(bin.join("atrium-server"))
        .args(&db)
        .args(["demo", "--sample-app-url", &sample_url])
        .arg("--allow-private-webhooks")
        .env("RUST_LOG", "warn")
        .output()
        .context("cannot run atrium-server demo")?;
    if !out.status.success() {
        bail!(
            "atrium-server demo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let demo_json = data_dir.join("demo.json");
    std::fs::write(&demo_json, &out.stdout)?;

    let mut server = Command::new(bin.join("atrium-server"))
        .args(&db)
        .args(["serve", "--addr", addr, "--allow-private-webhooks"])
        .spawn()
        .context("cannot start atrium-server")?;
    let _server = KillOnDrop(&mut server);
    wait_healthy(&url, Duration::from_secs(20))?;
    let mut sample = Command::new(bin.join("atrium-sample-app"))
        .args(["--server", &url, "--addr", sample_addr])
        .arg("--config")
        .arg(&demo_json)
        .spawn()
        .context("cannot start the sample app")?;
    let _sample = KillOnDrop(&mut sample);
    wait_port(sample_addr, Duration::from_secs(20))?;

    eprintln!();
    eprintln!("  Atrium server   {url}   (database {shown})");
    eprintln!("  Sample app      {sample_url}   (webhook events: {sample_url}/webhook/events)");
    eprintln!("  Demo login      user demo, password {}", DEMO_PASSWORD);
    eprintln!();
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        bail!("no display: run the demo in a desktop session, or under `xvfb-run -a cargo xtask demo`");
    }
    eprintln!(
        "xtask: starting the desktop app; close its window (or press Ctrl-C) to stop the demo"
    );
    let status = Command::new(bin.join("atrium"))
        .env("ATRIUM_SERVER_URL", &url)
        .status()
        .context("cannot start the desktop app")?;
    // Closed, or stopped by Ctrl-C / SIGTERM: the demo ends normally either way.
    #[cfg(unix)]
    let stopped = std::os::unix::process::ExitStatusExt::signal(&status).is_some();
    #[cfg(not(unix))]
    let stopped = false;
    if !status.success() && !stopped {
        bail!("the desktop app exited with {status}");
    }
    eprintln!("xtask: demo stopped");
    Ok(())
}

/// The demo user's password, as `atrium-server demo` sets it.
const DEMO_PASSWORD: &str = "atrium-demo";

/// Waits until something accepts connections on `addr`.
fn wait_port(addr: &str, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while std::net::TcpStream::connect(addr).is_err() {
        if Instant::now() > deadline {
            bail!("nothing listened on {addr} within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// Stops a child process when dropped (SIGTERM first so it can shut down cleanly).
struct KillOnDrop<'a>(&'a mut Child);

impl Drop for KillOnDrop<'_> {
    fn drop(&mut self) {
        let pid = self.0.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `GET {url}/healthz` with curl-free plain TCP until it answers 200.
fn wait_healthy(url: &str, timeout: Duration) -> Result<()> {
    use std::io::{Read, Write};
    let hostport = url.trim_start_matches("http://");
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(hostport) {
            let req =
                format!("GET /healthz HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n");
            let mut answer = String::new();
            if s.write_all(req.as_bytes()).is_ok()
                && s.read_to_string(&mut answer).is_ok()
                && answer.starts_with("HTTP/1.1 200")
            {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("atrium-server did not become healthy at {url} within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn test(root: &Path, no_lint: bool) -> Result<()> {
    let started = Instant::now();
    preflight::ensure()?;
    preflight::ensure_tauri_driver()?;
    if !no_lint {
        run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    }
    ui::build(root, false)?;
    let lints = if no_lint { None } else { Some(Lints::find()?) };
    // The end-to-end tests drive the real binaries. Build them together with the test targets:
    // with a test target in the build, cargo unifies the dev-dependencies' features into every
    // crate, exactly as `cargo test` below does, so the test run reuses every artifact. Built
    // with `--bins` alone, about 70 dependencies (rustls, reqwest, warp, the JOSE stack…) and
    // every workspace library were compiled twice, once per feature set. `--examples` builds
    // the bench's tools, so that every target is linted (see [`Lints`]).
    run(cargo()
        .arg("build")
        .args(HOST_PACKAGES)
        .args(["--bins", "--tests", "--examples"])
        .envs(lints.iter().flat_map(Lints::env)))?;
    let mut test = if has_display() {
        cargo()
    } else {
        // A virtual X server and a session bus (deep links travel over D-Bus between instances).
        let mut c = Command::new("dbus-run-session");
        c.args(["--", "xvfb-run", "-a", "-s", "-screen 0 1280x800x24"]);
        c.arg(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        c
    };
    test.arg("test").args(HOST_PACKAGES);
    test.envs(lints.iter().flat_map(Lints::env));
    test.env("ATRIUM_TARGET_DIR", root.join("target/debug"));
    test.envs(services::ensure(root)?);
    run_tests(&mut test)?;
    // The packages, from the debug binaries built above: no release build in the test run.
    let packaging = Instant::now();
    let debs = dist::package(root, dist::Profile::Debug)?;
    dist::check(root, &debs)?;
    eprintln!("xtask: packaged and checked in {:.1?}", packaging.elapsed());
    // The UI's reducers are plain Rust: their unit tests run on the host.
    run(cargo()
        .args(["test", "-p", "atrium-ui"])
        .envs(lints.iter().flat_map(Lints::env)))?;
    eprintln!("xtask: every test passed in {:.0?}", started.elapsed());
    Ok(())
}

/// Clippy, run by the build itself: `cargo clippy -- -D warnings` is `cargo check` with
/// `clippy-driver` as the workspace's compiler wrapper and the lint flags in `CLIPPY_ARGS`.
/// `clippy-driver` also compiles when asked to, so the test build runs with the same two
/// variables and lints every workspace target it compiles (libraries, binaries, tests, the
/// bench's examples, and the UI's host build in its own test run). A separate `cargo clippy`
/// would re-check all ~460 dependencies in check mode, which cannot reuse the build's
/// artifacts: about a fifth of a cold CI run. The variables must be the same for every cargo
/// command of the run, or cargo rebuilds the workspace's crates between them.
struct Lints {
    driver: std::ffi::OsString,
}

impl Lints {
    fn find() -> Result<Lints> {
        let out = Command::new("rustup")
            .args(["which", "clippy-driver"])
            .output()
            .context("cannot run rustup to find clippy (or run with --no-lint)")?;
        if !out.status.success() {
            bail!("clippy is not installed: rustup component add clippy (or run with --no-lint)");
        }
        let driver = String::from_utf8(out.stdout)?.trim().to_owned();
        Ok(Lints {
            driver: driver.into(),
        })
    }

    fn env(&self) -> [(&'static str, std::ffi::OsString); 2] {
        [
            ("RUSTC_WORKSPACE_WRAPPER", self.driver.clone()),
            // cargo-clippy's encoding of the arguments after `--`.
            (
                "CLIPPY_ARGS",
                "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__".into(),
            ),
        ]
    }
}

/// How long the test run may print nothing before it counts as hung. Every test prints a line
/// when it ends and libtest another for a test still running after 60 s; the slowest test
/// takes about two minutes.
const STALL: Duration = Duration::from_secs(10 * 60);

/// Runs the test command under the [`watchdog`]. A run that hangs is reported (every process
/// and thread, with stacks when gdb is installed) and killed, then run once more: a hang is a
/// bug to fix from that report, and the second run tells whether it is one that recurs. A
/// test that fails is never run again, even when the run hung after it.
fn run_tests(test: &mut Command) -> Result<()> {
    let shown = without_passwords(&format!("{test:?}"));
    for attempt in 1..=2 {
        eprintln!("xtask: running {shown}");
        match watchdog::run_watched(test, STALL)? {
            watchdog::Ended::Exited { success: true } => return Ok(()),
            watchdog::Ended::Exited { success: false } => bail!("{shown} failed"),
            watchdog::Ended::Stalled { failed: true } => {
                bail!("{shown} failed (a test failed, then the run hung; see above)")
            }
            watchdog::Ended::Stalled { failed: false } if attempt == 1 => eprintln!(
                "xtask: HUNG: the test run printed nothing for {STALL:?}; the report above says \
                 where. Running it once more."
            ),
            watchdog::Ended::Stalled { failed: false } => {}
        }
    }
    bail!("{shown} hung twice (see the reports above)")
}

pub fn has_display() -> bool {
    std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
}

#[cfg(test)]
mod tests {
    use super::without_passwords;

    #[test]
    fn passwords_in_shown_commands_are_starred_out() {
        assert_eq!(
            without_passwords(r#"DB="postgres://atrium:s3cret@127.0.0.1:5432/t" "cargo" "test""#),
            r#"DB="postgres://atrium:***@127.0.0.1:5432/t" "cargo" "test""#
        );
        // A password holding '@' and ':' hides whole; URLs without one are left as they are.
        assert_eq!(
            without_passwords("a postgres://u:p@ss:w@h/db b http://h:80/x c http://u@h/"),
            "a postgres://u:***@h/db b http://h:80/x c http://u@h/"
        );
    }
}
