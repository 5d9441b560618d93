//! The event-stream load of `cargo xtask bench`: what the desktops' Server-Sent Events streams
//! cost the server, and how long a notification takes to reach them.
//!
//! 1. Reads the server's resident memory (`--server-pid`), then opens `--streams` streams
//!    (`GET /api/dashboard/events`), four per member of the seeded company (the server allows a
//!    user four), and waits until every one has had its first `badges` event.
//! 2. Reads the memory again, and the server's CPU time over `--idle-seconds` of quiet: the
//!    cost of streams that are only held open.
//! 3. Posts `--notifications` notifications to the whole company with the install's token,
//!    one every 100 ms, each answered before the next, and notes when every stream gets each.
//!
//! Prints JSON: streams, memory before and after (KiB) and per 1,000 streams, idle CPU, and the
//! delay from sending a POST to a stream's event (p50, p99, max over every stream and
//! notification), with any event that never came counted as missing.
//!
//! `event_streams BASE_URL SEED_JSON --server-pid PID [--streams N] [--notifications N]
//! [--idle-seconds S]`

mod common;
use common::arg;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use atrium_proto::paths;
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// Streams each user may hold (the server's `STREAMS_PER_USER`).
const PER_USER: usize = 4;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(base), Some(seed_path)) = (args.next(), args.next()) else {
        bail!("usage: event_streams BASE_URL SEED_JSON --server-pid PID [--streams N] [--notifications N] [--idle-seconds S]");
    };
    let pid: u32 = arg("--server-pid", 0);
    if pid == 0 {
        bail!("--server-pid is required (the server's memory and CPU are read from /proc)");
    }
    let wanted: usize = arg("--streams", 1000);
    let notifications: usize = arg("--notifications", 50);
    let idle = Duration::from_secs(arg("--idle-seconds", 10));
    let seed: Value = serde_json::from_str(&std::fs::read_to_string(&seed_path)?)?;
    let tokens: Vec<String> = seed["streams"]["dashboard_tokens"]
        .as_array()
        .context("the seed has no streams: run bench_seed with --stream-users")?
        .iter()
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    let notify_token = seed["streams"]["notify_token"]
        .as_str()
        .context("no notify_token")?
        .to_owned();
    if tokens.len() * PER_USER < wanted {
        bail!("{wanted} streams need {} users", wanted.div_ceil(PER_USER));
    }
    atrium_server::serve::raise_fd_limit();

    let rss_before = rss_kib(pid)?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    // Each stream reports its first event, then (title, when) for every notification.
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<()>();
    let arrivals: Arc<Mutex<HashMap<String, Vec<Instant>>>> = Arc::default();
    let opening = Instant::now();
    for i in 0..wanted {
        let request = client
            .get(format!("{base}{}", paths::EVENTS))
            .bearer_auth(&tokens[i / PER_USER])
            .header("Accept", "text/event-stream");
        tokio::spawn(stream(request, ready_tx.clone(), arrivals.clone()));
    }
    drop(ready_tx);
    let mut open = 0;
    while open < wanted {
        match tokio::time::timeout(Duration::from_secs(60), ready_rx.recv()).await {
            Ok(Some(())) => open += 1,
            _ => bail!("only {open} of {wanted} streams opened"),
        }
    }
    let opened_in = opening.elapsed();
    eprintln!("event_streams: {wanted} streams open in {opened_in:.1?}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_open = rss_kib(pid)?;
    let cpu_before = cpu_ticks(pid)?;
    tokio::time::sleep(idle).await;
    let idle_ticks = cpu_ticks(pid)? - cpu_before;

    let mut sent = HashMap::new();
    for k in 0..notifications {
        let title = format!("bench-{k}");
        let at = Instant::now();
        let res = client
            .post(format!("{base}{}", paths::API_NOTIFICATIONS))
            .bearer_auth(&notify_token)
            .json(&json!({"title": title, "body": "A notification of the bench."}))
            .send()
            .await?;
        if !res.status().is_success() {
            bail!(
                "POST {} answered {}",
                paths::API_NOTIFICATIONS,
                res.status()
            );
        }
        sent.insert(title, at);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Stragglers: until every stream has every notification, or 5 s.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let complete = arrivals.lock().is_ok_and(|a| {
            sent.keys()
                .all(|t| a.get(t).is_some_and(|v| v.len() >= wanted))
        });
        if complete {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut delays_ms: Vec<f64> = Vec::new();
    let mut missing = 0;
    {
        let a = arrivals.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        for (title, at) in &sent {
            let got = a.get(title).map_or(&[][..], Vec::as_slice);
            missing += wanted.saturating_sub(got.len());
            delays_ms.extend(
                got.iter()
                    .map(|t| t.saturating_duration_since(*at).as_secs_f64() * 1000.0),
            );
        }
    }
    delays_ms.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        delays_ms
            .get(((delays_ms.len() as f64 * p) as usize).min(delays_ms.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    let ticks_per_s = 100.0; // USER_HZ on Linux
    let per_1000 = (rss_open.saturating_sub(rss_before)) as f64 * 1000.0 / wanted as f64;
    println!(
        "{}",
        json!({
            "streams": wanted,
            "opened_in_ms": opened_in.as_millis() as u64,
            "rss_kib": { "before": rss_before, "open": rss_open },
            "rss_kib_per_1000_streams": per_1000.round(),
            "idle_cpu_percent": (idle_ticks as f64 / ticks_per_s / idle.as_secs_f64() * 100.0 * 10.0).round() / 10.0,
            "idle_seconds": idle.as_secs(),
            "notifications": notifications,
            "delivered": delays_ms.len(),
            "missing": missing,
            "delay_ms": {
                "p50": (pct(0.50) * 100.0).round() / 100.0,
                "p99": (pct(0.99) * 100.0).round() / 100.0,
                "max": (pct(1.0) * 100.0).round() / 100.0,
            },
        })
    );
    std::process::exit(0)
}

/// Holds one stream: reports the first event on `ready`, then each notification's arrival.
async fn stream(
    request: reqwest::RequestBuilder,
    ready: mpsc::UnboundedSender<()>,
    arrivals: Arc<Mutex<HashMap<String, Vec<Instant>>>>,
) {
    let Ok(mut res) = request.send().await else {
        return;
    };
    if !res.status().is_success() {
        eprintln!("event_streams: a stream was answered {}", res.status());
        return;
    }
    let mut ready = Some(ready);
    let mut buf = String::new();
    while let Ok(Some(chunk)) = res.chunk().await {
        let now = Instant::now();
        buf.push_str(&String::from_utf8_lossy(&chunk));
        // Events end with a blank line.
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            if let Some(r) = ready.take() {
                let _ = r.send(());
            }
            // `field:value`, with one optional space after the colon.
            let field = |name: &str| {
                event.lines().find_map(|l| {
                    let v = l.strip_prefix(name)?.strip_prefix(':')?;
                    Some(v.strip_prefix(' ').unwrap_or(v).to_owned())
                })
            };
            if field("event").as_deref() != Some("notification") {
                continue;
            }
            let Some(data) = field("data") else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<Value>(data.trim()) else {
                continue;
            };
            if let (Some(title), Ok(mut a)) = (v["title"].as_str(), arrivals.lock()) {
                a.entry(title.to_owned()).or_default().push(now);
            }
        }
    }
}

/// The process's resident memory (VmRSS), in KiB.
fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .context("no VmRSS")
}

/// The process's user plus system CPU time, in clock ticks.
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after_name = &stat[stat.rfind(')').context("stat")? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let utime: u64 = fields.get(11).context("utime")?.parse()?;
    let stime: u64 = fields.get(12).context("stime")?.parse()?;
    Ok(utime + stime)
}
