//! A stall watchdog for the test run.
//!
//! `cargo test` prints a line whenever a test ends, and libtest adds one for any test still
//! running after 60 s, so a run that prints nothing for minutes is hung, not slow. Without a
//! watchdog a hung test holds the whole CI job until the job's own limit kills it, and all that
//! is left is the last lines printed. [`run_watched`] forwards the command's output line by
//! line and, when nothing has been printed for the given time, reports every process still
//! running under the command (its command line and, per thread, its state and kernel wait
//! channel; with `gdb` installed, every thread's stack), then kills them. The caller decides
//! what a stall means; the report is what makes it fixable.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// How a watched command ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// It exited by itself, successfully or not.
    Exited { success: bool },
    /// It printed nothing for the stall time; it was reported and killed. `failed`: a test
    /// had already failed before it hung (libtest's `... FAILED` or `test result: FAILED`).
    Stalled { failed: bool },
}

/// Runs `cmd` with its output forwarded, killing it (and every process under it) after `stall`
/// without a line of output.
pub fn run_watched(cmd: &mut Command, stall: Duration) -> Result<Ended> {
    watch(
        cmd,
        stall,
        || Box::new(std::io::stdout()),
        || Box::new(std::io::stderr()),
    )
}

/// Where forwarded output goes.
type Sink = fn() -> Box<dyn Write>;

/// [`run_watched`], forwarding the command's output to `out` and `err`.
fn watch(cmd: &mut Command, stall: Duration, out: Sink, err: Sink) -> Result<Ended> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    let last_line = Arc::new(Mutex::new(Instant::now()));
    let failed = Arc::new(AtomicBool::new(false));
    let stdout = child.stdout.take().context("stdout")?;
    let stderr = child.stderr.take().context("stderr")?;
    let forwarders = [
        forward(stdout, out, last_line.clone(), failed.clone()),
        forward(stderr, err, last_line.clone(), failed.clone()),
    ];
    let ended = loop {
        if let Some(status) = child.try_wait()? {
            break Ended::Exited {
                success: status.success(),
            };
        }
        let quiet = last_line.lock().map_or(Duration::ZERO, |t| t.elapsed());
        if quiet >= stall {
            eprintln!("xtask: nothing printed for {quiet:.0?}: the run is hung. What was running:");
            let tree = descendants(child.id());
            for &pid in &tree {
                eprintln!("{}", report(pid));
            }
            // The deepest first, so no parent outlives the child it would have waited for.
            for &pid in tree.iter().rev() {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
            let _ = child.kill();
            let _ = child.wait();
            break Ended::Stalled {
                failed: failed.load(Ordering::Relaxed),
            };
        }
        thread::sleep(Duration::from_millis(500));
    };
    // A process left behind (a test's server, a virtual display) may still hold the pipes
    // open; what the command itself printed has arrived by now.
    let deadline = Instant::now() + Duration::from_secs(2);
    for f in forwarders {
        while !f.is_finished() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
    }
    Ok(ended)
}

/// Copies `from` to `to()` line by line, noting when each line arrived.
fn forward<R>(
    from: R,
    to: Sink,
    last_line: Arc<Mutex<Instant>>,
    failed: Arc<AtomicBool>,
) -> thread::JoinHandle<()>
where
    R: Read + Send + 'static,
{
    thread::spawn(move || {
        let mut reader = BufReader::new(from);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            let mut out = to();
            let _ = out.write_all(&line);
            let _ = out.flush();
            if let Ok(mut t) = last_line.lock() {
                *t = Instant::now();
            }
            if is_failure(&String::from_utf8_lossy(&line)) {
                failed.store(true, Ordering::Relaxed);
            }
            line.clear();
        }
    })
}

/// Whether `line` is libtest reporting a failed test or a failed run.
fn is_failure(line: &str) -> bool {
    let line = line.trim_end();
    (line.starts_with("test ") && line.ends_with(" ... FAILED"))
        || line.starts_with("test result: FAILED")
}

/// Every process under `root`, parents before their children.
fn descendants(root: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(ppid) = read_ppid(&entry.path().join("stat")) {
                parents.push((pid, ppid));
            }
        }
    }
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for &(pid, ppid) in &parents {
            if ppid == p && !out.contains(&pid) {
                out.push(pid);
                frontier.push(pid);
            }
        }
    }
    out
}

/// The parent of the process whose `/proc/PID/stat` is at `stat`.
fn read_ppid(stat: &Path) -> Option<u32> {
    parse_ppid(&std::fs::read_to_string(stat).ok()?)
}

/// The parent pid in a `/proc/PID/stat` line: the second field after the command name, which
/// is in parentheses and may itself hold spaces and parentheses.
fn parse_ppid(stat: &str) -> Option<u32> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// What one process is doing: its command line, each thread's name, state and kernel wait
/// channel, and, when `gdb` is installed, each thread's stack.
fn report(pid: u32) -> String {
    let proc_dir = format!("/proc/{pid}");
    let cmdline = std::fs::read(format!("{proc_dir}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default();
    let mut out = format!("== pid {pid}: {}\n", cmdline.trim());
    if let Ok(tasks) = std::fs::read_dir(format!("{proc_dir}/task")) {
        for task in tasks.flatten() {
            let path = task.path();
            let read = |f: &str| {
                std::fs::read_to_string(path.join(f))
                    .map(|s| s.trim().to_owned())
                    .unwrap_or_default()
            };
            let state = read("status")
                .lines()
                .find_map(|l| l.strip_prefix("State:").map(|s| s.trim().to_owned()))
                .unwrap_or_default();
            out.push_str(&format!(
                "   thread {} {:?}: {state}, waiting in {}\n",
                task.file_name().to_string_lossy(),
                read("comm"),
                read("wchan"),
            ));
        }
    }
    // Bounded: attaching to a process stuck in the kernel may never return.
    let stacks = Command::new("timeout")
        .args(["60", "gdb", "-batch", "-nx", "-p", &pid.to_string()])
        .args(["-ex", "thread apply all bt 16"])
        .stdin(Stdio::null())
        .output();
    match stacks {
        Ok(o) if o.status.success() => {
            out.push_str(&one_line_per_thread(&String::from_utf8_lossy(&o.stdout)))
        }
        _ => out.push_str("   (no stacks: gdb is not installed or could not attach)\n"),
    }
    out
}

/// gdb's `thread apply all bt` as one line per thread, innermost call first: `Thread 3 (…):
/// f < g < h`. CI keeps only the tail of a job's output, so the report has to be short.
fn one_line_per_thread(backtraces: &str) -> String {
    let mut out = String::new();
    for line in backtraces.lines() {
        if line.starts_with("Thread ") {
            // `Thread 2 (Thread 0x7f… (LWP 12) "tokio-rt-worker"):` reads `Thread 2 tokio-rt-worker:`.
            let number = line.split(' ').take(2).collect::<Vec<_>>().join(" ");
            let name = line.split('"').nth(1).unwrap_or("");
            out.push_str(&format!("\n   {number} {name}:"));
        } else if let Some(frame) = line.strip_prefix('#') {
            // "#3  0x… in name (args) at file:line" or "#0  name (args) at …".
            let call = frame.split_once(" in ").map_or(frame, |(_, c)| c);
            let call = call.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ');
            let name = call.split(" (").next().unwrap_or(call);
            out.push_str(if out.ends_with(':') { " " } else { " < " });
            out.push_str(name);
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`watch`] with the command's output dropped: a test's output must not look like a
    /// test run's (the real watchdog reads `... FAILED` lines) to the run that runs it.
    fn quietly(cmd: &mut Command, stall: Duration) -> Result<Ended> {
        watch(
            cmd,
            stall,
            || Box::new(std::io::sink()),
            || Box::new(std::io::sink()),
        )
    }

    #[test]
    fn the_parent_pid_is_read_past_a_command_name_with_spaces_and_parentheses() {
        assert_eq!(parse_ppid("4242 (a) b (c)) S 17 4242 4242 0"), Some(17));
        assert_eq!(parse_ppid("1 (init) S 0 1 1"), Some(0));
        assert_eq!(parse_ppid("garbage"), None);
    }

    #[test]
    fn stacks_are_one_line_per_thread() {
        let gdb = "\
Thread 2 (Thread 0x7f (LWP 12) \"tokio-rt-worker\"):
#0  0x00007f in syscall () at ../sysdeps/syscall.S:38
#1  0x000055 in parking_lot::park (key=1) at src/lib.rs:10
Thread 1 (Thread 0x7e (LWP 11) \"main\"):
#0  main () at src/main.rs:3
";
        assert_eq!(
            one_line_per_thread(gdb),
            "\n   Thread 2 tokio-rt-worker: syscall < parking_lot::park\n   Thread 1 main: main\n"
        );
    }

    #[test]
    fn a_silent_command_is_reported_and_killed_with_its_children() {
        // A shell that starts a grandchild and waits: both must go.
        let started = Instant::now();
        let ended = quietly(
            Command::new("sh").args(["-c", "echo started; sleep 600 & wait"]),
            Duration::from_secs(2),
        )
        .expect("runs");
        assert_eq!(ended, Ended::Stalled { failed: false });
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "killed, not waited for"
        );
    }

    #[test]
    fn a_failure_printed_before_a_stall_is_reported_with_it() {
        let ended = quietly(
            Command::new("sh").args(["-c", "echo 'test a::b ... FAILED'; sleep 600"]),
            Duration::from_secs(2),
        )
        .expect("runs");
        assert_eq!(ended, Ended::Stalled { failed: true });
        assert!(!is_failure("test a::b ... ok"));
        assert!(is_failure("test result: FAILED. 1 passed; 1 failed"));
    }

    #[test]
    fn a_command_that_keeps_printing_is_not_a_stall() {
        let ended = quietly(
            Command::new("sh").args(["-c", "for i in 1 2 3 4; do echo $i; sleep 1; done; exit 3"]),
            Duration::from_secs(5),
        )
        .expect("runs");
        assert_eq!(ended, Ended::Exited { success: false });
    }
}
