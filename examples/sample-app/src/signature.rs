//! Webhook signatures: `Atrium-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`, where the
//! HMAC is keyed with the app's webhook secret and computed over the bytes `"<t>.<raw body>"`.
//!
//! Several `v1` entries may appear (while the server rotates a secret); one matching is enough.
//! Comparison is constant-time (`Mac::verify_slice`). A timestamp more than
//! [`TOLERANCE_SECS`] away from now is refused, which bounds how long a captured request could
//! be replayed.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far (either way) the signed timestamp may be from the receiver's clock.
pub const TOLERANCE_SECS: i64 = 300;

/// Why a signature was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Atrium-Signature header is missing")]
    Missing,
    #[error("the Atrium-Signature header is not of the form t=<seconds>,v1=<hex>")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
    #[error("the signature's timestamp is {0} s away from now")]
    Stale(i64),
}

/// A parsed `Atrium-Signature` header.
#[derive(Debug, PartialEq, Eq)]
pub struct SignatureHeader {
    pub timestamp: i64,
    pub v1: Vec<Vec<u8>>,
}

impl SignatureHeader {
    /// Parses `t=...,v1=...[,v1=...]`; unknown keys (future schemes) are ignored.
    pub fn parse(header: &str) -> Result<SignatureHeader, SignatureError> {
        let mut timestamp = None;
        let mut v1 = Vec::new();
        for part in header.split(',') {
            let (key, value) = part
                .trim()
                .split_once('=')
                .ok_or(SignatureError::Malformed)?;
            match key {
                "t" => {
                    if timestamp.is_some() || !value.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(SignatureError::Malformed);
                    }
                    timestamp = Some(
                        value
                            .parse::<i64>()
                            .map_err(|_| SignatureError::Malformed)?,
                    );
                }
                "v1" => v1.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?),
                _ => {}
            }
        }
        match timestamp {
            Some(timestamp) if !v1.is_empty() => Ok(SignatureHeader { timestamp, v1 }),
            _ => Err(SignatureError::Malformed),
        }
    }
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value the server sends for `body` at `timestamp` (lowercase hex).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(tag))
}

/// Checks `header` for `body` with `secret` at time `now`; returns the signed timestamp.
pub fn verify(
    secret: &[u8],
    header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<i64, SignatureError> {
    let parsed = SignatureHeader::parse(header.ok_or(SignatureError::Missing)?)?;
    let expected = mac(secret, parsed.timestamp, body);
    let matches = parsed
        .v1
        .iter()
        .any(|candidate| expected.clone().verify_slice(candidate).is_ok());
    if !matches {
        return Err(SignatureError::Mismatch);
    }
    let skew = now.saturating_sub(parsed.timestamp);
    if skew.abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale(skew));
    }
    Ok(parsed.timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"atr_wh_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"app.installed"}"#;
    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_signature_made_with_the_secret_is_accepted() {
        let header = sign(SECRET, NOW, BODY);
        assert_eq!(verify(SECRET, Some(&header), BODY, NOW), Ok(NOW));
    }

    #[test]
    fn the_signature_matches_an_independently_computed_hmac() {
        // HMAC-SHA256(key="key", "1.body"), computed with `openssl dgst -sha256 -hmac key`.
        let header = sign(b"key", 1, b"body");
        assert_eq!(
            header,
            "t=1,v1=91b5374b153842ad05b2c4eab9349b8321b14703165bd3fb8b034dfb8be98ae5"
        );
    }

    #[test]
    fn a_body_changed_after_signing_is_refused() {
        let header = sign(SECRET, NOW, BODY);
        let err = verify(SECRET, Some(&header), b"{\"id\":\"evt_2\"}", NOW);
        assert_eq!(err, Err(SignatureError::Mismatch));
    }

    #[test]
    fn a_signature_made_with_another_secret_is_refused() {
        let header = sign(b"another secret", NOW, BODY);
        assert_eq!(
            verify(SECRET, Some(&header), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_changed_timestamp_breaks_the_signature() {
        let header =
            sign(SECRET, NOW, BODY).replace(&format!("t={NOW}"), &format!("t={}", NOW + 1));
        assert_eq!(
            verify(SECRET, Some(&header), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn timestamps_more_than_five_minutes_away_are_refused_both_ways() {
        let old = sign(SECRET, NOW - TOLERANCE_SECS - 1, BODY);
        assert_eq!(
            verify(SECRET, Some(&old), BODY, NOW),
            Err(SignatureError::Stale(TOLERANCE_SECS + 1))
        );
        let future = sign(SECRET, NOW + TOLERANCE_SECS + 1, BODY);
        assert!(matches!(
            verify(SECRET, Some(&future), BODY, NOW),
            Err(SignatureError::Stale(_))
        ));
        let edge = sign(SECRET, NOW - TOLERANCE_SECS, BODY);
        assert!(verify(SECRET, Some(&edge), BODY, NOW).is_ok());
    }

    #[test]
    fn one_matching_signature_among_several_is_enough() {
        let good = sign(SECRET, NOW, BODY);
        let v1 = good.split_once(",v1=").unwrap().1;
        let header = format!("t={NOW},v1={},v1={v1},v0=legacy", "00".repeat(32));
        assert_eq!(verify(SECRET, Some(&header), BODY, NOW), Ok(NOW));
    }

    #[test]
    fn malformed_or_missing_headers_are_refused() {
        assert_eq!(
            verify(SECRET, None, BODY, NOW),
            Err(SignatureError::Missing)
        );
        for bad in [
            "",
            "t=1",
            "v1=abcd",
            "t=abc,v1=00",
            "t=-5,v1=00",
            "t=1,v1=zz",
            "t=1,t=2,v1=00",
            "garbage",
        ] {
            assert_eq!(
                verify(SECRET, Some(bad), BODY, NOW),
                Err(SignatureError::Malformed),
                "{bad:?}"
            );
        }
    }
}
