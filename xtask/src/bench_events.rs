//! The bench's event-stream scenario: 1,000 desktops' Server-Sent Events streams held open on
//! one server, what they cost it in memory and idle CPU, and how long a notification posted by
//! an app takes to reach every one (the driver is `server/examples/event_streams.rs`).

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::bench::{free_port, seed_db, Server};

/// Streams held open: four per member, the most a user may hold.
const STREAMS: u32 = 1000;

pub(crate) fn run(rel: &Path, work: &Path) -> Result<Value> {
    let db = work.join("streams.db");
    let seed = seed_db(rel, &db, &["--stream-users", &(STREAMS / 4).to_string()])?;
    let seed_file = work.join("streams-seed.json");
    std::fs::write(&seed_file, seed.to_string())?;
    let port = free_port()?;
    let server = Server::start(
        Command::new(rel.join("atrium-server"))
            .arg("--db")
            .arg(&db)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            // Room for the streams beside the POSTs, and a notification rate the bench does
            // not reach (the default is 100 an hour per install).
            .args(["--max-connections", "4096"])
            .args(["--max-notifications-per-install-hour", "1000000"])
            .env("RUST_LOG", "error"),
        port,
    )?;
    eprintln!(
        "xtask: {STREAMS} event streams, then 50 notifications → {}",
        server.url("")
    );
    let out = Command::new(rel.join("examples/event_streams"))
        .arg(server.url(""))
        .arg(&seed_file)
        .args(["--server-pid", &server.pid().to_string()])
        .args(["--streams", &STREAMS.to_string()])
        .args(["--notifications", "50", "--idle-seconds", "10"])
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run the event-stream driver")?;
    if !out.status.success() {
        bail!("the event-stream driver failed");
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

pub(crate) fn print(v: &Value) {
    println!(
        "event streams: {} open: server RSS +{} KiB per 1,000 streams ({} → {} KiB), idle CPU {}% over {} s; \
         POST /api/notifications → event on every stream: p50 {} ms, p99 {} ms, max {} ms ({} delivered, {} missing)",
        v["streams"],
        v["rss_kib_per_1000_streams"],
        v["rss_kib"]["before"],
        v["rss_kib"]["open"],
        v["idle_cpu_percent"],
        v["idle_seconds"],
        v["delay_ms"]["p50"],
        v["delay_ms"]["p99"],
        v["delay_ms"]["max"],
        v["delivered"],
        v["missing"],
    );
}
