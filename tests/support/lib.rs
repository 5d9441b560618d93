//! Helpers for the end-to-end tests: real programs on real ports.
//!
//! - [`Server`]: the `atrium-server` binary on a free loopback port with a fresh SQLite file;
//! - [`Desktop`]: the real `atrium` binary, started by `tauri-driver` (which drives
//!   WebKitWebDriver) inside its own D-Bus session, so several tests can each run an instance
//!   without the single-instance plugin merging them.
//!
//! Binaries are taken from `$ATRIUM_TARGET_DIR` (set by `cargo xtask test`), else
//! `target/debug`. They are built by `cargo xtask test` before the tests run.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use fantoccini::{Client, ClientBuilder, Locator};

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

    pub fn pid(&self) -> u32 {
        self.child.id()
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
    _process: Process,
    _dir: tempfile::TempDir,
}

impl Server {
    pub async fn start() -> Result<Server> {
        let dir = tempfile::tempdir()?;
        let port = free_port();
        let mut process = Process::spawn(
            "atrium-server",
            Command::new(binary("atrium-server")?)
                .arg("--db")
                .arg(dir.path().join("atrium.db"))
                .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
                .env("RUST_LOG", "warn"),
        )?;
        wait_for_port(&mut process, port, Duration::from_secs(20)).await?;
        Ok(Server {
            url: format!("http://127.0.0.1:{port}"),
            _process: process,
            _dir: dir,
        })
    }
}

/// The real desktop app under WebDriver.
pub struct Desktop {
    pub client: Client,
    _driver: Process,
    _home: tempfile::TempDir,
}

impl Desktop {
    /// Launches `atrium` configured to use `server_url`, with a private home (data, config and
    /// WebKit caches) and its own D-Bus session.
    pub async fn launch(server_url: &str) -> Result<Desktop> {
        if std::env::var_os("DISPLAY").is_none() {
            bail!("no X display: run the tests with `cargo xtask test` (it starts Xvfb)");
        }
        let app = binary("atrium")?;
        let home = tempfile::tempdir()?;
        let port = free_port();
        let native_port = free_port();
        let mut driver = Process::spawn(
            "tauri-driver",
            Command::new("dbus-run-session")
                .args(["--", "tauri-driver"])
                .args(["--port", &port.to_string()])
                .args(["--native-port", &native_port.to_string()])
                .env("ATRIUM_SERVER_URL", server_url)
                .env("XDG_DATA_HOME", home.path().join("data"))
                .env("XDG_CONFIG_HOME", home.path().join("config"))
                .env("XDG_CACHE_HOME", home.path().join("cache"))
                .env("RUST_LOG", "warn"),
        )?;
        wait_for_port(&mut driver, port, Duration::from_secs(20)).await?;
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app }),
        );
        let client = ClientBuilder::rustls()?
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .context("cannot open a WebDriver session on the desktop app")?;
        Ok(Desktop {
            client,
            _driver: driver,
            _home: home,
        })
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

    /// Saves a screenshot of the X display under `target/e2e-screenshots/NAME.png`, for people
    /// to look at. WebKitWebDriver's own screenshots come out blank under Xvfb, so this uses
    /// ImageMagick's `import` when it is installed, and does nothing otherwise.
    pub async fn screenshot(&self, name: &str) -> Result<Option<PathBuf>> {
        let dir = workspace_root().join("target/e2e-screenshots");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        let taken = Command::new("import")
            .args(["-window", "root"])
            .arg(&path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        Ok(taken.then_some(path))
    }

    /// Ends the WebDriver session (closing the app).
    pub async fn close(self) -> Result<()> {
        self.client.clone().close().await?;
        Ok(())
    }
}
