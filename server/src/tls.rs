//! TLS of its own (`serve --tls-cert PEM --tls-key PEM`): rustls over the connection layer
//! ([`crate::serve`]), with a certificate that is read again on SIGHUP.
//!
//! The certificate and key are behind a resolver ([`Certificates`]) that every handshake asks,
//! so a reload swaps them for the handshakes that follow without touching the listener or the
//! connections already open. A reload that fails (a missing file, a key that does not match
//! the certificate) is logged and changes nothing: the server keeps the certificate it had.
//! Only HTTP/1.1 is offered (ALPN `http/1.1`), as on plain connections.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// `Strict-Transport-Security` sent on every response served over TLS: a year, as the
/// browsers' preload rules ask for (no `includeSubDomains`: other hosts are not ours to bind).
pub const HSTS: &str = "max-age=31536000";

/// The PEM files the server reads its certificate chain and private key from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// TLS errors. Never carries key material, only paths and reasons.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the certificate chain {path}: {reason}")]
    Cert { path: PathBuf, reason: String },
    #[error("{0} holds no certificate")]
    NoCert(PathBuf),
    #[error("cannot read the private key {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("the private key {key} does not fit the certificate {cert}: {reason}")]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("cannot set up TLS: {0}")]
    Config(String),
}

/// The certificate every handshake is answered with, replaced by [`Certificates::reload`].
#[derive(Debug)]
pub struct Certificates {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl Certificates {
    /// Reads the certificate chain and key, and checks that they belong together.
    pub fn load(files: TlsFiles) -> Result<Arc<Certificates>, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let current = read(&files, &provider)?;
        Ok(Arc::new(Certificates {
            files,
            provider,
            current: RwLock::new(Arc::new(current)),
        }))
    }

    /// Reads the files again; on success the next handshakes use the new certificate, on
    /// failure the old one stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = read(&self.files, &self.provider)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fresh);
        Ok(())
    }

    /// An acceptor whose handshakes ask these certificates.
    pub fn acceptor(self: &Arc<Self>) -> Result<tokio_rustls::TlsAcceptor, TlsError> {
        let mut config = rustls::ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}

fn read(files: &TlsFiles, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let cert_err = |path: &Path, reason: String| TlsError::Cert {
        path: path.to_owned(),
        reason,
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| cert_err(&files.cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| cert_err(&files.cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(TlsError::NoCert(files.cert.clone()));
    }
    // The reason from the PEM parser names the section, never the key's bytes.
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| TlsError::Key {
        path: files.key.clone(),
        reason: e.to_string(),
    })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| TlsError::Mismatch {
        cert: files.cert.clone(),
        key: files.key.clone(),
        reason: e.to_string(),
    })
}

/// Reloads `certs` on every SIGHUP, for as long as the server runs. Without TLS (`None`) a
/// SIGHUP is only logged: the signal's default action would stop the server, and a service
/// manager's reload (`systemctl reload`) sends it whatever the configuration.
pub fn reload_on_sighup(certs: Option<Arc<Certificates>>) -> tokio::task::JoinHandle<()> {
    // Listening starts here, before the server accepts its first connection, so that a
    // SIGHUP sent once it answers is never met by the signal's default action.
    #[cfg(unix)]
    let hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            let mut hup = match hup {
                Ok(s) => s,
                Err(err) => {
                    tracing::warn!(%err, "cannot listen for SIGHUP: the certificate will not be reloaded");
                    return;
                }
            };
            while hup.recv().await.is_some() {
                let Some(certs) = &certs else {
                    tracing::info!("SIGHUP: no TLS certificate to reload; other settings apply at the next start");
                    continue;
                };
                match certs.reload() {
                    Ok(()) => {
                        tracing::info!(cert = %certs.files.cert.display(), "reloaded the TLS certificate")
                    }
                    Err(err) => {
                        tracing::error!(%err, "cannot reload the TLS certificate; keeping the one in use")
                    }
                }
            }
        }
        #[cfg(not(unix))]
        let _ = certs;
    })
}
