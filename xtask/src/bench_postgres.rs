//! `cargo xtask bench --backend postgres`: the server scenarios of [`crate::bench`] (resource
//! API, token endpoint per grant, install flow) on PostgreSQL, with one replica and with two
//! behind haproxy, each beside a floor measured the same way (the bare warp server direct for
//! one replica, two of them behind the same haproxy for two), so every ratio compares like
//! with like. With two replicas it also measures revocation propagation: revoke through
//! replica A, poll replica B until it refuses the token (p50, p99).
//!
//! The data is the SQLite bench seed, moved with `atrium-server db copy` into a fresh schema
//! per configuration (the token scenarios consume its codes and refresh tokens). PostgreSQL is
//! the local cluster's `atrium_bench` database (prepared as `cargo xtask test` prepares its
//! own), or the one `ATRIUM_BENCH_POSTGRES_URL` names. The figures go into
//! `target/bench/results.json` under `postgres`, beside the SQLite ones.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::bench::{
    basic, free_port, install_load, seed_db, token_grants, wrk, Load, Server, DURATION,
    INSTALL_COMPANIES,
};

/// Revocations timed for the propagation figure.
const REVOCATIONS: usize = 200;

pub fn run(root: &Path) -> Result<()> {
    crate::preflight::ensure_packages(&["wrk", "haproxy"])?;
    let base = match std::env::var("ATRIUM_BENCH_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => crate::services::local_postgres("atrium_bench")?,
    };
    let rel = crate::bench::build_server(root)?;
    let work = std::env::temp_dir().join(format!("atrium-bench-pg-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let result = scenarios(&rel, &work, &base);
    let _ = std::fs::remove_dir_all(&work);
    let figures = result?;
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out)?;
    let file = out.join("results.json");
    let mut results: Value = std::fs::read(&file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| json!({}));
    results["postgres"] = figures;
    std::fs::write(&file, serde_json::to_string_pretty(&results)?)?;
    eprintln!("xtask: figures written to target/bench/results.json (under \"postgres\")");
    Ok(())
}

fn scenarios(rel: &Path, work: &Path, base: &str) -> Result<Value> {
    let small = work.join("small.db");
    eprintln!("xtask: seeding (SQLite), to copy into PostgreSQL");
    let seed = seed_db(
        rel,
        &small,
        &[
            "--codes",
            "60000",
            "--refresh",
            "60000",
            "--tokens",
            "1000",
            "--companies",
            &INSTALL_COMPANIES.to_string(),
        ],
    )?;
    let seed_file = work.join("seed.json");
    std::fs::write(&seed_file, seed.to_string())?;
    // The seed has no key file yet: make it (with a signing key) as an operator would, beside
    // the SQLite database where `db copy` reads it; the replicas then share that same file, as
    // a copied deployment must.
    crate::run(
        Command::new(rel.join("atrium-server"))
            .arg("--db")
            .arg(&small)
            .args(["keys", "rotate"])
            .env("RUST_LOG", "warn"),
    )
    .context("cannot make the seed's key file")?;
    let key = small.with_extension("key");

    // One replica, beside the floor served directly.
    let floor = floor_servers(rel, 1)?;
    let floor_one = best_of_2(&floor[0].url("/api/username"), &[])?;
    drop(floor);
    let url = fresh_schema(rel, base, "atrium_bench_1", &small, &key)?;
    let single = replica(rel, &url, &key)?;
    let one = server_scenarios(rel, work, &single, &seed, &seed_file)?;
    drop(single);

    // Two replicas behind haproxy, beside two floors behind the same haproxy.
    let floors = floor_servers(rel, 2)?;
    let proxy = haproxy(work, "floor", &floors)?;
    let floor_two = best_of_2(&proxy.url("/api/username"), &[])?;
    drop(proxy);
    drop(floors);
    let url = fresh_schema(rel, base, "atrium_bench_2", &small, &key)?;
    let replicas = [replica(rel, &url, &key)?, replica(rel, &url, &key)?];
    let proxy = haproxy(work, "atrium", &replicas)?;
    let two = server_scenarios(rel, work, &proxy, &seed, &seed_file)?;
    drop(proxy);
    let propagation = revocation_propagation(&replicas[0], &replicas[1], &seed)?;
    drop(replicas);

    let ratio = |l: &Value, floor: &Load| {
        let rps = l["username"]["req_per_s"].as_f64().unwrap_or(0.0);
        ((rps / floor.rps.max(1.0)) * 1000.0).round() / 1000.0
    };
    let figures = json!({
        "duration": DURATION,
        "one_replica": {
            "floor_username": floor_one.json(),
            "scenarios": one,
            "username_ratio_to_floor": ratio(&one, &floor_one),
        },
        "two_replicas_haproxy": {
            "floor_username": floor_two.json(),
            "scenarios": two,
            "username_ratio_to_floor": ratio(&two, &floor_two),
            "revocation_propagation": propagation,
        },
    });
    print_table(&figures);
    Ok(figures)
}

/// The resource path (best of 2), the three grants and the install flow through `server`.
fn server_scenarios(
    rel: &Path,
    work: &Path,
    server: &Server,
    seed: &Value,
    seed_file: &Path,
) -> Result<Value> {
    let token = seed["access_token"].as_str().context("no token")?;
    let username = best_of_2(
        &server.url("/api/username"),
        &[&format!("Authorization: Bearer {token}")],
    )?;
    let auth = format!("Authorization: Basic {}", basic(seed));
    let (cc, exchange, refresh) = token_grants(server, work, seed, &auth)?;
    let install = install_load(rel, server, seed_file)?;
    Ok(json!({
        "username": username.json(),
        "client_credentials": cc.json(),
        "authorization_code": exchange.json(),
        "refresh_token": refresh.json(),
        "install_flow": install,
    }))
}

fn best_of_2(url: &str, headers: &[&str]) -> Result<Load> {
    let first = wrk(url, 64, headers, None)?;
    let again = wrk(url, 64, headers, None)?;
    Ok(if again.rps > first.rps { again } else { first })
}

fn form_encoded(s: &str) -> String {
    s.replace(':', "%3A").replace('/', "%2F")
}

/// `n` bare warp servers (the floor).
fn floor_servers(rel: &Path, n: usize) -> Result<Vec<Server>> {
    (0..n)
        .map(|_| {
            let port = free_port()?;
            Server::start(
                Command::new(rel.join("examples/floor")).arg(format!("127.0.0.1:{port}")),
                port,
            )
        })
        .collect()
}

/// A fresh schema `schema` in the database at `base`, holding a copy of the SQLite bench
/// database; the URL that selects it.
fn fresh_schema(rel: &Path, base: &str, schema: &str, sqlite: &Path, key: &Path) -> Result<String> {
    crate::run(Command::new("psql").args([
        base,
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        &format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"),
    ]))
    .context("cannot make the bench schema (psql, from postgresql-client)")?;
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
    eprintln!("xtask: copying the seed into PostgreSQL ({schema})");
    let out = Command::new(rel.join("atrium-server"))
        .arg("--key-file")
        .arg(key)
        .args(["db", "copy", "--to", &url, "--from"])
        .arg(sqlite)
        .env("RUST_LOG", "warn")
        .output()
        .context("cannot run atrium-server db copy")?;
    if !out.status.success() {
        bail!("db copy failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(url)
}

/// One `atrium-server` replica on the PostgreSQL database at `url`.
fn replica(rel: &Path, url: &str, key: &Path) -> Result<Server> {
    let port = free_port()?;
    Server::start(
        Command::new(rel.join("atrium-server"))
            .args(["--db", url])
            .arg("--key-file")
            .arg(key)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "error,warp::server=off"),
        port,
    )
}

/// haproxy in front of `backends`, round robin, keep-alive to both sides.
fn haproxy(work: &Path, name: &str, backends: &[Server]) -> Result<Server> {
    let port = free_port()?;
    let mut config = format!(
        "global\n  maxconn 4096\n\
         defaults\n  mode http\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n\
         frontend front\n  bind 127.0.0.1:{port}\n  default_backend back\n\
         backend back\n  balance roundrobin\n  http-reuse always\n"
    );
    for (i, b) in backends.iter().enumerate() {
        let addr = b.url("").trim_start_matches("http://").to_string();
        config.push_str(&format!("  server r{i} {addr}\n"));
    }
    let file = work.join(format!("haproxy-{name}.cfg"));
    std::fs::write(&file, config)?;
    Server::start(
        Command::new("haproxy").arg("-db").arg("-f").arg(&file),
        port,
    )
}

/// Revoke through `a`, then poll `b` (which had the token cached) until it answers 401: the
/// time from the revocation's answer to B's first refusal, p50 and p99 over
/// [`REVOCATIONS`] tokens. The tokens come from the seed's last codes, which the exchange
/// scenario does not reach.
fn revocation_propagation(a: &Server, b: &Server, seed: &Value) -> Result<Value> {
    eprintln!("xtask: revocation propagation, {REVOCATIONS} tokens: revoke on A, poll B");
    let codes = seed["codes"].as_array().context("no codes")?;
    let auth = basic(seed);
    let redirect = form_encoded(seed["redirect_uri"].as_str().unwrap_or_default());
    let mut times = Vec::with_capacity(REVOCATIONS);
    for code in codes.iter().rev().take(REVOCATIONS) {
        let code = code.as_str().context("a code")?;
        let (status, body) = http(
            a,
            "POST",
            "/oauth2/token",
            &auth,
            &format!("grant_type=authorization_code&redirect_uri={redirect}&code={code}"),
        )?;
        if status != 200 {
            bail!("code exchange answered {status}: {body}");
        }
        let t: Value = serde_json::from_str(&body)?;
        let token = t["access_token"].as_str().context("no access token")?;
        for _ in 0..2 {
            let (status, _) = http(b, "GET", "/api/username", token, "")?;
            if status != 200 {
                bail!("replica B answered {status} before the revocation");
            }
        }
        let (status, _) = http(
            a,
            "POST",
            "/oauth2/revoke",
            &auth,
            &format!("token={token}"),
        )?;
        if status != 200 {
            bail!("revocation answered {status}");
        }
        let revoked = Instant::now();
        loop {
            let (status, _) = http(b, "GET", "/api/username", token, "")?;
            if status == 401 {
                break;
            }
            if revoked.elapsed() > Duration::from_secs(10) {
                bail!("replica B still accepts a token revoked on A 10 s later");
            }
        }
        times.push(revoked.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((times.len() as f64 - 1.0) * q).round() as usize;
        (times[i] * 100.0).round() / 100.0
    };
    Ok(json!({
        "revocations": times.len(),
        "p50_ms": at(0.5),
        "p99_ms": at(0.99),
        "max_ms": at(1.0),
    }))
}

/// One HTTP/1.1 request on a connection of its own: the status and the body. `auth` is a
/// bearer token for GET, Basic credentials for POST (a form).
fn http(
    server: &Server,
    method: &str,
    path: &str,
    auth: &str,
    form: &str,
) -> Result<(u16, String)> {
    let addr = server.url("").trim_start_matches("http://").to_string();
    let mut s = TcpStream::connect(&addr)?;
    let authorization = if method == "GET" {
        format!("Bearer {auth}")
    } else {
        format!("Basic {auth}")
    };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {authorization}\r\n\
         Connection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n{form}",
        form.len()
    )?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .context("no HTTP status")?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn print_table(f: &Value) {
    println!(
        "\nPostgreSQL{:<48} {:>10} {:>9} {:>9} {:>8}",
        "", "req/s", "p50 ms", "p99 ms", "non-2xx"
    );
    for (label, key) in [
        ("×1", "one_replica"),
        ("×2 (haproxy)", "two_replicas_haproxy"),
    ] {
        let c = &f[key];
        let row = |name: &str, l: &Value| {
            println!(
                "{:<58} {:>10} {:>9} {:>9} {:>8}",
                format!("{label} {name}"),
                l["req_per_s"],
                l["p50_ms"],
                l["p99_ms"],
                l["non_2xx"]
            );
        };
        row("floor GET /api/username, 64 conns", &c["floor_username"]);
        let s = &c["scenarios"];
        row("GET /api/username, 64 conns", &s["username"]);
        row("client_credentials, 16 conns", &s["client_credentials"]);
        row("authorization_code, 16 conns", &s["authorization_code"]);
        row("refresh_token, 16 conns", &s["refresh_token"]);
        let i = &s["install_flow"];
        println!(
            "{label} install flow, 16 conns: {} installs/s, p50 {} ms, p99 {} ms, {} failed",
            i["installs_per_s"], i["p50_ms"], i["p99_ms"], i["failures"]
        );
        println!(
            "{label} /api/username ÷ floor: {:.0}%",
            c["username_ratio_to_floor"].as_f64().unwrap_or(0.0) * 100.0
        );
    }
    let p = &f["two_replicas_haproxy"]["revocation_propagation"];
    println!(
        "revocation propagation (revoke on A, poll B), {} tokens: p50 {} ms, p99 {} ms, max {} ms\n",
        p["revocations"], p["p50_ms"], p["p99_ms"], p["max_ms"]
    );
}
