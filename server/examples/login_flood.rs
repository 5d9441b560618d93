//! The login-flood scenario of `cargo xtask bench`: `--conns` clients each loop, for
//! `--seconds`, over a whole failed sign-in (a fresh `GET /login` for its single-use form
//! token, then `POST /login` with a wrong password), so every attempt costs one password
//! check. Meanwhile a probe asks `GET /healthz` every 50 ms on its own connection, from a
//! thread and runtime of its own: what it measures is the server, not this driver's
//! scheduling of 150 busy clients.
//!
//! Prints JSON: sign-in attempts by status, and the probe's answers with p50, p99 and max in
//! milliseconds. The caller reads the server's memory; the server should run with its
//! back-off thresholds raised, so that the flood measures the password-check cap and not the
//! back-off (the worst case: a flood from many addresses against many usernames).
//!
//! `login_flood BASE_URL [--conns N] [--seconds S]`

mod common;
use common::arg;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Some(base) = std::env::args().nth(1) else {
        anyhow::bail!("usage: login_flood BASE_URL [--conns N] [--seconds S]");
    };
    let base = base.trim_end_matches('/').to_string();
    let conns: usize = arg("--conns", 150);
    let deadline = Instant::now() + Duration::from_secs(arg("--seconds", 12));
    let flood: Vec<_> = (0..conns)
        .map(|i| tokio::spawn(attempts(base.clone(), format!("user{i}"), deadline)))
        .collect();
    let url = format!("{base}/healthz");
    let probe = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| rt.block_on(probe(url, deadline)))
    });
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    for f in flood {
        for s in f.await? {
            *statuses.entry(s.to_string()).or_default() += 1;
        }
    }
    let (mut times, failures) = probe
        .join()
        .map_err(|_| anyhow::anyhow!("the probe panicked"))??;
    times.sort_unstable();
    let pct = |p: f64| {
        times
            .get(((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1)))
            .map(|d| (d.as_secs_f64() * 1e5).round() / 100.0)
    };
    println!(
        "{}",
        json!({
            "conns": conns,
            "attempts": statuses.values().sum::<u64>(),
            "statuses": statuses,
            "healthz": {
                "answers": times.len(),
                "failures": failures,
                "p50_ms": pct(0.5),
                "p99_ms": pct(0.99),
                "max_ms": pct(1.0),
            },
        })
    );
    Ok(())
}

/// One client's failed sign-ins until `deadline`: the status of each POST (0: no answer).
async fn attempts(base: String, username: String, deadline: Instant) -> Vec<u16> {
    let Ok(client) = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
    else {
        return vec![0];
    };
    let mut statuses = Vec::new();
    while Instant::now() < deadline {
        let page = match client.get(format!("{base}/login")).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => {
                statuses.push(0);
                continue;
            }
        };
        let mut form = hidden_fields(&page);
        form.push(("username".into(), username.clone()));
        form.push(("password".into(), "not the password".into()));
        let status = client
            .post(format!("{base}/login"))
            .form(&form)
            .send()
            .await
            .map_or(0, |r| r.status().as_u16());
        statuses.push(status);
    }
    statuses
}

/// `/healthz` every 50 ms until `deadline`: the times of its 200 answers, and how many failed.
async fn probe(url: String, deadline: Instant) -> (Vec<Duration>, u64) {
    let Ok(client) = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
    else {
        return (Vec::new(), 1);
    };
    let (mut times, mut failures) = (Vec::new(), 0);
    while Instant::now() < deadline {
        let t = Instant::now();
        match client.get(&url).send().await {
            Ok(r) if r.status() == 200 => times.push(t.elapsed()),
            _ => failures += 1,
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (times, failures)
}

/// The hidden fields of the sign-in form (its form token), as the server renders them: each
/// `<input type="hidden" name="…" value="…">` with values that need no unescaping.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let attr = |chunk: &str, name: &str| {
        let start = chunk.find(&format!("{name}=\""))? + name.len() + 2;
        Some(chunk[start..].split('"').next()?.to_string())
    };
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|c| Some((attr(c, "name")?, attr(c, "value")?)))
        .collect()
}
