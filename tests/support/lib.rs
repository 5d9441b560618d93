//! Helpers for the end-to-end tests: real programs on real ports.
//!
//! - [`Server`]: the `atrium-server` binary on a free loopback port with a fresh SQLite file
//!   (optionally seeded with `atrium-server demo` first: [`Server::start_with_demo`]);
//! - [`SampleApp`]: the `atrium-sample-app` binary, configured with the demo's credentials;
//! - the test kit (`atrium-testkit`, re-exported here): the scripted [`Browser`] for the
//!   server's HTML login and consent pages, form parsing, and typed endpoint helpers
//!   ([`Server::atrium`]);
//! - [`Desktop`]: the real `atrium` binary, started by `tauri-driver` (which drives
//!   WebKitWebDriver) inside its own D-Bus session, so several tests can each run an instance
//!   without the single-instance plugin merging them.
//!
//! Binaries are taken from `$ATRIUM_TARGET_DIR` (set by `cargo xtask test`), else
//! `target/debug`. They are built by `cargo xtask test` before the tests run.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use fantoccini::{Client, ClientBuilder, Locator};

pub use atrium_testkit::*;

mod notifyd;
pub use notifyd::{NotificationDaemon, Notified};

/// The repository root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Path of one of the workspace's binaries.
pub fn binary(name: &str) -> Result<PathBuf> {
    let dir = std::env::var_os("ATRIUM_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/debug"));
    let path = dir.join(name);
    if !path.exists() {
        bail!(
            "{} is missing: run the tests with `cargo xtask test`, which builds it",
            path.display()
        );
    }
    Ok(path)
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A child process (and its process group) stopped when dropped.
pub struct Process {
    child: Child,
    name: &'static str,
}

impl Process {
    /// Starts `cmd` in a process group of its own, so that stopping it also stops whatever it
    /// started (tauri-driver → WebKitWebDriver → atrium).
    pub fn spawn(name: &'static str, cmd: &mut Command) -> Result<Process> {
        let child = cmd
            .process_group(0)
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        Ok(Process { child, name })
    }

    /// Its process id, which is also its process group's.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The processes of its group (itself and what it started) whose name (`/proc/PID/comm`,
    /// cut to 15 bytes by the kernel) starts with `name`.
    pub fn count_in_group(&self, name: &str) -> usize {
        let group = self.id().to_string();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return 0;
        };
        entries
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .bytes()
                    .all(|b| b.is_ascii_digit())
            })
            .filter(|e| {
                let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
                // `pid (comm) state ppid pgrp ...`: comm may hold spaces, so read after ')'.
                let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
                let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
                after.split_whitespace().nth(2) == Some(group.as_str())
                    && comm.trim_end().starts_with(name)
            })
            .count()
    }

    /// The process's standard output, when it was piped.
    pub fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.stdout.take()
    }

    /// The process's standard error, when it was piped.
    pub fn take_stderr(&mut self) -> Option<std::process::ChildStderr> {
        self.child.stderr.take()
    }

    /// Fails if the process has already exited.
    pub fn check_running(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited early with {status}", self.name);
        }
        Ok(())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// Waits until something accepts TCP connections on `port`.
pub async fn wait_for_port(process: &mut Process, port: u16, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        process.check_running()?;
        if Instant::now() > deadline {
            bail!("nothing listened on port {port} within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A real `atrium-server` on a free port with a fresh database.
pub struct Server {
    pub url: String,
    process: Option<Process>,
    _dir: tempfile::TempDir,
    allow_private_webhooks: bool,
}

impl Server {
    pub async fn start() -> Result<Server> {
        Server::serve(tempfile::tempdir()?, false).await
    }

    /// Seeds a fresh database with `atrium-server demo --sample-app-url SAMPLE_APP_URL` (user
    /// `demo`, "Demo Company", App1 and App2 pointing at the sample app), then serves it.
    /// Returns the JSON the demo printed (credentials, see [`SampleApp::start`]). The sample
    /// app listens on loopback, so both commands get `--allow-private-webhooks`.
    pub async fn start_with_demo(sample_app_url: &str) -> Result<(Server, serde_json::Value)> {
        let dir = tempfile::tempdir()?;
        let out = Command::new(binary("atrium-server")?)
            .arg("--db")
            .arg(dir.path().join("atrium.db"))
            .args(["demo", "--sample-app-url", sample_app_url])
            .arg("--allow-private-webhooks")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .context("cannot run atrium-server demo")?;
        if !out.status.success() {
            bail!(
                "atrium-server demo failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let demo: serde_json::Value = serde_json::from_slice(&out.stdout).with_context(|| {
            format!(
                "atrium-server demo printed no JSON: {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })?;
        Ok((Server::serve(dir, true).await?, demo))
    }

    /// Serves the database in `dir` on a free port; `allow_private_webhooks` lets install
    /// notifications go to an app on loopback.
    async fn serve(dir: tempfile::TempDir, allow_private_webhooks: bool) -> Result<Server> {
        let port = free_port();
        let process = Self::spawn(dir.path(), port, allow_private_webhooks).await?;
        Ok(Server {
            url: format!("http://127.0.0.1:{port}"),
            process: Some(process),
            _dir: dir,
            allow_private_webhooks,
        })
    }

    async fn spawn(dir: &Path, port: u16, allow_private_webhooks: bool) -> Result<Process> {
        let mut command = Command::new(binary("atrium-server")?);
        command
            .arg("--db")
            .arg(dir.join("atrium.db"))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn");
        if allow_private_webhooks {
            command.arg("--allow-private-webhooks");
        }
        let mut process = Process::spawn("atrium-server", &mut command)?;
        wait_for_port(&mut process, port, Duration::from_secs(20)).await?;
        Ok(process)
    }

    /// Stops the server (its streams and connections end).
    pub fn stop(&mut self) {
        drop(self.process.take());
    }

    /// Serves the same database on the same port again, after [`Server::stop`] (or stops it
    /// first).
    pub async fn start_again(&mut self) -> Result<()> {
        self.stop();
        let port: u16 = self
            .url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .context("the server's URL has no port")?;
        let process = Self::spawn(self._dir.path(), port, self.allow_private_webhooks).await?;
        self.process = Some(process);
        Ok(())
    }

    /// The kit's typed endpoint helpers for this server.
    pub fn atrium(&self) -> Atrium {
        Atrium::new(&self.url)
    }

    /// The server's database file (for `atrium-server --db ... app add` and the like).
    pub fn db_path(&self) -> PathBuf {
        self._dir.path().join("atrium.db")
    }
}

/// The real `atrium-sample-app` on a given port, with the credentials `atrium-server demo`
/// printed.
pub struct SampleApp {
    pub url: String,
    _process: Process,
    _dir: tempfile::TempDir,
}

impl SampleApp {
    /// Starts the sample app on `port` (the one its URL was registered with) against
    /// `server_url`, with `demo` (the JSON of [`Server::start_with_demo`]) as its `--config`.
    pub async fn start(server_url: &str, port: u16, demo: &serde_json::Value) -> Result<SampleApp> {
        Self::start_with(server_url, port, demo, &[]).await
    }

    /// [`SampleApp::start`] with `args` added (such as `--probe-bridge`).
    pub async fn start_with(
        server_url: &str,
        port: u16,
        demo: &serde_json::Value,
        args: &[&str],
    ) -> Result<SampleApp> {
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("demo.json");
        std::fs::write(&config, demo.to_string())?;
        let mut process = Process::spawn(
            "atrium-sample-app",
            Command::new(binary("atrium-sample-app")?)
                .args(["--server", server_url])
                .args(["--addr", &format!("127.0.0.1:{port}")])
                .arg("--config")
                .arg(&config)
                // Its pages report what they can reach of the desktop (`probe.rs`).
                .arg("--probe")
                .args(args)
                // warp logs every 4xx at warn; the tests cause many on purpose.
                .env("RUST_LOG", "warn,warp=error"),
        )?;
        wait_for_port(&mut process, port, Duration::from_secs(20)).await?;
        Ok(SampleApp {
            url: format!("http://127.0.0.1:{port}"),
            _process: process,
            _dir: dir,
        })
    }
}

/// The real desktop app under WebDriver.
pub struct Desktop {
    pub client: Client,
    driver: Process,
    home: tempfile::TempDir,
    /// The desktop's own X display (dropped after the app, which is `driver`'s).
    display: Display,
}

/// A virtual X display for one desktop: its screenshots show its window alone, and no other
/// test's window takes its focus. Without `Xvfb`, the display the tests run on.
struct Display {
    name: String,
    _server: Option<Process>,
}

impl Display {
    async fn start() -> Result<Display> {
        // Xvfb picks a free display number itself and writes it out once it is ready.
        let started = Process::spawn(
            "Xvfb",
            Command::new("Xvfb")
                .args([
                    "-displayfd",
                    "1",
                    "-screen",
                    "0",
                    "1280x800x24",
                    "-nolisten",
                    "tcp",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let Ok(mut server) = started else {
            let name = std::env::var("DISPLAY").map_err(|_| {
                anyhow::anyhow!(
                    "no X display: run the tests with `cargo xtask test` (it starts Xvfb)"
                )
            })?;
            return Ok(Display {
                name,
                _server: None,
            });
        };
        let stdout = server.take_stdout().context("Xvfb's output")?;
        let number = tokio::time::timeout(
            Duration::from_secs(20),
            tokio::task::spawn_blocking(move || {
                let mut line = String::new();
                BufReader::new(stdout).read_line(&mut line).map(|_| line)
            }),
        )
        .await
        .context("Xvfb gave no display within 20 s")???;
        let number = number.trim();
        if number.is_empty() {
            server.check_running()?;
            bail!("Xvfb printed no display number");
        }
        Ok(Display {
            name: format!(":{number}"),
            _server: Some(server),
        })
    }
}

impl Desktop {
    /// Launches `atrium` configured to use `server_url`, with a private home (data, config and
    /// WebKit caches) and its own D-Bus session.
    pub async fn launch(server_url: &str) -> Result<Desktop> {
        Self::launch_with(server_url, &[]).await
    }

    /// Like [`Desktop::launch`], with extra environment for the app (e.g. a scripted browser).
    pub async fn launch_with(server_url: &str, env: &[(&str, String)]) -> Result<Desktop> {
        Self::launch_on(server_url, env, None).await
    }

    /// Like [`Desktop::launch_with`], on the D-Bus session bus at `bus` (one the test holds,
    /// e.g. with a [`NotificationDaemon`] on it) rather than a private one.
    pub async fn launch_on(
        server_url: &str,
        env: &[(&str, String)],
        bus: Option<&str>,
    ) -> Result<Desktop> {
        let display = Display::start().await?;
        let app = binary("atrium")?;
        let home = tempfile::tempdir()?;
        let port = free_port();
        let native_port = free_port();
        let mut command = match bus {
            Some(address) => {
                let mut c = Command::new("tauri-driver");
                c.env("DBUS_SESSION_BUS_ADDRESS", address);
                c
            }
            None => {
                let mut c = Command::new("dbus-run-session");
                c.args(["--", "tauri-driver"]);
                c
            }
        };
        let mut driver = Process::spawn(
            "tauri-driver",
            command
                .args(["--port", &port.to_string()])
                .args(["--native-port", &native_port.to_string()])
                .env("DISPLAY", &display.name)
                .env("ATRIUM_SERVER_URL", server_url)
                .env("XDG_DATA_HOME", home.path().join("data"))
                .env("XDG_CONFIG_HOME", home.path().join("config"))
                .env("XDG_CACHE_HOME", home.path().join("cache"))
                .env("RUST_LOG", "warn")
                .envs(env.iter().map(|(k, v)| (*k, v.as_str()))),
        )?;
        wait_for_port(&mut driver, port, Duration::from_secs(20)).await?;
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app }),
        );
        // tauri-driver listens before the WebKitWebDriver behind it does: until then a new
        // session fails with "connection refused" from tauri-driver. Try again for a while.
        let mut attempt = 0;
        let client = loop {
            attempt += 1;
            match ClientBuilder::rustls()?
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(e) if attempt < 10 => {
                    driver.check_running()?;
                    eprintln!("desktop: no WebDriver session yet ({e}); trying again");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => {
                    return Err(e).context("cannot open a WebDriver session on the desktop app")
                }
            }
        };
        Ok(Desktop {
            client,
            driver,
            home,
            display,
        })
    }

    /// The desktop's data directory (`$XDG_DATA_HOME/<identifier>`): session, settings, and the
    /// apps' partitions.
    pub fn data_dir(&self) -> PathBuf {
        self.home.path().join("data").join("dev.atrium.desktop")
    }

    /// How many WebKit web processes the desktop runs (one per live webview: the dashboard's
    /// and each open app's, as each app has a web context of its own).
    pub fn web_processes(&self) -> usize {
        self.driver.count_in_group("WebKitWebProces")
    }

    /// Waits for the first element matching `css`.
    pub async fn wait_for(
        &self,
        css: &str,
        timeout: Duration,
    ) -> Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(timeout)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("no element matches {css:?} within {timeout:?}"))
    }

    /// Saves a screenshot of the desktop's X display (its own: see [`Display`]) under
    /// `target/e2e-screenshots/NAME.png`, for people to look at. WebKitWebDriver's own screenshots come out blank under Xvfb, so this uses
    /// ImageMagick's `import` when it is installed, and does nothing otherwise.
    pub async fn screenshot(&self, name: &str) -> Result<Option<PathBuf>> {
        let dir = workspace_root().join("target/e2e-screenshots");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        let taken = Command::new("import")
            .args(["-display", &self.display.name, "-window", "root"])
            .arg(&path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        Ok(taken.then_some(path))
    }

    /// Clicks the first element matching `css` once it is there.
    pub async fn click(&self, css: &str) -> Result<()> {
        self.wait_for(css, Duration::from_secs(30))
            .await?
            .click()
            .await
            .with_context(|| format!("cannot click {css:?}"))
    }

    /// Types into the first element matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        self.wait_for(css, Duration::from_secs(30))
            .await?
            .send_keys(text)
            .await
            .with_context(|| format!("cannot type into {css:?}"))
    }

    /// Waits until no element matches `css`.
    pub async fn wait_gone(&self, css: &str, timeout: Duration) -> Result<()> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if self.client.find_all(Locator::Css(css)).await?.is_empty() {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                bail!("{css:?} is still there after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends the WebDriver session (closing the app).
    pub async fn close(self) -> Result<()> {
        self.client.clone().close().await?;
        Ok(())
    }
}
