//! `serve --tls-cert --tls-key`: the real binary serves https with a certificate made at test
//! time, with `__Host-` `Secure` cookies and HSTS, and serves a new certificate after SIGHUP.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::real_server::RealServer;

/// A self-signed certificate for 127.0.0.1 and localhost: (certificate PEM, key PEM).
fn certificate() -> (String, String) {
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    (made.cert.pem(), made.signing_key.serialize_pem())
}

fn write(dir: &Path, (cert, key): &(String, String)) -> (PathBuf, PathBuf) {
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    // Written next to the files and renamed, as certificate renewal tools do.
    for (path, text) in [(&cert_path, cert), (&key_path, key)] {
        let tmp = path.with_extension("new");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, path).unwrap();
    }
    (cert_path, key_path)
}

/// A client that trusts exactly `certs`. Each check uses a new one: a client that resumed an
/// earlier TLS session would be shown no certificate, and report the one it saw first.
fn client(certs: &[&(String, String)]) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only(
            certs
                .iter()
                .map(|(pem, _)| reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()),
        )
        .tls_info(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The DER of the certificate the server presented for `res`.
fn served(res: &reqwest::Response) -> Vec<u8> {
    res.extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .expect("a TLS connection")
        .to_vec()
}

fn der((pem, _): &(String, String)) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

fn start(cert: &Path, key: &Path) -> RealServer {
    RealServer::start(
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        None,
    )
}

#[tokio::test]
async fn with_a_certificate_the_server_speaks_https_with_host_cookies_and_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let first = certificate();
    let (cert, key) = write(dir.path(), &first);
    let server = start(&cert, &key);
    let base = format!("https://{}", server.addr);
    let http = client(&[&first]);

    let metadata: serde_json::Value = http
        .get(format!("{base}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["issuer"], base.as_str(), "the issuer is https");

    let res = http.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(served(&res), der(&first));
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("__Host-atrium_login=") && cookie.contains("; Secure"),
        "{cookie}"
    );

    // Plain http on the same port gets no answer that a browser would take.
    let plain = reqwest::Client::new()
        .get(format!("http://{}/healthz", server.addr))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(
        plain.map_or(true, |r| !r.status().is_success()),
        "plain http was served"
    );
}

#[tokio::test]
async fn sighup_makes_the_server_present_the_renewed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let first = certificate();
    let (cert, key) = write(dir.path(), &first);
    let server = start(&cert, &key);
    let url = format!("https://{}/healthz", server.addr);
    let renewed = certificate();
    let get = || async { client(&[&first, &renewed]).get(&url).send().await.unwrap() };
    let res = get().await;
    assert_eq!(served(&res), der(&first));

    write(dir.path(), &renewed);
    hangup(&server);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let res = get().await;
        assert_eq!(res.status(), 200);
        if served(&res) == der(&renewed) {
            break;
        }
        assert_eq!(served(&res), der(&first));
        assert!(
            Instant::now() < deadline,
            "still the old certificate after SIGHUP: {:?}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A broken renewal is refused and logged; the server keeps the certificate it has.
    std::fs::write(&key, "not a key").unwrap();
    hangup(&server);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server
        .log()
        .iter()
        .any(|l| l.contains("cannot reload the TLS certificate"))
    {
        assert!(
            Instant::now() < deadline,
            "no error logged: {:?}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let res = get().await;
    assert_eq!(served(&res), der(&renewed));
}

fn hangup(server: &RealServer) {
    // SAFETY: kill only sends a signal to our own child.
    let rc = unsafe { libc::kill(server.pid() as libc::pid_t, libc::SIGHUP) };
    assert_eq!(rc, 0);
}

#[tokio::test]
async fn sighup_without_tls_is_logged_and_the_server_keeps_serving() {
    // What `systemctl reload atrium-server` sends, whatever the configuration.
    let mut server = RealServer::start(&[], None);
    // Once it answers, it is past start-up (its "listening" line comes a little earlier).
    let res = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(res.status(), 200);
    hangup(&server);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server
        .log()
        .iter()
        .any(|l| l.contains("no TLS certificate to reload"))
    {
        assert!(
            Instant::now() < deadline,
            "SIGHUP was not handled: {:?}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let res = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        server.terminate(Duration::from_secs(10)),
        "{:?}",
        server.log()
    );
}
