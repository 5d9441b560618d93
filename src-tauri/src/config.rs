//! Where the shell finds its server.

use url::Url;

/// The server the dashboard uses when nothing else is configured.
pub const DEFAULT_SERVER_URL: &str = "http://127.0.0.1:8000";

/// Shell configuration.
#[derive(Debug, Clone)]
pub struct ShellConfig {
    /// Base URL of the Atrium server.
    pub server_url: Url,
    /// True when `ATRIUM_SERVER_URL` set it (it then wins over the remembered choice).
    pub from_env: bool,
}

impl ShellConfig {
    /// Reads `ATRIUM_SERVER_URL`; falls back to [`DEFAULT_SERVER_URL`] (with a warning) when it
    /// is unset or not an http(s) URL.
    pub fn from_env() -> ShellConfig {
        let configured = std::env::var("ATRIUM_SERVER_URL").ok();
        let from_env = configured
            .as_deref()
            .and_then(|raw| match parse_server_url(raw) {
                Ok(url) => Some(url),
                Err(reason) => {
                    tracing::warn!(%reason, "ignoring ATRIUM_SERVER_URL");
                    None
                }
            });
        ShellConfig {
            from_env: from_env.is_some(),
            server_url: from_env
                .unwrap_or_else(|| Url::parse(DEFAULT_SERVER_URL).expect("default URL parses")),
        }
    }
}

/// Accepts an `http` or `https` URL without credentials, query or fragment.
pub fn parse_server_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("{raw:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{raw:?} must start with http:// or https://"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{raw:?} must not contain credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{raw:?} must not have a query or a fragment"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_must_be_plain_http_or_https() {
        assert!(parse_server_url("http://127.0.0.1:8000").is_ok());
        assert!(parse_server_url(" https://atrium.example/ ").is_ok());
        assert!(parse_server_url("ftp://x").is_err());
        assert!(parse_server_url("http://u:p@x").is_err());
        assert!(parse_server_url("http://x/?a=1").is_err());
        assert!(parse_server_url("not a url").is_err());
    }
}
