//! Registering and editing apps: the checks shared by the command line and the developer API.
//! [`AppRegistration`] and [`AppEdit`] are what a developer asks for; [`register`] and
//! [`AppEdit::validate`] apply every rule once, whoever asks. Storing them, and who may edit
//! which app, is [`crate::services::apps`].

use anyhow::{bail, Context};
use atrium_proto::{OAuthMethod, ResponseType};

use crate::domain::redirect::{is_loopback_host, ApplicationType, RedirectUri};
use crate::domain::scope::ScopeSet;
use crate::domain::secret::{self, Kind, Secret};
use crate::domain::text;
use crate::jose::Alg;
use crate::store::{AppUpdate, Client, NewApp};
use crate::webhooks::egress::{Egress, WebhookUrl};

/// Checks an app's UI or install URL: https, or http on loopback only. (Webhook URLs follow the
/// stricter rule of [`WebhookUrl`].)
pub fn check_app_url(what: &'static str, u: &str) -> anyhow::Result<()> {
    text::url_length(what, u)?;
    let parsed = url::Url::parse(u).with_context(|| format!("the {what} {u:?} is not a URL"))?;
    let ok = parsed.scheme() == "https" || (parsed.scheme() == "http" && is_loopback_host(&parsed));
    if !ok {
        bail!("the {what} {u:?} must use https (http only on loopback)");
    }
    Ok(())
}

/// Validates redirect URIs for registration or an edit (at least one), by the one rule of
/// [`RedirectUri::parse`].
pub fn check_redirect_uris(raw: &[String], kind: ApplicationType) -> anyhow::Result<Vec<String>> {
    if raw.is_empty() {
        bail!("an app needs at least one redirect URI");
    }
    check_uri_list("redirect URI", raw, kind)
}

/// At most [`text::redirect_uri_count`]'s limit of URIs, each by the redirect-URI rule.
fn check_uri_list(
    what: &'static str,
    raw: &[String],
    kind: ApplicationType,
) -> anyhow::Result<Vec<String>> {
    text::redirect_uri_count(raw.len())?;
    raw.iter()
        .map(|r| {
            text::url_length(what, r)?;
            Ok(RedirectUri::parse(r, kind)
                .with_context(|| format!("the {what} {r:?}"))?
                .as_str()
                .to_string())
        })
        .collect()
}

/// The OpenID Connect fields of a registration or an edit, before validation; `None` keeps
/// a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OidcFields {
    /// `id_token_signed_response_alg`: `RS256` or `EdDSA`.
    pub id_token_alg: Option<String>,
    /// Where RP-initiated logout may return the user to.
    pub post_logout_redirect_uris: Option<Vec<String>>,
}

/// [`OidcFields`], checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OidcUpdate {
    pub id_token_alg: Option<Alg>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
}

impl OidcFields {
    /// Checks the fields for an app of `kind`: post-logout URIs follow the redirect-URI rules.
    pub fn validate(self, kind: ApplicationType) -> anyhow::Result<OidcUpdate> {
        let id_token_alg = match self.id_token_alg.as_deref() {
            None | Some("") => None,
            Some(raw) => Some(Alg::parse(raw).with_context(|| {
                format!("id_token_signed_response_alg must be RS256 or EdDSA, not {raw:?}")
            })?),
        };
        let post_logout_redirect_uris = self
            .post_logout_redirect_uris
            .map(|uris| check_uri_list("post-logout redirect URI", &uris, kind))
            .transpose()?;
        Ok(OidcUpdate {
            id_token_alg,
            post_logout_redirect_uris,
        })
    }
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
    match raw.parse::<OAuthMethod>() {
        Ok(m) => Ok((m.allows(ResponseType::Code), m.allows(ResponseType::Token))),
        Err(_) => bail!("the method {raw:?} must be code, token or both"),
    }
}

/// A public client using CODE must hold its own PKCE verifier, which the dashboard can't do for
/// it: such an app is installed through its install URL, where it starts the request itself.
pub fn check_install_path(
    public: bool,
    allow_code: bool,
    install_url: Option<&str>,
) -> anyhow::Result<()> {
    if public && allow_code && install_url.is_none() {
        bail!("a public app using the CODE method needs an install URL: the dashboard opens it, and the app starts the authorization request with its own PKCE");
    }
    Ok(())
}

/// What a developer asks to register, before validation.
#[derive(Debug, Clone, Default)]
pub struct AppRegistration {
    pub name: String,
    pub description: String,
    pub redirect_uris: Vec<String>,
    pub iframe_url: Option<String>,
    pub webhook_url: Option<String>,
    /// Where the dashboard sends a user who installs the app (`initiate_login_uri`).
    pub install_url: Option<String>,
    /// Space-separated scopes the app may ask for.
    pub scopes: String,
    pub allow_code: bool,
    pub allow_token: bool,
    /// No client secret (PKCE only).
    pub public: bool,
    pub application_type: ApplicationType,
}

/// A validated registration, ready to store; the client secret is shown once.
pub struct Registration {
    pub app: NewApp,
    pub client_secret: Option<Secret>,
}

/// Validates a registration once, for the developer API and the command line alike. The
/// webhook URL is checked against the operator's egress setting.
pub fn register(
    developer_id: i64,
    r: AppRegistration,
    egress: Egress,
) -> anyhow::Result<Registration> {
    let name = text::app_name(&r.name)?;
    let description = text::description(&r.description)?;
    if !r.allow_code && !r.allow_token {
        bail!("an app needs the CODE method, the TOKEN method or both");
    }
    let redirect_uris = check_redirect_uris(&r.redirect_uris, r.application_type)?;
    let nonempty = |u: Option<String>| u.filter(|u| !u.trim().is_empty());
    let iframe_url = nonempty(r.iframe_url);
    let webhook_url = nonempty(r.webhook_url)
        .map(|u| parse_webhook_url(&u, egress))
        .transpose()?;
    let install_url = nonempty(r.install_url);
    for (what, url) in [("iframe URL", &iframe_url), ("install URL", &install_url)] {
        if let Some(u) = url {
            check_app_url(what, u)?;
        }
    }
    check_install_path(r.public, r.allow_code, install_url.as_deref())?;
    let scopes = check_scopes(&r.scopes)?;
    let client_secret = (!r.public).then(|| Secret::generate(Kind::ClientSecret));
    Ok(Registration {
        app: NewApp {
            client_id: secret::public_id("atr_ci_"),
            secret_digest: client_secret.as_ref().map(Secret::digest),
            name,
            description,
            developer_id: Some(developer_id),
            redirect_uris,
            iframe_url,
            webhook_url,
            install_url,
            scopes,
            allow_code: r.allow_code,
            allow_token: r.allow_token,
            application_type: r.application_type,
        },
        client_secret,
    })
}

/// A webhook URL, checked against the egress rule.
fn parse_webhook_url(u: &str, egress: Egress) -> anyhow::Result<String> {
    text::url_length("webhook URL", u)?;
    Ok(WebhookUrl::parse(u, egress)?.into_string())
}

/// What a developer asks to change in an app, before validation: `None` keeps a field; for the
/// optional URLs, `Some("")` clears one.
#[derive(Debug, Clone, Default)]
pub struct AppEdit {
    pub name: Option<String>,
    pub description: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub iframe_url: Option<String>,
    pub webhook_url: Option<String>,
    pub install_url: Option<String>,
    pub scopes: Option<String>,
    /// `code`, `token` or `both`.
    pub method: Option<String>,
}

/// `""` clears an optional URL; anything else must be a valid app URL.
fn optional_url(what: &'static str, v: Option<String>) -> anyhow::Result<Option<Option<String>>> {
    match v {
        None => Ok(None),
        Some(u) if u.is_empty() => Ok(Some(None)),
        Some(u) => {
            check_app_url(what, &u)?;
            Ok(Some(Some(u)))
        }
    }
}

impl AppEdit {
    /// The update to store, checked by the rules of [`register`] against the app as it is.
    pub fn validate(self, app: &Client, egress: Egress) -> anyhow::Result<AppUpdate> {
        let mut update = AppUpdate::default();
        if let Some(name) = self.name {
            update.name = Some(text::app_name(&name)?);
        }
        if let Some(d) = self.description {
            update.description = Some(text::description(&d)?);
        }
        if let Some(uris) = self.redirect_uris {
            update.redirect_uris = Some(check_redirect_uris(&uris, app.application_type)?);
        }
        update.iframe_url = optional_url("iframe URL", self.iframe_url)?;
        if let Some(raw) = self.webhook_url.as_deref() {
            update.webhook_url = Some(match raw {
                "" => None,
                u => Some(parse_webhook_url(u, egress)?),
            });
        }
        update.install_url = optional_url("install URL", self.install_url)?;
        if let Some(scopes) = self.scopes {
            update.scopes = Some(check_scopes(&scopes)?);
        }
        if let Some(method) = self.method {
            let (code, token) = parse_method(&method)?;
            update.allow_code = Some(code);
            update.allow_token = Some(token);
        }
        // The edited app must still be installable from the dashboard.
        check_install_path(
            app.is_public(),
            update.allow_code.unwrap_or(app.allow_code),
            match &update.install_url {
                Some(new) => new.as_deref(),
                None => app.install_url.as_deref(),
            },
        )?;
        Ok(update)
    }
}
