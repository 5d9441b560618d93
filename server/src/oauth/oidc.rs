//! OpenID Connect on top of the OAuth logic (OpenID Connect Core 1.0, code flow):
//!
//! - [`OidcParams`]: the authorization request's `nonce`, `prompt` and `max_age` (§3.1.2.1);
//! - [`id_token`]: the ID token a code exchange returns when the grant has `openid` (§2,
//!   §3.1.3.6), signed with RS256 or the algorithm the client registered;
//! - [`userinfo`]: the claims the UserInfo endpoint returns (§5.3), by granted scope (§5.4).
//!
//! The subject (`sub`) is the user's id: stable for the life of the account and never reused,
//! unlike a username, which can change. It is the same `sub` as in launch tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256, Sha512};

use super::OAuthError;
use crate::domain::scope::ScopeSet;
use crate::jose::Alg;
use crate::platform::Platform;
use crate::store::{Client, CodeClaims, User};

/// The longest `nonce` accepted: it is stored with the code and echoed in the ID token.
const MAX_NONCE_LEN: usize = 512;

/// `prompt` (Core §3.1.2.1): what the user must (or must not) be asked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// `none`: no page at all; an error when one would be needed (§3.1.2.6).
    pub none: bool,
    /// `login`: sign in again even with a live session.
    pub login: bool,
    /// `consent`: ask again. Atrium always shows its consent page to a signed-in user, so
    /// this changes nothing but is accepted.
    pub consent: bool,
}

/// The OpenID Connect parameters of an authorization request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OidcParams {
    pub nonce: Option<String>,
    pub prompt: Prompt,
    /// Seconds: a sign-in older than this must be repeated.
    pub max_age: Option<i64>,
}

impl OidcParams {
    /// Parses `nonce`, `prompt` and `max_age` (each already non-empty or `None`).
    pub fn parse(
        nonce: Option<&str>,
        prompt: Option<&str>,
        max_age: Option<&str>,
    ) -> Result<OidcParams, OAuthError> {
        if nonce.is_some_and(|n| n.len() > MAX_NONCE_LEN) {
            return Err(OAuthError::invalid_request(format!(
                "nonce is longer than {MAX_NONCE_LEN} characters"
            )));
        }
        let mut p = Prompt::default();
        for value in prompt.unwrap_or("").split(' ').filter(|v| !v.is_empty()) {
            match value {
                "none" => p.none = true,
                "login" => p.login = true,
                "consent" => p.consent = true,
                // The consent page always names the account; there is one per session.
                "select_account" => {}
                other => {
                    return Err(OAuthError::invalid_request(format!(
                        "unknown prompt value {other:?}"
                    )))
                }
            }
        }
        // §3.1.2.1: "If this parameter contains none with any other value, an error is
        // returned."
        if p.none && (p.login || p.consent) {
            return Err(OAuthError::invalid_request(
                "prompt=none cannot be combined with other values",
            ));
        }
        let max_age = match max_age {
            None => None,
            Some(raw) => Some(raw.parse::<i64>().ok().filter(|s| *s >= 0).ok_or_else(|| {
                OAuthError::invalid_request("max_age must be a number of seconds")
            })?),
        };
        Ok(OidcParams {
            nonce: nonce.map(str::to_string),
            prompt: p,
            max_age,
        })
    }

    /// Whether a sign-in at `auth_time` is too old for this request at `now`: `max_age`
    /// elapsed, or `prompt=login` (which the caller honours once, by signing the user in).
    pub fn needs_fresh_login(&self, auth_time: i64, now: i64) -> bool {
        // §3.1.2.1: `max_age=0` is equivalent to `prompt=login`.
        self.prompt.login || self.max_age.is_some_and(|m| m == 0 || now - auth_time > m)
    }
}

/// The ID token of a code exchange (Core §2, §3.1.3.6).
pub async fn id_token(
    oauth: &Platform,
    client: &Client,
    user_id: i64,
    claims: &CodeClaims,
    access_token: &str,
) -> Result<String, OAuthError> {
    let alg = oauth
        .store
        .id_token_alg(client.app_id)
        .await?
        .as_deref()
        .and_then(Alg::parse)
        .unwrap_or(Alg::Rs256);
    let iat = crate::domain::now();
    let mut body = serde_json::json!({
        "iss": oauth.config.issuer,
        "sub": user_id.to_string(),
        "aud": client.client_id,
        // §2: "azp ... MAY be included even when the authorized party is the same as the sole
        // audience"; some libraries check it when present.
        "azp": client.client_id,
        "exp": iat + crate::oauth::OAuthConfig::ID_TOKEN_TTL,
        "iat": iat,
        "at_hash": at_hash(alg, access_token),
    });
    if let Some(t) = claims.auth_time {
        body["auth_time"] = t.into();
    }
    if let Some(n) = &claims.nonce {
        body["nonce"] = n.as_str().into();
    }
    oauth
        .keys
        .signing()
        .sign(alg, &body)
        .map_err(|e| OAuthError::internal(format!("cannot sign an ID token: {e}")))
}

/// `at_hash` (Core §3.1.3.6): the left half of the hash of the access token, with the hash
/// of the signing algorithm: SHA-256 for RS256, SHA-512 for Ed25519 (its internal hash, as
/// relying-party libraries compute it).
fn at_hash(alg: Alg, access_token: &str) -> String {
    let digest = match alg {
        Alg::Rs256 => Sha256::digest(access_token.as_bytes()).to_vec(),
        Alg::EdDsa => Sha512::digest(access_token.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// The UserInfo claims of `user` for a token granted `scopes` (Core §5.3.2, §5.4). Only what
/// Atrium knows: a claim the user record does not hold is left out, never made up.
pub fn userinfo(user: &User, scopes: &ScopeSet) -> serde_json::Value {
    let mut claims = serde_json::json!({ "sub": user.id.to_string() });
    if scopes.contains("profile") {
        claims["name"] = user.display_name.as_str().into();
        claims["preferred_username"] = user.username.as_str().into();
        // `updated_at` is left out: the user record keeps when the account was made, not
        // when it last changed.
    }
    if scopes.contains("email") {
        if let Some(email) = &user.email {
            claims["email"] = email.as_str().into();
            // Atrium does not verify addresses, so it says so rather than leaving relying
            // parties to guess.
            claims["email_verified"] = false.into();
        }
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_none_with_another_value_is_refused() {
        assert!(OidcParams::parse(None, Some("none login"), None).is_err());
        assert!(OidcParams::parse(None, Some("bogus"), None).is_err());
        assert!(OidcParams::parse(None, None, Some("-1")).is_err());
        let p = OidcParams::parse(Some("n"), Some("login consent"), Some("60")).unwrap();
        assert!(p.prompt.login && p.prompt.consent && !p.prompt.none);
        assert_eq!(p.max_age, Some(60));
    }

    #[test]
    fn a_sign_in_older_than_max_age_needs_a_new_one() {
        let p = OidcParams::parse(None, None, Some("60")).unwrap();
        assert!(!p.needs_fresh_login(1000, 1060));
        assert!(p.needs_fresh_login(1000, 1061));
        assert!(!OidcParams::default().needs_fresh_login(0, 1_000_000));
        let zero = OidcParams::parse(None, None, Some("0")).unwrap();
        assert!(zero.needs_fresh_login(1000, 1000));
    }

    #[test]
    fn at_hash_is_the_left_half_of_the_algorithms_hash() {
        // Core §A.3's example access token and at_hash (RS256).
        assert_eq!(
            at_hash(Alg::Rs256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_eq!(at_hash(Alg::EdDsa, "x").len(), 43);
    }
}
