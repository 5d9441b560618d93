//! Opening the system browser for sign-in (RFC 8252 §6: an external user agent, never an
//! embedded one). `ATRIUM_BROWSER` names another program to run with the URL — the end-to-end
//! tests use it for a scripted browser.

use std::process::Stdio;
use std::time::Duration;

use crate::error::Error;

/// How long to wait for the opener to fail: `xdg-open` exits non-zero at once when it finds no
/// browser, but may run for as long as the browser it started.
const OPENER_FAILS_WITHIN: Duration = Duration::from_secs(2);

/// Opens `url` in the system browser. Fails when the opener cannot be started, or exits with a
/// failure at once (no browser configured).
pub async fn open(url: &str) -> Result<(), Error> {
    let program = std::env::var("ATRIUM_BROWSER").unwrap_or_else(|_| "xdg-open".into());
    let mut child = tokio::process::Command::new(&program)
        .arg(url)
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| Error::Internal(format!("cannot open the browser ({program}): {e}")))?;
    match tokio::time::timeout(OPENER_FAILS_WITHIN, child.wait()).await {
        Ok(Ok(status)) if !status.success() => Err(Error::Internal(format!(
            "cannot open the browser ({program} exited with {status})"
        ))),
        Ok(Err(e)) => Err(Error::Internal(format!(
            "cannot open the browser ({program}): {e}"
        ))),
        // Exited well, or still running (a browser in the foreground): tokio reaps it later.
        Ok(Ok(_)) | Err(_) => Ok(()),
    }
}

/// A random `state` value (128 bits, hex).
pub fn random_state() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
