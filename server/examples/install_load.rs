//! The install-flow load of `cargo xtask bench`. Each of `--conns` workers loops, for
//! `--seconds`, over the whole install as the desktop and the app perform it:
//!
//! 1. approve: `POST /api/dashboard/installs` with the desktop's token, into a company of its
//!    own (each install is a new one), answered with the app's redirect carrying a code;
//! 2. exchange: `POST /oauth2/token` (authorization_code, client_secret_basic);
//! 3. first API call: `GET /api/username` with the new access token.
//!
//! Prints JSON: installs completed, installs/s, p50 and p99 of one whole install, failures.
//! wrk cannot chain requests on their answers, hence this driver; like wrk it keeps one
//! keep-alive connection per worker.
//!
//! `install_load BASE_URL SEED_JSON [--conns N] [--seconds S]`

mod common;
use common::arg;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

struct Plan {
    base: String,
    client_id: String,
    client_secret: String,
    redirect_uri: String,
    dashboard_token: String,
    next_company: AtomicI64,
    last_company: i64,
    failures: AtomicU64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(base), Some(seed_path)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: install_load BASE_URL SEED_JSON [--conns N] [--seconds S]");
    };
    let seed: Value = serde_json::from_str(&std::fs::read_to_string(&seed_path)?)?;
    let text = |k: &str| seed[k].as_str().unwrap_or_default().to_string();
    let first = seed["first_company"]
        .as_i64()
        .ok_or_else(|| anyhow::anyhow!("the seed has no companies (bench_seed --companies N)"))?;
    let plan = Arc::new(Plan {
        base: base.trim_end_matches('/').to_string(),
        client_id: text("client_id"),
        client_secret: text("client_secret"),
        redirect_uri: text("redirect_uri"),
        dashboard_token: text("dashboard_token"),
        next_company: AtomicI64::new(first),
        last_company: first + seed["companies"].as_i64().unwrap_or(0) - 1,
        failures: AtomicU64::new(0),
    });
    let conns = arg("--conns", 16);
    let deadline = Instant::now() + Duration::from_secs(arg("--seconds", 8));
    let started = Instant::now();
    let workers: Vec<_> = (0..conns)
        .map(|_| tokio::spawn(worker(Arc::clone(&plan), deadline)))
        .collect();
    let mut latencies = Vec::new();
    for w in workers {
        latencies.extend(w.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d: &Duration| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{}",
        json!({
            "installs": latencies.len(),
            "installs_per_s": (latencies.len() as f64 / elapsed).round(),
            "p50_ms": (pct(0.50) * 100.0).round() / 100.0,
            "p99_ms": (pct(0.99) * 100.0).round() / 100.0,
            "failures": plan.failures.load(Ordering::Relaxed),
            "connections": conns,
            "seconds": (elapsed * 10.0).round() / 10.0,
        })
    );
    Ok(())
}

/// One connection's loop; returns how long each completed install took.
async fn worker(plan: Arc<Plan>, deadline: Instant) -> anyhow::Result<Vec<Duration>> {
    // One connection per worker, as wrk keeps one per connection slot.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut done = Vec::new();
    while Instant::now() < deadline {
        let company = plan.next_company.fetch_add(1, Ordering::Relaxed);
        if company > plan.last_company {
            anyhow::bail!("ran out of seeded companies: seed more (bench_seed --companies)");
        }
        let t0 = Instant::now();
        match install(&http, &plan, company).await {
            Ok(()) => done.push(t0.elapsed()),
            Err(e) => {
                if plan.failures.fetch_add(1, Ordering::Relaxed) == 0 {
                    eprintln!("install_load: first failure: {e:#}");
                }
            }
        }
    }
    Ok(done)
}

async fn install(http: &reqwest::Client, plan: &Plan, company: i64) -> anyhow::Result<()> {
    let answer: Value = ok(http
        .post(format!("{}/api/dashboard/installs", plan.base))
        .bearer_auth(&plan.dashboard_token)
        .json(&json!({
            "client_id": plan.client_id,
            "company_id": company,
            "response_type": "code",
            "redirect_uri": plan.redirect_uri,
            "scope": "profile",
            "state": "bench",
        }))
        .send()
        .await?)
    .await?
    .json()
    .await?;
    let redirect = url::Url::parse(answer["redirect_to"].as_str().unwrap_or_default())?;
    let code = redirect
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| anyhow::anyhow!("no code in {redirect}"))?;
    let tokens: Value = ok(http
        .post(format!("{}/oauth2/token", plan.base))
        .basic_auth(&plan.client_id, Some(&plan.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &plan.redirect_uri),
        ])
        .send()
        .await?)
    .await?
    .json()
    .await?;
    let access = tokens["access_token"].as_str().unwrap_or_default();
    ok(http
        .get(format!("{}/api/username", plan.base))
        .bearer_auth(access)
        .send()
        .await?)
    .await?;
    Ok(())
}

/// The response, or its status and body as the error.
async fn ok(res: reqwest::Response) -> anyhow::Result<reqwest::Response> {
    if res.status().is_success() {
        return Ok(res);
    }
    let status = res.status();
    anyhow::bail!("{status}: {}", res.text().await.unwrap_or_default())
}
