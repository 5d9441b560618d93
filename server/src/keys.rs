//! The server's secret key material, derived from one master key.
//!
//! The master key (32 random bytes) lives in a file beside the database, created with mode 0600
//! on first start and read on every later start. From it the server derives, without storing
//! them anywhere:
//! - each app's webhook signing secret: `HMAC-SHA256(master, "webhook:<client_id>:<version>")`,
//!   so the database holds no secret in plain text and rotating is bumping the version;
//! - the signing keys of ID tokens and launch tokens ([`crate::jose::KeySet`]): Ed25519 keys
//!   derived per version (`HMAC-SHA256(master, "launch-key:v<N>")`), and RSA keys stored
//!   wrapped under a key derived from the master key; published at `/.well-known/jwks.json`;
//! - the tokens a refresh-token rotation hands out while the reuse interval is on (see
//!   [`ServerKeys::rotation_pair`]);
//! - the key under which the sign-in back-off hashes usernames and client networks
//!   ([`ServerKeys::login_throttle_key`]): replicas sharing the key file hash a username alike,
//!   so they count its failures in one row.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::jose::{Alg, KeySet};

type HmacSha256 = Hmac<Sha256>;

/// Key material errors.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create the key file {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the key file {0} is not 32 bytes; restore it from a backup or remove it (every webhook secret and launch key changes)")]
    Corrupt(PathBuf),
}

/// The master key and what derives from it. Never printed.
#[derive(Clone)]
pub struct ServerKeys {
    master: [u8; 32],
    signing: KeySet,
}

impl std::fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKeys")
            .field("signing", &self.signing)
            .finish_non_exhaustive()
    }
}

/// Where the key file of a database lives: `atrium.db` → `atrium.key`.
pub fn key_path_for(db_path: &Path) -> PathBuf {
    db_path.with_extension("key")
}

impl ServerKeys {
    /// Reads the key file, or creates it (0600) with fresh random bytes.
    pub fn load_or_create(path: &Path) -> Result<ServerKeys, KeyError> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let master: [u8; 32] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| KeyError::Corrupt(path.to_owned()))?;
                Ok(Self::from_master(master))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut master = [0u8; 32];
                getrandom::fill(&mut master).expect("the OS random source is available");
                match write_new(path, &master) {
                    Ok(()) => {}
                    // Another process created it first: use that one.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        return Self::load_or_create(path)
                    }
                    Err(source) => {
                        return Err(KeyError::Create {
                            path: path.to_owned(),
                            source,
                        })
                    }
                }
                tracing::info!(path = %path.display(), "created the server key file");
                Ok(Self::from_master(master))
            }
            Err(source) => Err(KeyError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }

    pub fn from_master(master: [u8; 32]) -> ServerKeys {
        ServerKeys {
            signing: KeySet::derived(&master),
            master,
        }
    }

    /// The master key, for the key set's derivations and wrapping ([`crate::jose`]).
    pub(crate) fn master(&self) -> &[u8; 32] {
        &self.master
    }

    /// Replaces the signing keys with the set loaded from the database at start-up.
    pub fn with_signing(mut self, signing: KeySet) -> ServerKeys {
        self.signing = signing;
        self
    }

    /// The signing keys of ID tokens and launch tokens.
    pub fn signing(&self) -> &KeySet {
        &self.signing
    }

    /// The webhook signing secret of an app (version bumps on rotation).
    pub fn webhook_secret(&self, client_id: &str, version: i64) -> String {
        let raw = derive(
            &self.master,
            format!("webhook:{client_id}:{version}").as_bytes(),
        );
        format!("atr_wh_{}", URL_SAFE_NO_PAD.encode(raw))
    }

    /// Binds a login form to its pre-session id: `HMAC-SHA256(master, "login-form:v1:<id>")`.
    /// Only this server can make the token that goes with an id, so a page on another port of
    /// the same host can't invent a cookie and field pair.
    pub fn login_form_token(&self, pre_session: &str) -> String {
        URL_SAFE_NO_PAD.encode(derive(
            &self.master,
            format!("login-form:v1:{pre_session}").as_bytes(),
        ))
    }

    /// The key of the sign-in back-off's keyed hashes ([`crate::throttle`]):
    /// `HMAC-SHA256(master, "login-throttle:v1")`. The same on every replica that reads the same
    /// key file, and unknown to anyone who reads only the database, who therefore can neither
    /// tell which username a row counts nor pick names that land in one slot.
    pub(crate) fn login_throttle_key(&self) -> [u8; 32] {
        derive(&self.master, b"login-throttle:v1")
    }

    /// The access and refresh token (256 bits each) that rotating the refresh token `old`
    /// hands out, given the rotation's random `salt`:
    /// `HMAC-SHA256(K, "access" | "refresh", 0, salt, old)` with
    /// `K = HMAC-SHA256(master, "refresh-rotation:v1")`. Deriving them again needs the master
    /// key, the salt (kept in the database during the reuse interval) and the old refresh token
    /// in plain text (which the database never holds): so a retry can be answered with the same
    /// pair, and nothing stored reveals it.
    pub fn rotation_pair(&self, salt: &[u8; 32], old: &str) -> ([u8; 32], [u8; 32]) {
        let key = derive(&self.master, b"refresh-rotation:v1");
        let one = |label: &[u8]| -> [u8; 32] {
            let mut mac = HmacSha256::new_from_slice(&key).expect("HMAC takes any key length");
            mac.update(label);
            mac.update(&[0]);
            mac.update(salt);
            mac.update(old.as_bytes());
            mac.finalize().into_bytes().into()
        };
        (one(b"access"), one(b"refresh"))
    }

    /// The JWKS document (RFC 7517): every published key of the key set.
    pub fn jwks(&self) -> serde_json::Value {
        self.signing.jwks().clone()
    }

    /// Signs `claims` as a compact JWS (JWT) with the current EdDSA key (launch tokens).
    pub fn sign_jwt(&self, claims: &serde_json::Value) -> String {
        // EdDSA keys are always present (derived), so signing with one cannot fail.
        self.signing
            .sign(Alg::EdDsa, claims)
            .expect("an Ed25519 key is always loaded")
    }
}

pub(crate) fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(master).expect("HMAC takes any key length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

/// `Atrium-Signature` value for a webhook body: `t=<unix>,v1=<hex HMAC-SHA256("<t>.<body>")>`.
pub fn webhook_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Writes a new key file atomically: the bytes go to a temporary file beside it, which is
/// flushed to disk and then linked into place. A crash leaves either no key file or a whole
/// one, never a short one that would stop the next start. Linking (unlike renaming) fails if
/// another process created the key file meanwhile, so a key that may already be in use is
/// never replaced; the caller then reads that one.
pub(crate) fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let _ = std::fs::remove_file(&tmp);
    let written = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::hard_link(&tmp, path)
    })();
    let _ = std::fs::remove_file(&tmp);
    written?;
    // The new name itself must survive a crash: flush the directory too.
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};

    #[test]
    fn a_rotation_pair_needs_the_key_the_salt_and_the_old_token() {
        let keys = ServerKeys::from_master([7; 32]);
        let pair = keys.rotation_pair(&[1; 32], "atr_rt_old");
        assert_eq!(pair, keys.rotation_pair(&[1; 32], "atr_rt_old"));
        assert_ne!(pair.0, pair.1);
        assert_ne!(pair, keys.rotation_pair(&[2; 32], "atr_rt_old"));
        assert_ne!(pair, keys.rotation_pair(&[1; 32], "atr_rt_other"));
        let other = ServerKeys::from_master([8; 32]);
        assert_ne!(pair, other.rotation_pair(&[1; 32], "atr_rt_old"));
    }

    #[test]
    fn the_key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("atrium.key");
        let a = ServerKeys::load_or_create(&path).unwrap();
        let b = ServerKeys::load_or_create(&path).unwrap();
        assert_eq!(a.webhook_secret("c", 1), b.webhook_secret("c", 1));
        assert_ne!(a.webhook_secret("c", 1), a.webhook_secret("c", 2));
        assert_eq!(a.jwks(), b.jwks());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_key_file_is_never_replaced_and_no_temporary_file_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("atrium.key");
        std::fs::write(&path, [9u8; 32]).unwrap();
        assert!(write_new(&path, &[1u8; 32]).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), [9u8; 32]);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["atrium.key"]);
    }

    #[test]
    fn jwts_verify_with_the_published_key() {
        let keys = ServerKeys::from_master([7; 32]);
        let jwt = keys.sign_jwt(&serde_json::json!({"sub": "1"}));
        let parts: Vec<&str> = jwt.split('.').collect();
        let x = keys.jwks()["keys"][0]["x"].as_str().unwrap().to_string();
        let key = VerifyingKey::from_bytes(&URL_SAFE_NO_PAD.decode(x).unwrap().try_into().unwrap())
            .unwrap();
        let sig = Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
        assert!(key
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .is_ok());
    }

    #[test]
    fn webhook_signatures_follow_the_documented_format() {
        let s = webhook_signature("secret", 1700000000, b"{}");
        assert!(s.starts_with("t=1700000000,v1="));
        assert_eq!(s.len(), "t=1700000000,v1=".len() + 64);
    }
}
