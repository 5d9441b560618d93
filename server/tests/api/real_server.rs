//! The real `atrium-server` binary, started in its own process (so its memory, its descriptor
//! limit and its log are its own), for the load tests: login floods, idle-socket floods, and
//! what the operator's log shows.

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct RealServer {
    pub addr: SocketAddr,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    dir: tempfile::TempDir,
}

impl RealServer {
    /// Starts `atrium-server serve` on 127.0.0.1:0 with `args`; with `nofile`, under that
    /// descriptor limit (soft and hard, so the server cannot raise it).
    pub fn start(args: &[&str], nofile: Option<u64>) -> RealServer {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("atrium.db");
        Self::spawn(dir, db.as_os_str(), &[], args, nofile)
    }

    /// Starts `atrium-server serve` on 127.0.0.1:0 as one more replica on the PostgreSQL
    /// database at `url`, reading the key file `key_file` (`--key-file`), with `args`.
    pub fn start_on_postgres(url: &str, key_file: &std::path::Path, args: &[&str]) -> RealServer {
        let key = key_file.as_os_str();
        Self::spawn(
            tempfile::tempdir().unwrap(),
            url.as_ref(),
            &["--key-file".as_ref(), key],
            args,
            None,
        )
    }

    fn spawn(
        dir: tempfile::TempDir,
        db: &std::ffi::OsStr,
        global: &[&std::ffi::OsStr],
        args: &[&str],
        nofile: Option<u64>,
    ) -> RealServer {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_atrium-server"));
        cmd.arg("--db")
            .arg(db)
            .args(global)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(n) = nofile {
            use std::os::unix::process::CommandExt;
            // SAFETY: setrlimit is async-signal-safe; the closure touches nothing else.
            unsafe {
                cmd.pre_exec(move || {
                    let lim = libc::rlimit {
                        rlim_cur: n,
                        rlim_max: n,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let mut child = cmd.spawn().expect("the server binary starts");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stderr)
                    .lines()
                    .map_while(Result::ok)
                {
                    if let Some(addr) = listening_addr(&line) {
                        let _ = tx.send(addr);
                    }
                    log.lock().unwrap().push(line);
                }
            });
        }
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("the server did not start: {:?}", log.lock().unwrap()));
        RealServer {
            addr,
            child,
            log,
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The server's SQLite file.
    pub fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("atrium.db")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A field of `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`).
    pub fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in {status}"))
    }

    /// The log lines so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Kills the process at once (SIGKILL, as `kill -9`: nothing is cleaned up or released)
    /// and waits for it to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it exited cleanly.
    pub fn terminate(&mut self, within: Duration) -> bool {
        // SAFETY: kill only sends a signal to our own child.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let start = Instant::now();
        while start.elapsed() < within {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the log reader take the last lines.
                std::thread::sleep(Duration::from_millis(100));
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in the "atrium-server listening" line.
fn listening_addr(line: &str) -> Option<SocketAddr> {
    if !line.contains("atrium-server listening") {
        return None;
    }
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(line) {
        return json["fields"]["addr"].as_str()?.parse().ok();
    }
    let start = line.find("addr=")? + "addr=".len();
    line[start..].split_whitespace().next()?.parse().ok()
}

/// Raises this test process's own descriptor limit (it holds the flood's sockets); returns
/// the soft limit now in force.
pub fn raise_own_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write only the struct passed.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
    }
    lim.rlim_cur
}
