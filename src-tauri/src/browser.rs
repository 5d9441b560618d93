//! Opening the system browser for sign-in (RFC 8252 §6: an external user agent, never an
//! embedded one). `ATRIUM_BROWSER` names another program to run with the URL — the end-to-end
//! tests use it for a scripted browser.

use crate::error::Error;

pub fn open(url: &str) -> Result<(), Error> {
    let program = std::env::var("ATRIUM_BROWSER").unwrap_or_else(|_| "xdg-open".into());
    std::process::Command::new(&program)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| Error::Internal(format!("cannot open the browser ({program}): {e}")))
}

/// A random `state` value (128 bits, hex).
pub fn random_state() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
