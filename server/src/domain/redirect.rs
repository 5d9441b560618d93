//! Redirect URIs: registration rules and exact matching (RFC 6749 §3.1.2, RFC 9700 §4.1.3).

use url::Url;

/// What kind of client an app is: the API's word, which decides the redirect rules below.
pub use atrium_proto::ApplicationType;

/// An application type as a request names it.
pub fn parse_application_type(raw: &str) -> Result<ApplicationType, RedirectUriError> {
    raw.parse()
        .map_err(|_| RedirectUriError::ApplicationType(raw.into()))
}

/// Atrium's own URL scheme: only the desktop (seeded by a migration) may receive redirects there.
pub const ATRIUM_SCHEME: &str = "atrium";

/// A redirect URI: one a developer registers ([`RedirectUri::parse`]), or one a request names
/// that matched a registered one ([`matching`]). Equality is that of the parsed URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(Url);

/// Why a redirect URI cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    #[error("{0:?} is not an absolute URL")]
    NotAbsolute(String),
    #[error("{0:?} has a fragment; redirect URIs must not")]
    Fragment(String),
    #[error("{0:?} must use https (http is allowed on the loopback IPs 127.0.0.1 and [::1] only)")]
    Insecure(String),
    #[error("{0:?} must not contain credentials")]
    Credentials(String),
    #[error("{0:?} uses Atrium's own scheme, which no app may register")]
    AtriumScheme(String),
    #[error("{0:?}: a native app's own scheme must be in reverse-domain form (com.example.app:/callback), and only native apps may use one")]
    Scheme(String),
    #[error("the application type {0:?} must be web or native")]
    ApplicationType(String),
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
    /// Validates a URI a developer registers, for registration, PATCH and the command line
    /// alike. It is an allowlist:
    /// - `https`;
    /// - `http` on a loopback IP literal only (`localhost` can be resolved elsewhere, RFC 8252
    ///   §8.3);
    /// - for native apps, a private-use scheme in reverse-domain form, which contains a `.`
    ///   (RFC 8252 §7.1) — never Atrium's own scheme.
    ///
    /// Every other scheme (`javascript:`, `data:`, `blob:`, `view-source:`, OS handlers like
    /// `ms-settings:` ...) is refused. No fragment, no credentials.
    pub fn parse(raw: &str, kind: ApplicationType) -> Result<RedirectUri, RedirectUriError> {
        let url = Url::parse(raw).map_err(|_| RedirectUriError::NotAbsolute(raw.into()))?;
        if url.fragment().is_some() || raw.contains('#') {
            return Err(RedirectUriError::Fragment(raw.into()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(RedirectUriError::Credentials(raw.into()));
        }
        match url.scheme() {
            "https" => {}
            "http" if is_ip_loopback(&url) => {}
            "http" => return Err(RedirectUriError::Insecure(raw.into())),
            s if s == ATRIUM_SCHEME || s.starts_with("atrium.") => {
                return Err(RedirectUriError::AtriumScheme(raw.into()))
            }
            s if kind == ApplicationType::Native && is_reverse_domain(s) => {}
            _ => return Err(RedirectUriError::Scheme(raw.into())),
        }
        Ok(RedirectUri(url))
    }

    /// Any absolute URL, without the registration rules: for a URI that was checked when it
    /// was written (a code's, read back from storage) or that is only compared with one
    /// (the token request's, RFC 6749 §4.1.3). Never for a URI to register or redirect to.
    pub fn absolute(raw: &str) -> Option<RedirectUri> {
        Url::parse(raw).ok().map(RedirectUri)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }
}

/// Does the redirect URI of a request match one of the registered ones? See [`matching`].
pub fn matches(registered: &[String], requested: &str, loopback_any_port: bool) -> bool {
    matching(registered, requested, loopback_any_port).is_some()
}

/// The redirect URI of a request, parsed, if it matches one of the registered ones.
///
/// The comparison is exact, as a string (no normalisation that a browser might undo), with one
/// exception from RFC 8252 §7.3 for native clients: loopback IP redirects match on any port.
pub fn matching(
    registered: &[String],
    requested: &str,
    loopback_any_port: bool,
) -> Option<RedirectUri> {
    let req = Url::parse(requested).ok()?;
    if registered.iter().any(|r| r == requested) {
        return Some(RedirectUri(req));
    }
    if !loopback_any_port
        || req.scheme() != "http"
        || req.fragment().is_some()
        || !is_ip_loopback(&req)
    {
        return None;
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
        .then_some(RedirectUri(req))
}

/// `com.example.app`: at least two non-empty labels of letters, digits and `-`.
fn is_reverse_domain(scheme: &str) -> bool {
    let labels: Vec<&str> = scheme.split('.').collect();
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

fn is_ip_loopback(url: &Url) -> bool {
    matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEB: ApplicationType = ApplicationType::Web;
    const NATIVE: ApplicationType = ApplicationType::Native;

    #[test]
    fn registration_accepts_https_loopback_ip_http_and_reverse_domain_schemes_for_native_apps() {
        assert!(RedirectUri::parse("https://app.example/cb", WEB).is_ok());
        assert!(RedirectUri::parse("http://127.0.0.1:8010/cb", WEB).is_ok());
        assert!(RedirectUri::parse("http://[::1]/cb", NATIVE).is_ok());
        assert!(RedirectUri::parse("com.example.notes:/cb", NATIVE).is_ok());
    }

    #[test]
    fn registration_is_an_allowlist_of_schemes() {
        for raw in [
            "atrium://oauth/callback",
            "atrium.evil:/cb",
            "vbscript:msgbox(1)",
            "view-source:https://app.example/",
            "blob:https://app.example/0b5c",
            "ms-settings:privacy",
            "javascript:alert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
            "ws://127.0.0.1/cb",
            "com.example.notes:/cb",
        ] {
            assert!(
                RedirectUri::parse(raw, WEB).is_err(),
                "{raw} registered for a web app"
            );
        }
        for raw in [
            "atrium://oauth/callback",
            "notes:/cb",
            "vbscript:x",
            "blob:x",
        ] {
            assert!(
                RedirectUri::parse(raw, NATIVE).is_err(),
                "{raw} registered for a native app"
            );
        }
    }

    #[test]
    fn registration_refuses_fragments_plain_http_localhost_and_relative_uris() {
        assert!(matches!(
            RedirectUri::parse("https://app.example/cb#x", WEB),
            Err(RedirectUriError::Fragment(_))
        ));
        for raw in ["http://app.example/cb", "http://localhost/cb"] {
            assert!(matches!(
                RedirectUri::parse(raw, WEB),
                Err(RedirectUriError::Insecure(_))
            ));
        }
        assert!(matches!(
            RedirectUri::parse("/cb", WEB),
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
