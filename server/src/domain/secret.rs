//! Opaque secrets: tokens, codes, client secrets and session ids.
//!
//! Each is 256 bits from the OS random source, base64url-encoded behind a prefix that says what
//! it is (so a leaked one is recognisable in logs or a secret scanner). Only its SHA-256 digest
//! is stored; comparisons of digests run in constant time.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

/// What a secret is for; its prefix is part of the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    AccessToken,
    RefreshToken,
    AuthorizationCode,
    ClientSecret,
    Session,
    Csrf,
    WebhookSecret,
}

impl Kind {
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::AccessToken => "atr_at_",
            Kind::RefreshToken => "atr_rt_",
            Kind::AuthorizationCode => "atr_ac_",
            Kind::ClientSecret => "atr_cs_",
            Kind::Session => "atr_ss_",
            Kind::Csrf => "atr_cf_",
            Kind::WebhookSecret => "atr_wh_",
        }
    }
}

/// A secret in plain text. It does not print (`Debug` shows a placeholder); use
/// [`Secret::expose`] where it must leave the server, once.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// 256 random bits with `kind`'s prefix.
    pub fn generate(kind: Kind) -> Secret {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the OS random source is available");
        Secret(format!(
            "{}{}",
            kind.prefix(),
            URL_SAFE_NO_PAD.encode(bytes)
        ))
    }

    /// 256 bits derived with a key (see `ServerKeys::rotation_pair`) with `kind`'s prefix: as
    /// unguessable as [`Secret::generate`]'s for anyone without that key.
    pub fn from_bytes(kind: Kind, bytes: &[u8; 32]) -> Secret {
        Secret(format!(
            "{}{}",
            kind.prefix(),
            URL_SAFE_NO_PAD.encode(bytes)
        ))
    }

    /// Wraps a secret received from a client.
    pub fn from_client(raw: &str) -> Secret {
        Secret(raw.to_string())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn digest(&self) -> TokenDigest {
        TokenDigest::of(&self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// SHA-256 of a secret: what the database keeps.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenDigest(pub [u8; 32]);

impl TokenDigest {
    pub fn of(secret: &str) -> TokenDigest {
        TokenDigest(Sha256::digest(secret.as_bytes()).into())
    }

    pub fn from_slice(bytes: &[u8]) -> Option<TokenDigest> {
        bytes.try_into().ok().map(TokenDigest)
    }

    /// Constant-time comparison, for secrets checked against a known digest.
    pub fn matches(&self, other: &TokenDigest) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenDigest({:02x}{:02x}…)", self.0[0], self.0[1])
    }
}

/// A random, URL-safe identifier that is not secret (client ids).
pub fn public_id(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_prefixed_long_and_distinct() {
        let a = Secret::generate(Kind::AccessToken);
        let b = Secret::generate(Kind::AccessToken);
        assert!(a.expose().starts_with("atr_at_"));
        // 32 bytes → 43 base64url characters.
        assert_eq!(a.expose().len(), "atr_at_".len() + 43);
        assert_ne!(a, b);
        assert!(a.digest().matches(&TokenDigest::of(a.expose())));
        assert!(!a.digest().matches(&b.digest()));
    }

    #[test]
    fn secrets_do_not_print() {
        let a = Secret::generate(Kind::ClientSecret);
        assert!(!format!("{a:?}").contains(a.expose()));
    }
}
