//! Launching an installed app: a short-lived signed token (a JWT, EdDSA) in the app's UI URL,
//! telling the app who opens it, in which company and install.
//!
//! The token travels in the URL's fragment (`#atrium_launch=<JWT>`), which a browser never
//! sends to a server: it cannot reach access logs, proxies or `Referer` headers. It lives
//! [`LAUNCH_TTL`] seconds and carries a unique `jti`, so an app that accepts each `jti` once
//! (as it must) cannot be made to accept a captured token again.

use super::installs::{not_installed, visible};
use super::{companies, ServiceError, ServiceResult};
use crate::domain::ids::{CompanyId, InstallId};
use crate::domain::now;
use crate::platform::Platform;
use crate::store::User;

/// Launch tokens live this long (seconds): enough for a slow page to load and post it, short
/// enough that a leaked one is soon worthless.
pub const LAUNCH_TTL: i64 = 60;

/// Where the dashboard opens the app, and until when that URL works.
pub struct Launch {
    pub url: url::Url,
    pub expires_at: i64,
}

/// The app's UI URL with a launch token for `user`, a member of the install's company.
pub async fn launch(p: &Platform, user: &User, install_id: InstallId) -> ServiceResult<Launch> {
    let (install, _) = visible(p, user, install_id).await?;
    if !install.active {
        return Err(not_installed());
    }
    let Some(iframe_url) = &install.iframe_url else {
        return Err(ServiceError::Conflict {
            code: "conflict",
            why: "this app has no user interface".into(),
        });
    };
    let company = companies::get(p, CompanyId::new(install.company_id)).await?;
    let iat = now();
    let exp = iat + LAUNCH_TTL;
    let jwt = p.keys.sign_jwt(&serde_json::json!({
        "iss": p.config.issuer,
        "aud": install.client_id,
        "sub": user.id.to_string(),
        "username": user.username,
        "install": install.id,
        "company": install.company_id,
        "company_name": company.name,
        "app": install.client_id,
        "iat": iat,
        "exp": exp,
        "jti": crate::domain::secret::public_id("lch_"),
    }));
    let mut url = url::Url::parse(iframe_url).map_err(ServiceError::internal)?;
    // Any fragment of the registered URL is replaced: the app reads only this one.
    url.set_fragment(Some(&format!("atrium_launch={jwt}")));
    Ok(Launch {
        url,
        expires_at: exp,
    })
}
