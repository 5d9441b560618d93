//! The real server binary under floods, on 127.0.0.1 only, each bounded in count and time:
//! a login flood leaves its memory bounded and `/healthz` answering; a thousand idle sockets
//! against a 256-descriptor limit leave `/healthz` answering and are closed within the
//! timeouts; clients that vanish mid-request leave no error in the operator's log, and
//! SIGTERM still stops the server cleanly.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::hidden_inputs;
use crate::real_server::{raise_own_fd_limit, RealServer};

/// The memory bound stated for a login flood (VmHWM, the peak resident set).
const FLOOD_RSS_BOUND_MIB: u64 = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_keeps_server_memory_bounded_and_healthz_answering() {
    // Back-off off, so that every attempt costs a full password check: the worst case, a
    // flood from many addresses against many usernames.
    let server = RealServer::start(
        &[
            "--login-user-failures",
            "1000000",
            "--login-ip-failures",
            "1000000",
        ],
        None,
    );
    let idle_kib = server.memory_kib("VmRSS");
    let deadline = Instant::now() + Duration::from_secs(12);
    let base = server.url("");
    let flood: Vec<_> = (0..150)
        .map(|i| {
            let base = base.clone();
            tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .cookie_store(true)
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(Duration::from_secs(20))
                    .build()
                    .unwrap();
                let mut statuses = Vec::new();
                while Instant::now() < deadline {
                    // A fresh sign-in page (CSRF cookie and field) for every attempt.
                    let Ok(page) = client.get(format!("{base}/login")).send().await else {
                        statuses.push(0);
                        continue;
                    };
                    let page = page.text().await.unwrap_or_default();
                    let mut form = hidden_inputs(&page);
                    form.push(("username".into(), format!("user{i}")));
                    form.push(("password".into(), "not the password".into()));
                    let status = match client
                        .post(format!("{base}/login"))
                        .form(&form)
                        .send()
                        .await
                    {
                        Ok(r) => r.status().as_u16(),
                        Err(_) => 0,
                    };
                    statuses.push(status);
                }
                statuses
            })
        })
        .collect();
    let probe = {
        let url = server.url("/healthz");
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            let mut times = Vec::new();
            let mut failures = 0;
            while Instant::now() < deadline {
                let t = Instant::now();
                match client.get(&url).send().await {
                    Ok(r) if r.status() == 200 => times.push(t.elapsed()),
                    _ => failures += 1,
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (times, failures)
        })
    };
    let mut statuses = Vec::new();
    for f in flood {
        statuses.extend(f.await.unwrap());
    }
    let (mut times, failures) = probe.await.unwrap();
    let peak_mib = server.memory_kib("VmHWM") / 1024;
    let after_mib = server.memory_kib("VmRSS") / 1024;
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    let count = |s: u16| statuses.iter().filter(|x| **x == s).count();
    eprintln!(
        "login flood: {} attempts (401: {}, 503: {}, errors: {}); server RSS idle {} MiB, \
         peak {peak_mib} MiB, after {after_mib} MiB; /healthz {} answers, p50 {:?}, p99 {:?}, \
         max {:?}, {failures} failed",
        statuses.len(),
        count(401),
        count(503),
        count(0),
        idle_kib / 1024,
        times.len(),
        pct(0.5),
        pct(0.99),
        times.last().unwrap(),
    );
    assert!(count(401) > 0, "no password was checked: {statuses:?}");
    assert!(
        peak_mib < FLOOD_RSS_BOUND_MIB,
        "the server's peak RSS was {peak_mib} MiB under a login flood"
    );
    assert_eq!(
        failures, 0,
        "/healthz failed {failures} times during the flood"
    );
    assert!(
        times.len() > 10,
        "/healthz answered only {} times",
        times.len()
    );
}

/// Opens `n` TCP connections to `server` and sends nothing on them. A server that stops
/// accepting makes connects time out: those are skipped (the caller's checks then fail).
async fn idle_sockets(server: &RealServer, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let connect = TcpStream::connect(server.addr);
        if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_secs(2), connect).await {
            held.push(s);
        }
    }
    eprintln!("holding {} idle connections", held.len());
    held
}

/// A GET /healthz on a new connection, written by hand so nothing is pooled or retried.
async fn healthz_once(server: &RealServer) -> Result<String, String> {
    let exchange = async {
        let mut s = TcpStream::connect(server.addr)
            .await
            .map_err(|e| e.to_string())?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .map_err(|e| e.to_string())?;
        let mut answer = Vec::new();
        s.read_to_end(&mut answer)
            .await
            .map_err(|e| e.to_string())?;
        Ok(String::from_utf8_lossy(&answer).into_owned())
    };
    match tokio::time::timeout(Duration::from_secs(5), exchange).await {
        Ok(r) => r,
        Err(_) => Err("no answer in 5 s".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_256_descriptors_and_1000_idle_connections_healthz_still_answers() {
    assert!(
        raise_own_fd_limit() > 1200,
        "the test needs 1200 descriptors"
    );
    let server = RealServer::start(&["--header-read-timeout", "60"], Some(256));
    let held = idle_sockets(&server, 1000).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for i in 0..3 {
        let answer = healthz_once(&server).await;
        assert!(
            matches!(&answer, Ok(a) if a.starts_with("HTTP/1.1 200")),
            "probe {i}: {answer:?}"
        );
    }
    // Evicted reserve connections close when their task is next polled, so under a loaded
    // machine `accept` can briefly meet the descriptor limit (logged, retried after 100 ms);
    // what must hold is that /healthz answers, checked above.
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_within_the_header_read_timeout() {
    assert!(raise_own_fd_limit() > 600, "the test needs 600 descriptors");
    let server = RealServer::start(&["--header-read-timeout", "2"], Some(256));
    let mut held = idle_sockets(&server, 400).await;
    let start = Instant::now();
    let mut open = 0;
    for s in held.iter_mut() {
        let mut buf = [0u8; 64];
        // A closed connection reads 0 bytes (or a reset); one still open reads nothing.
        match tokio::time::timeout(
            Duration::from_secs(6).saturating_sub(start.elapsed()),
            s.read(&mut buf),
        )
        .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => {}
            Ok(Ok(_)) => {}
            Err(_) => open += 1,
        }
    }
    assert_eq!(open, 0, "{open} idle connections were still open after 6 s");
    let answer = healthz_once(&server).await;
    assert!(
        matches!(&answer, Ok(a) if a.starts_with("HTTP/1.1 200")),
        "{answer:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_vanish_mid_request_leave_no_error_in_the_log_and_sigterm_stops_cleanly() {
    let mut server = RealServer::start(&[], None);
    for _ in 0..5 {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(
            b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\ngrant_type=",
        )
        .await
        .unwrap();
        drop(s);
        // A small receive window, so the response (about 60 KB) is still being written when
        // the client resets the connection.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(1024).unwrap();
        let mut s = socket.connect(server.addr).await.unwrap();
        s.write_all(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut first = [0u8; 16];
        let _ = s.read(&mut first).await;
        drop(s);
    }
    let answer = healthz_once(&server).await;
    assert!(
        matches!(&answer, Ok(a) if a.starts_with("HTTP/1.1 200")),
        "{answer:?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        server.terminate(Duration::from_secs(15)),
        "SIGTERM did not stop the server cleanly: {:#?}",
        server.log()
    );
    let errors: Vec<String> = server
        .log()
        .into_iter()
        .filter(|l| l.contains("ERROR"))
        .collect();
    assert!(errors.is_empty(), "errors in the log: {errors:#?}");
}
