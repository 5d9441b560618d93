//! Validated domain types: once constructed, a value is known to be well formed, so handlers
//! cannot forget a check.

pub mod ids;
pub mod invitation;
pub mod password;
pub mod redirect;
pub mod scope;
pub mod secret;
pub mod text;

/// Seconds since the Unix epoch: the one clock of the server (stored as INTEGER in SQLite).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
