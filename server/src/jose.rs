//! The signing key set: the keys that sign ID tokens and launch tokens (JWS, RFC 7515), each
//! with a `kid`, and the JWKS (RFC 7517) that publishes their public halves.
//!
//! Every key *version* holds two keys:
//! - **RS256** (RSA 2048, PKCS#1 v1.5 with SHA-256), which every OpenID Provider must support
//!   (OpenID Connect Core §15.1) and which ID tokens use by default;
//! - **EdDSA** (Ed25519, RFC 8037), for clients that registered it, and for launch tokens.
//!
//! The highest version signs. `atrium-server keys rotate` adds a version; older versions stay
//! in the JWKS until everything they signed has expired (their `retired_at` plus the longest
//! token lifetime), so a relying party that cached the JWKS keeps verifying.
//!
//! **No private key is stored in plain text**, and the two kinds are kept in two ways, for a
//! reason:
//! - An Ed25519 private key *is* a 32-byte seed, so it is derived from the master key
//!   (`HMAC-SHA256(master, "launch-key:v<N>")`, version 1 being the launch key Atrium always
//!   had) and stored nowhere.
//! - An RSA key is not a function of a seed that any library promises to keep: prime search
//!   differs between implementations and versions, so a derived key would change under a
//!   dependency upgrade and break every token and cached JWKS at once. RSA keys are therefore
//!   generated at random (on first start, or by `keys rotate`) and stored only wrapped:
//!   AES-256-GCM under `HMAC-SHA256(master, "signing-key-wrap:v1")`, with the version as the
//!   associated data so that a wrapped key cannot be moved to another version. The database
//!   alone reveals nothing; like webhook secrets, using it takes the key file too.
//!
//! The crypto is aws-lc-rs, which rustls and reqwest already build: it generates, unwraps and
//! signs in constant time (the pure-Rust `rsa` crate has an open timing advisory,
//! RUSTSEC-2023-0071), and its parsed key is kept for the life of the process, where
//! `jsonwebtoken` (the same backend underneath) would parse the DER key on every signature.
//! Keys are loaded once, at start-up ([`KeySet::load`]); a rotation takes effect at the next
//! start.

use std::sync::Arc;

use aws_lc_rs::aead::{Aad, Nonce, RandomizedNonceKey, AES_256_GCM};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    KeyPair as _, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};

/// A JWS algorithm the server signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Rs256,
    EdDsa,
}

impl Alg {
    /// Every algorithm, in the order discovery lists them (RS256 first: the default).
    pub const ALL: [Alg; 2] = [Alg::Rs256, Alg::EdDsa];

    pub fn as_str(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::EdDsa => "EdDSA",
        }
    }

    /// The JWS `alg` name; `None` for one the server does not sign with.
    pub fn parse(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// Key-set errors.
#[derive(Debug, thiserror::Error)]
pub enum JoseError {
    #[error("cannot generate an RSA key")]
    Generate,
    #[error("the RSA key of signing-key version {0} does not unwrap with this key file; restore the key file that goes with this database")]
    Unwrap(i64),
    #[error("this server has no RS256 key loaded")]
    NoRsaKey,
    #[error("cannot sign: {0}")]
    Sign(&'static str),
    /// A token given to [`KeySet::verify`] is malformed, names no published key, or its
    /// signature does not verify.
    #[error("the token is not one this server signed: {0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// How long a retired key stays published: the longest lifetime of what it signed (ID tokens
/// and launch tokens), plus a minute for relying parties' clocks.
pub fn retention() -> i64 {
    crate::oauth::OAuthConfig::ID_TOKEN_TTL.max(crate::services::launch::LAUNCH_TTL) + 60
}

/// The key set at start-up: the stored versions, or a first version made now (with a fresh
/// RSA key) when there is none.
pub async fn load_or_init(
    store: &dyn crate::store::OidcStore,
    master: &[u8; 32],
    now: i64,
) -> Result<KeySet, JoseError> {
    let mut stored = store.signing_keys().await?;
    if stored.is_empty() {
        let wrapped = generate_wrapped_rsa(master, 1)?;
        // False when another process made version 1 first: use that one.
        if store.add_signing_key(1, wrapped, now).await? {
            tracing::info!("created the first signing keys (RS256 and EdDSA)");
        }
        stored = store.signing_keys().await?;
    }
    KeySet::load(master, &stored, now, retention())
}

/// `keys rotate`: adds the next version, which signs from the next start; the others are
/// retired now and stay published for [`retention`]. Returns the new version.
pub async fn rotate(
    store: &dyn crate::store::OidcStore,
    master: &[u8; 32],
    now: i64,
) -> Result<i64, JoseError> {
    loop {
        let newest = store
            .signing_keys()
            .await?
            .iter()
            .map(|v| v.version)
            .max()
            .unwrap_or(0);
        let version = newest + 1;
        let wrapped = generate_wrapped_rsa(master, version)?;
        if store.add_signing_key(version, wrapped, now).await? {
            return Ok(version);
        }
    }
}

/// One version's keys.
struct Version {
    version: i64,
    ed: SigningKey,
    ed_kid: String,
    /// `None` only in a key set built without the database ([`KeySet::derived`]).
    rsa: Option<(Arc<RsaKeyPair>, String)>,
}

/// The published keys and the current signing version. Cheap to share (`Arc` inside).
#[derive(Clone)]
pub struct KeySet {
    /// Newest first; the first signs.
    versions: Arc<Vec<Version>>,
    jwks: Arc<serde_json::Value>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field(
                "versions",
                &self.versions.iter().map(|v| v.version).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// A version as the database keeps it.
#[derive(Debug, Clone)]
pub struct StoredVersion {
    pub version: i64,
    /// `nonce || ciphertext || tag` of the PKCS#8 RSA key ([`wrap_rsa`]).
    pub rsa_wrapped: Vec<u8>,
    pub created_at: i64,
    /// When a newer version took over; `None` for the current one.
    pub retired_at: Option<i64>,
}

impl KeySet {
    /// The Ed25519 key of version 1 only, with no RSA key: what a command that signs nothing
    /// but must hold a [`crate::keys::ServerKeys`] gets, and unit tests.
    pub fn derived(master: &[u8; 32]) -> KeySet {
        KeySet::build(vec![Version::derive(master, 1, None)])
    }

    /// The key set from the stored versions: the newest signs; a retired one is published
    /// while `now < retired_at + retention`.
    pub fn load(
        master: &[u8; 32],
        stored: &[StoredVersion],
        now: i64,
        retention: i64,
    ) -> Result<KeySet, JoseError> {
        let mut stored: Vec<&StoredVersion> = stored.iter().collect();
        stored.sort_by_key(|s| std::cmp::Reverse(s.version));
        let mut versions = Vec::new();
        for (i, s) in stored.into_iter().enumerate() {
            let live = i == 0
                || s.retired_at
                    .is_none_or(|r| now < r.saturating_add(retention));
            if !live {
                continue;
            }
            let rsa = unwrap_rsa(master, s.version, &s.rsa_wrapped)?;
            versions.push(Version::derive(master, s.version, Some(rsa)));
        }
        if versions.is_empty() {
            return Ok(KeySet::derived(master));
        }
        Ok(KeySet::build(versions))
    }

    fn build(versions: Vec<Version>) -> KeySet {
        let mut keys = Vec::new();
        for v in &versions {
            // The Ed25519 key first, where launch-token verifiers written before the RSA keys
            // existed look for it.
            keys.push(serde_json::json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(v.ed.verifying_key().as_bytes()),
                "kid": v.ed_kid,
                "alg": "EdDSA",
                "use": "sig",
            }));
            if let Some((rsa, kid)) = &v.rsa {
                let public = rsa.public_key();
                keys.push(serde_json::json!({
                    "kty": "RSA",
                    "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
                    "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
                    "kid": kid,
                    "alg": "RS256",
                    "use": "sig",
                }));
            }
        }
        KeySet {
            jwks: Arc::new(serde_json::json!({ "keys": keys })),
            versions: Arc::new(versions),
        }
    }

    /// The JWKS document (RFC 7517), built once.
    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }

    /// The version that signs.
    pub fn current_version(&self) -> i64 {
        self.versions.first().map_or(0, |v| v.version)
    }

    /// Whether RS256 can be signed (false only without the database, [`KeySet::derived`]).
    pub fn has_rsa(&self) -> bool {
        self.versions.first().is_some_and(|v| v.rsa.is_some())
    }

    /// Signs `claims` as a compact JWS (a JWT) with the current key of `alg`.
    pub fn sign(&self, alg: Alg, claims: &serde_json::Value) -> Result<String, JoseError> {
        let current = self.versions.first().ok_or(JoseError::NoRsaKey)?;
        let kid = match (alg, &current.rsa) {
            (Alg::EdDsa, _) => &current.ed_kid,
            (Alg::Rs256, Some((_, kid))) => kid,
            (Alg::Rs256, None) => return Err(JoseError::NoRsaKey),
        };
        let header = serde_json::json!({ "alg": alg.as_str(), "typ": "JWT", "kid": kid });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = match (alg, &current.rsa) {
            (Alg::EdDsa, _) => current
                .ed
                .sign(signing_input.as_bytes())
                .to_bytes()
                .to_vec(),
            (Alg::Rs256, Some((rsa, _))) => {
                let mut sig = vec![0u8; rsa.public_modulus_len()];
                rsa.sign(
                    &RSA_PKCS1_SHA256,
                    &aws_lc_rs::rand::SystemRandom::new(),
                    signing_input.as_bytes(),
                    &mut sig,
                )
                .map_err(|_| JoseError::Sign("RSA signing failed"))?;
                sig
            }
            (Alg::Rs256, None) => return Err(JoseError::NoRsaKey),
        };
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
    /// The claims of a compact JWS signed by one of the published keys (any live version, so a
    /// token signed before a rotation still verifies). Only the signature and the key are
    /// checked: which claims matter, and whether expiry does, is the caller's decision (an
    /// `id_token_hint` may have expired, OpenID Connect RP-Initiated Logout §2).
    pub fn verify(&self, jwt: &str) -> Result<serde_json::Value, JoseError> {
        let invalid = JoseError::Invalid;
        let mut parts = jwt.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("not a compact JWS"));
        };
        let decode = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| invalid("bad base64url"))
        };
        let head: serde_json::Value =
            serde_json::from_slice(&decode(header)?).map_err(|_| invalid("bad header"))?;
        let kid = head["kid"].as_str().ok_or(invalid("no kid"))?;
        let alg = head["alg"]
            .as_str()
            .and_then(Alg::parse)
            .ok_or(invalid("unknown alg"))?;
        let signature = decode(signature)?;
        let signing_input = &jwt[..header.len() + 1 + payload.len()];
        let verified = self.versions.iter().any(|v| match alg {
            Alg::EdDsa => {
                v.ed_kid == kid
                    && ed25519_dalek::Signature::from_slice(&signature).is_ok_and(|sig| {
                        v.ed.verifying_key()
                            .verify_strict(signing_input.as_bytes(), &sig)
                            .is_ok()
                    })
            }
            Alg::Rs256 => v.rsa.as_ref().is_some_and(|(rsa, rsa_kid)| {
                rsa_kid == kid
                    && UnparsedPublicKey::new(
                        &RSA_PKCS1_2048_8192_SHA256,
                        rsa.public_key().as_ref(),
                    )
                    .verify(signing_input.as_bytes(), &signature)
                    .is_ok()
            }),
        });
        if !verified {
            return Err(invalid("no published key verifies its signature"));
        }
        serde_json::from_slice(&decode(payload)?).map_err(|_| invalid("bad payload"))
    }
}

impl Version {
    fn derive(master: &[u8; 32], version: i64, rsa: Option<RsaKeyPair>) -> Version {
        let seed = crate::keys::derive(master, format!("launch-key:v{version}").as_bytes());
        let ed = SigningKey::from_bytes(&seed);
        let ed_kid = kid_of(ed.verifying_key().as_bytes());
        Version {
            version,
            ed,
            ed_kid,
            rsa: rsa.map(|k| {
                let kid = kid_of(k.public_key().as_ref());
                (Arc::new(k), kid)
            }),
        }
    }
}

/// A key id: the first 96 bits of the SHA-256 of the public key, base64url.
fn kid_of(public: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(public)[..12])
}

fn wrapping_key(master: &[u8; 32]) -> RandomizedNonceKey {
    let key = crate::keys::derive(master, b"signing-key-wrap:v1");
    // A 32-byte key is what AES-256-GCM takes: this cannot fail.
    RandomizedNonceKey::new(&AES_256_GCM, &key).expect("AES-256-GCM takes a 32-byte key")
}

fn aad(version: i64) -> Vec<u8> {
    format!("atrium-signing-key:rsa:v{version}").into_bytes()
}

/// A new random RSA 2048 key for `version`, wrapped for storage.
pub fn generate_wrapped_rsa(master: &[u8; 32], version: i64) -> Result<Vec<u8>, JoseError> {
    let key = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| JoseError::Generate)?;
    let pkcs8 = key.as_der().map_err(|_| JoseError::Generate)?;
    let mut sealed = pkcs8.as_ref().to_vec();
    let nonce = wrapping_key(master)
        .seal_in_place_append_tag(Aad::from(aad(version)), &mut sealed)
        .map_err(|_| JoseError::Generate)?;
    let mut out = nonce.as_ref().to_vec();
    out.extend_from_slice(&sealed);
    Ok(out)
}

fn unwrap_rsa(master: &[u8; 32], version: i64, wrapped: &[u8]) -> Result<RsaKeyPair, JoseError> {
    let fail = || JoseError::Unwrap(version);
    if wrapped.len() < 12 {
        return Err(fail());
    }
    let (nonce, sealed) = wrapped.split_at(12);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| fail())?;
    let mut buf = sealed.to_vec();
    let plain = wrapping_key(master)
        .open_in_place(nonce, Aad::from(aad(version)), &mut buf)
        .map_err(|_| fail())?;
    let key = RsaKeyPair::from_pkcs8(plain).map_err(|_| fail());
    // The plaintext key does not outlive its parsing.
    buf.iter_mut().for_each(|b| *b = 0);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(master: &[u8; 32], version: i64, retired_at: Option<i64>) -> StoredVersion {
        StoredVersion {
            version,
            rsa_wrapped: generate_wrapped_rsa(master, version).unwrap(),
            created_at: 0,
            retired_at,
        }
    }

    #[test]
    fn a_wrapped_key_opens_only_with_its_master_key_and_version() {
        let master = [7; 32];
        let v1 = stored(&master, 1, None);
        assert!(unwrap_rsa(&master, 1, &v1.rsa_wrapped).is_ok());
        assert!(unwrap_rsa(&[8; 32], 1, &v1.rsa_wrapped).is_err());
        assert!(unwrap_rsa(&master, 2, &v1.rsa_wrapped).is_err());
    }

    #[test]
    fn retired_keys_stay_published_for_the_retention_then_go() {
        let master = [7; 32];
        let versions = [stored(&master, 1, Some(1000)), stored(&master, 2, None)];
        let kids = |set: &KeySet| set.jwks()["keys"].as_array().unwrap().len();
        let during = KeySet::load(&master, &versions, 1500, 600).unwrap();
        assert_eq!(during.current_version(), 2);
        assert_eq!(kids(&during), 4);
        let after = KeySet::load(&master, &versions, 1600, 600).unwrap();
        assert_eq!(kids(&after), 2);
    }

    #[test]
    fn version_one_keeps_the_launch_key_atrium_always_had() {
        let master = [7; 32];
        let seed = crate::keys::derive(&master, b"launch-key:v1");
        let set = KeySet::derived(&master);
        assert_eq!(
            set.jwks()["keys"][0]["x"],
            URL_SAFE_NO_PAD.encode(SigningKey::from_bytes(&seed).verifying_key().as_bytes())
        );
        assert!(set.sign(Alg::Rs256, &serde_json::json!({})).is_err());
    }

    #[test]
    fn verify_accepts_what_a_live_version_signed_and_nothing_altered() {
        let master = [7; 32];
        let old = KeySet::load(&master, &[stored(&master, 1, None)], 0, 600).unwrap();
        let claims = serde_json::json!({ "sub": "42" });
        let by_old = old.sign(Alg::Rs256, &claims).unwrap();
        let ed_by_old = old.sign(Alg::EdDsa, &claims).unwrap();
        let rotated = [stored(&master, 1, Some(1000)), stored(&master, 2, None)];
        let set = KeySet::load(&master, &rotated, 1500, 600).unwrap();
        // Version 1's RSA key was generated afresh above, so only its Ed25519 key (derived)
        // is the same in `set`: a token signed by an unknown RSA key is refused.
        assert!(matches!(set.verify(&by_old), Err(JoseError::Invalid(_))));
        assert_eq!(set.verify(&ed_by_old).unwrap(), claims);
        for alg in Alg::ALL {
            let jwt = set.sign(alg, &claims).unwrap();
            assert_eq!(set.verify(&jwt).unwrap(), claims);
            let (head, rest) = jwt.split_once('.').unwrap();
            let (_, sig) = rest.split_once('.').unwrap();
            let forged_payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"43"}"#);
            let forged = format!("{head}.{forged_payload}.{sig}");
            assert!(set.verify(&forged).is_err(), "{alg:?}: an altered payload");
        }
        assert!(set.verify("a.b").is_err());
        let gone = KeySet::load(&master, &rotated, 1700, 600).unwrap();
        assert!(gone.verify(&ed_by_old).is_err(), "a key past its retention");
    }
}
