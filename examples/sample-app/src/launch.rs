//! Launch tokens: when the dashboard opens an app, it loads the app's page with
//! `#atrium_launch=<JWT>` in the fragment, a token signed by the server (EdDSA, Ed25519) that
//! lives a minute and says who opened the app, in which company and for which install.
//!
//! The app checks it against the keys the server publishes at `/.well-known/jwks.json`: the
//! algorithm must be EdDSA (whatever the header claims, no other is tried), `aud` must be the
//! app's client_id, `iss` (required) the server's URL, it must not have expired, and it must
//! carry a `jti`, which [`crate::session::Launches`] then accepts once. Keys are cached and
//! fetched again when a token names a key id the cache does not know (key rotation).

use std::sync::Once;
use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

use crate::atrium::{ApiError, Atrium};

/// Seconds of clock difference tolerated on `exp`.
pub const LEEWAY_SECS: u64 = 30;
/// How long fetched keys are trusted without asking again.
const KEYS_MAX_AGE: Duration = Duration::from_secs(600);
/// Unknown key ids fetch the key set at most this often, so that forged tokens with random key
/// ids cannot make the app hammer the server.
const REFETCH_MIN_INTERVAL: Duration = Duration::from_secs(5);

/// What a launch token says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchClaims {
    pub iss: String,
    /// The user's id, as a string.
    pub sub: String,
    pub username: String,
    /// The install's id.
    pub install: i64,
    /// The company's id and name.
    pub company: i64,
    pub company_name: String,
    /// The app's client_id (the same as `aud`).
    pub app: String,
    pub iat: i64,
    pub exp: i64,
    /// The token's unique id: an app accepts each once.
    pub jti: String,
}

/// Why a launch token was refused.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("the launch token is not a well-formed JWT")]
    Malformed,
    #[error("the launch token uses the {0} algorithm; only EdDSA is accepted")]
    WrongAlgorithm(String),
    #[error("the launch token is signed with a key that Atrium does not publish")]
    UnknownKey,
    #[error("the launch token's signature is not valid")]
    BadSignature,
    #[error("the launch token has expired")]
    Expired,
    #[error("the launch token is meant for another app")]
    WrongAudience,
    #[error("the launch token was issued by another server")]
    WrongIssuer,
    #[error("the launch token lacks or mangles the claim {0:?}")]
    BadClaim(String),
    /// The token could not be checked: this is the server's fault, not the token's.
    #[error("cannot fetch Atrium's signing keys: {0}")]
    Keys(#[source] ApiError),
}

impl LaunchError {
    /// True when the token was not judged (the keys could not be fetched).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, LaunchError::Keys(_))
    }
}

/// Selects aws-lc-rs as jsonwebtoken's crypto provider, once. It is the crate default with
/// only the `aws_lc_rs` feature on, but a workspace build that also enables `rust_crypto` for
/// another crate would otherwise leave the choice open and panic on first use.
fn crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
            &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
        );
    });
}

/// The key id a token names, after checking that its header asks for EdDSA.
pub fn key_id(token: &str) -> Result<Option<String>, LaunchError> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| match e.kind() {
        ErrorKind::InvalidAlgorithmName => LaunchError::WrongAlgorithm("an unknown".into()),
        _ => LaunchError::Malformed,
    })?;
    if header.alg != Algorithm::EdDSA {
        return Err(LaunchError::WrongAlgorithm(format!("{:?}", header.alg)));
    }
    Ok(header.kid)
}

/// Checks a token's signature with `key` and its claims against the expected issuer and app.
pub fn verify_with(
    token: &str,
    key: &DecodingKey,
    issuer: &str,
    client_id: &str,
) -> Result<LaunchClaims, LaunchError> {
    crypto_provider();
    key_id(token)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub", "jti"]);
    validation.leeway = LEEWAY_SECS;
    let data =
        jsonwebtoken::decode::<LaunchClaims>(token, key, &validation).map_err(|e| {
            match e.into_kind() {
                ErrorKind::InvalidSignature
                | ErrorKind::InvalidEddsaKey
                | ErrorKind::InvalidKeyFormat => LaunchError::BadSignature,
                ErrorKind::ExpiredSignature => LaunchError::Expired,
                ErrorKind::InvalidAudience => LaunchError::WrongAudience,
                ErrorKind::InvalidIssuer => LaunchError::WrongIssuer,
                ErrorKind::InvalidAlgorithm => LaunchError::WrongAlgorithm("another".into()),
                ErrorKind::MissingRequiredClaim(c) | ErrorKind::InvalidClaimFormat(c) => {
                    LaunchError::BadClaim(c)
                }
                ErrorKind::Json(e) => LaunchError::BadClaim(e.to_string()),
                _ => LaunchError::Malformed,
            }
        })?;
    if data.claims.app != client_id {
        return Err(LaunchError::WrongAudience);
    }
    Ok(data.claims)
}

/// One public key of the set, as the server publishes it.
#[derive(Debug, Deserialize)]
struct PublishedKey {
    kty: String,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    usage: Option<String>,
}

/// The Ed25519 signing keys of a JWKS document, by key id; other keys are skipped.
fn ed25519_keys(doc: &serde_json::Value) -> Vec<(Option<String>, DecodingKey)> {
    let Some(keys) = doc.get("keys").and_then(|k| k.as_array()) else {
        return Vec::new();
    };
    keys.iter()
        .filter_map(|k| serde_json::from_value::<PublishedKey>(k.clone()).ok())
        .filter(|k| {
            k.kty == "OKP"
                && k.crv.as_deref() == Some("Ed25519")
                && k.alg.as_deref().is_none_or(|a| a == "EdDSA")
                && k.usage.as_deref().is_none_or(|u| u == "sig")
        })
        .filter_map(|k| {
            let key = DecodingKey::from_ed_components(k.x.as_deref()?).ok()?;
            Some((k.kid, key))
        })
        .collect()
}

#[derive(Default)]
struct Cache {
    keys: Vec<(Option<String>, DecodingKey)>,
    fetched_at: Option<Instant>,
}

impl Cache {
    /// The key a token names; a token without a key id is accepted only when the set has a
    /// single key.
    fn find(&self, kid: Option<&str>) -> Option<DecodingKey> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|(k, _)| k.as_deref() == Some(kid))
                .map(|(_, key)| key.clone()),
            None if self.keys.len() == 1 => Some(self.keys[0].1.clone()),
            None => None,
        }
    }

    fn age(&self) -> Option<Duration> {
        self.fetched_at.map(|t| t.elapsed())
    }
}

/// The server's signing keys, fetched when needed.
pub struct Jwks {
    atrium: Atrium,
    // An async mutex held across the fetch: concurrent launches wait for one fetch.
    cache: tokio::sync::Mutex<Cache>,
}

impl Jwks {
    pub fn new(atrium: Atrium) -> Jwks {
        Jwks {
            atrium,
            cache: tokio::sync::Mutex::new(Cache::default()),
        }
    }

    /// The key with this id, from the cache or from the server.
    pub async fn key(&self, kid: Option<&str>) -> Result<DecodingKey, LaunchError> {
        let mut cache = self.cache.lock().await;
        let fresh = cache.age().is_some_and(|a| a < KEYS_MAX_AGE);
        if fresh {
            if let Some(key) = cache.find(kid) {
                return Ok(key);
            }
        }
        let may_fetch = cache.age().is_none_or(|a| a >= REFETCH_MIN_INTERVAL);
        if may_fetch {
            match self.atrium.jwks().await {
                Ok(doc) => {
                    cache.keys = ed25519_keys(&doc);
                    cache.fetched_at = Some(Instant::now());
                    tracing::debug!(keys = cache.keys.len(), "fetched Atrium's signing keys");
                }
                // A stale key is better than none while the server is briefly unreachable.
                Err(e) => match cache.find(kid) {
                    Some(key) => {
                        tracing::warn!(error = %e, "cannot refresh Atrium's signing keys");
                        return Ok(key);
                    }
                    None => return Err(LaunchError::Keys(e)),
                },
            }
        }
        cache.find(kid).ok_or(LaunchError::UnknownKey)
    }

    /// Checks a launch token for the app `client_id`.
    pub async fn verify(&self, token: &str, client_id: &str) -> Result<LaunchClaims, LaunchError> {
        let kid = key_id(token)?;
        let key = self.key(kid.as_deref()).await?;
        verify_with(token, &key, self.atrium.base(), client_id)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use base64::Engine;
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    use jsonwebtoken::{EncodingKey, Header};

    pub const ISSUER: &str = "http://127.0.0.1:8000";

    /// A fixed test key pair: (signing key, base64url public key).
    pub fn test_key(seed: u8) -> (EncodingKey, String) {
        let signing = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        let der = signing.to_pkcs8_der().expect("pkcs8");
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(signing.verifying_key().as_bytes());
        (EncodingKey::from_ed_der(der.as_bytes()), x)
    }

    pub fn claims(app: &str, exp_in: i64) -> serde_json::Value {
        let now = crate::unix_now();
        serde_json::json!({
            "iss": ISSUER, "aud": app, "sub": "7", "username": "demo", "install": 3,
            "company": 1, "company_name": "Demo Company", "app": app,
            "iat": now, "exp": now + exp_in, "jti": format!("lch_{now}_{exp_in}"),
        })
    }

    pub fn sign(key: &EncodingKey, kid: Option<&str>, claims: &serde_json::Value) -> String {
        crypto_provider();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = kid.map(str::to_string);
        jsonwebtoken::encode(&header, claims, key).expect("signs")
    }

    fn public(x: &str) -> DecodingKey {
        DecodingKey::from_ed_components(x).unwrap()
    }

    #[test]
    fn a_launch_token_signed_by_the_server_for_this_app_is_accepted() {
        let (key, x) = test_key(1);
        let token = sign(&key, Some("k1"), &claims("demo-app1", 300));
        let c = verify_with(&token, &public(&x), ISSUER, "demo-app1").unwrap();
        assert_eq!(c.username, "demo");
        assert_eq!(c.company_name, "Demo Company");
        assert_eq!((c.install, c.company, c.sub.as_str()), (3, 1, "7"));
    }

    #[test]
    fn a_token_for_another_app_is_refused() {
        let (key, x) = test_key(1);
        let token = sign(&key, None, &claims("demo-app2", 300));
        let err = verify_with(&token, &public(&x), ISSUER, "demo-app1").unwrap_err();
        assert!(matches!(err, LaunchError::WrongAudience), "{err}");
    }

    #[test]
    fn a_token_whose_app_claim_differs_from_its_audience_is_refused() {
        let (key, x) = test_key(1);
        let mut c = claims("demo-app1", 300);
        c["app"] = "demo-app2".into();
        let err = verify_with(&sign(&key, None, &c), &public(&x), ISSUER, "demo-app1").unwrap_err();
        assert!(matches!(err, LaunchError::WrongAudience), "{err}");
    }

    #[test]
    fn a_token_from_another_issuer_is_refused() {
        let (key, x) = test_key(1);
        let mut c = claims("demo-app1", 300);
        c["iss"] = "http://evil.example".into();
        let err = verify_with(&sign(&key, None, &c), &public(&x), ISSUER, "demo-app1").unwrap_err();
        assert!(matches!(err, LaunchError::WrongIssuer), "{err}");
    }

    #[test]
    fn an_expired_token_is_refused_beyond_the_leeway() {
        let (key, x) = test_key(1);
        let token = sign(&key, None, &claims("demo-app1", -(LEEWAY_SECS as i64) - 5));
        let err = verify_with(&token, &public(&x), ISSUER, "demo-app1").unwrap_err();
        assert!(matches!(err, LaunchError::Expired), "{err}");
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let (key, _) = test_key(1);
        let (_, other) = test_key(2);
        let token = sign(&key, None, &claims("demo-app1", 300));
        let err = verify_with(&token, &public(&other), ISSUER, "demo-app1").unwrap_err();
        assert!(matches!(err, LaunchError::BadSignature), "{err}");
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let (key, x) = test_key(1);
        let token = sign(&key, None, &claims("demo-app1", 300));
        let mut parts: Vec<&str> = token.split('.').collect();
        let mut forged = claims("demo-app1", 300);
        forged["username"] = "admin".into();
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&forged).unwrap());
        parts[1] = &payload;
        let err = verify_with(&parts.join("."), &public(&x), ISSUER, "demo-app1").unwrap_err();
        assert!(matches!(err, LaunchError::BadSignature), "{err}");
    }

    #[test]
    fn tokens_with_other_algorithms_are_refused_before_any_key_is_looked_up() {
        let hs = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims("demo-app1", 300),
            &EncodingKey::from_secret(b"public key bytes used as an HMAC secret").unwrap(),
        )
        .unwrap();
        assert!(matches!(key_id(&hs), Err(LaunchError::WrongAlgorithm(_))));
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let none = format!(
            "{}.{}.",
            b64(r#"{"alg":"none","typ":"JWT"}"#),
            b64(&claims("demo-app1", 300).to_string())
        );
        assert!(key_id(&none).is_err());
        assert!(matches!(key_id("not a jwt"), Err(LaunchError::Malformed)));
    }

    #[test]
    fn a_token_missing_a_claim_is_refused() {
        let (key, x) = test_key(1);
        let mut c = claims("demo-app1", 300);
        c.as_object_mut().unwrap().remove("install");
        let err = verify_with(&sign(&key, None, &c), &public(&x), ISSUER, "demo-app1").unwrap_err();
        assert!(matches!(err, LaunchError::BadClaim(_)), "{err}");
    }

    #[test]
    fn only_ed25519_signing_keys_are_taken_from_the_key_set() {
        let (_, x) = test_key(1);
        let doc = serde_json::json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "good", "alg": "EdDSA", "use": "sig"},
            {"kty": "OKP", "crv": "X25519", "x": x, "kid": "ecdh"},
            {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "enc", "use": "enc"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "rsa"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            "garbage"
        ]});
        let keys = ed25519_keys(&doc);
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].0.as_deref(), Some("good"));
    }
}
