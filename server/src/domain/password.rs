//! Passwords: argon2id with the crate's recommended parameters, PHC strings in the database.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Hashes a password for storage.
pub fn hash(password: &str) -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    let salt = SaltString::encode_b64(&bytes).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 accepts any password with default parameters")
        .to_string()
}

/// Checks a password against a stored hash. A malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a random password (thrown away), checked when a username is unknown so that a
/// login takes as long for an unknown user as for a wrong password (no user enumeration by
/// timing). It has the parameters of [`hash`], which a test checks.
///
/// A constant, not computed on first use: computing it on the first sign-in with an unknown
/// name ran a whole argon2 hash on the async executor and stalled every other request for up
/// to half a second under a login flood. Nothing is secret in it: an unknown name never signs
/// in, whatever the password.
pub fn dummy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$wT9JBFiwcOBfCsB7L53nPA$3CWj8f0f5RYGS7Ny6FtKOxnGD2aAk74k8NhEOtBvD54"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_right_password_verifies_and_a_wrong_one_does_not() {
        let h = hash("correct horse");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse", &h));
        assert!(!verify("battery staple", &h));
        assert!(!verify("correct horse", "not a hash"));
    }

    #[test]
    fn the_dummy_hash_costs_what_a_stored_hash_costs() {
        let stored = hash("anything");
        let params = |phc: &str| {
            let h = PasswordHash::new(phc).unwrap();
            let p = argon2::Params::try_from(&h).unwrap();
            (
                h.algorithm.to_string(),
                h.version,
                p.m_cost(),
                p.t_cost(),
                p.p_cost(),
                h.hash.map(|o| o.len()),
            )
        };
        assert_eq!(params(dummy_hash()), params(&stored));
        assert!(!verify("", dummy_hash()));
    }
}
