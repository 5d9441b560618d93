//! PKCE (RFC 7636) with the S256 method only; `plain` is refused (RFC 9700 §2.1.1).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::OAuthError;

/// Validates the `code_challenge` and `code_challenge_method` of an authorization request.
pub fn check_challenge(challenge: &str, method: Option<&str>) -> Result<(), OAuthError> {
    match method {
        Some("S256") => {}
        None | Some("plain") => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method must be S256",
            ))
        }
        Some(_) => {
            return Err(OAuthError::invalid_request(
                "unsupported code_challenge_method; use S256",
            ))
        }
    }
    // base64url of a SHA-256 digest: 43 characters.
    if challenge.len() != 43 || !challenge.bytes().all(is_b64url) {
        return Err(OAuthError::invalid_request(
            "code_challenge must be the base64url SHA-256 of the verifier",
        ));
    }
    Ok(())
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Does `verifier` match the stored S256 `challenge`?
pub fn verify(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !well_formed {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_7636_example_verifies() {
        assert!(check_challenge(CHALLENGE, Some("S256")).is_ok());
        assert!(verify(VERIFIER, CHALLENGE));
        assert!(!verify(&VERIFIER.replace('d', "e"), CHALLENGE));
    }

    #[test]
    fn plain_and_malformed_challenges_are_refused() {
        assert!(check_challenge(CHALLENGE, Some("plain")).is_err());
        assert!(check_challenge(CHALLENGE, None).is_err());
        assert!(check_challenge("short", Some("S256")).is_err());
        assert!(!verify("short", CHALLENGE));
    }
}
