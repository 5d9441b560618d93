//! Registering apps: the checks shared by the command line and the developer API.

use anyhow::{bail, Context};

use crate::domain::redirect::{is_loopback_host, RedirectUri};
use crate::domain::scope::ScopeSet;
use crate::domain::secret::{self, Kind, Secret};
use crate::store::NewApp;

/// Checks an app's UI or webhook URL: https, or http on loopback only.
pub fn check_app_url(what: &str, u: &str) -> anyhow::Result<()> {
    let parsed = url::Url::parse(u).with_context(|| format!("the {what} {u:?} is not a URL"))?;
    let ok = parsed.scheme() == "https" || (parsed.scheme() == "http" && is_loopback_host(&parsed));
    if !ok {
        bail!("the {what} {u:?} must use https (http only on loopback)");
    }
    Ok(())
}

/// Validates redirect URIs for registration (at least one).
pub fn check_redirect_uris(raw: &[String]) -> anyhow::Result<Vec<String>> {
    if raw.is_empty() {
        bail!("an app needs at least one redirect URI");
    }
    raw.iter()
        .map(|r| Ok(RedirectUri::parse(r)?.as_str().to_string()))
        .collect()
}

/// Validates the scopes an app may ask for.
pub fn check_scopes(raw: &str) -> anyhow::Result<ScopeSet> {
    let scopes = ScopeSet::parse(raw)?;
    if scopes.has_first_party() {
        bail!("the dashboard scope is reserved for Atrium");
    }
    Ok(scopes)
}

/// `code`, `token` or `both` as (allow_code, allow_token).
pub fn parse_method(raw: &str) -> anyhow::Result<(bool, bool)> {
    match raw {
        "code" => Ok((true, false)),
        "token" => Ok((false, true)),
        "both" => Ok((true, true)),
        other => bail!("the method {other:?} must be code, token or both"),
    }
}

/// A validated registration, ready to store; the client secret is shown once.
pub struct Registration {
    pub app: NewApp,
    pub client_secret: Option<Secret>,
}

#[allow(clippy::too_many_arguments)]
pub fn register(
    developer_id: i64,
    name: &str,
    description: &str,
    redirect_uris: &[String],
    iframe_url: Option<&str>,
    webhook_url: Option<&str>,
    scopes: &str,
    allow_code: bool,
    allow_token: bool,
    public: bool,
) -> anyhow::Result<Registration> {
    if name.trim().is_empty() {
        bail!("the app name must not be empty");
    }
    let mut uris = Vec::new();
    for raw in redirect_uris {
        uris.push(RedirectUri::parse(raw)?.as_str().to_string());
    }
    for (what, url) in [("iframe URL", iframe_url), ("webhook URL", webhook_url)] {
        if let Some(u) = url {
            let parsed =
                url::Url::parse(u).with_context(|| format!("the {what} {u:?} is not a URL"))?;
            let ok = parsed.scheme() == "https"
                || (parsed.scheme() == "http"
                    && crate::domain::redirect::is_loopback_host(&parsed));
            if !ok {
                bail!("the {what} {u:?} must use https (http only on loopback)");
            }
        }
    }
    let scopes = ScopeSet::parse(scopes)?;
    if scopes.has_first_party() {
        bail!("the dashboard scope is reserved for Atrium");
    }
    let client_secret = (!public).then(|| Secret::generate(Kind::ClientSecret));
    Ok(Registration {
        app: NewApp {
            client_id: secret::public_id("atr_ci_"),
            secret_digest: client_secret.as_ref().map(Secret::digest),
            name: name.trim().to_string(),
            description: description.trim().to_string(),
            developer_id: Some(developer_id),
            redirect_uris: uris,
            iframe_url: iframe_url.map(str::to_string),
            webhook_url: webhook_url.map(str::to_string),
            scopes,
            allow_code,
            allow_token,
        },
        client_secret,
    })
}
