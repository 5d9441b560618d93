//! Redirect URIs: registration rules and exact matching (RFC 6749 §3.1.2, RFC 9700 §4.1.3).

use url::Url;

/// A registered redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(Url);

/// Why a redirect URI cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    #[error("{0:?} is not an absolute URL")]
    NotAbsolute(String),
    #[error("{0:?} has a fragment; redirect URIs must not")]
    Fragment(String),
    #[error("{0:?} must use https (http is allowed for 127.0.0.1, [::1] and localhost only)")]
    Insecure(String),
    #[error("{0:?} must not contain credentials")]
    Credentials(String),
}

/// True for hosts that never leave the machine.
pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

impl RedirectUri {
    /// Validates a URI a developer registers: absolute, no fragment, no credentials, https or
    /// loopback http; a private-use scheme (`com.example.app:/cb`, RFC 8252 §7.1) is accepted
    /// for native apps.
    pub fn parse(raw: &str) -> Result<RedirectUri, RedirectUriError> {
        let url = Url::parse(raw).map_err(|_| RedirectUriError::NotAbsolute(raw.into()))?;
        if url.fragment().is_some() || raw.contains('#') {
            return Err(RedirectUriError::Fragment(raw.into()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(RedirectUriError::Credentials(raw.into()));
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback_host(&url) => {}
            "http" | "javascript" | "data" | "file" | "ftp" | "ws" | "wss" => {
                return Err(RedirectUriError::Insecure(raw.into()))
            }
            // Private-use schemes of native apps (atrium://...).
            _ => {}
        }
        Ok(RedirectUri(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }
}

/// Does the redirect URI of a request match one of the registered ones?
///
/// The comparison is exact, as a string (no normalisation that a browser might undo), with one
/// exception from RFC 8252 §7.3 for native clients: loopback IP redirects match on any port.
pub fn matches(registered: &[String], requested: &str, loopback_any_port: bool) -> bool {
    if registered.iter().any(|r| r == requested) {
        return true;
    }
    if !loopback_any_port {
        return false;
    }
    let Ok(req) = Url::parse(requested) else {
        return false;
    };
    if req.scheme() != "http" || req.fragment().is_some() || !is_ip_loopback(&req) {
        return false;
    }
    registered
        .iter()
        .filter_map(|r| Url::parse(r).ok())
        .any(|reg| {
            reg.scheme() == "http"
                && reg.host() == req.host()
                && reg.path() == req.path()
                && reg.query() == req.query()
        })
}

fn is_ip_loopback(url: &Url) -> bool {
    matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_accepts_https_loopback_http_and_private_schemes() {
        assert!(RedirectUri::parse("https://app.example/cb").is_ok());
        assert!(RedirectUri::parse("http://127.0.0.1:8010/cb").is_ok());
        assert!(RedirectUri::parse("http://localhost/cb").is_ok());
        assert!(RedirectUri::parse("atrium://oauth/callback").is_ok());
    }

    #[test]
    fn registration_refuses_fragments_plain_http_and_relative_uris() {
        assert!(matches!(
            RedirectUri::parse("https://app.example/cb#x"),
            Err(RedirectUriError::Fragment(_))
        ));
        assert!(matches!(
            RedirectUri::parse("http://app.example/cb"),
            Err(RedirectUriError::Insecure(_))
        ));
        assert!(matches!(
            RedirectUri::parse("javascript:alert(1)"),
            Err(RedirectUriError::Insecure(_))
        ));
        assert!(matches!(
            RedirectUri::parse("/cb"),
            Err(RedirectUriError::NotAbsolute(_))
        ));
    }

    #[test]
    fn matching_is_exact_except_loopback_ports_for_native_clients() {
        let reg = vec![
            "https://app.example/cb".to_string(),
            "http://127.0.0.1/cb".to_string(),
        ];
        assert!(matches(&reg, "https://app.example/cb", false));
        assert!(!matches(&reg, "https://app.example/cb/", false));
        assert!(!matches(&reg, "https://app.example/cb?x=1", false));
        assert!(!matches(&reg, "http://127.0.0.1:5000/cb", false));
        assert!(matches(&reg, "http://127.0.0.1:5000/cb", true));
        assert!(!matches(&reg, "http://127.0.0.1:5000/other", true));
        assert!(!matches(&reg, "http://localhost:5000/cb", true));
    }
}
