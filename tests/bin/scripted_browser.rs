//! `atrium-scripted-browser URL`: stands in for the system browser in end-to-end tests.
//!
//! The desktop runs it (through `ATRIUM_BROWSER`) with a URL:
//! - the server's sign-in URL: like a person would, it signs in with `SCRIPTED_USER` /
//!   `SCRIPTED_PASSWORD` on the HTML form, follows the redirects, and clicks "Continue" on the
//!   page that asks to sign the desktop in as that account (it checks the page names it);
//! - an app's install redirect (with `ATRIUM_APP_REDIRECTS=browser`): it loads the app's page and
//!   follows its `<meta http-equiv="refresh">` back to Atrium.
//!
//! - an app's install URL that starts an authorization request: it signs in, allows on the
//!   consent page (as the user choosing their only company), and stops where the server hands
//!   over to the app's own redirect URI.
//!
//! - the server's sign-out URL (`/oauth2/logout`): it loads it and follows the server back to
//!   the desktop's `atrium://signed-out` link; a page instead (the server asking the user, or
//!   refusing) fails.
//!
//! With `SCRIPTED_PROFILE=DIR` it keeps its cookies in `DIR/cookies` from one run to the next,
//! as a browser profile does, so the session a sign-in leaves is there at the next URL.
//!
//! With `SCRIPTED_FORGE_CALLBACK=1` it first opens a forged sign-in callback (a code and a
//! `state` of its own), as any local program could, before signing in.
//!
//! It hands a final `atrium://` URL to the OS — here by running `ATRIUM_DESKTOP_BIN URL`, a
//! second `atrium` process that forwards the deep link to the first over D-Bus, exactly as a
//! desktop's URL handler would.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use atrium_proto::paths;
use atrium_tests::html::{hidden_inputs, meta_refresh};
use atrium_tests::urls::try_location as location;
use reqwest::cookie::{CookieStore, Jar};

#[tokio::main]
async fn main() -> Result<()> {
    let url = std::env::args()
        .nth(1)
        .context("usage: atrium-scripted-browser URL")?;
    let user = std::env::var("SCRIPTED_USER").context("SCRIPTED_USER is not set")?;
    let password = std::env::var("SCRIPTED_PASSWORD").context("SCRIPTED_PASSWORD is not set")?;
    let desktop = std::env::var("ATRIUM_DESKTOP_BIN").context("ATRIUM_DESKTOP_BIN is not set")?;
    let mut start = url::Url::parse(&url)?;
    // Where it was sent (not the query: it may hold codes or tokens).
    eprintln!(
        "scripted browser: given {}{}",
        start.origin().ascii_serialization(),
        start.path()
    );
    let profile = std::env::var_os("SCRIPTED_PROFILE").map(|d| PathBuf::from(d).join("cookies"));
    let jar = Arc::new(Jar::default());
    if let Some(saved) = profile
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
    {
        restore_cookies(&jar, &saved)?;
    }
    let http = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let result = browse(&http, &mut start, &user, &password, &desktop).await;
    if let Some(path) = &profile {
        save_cookies(&jar, &start, path)?;
    }
    result
}

/// What the browser does with the URL it was given (see the crate docs).
async fn browse(
    http: &reqwest::Client,
    start: &mut url::Url,
    user: &str,
    password: &str,
    desktop: &str,
) -> Result<()> {
    if start.path() == paths::END_SESSION {
        let res = http.get(start.clone()).send().await?;
        match location(&res).filter(|_| res.status().is_redirection()) {
            Some(to) if to.starts_with("atrium://") => return open_deep_link(desktop, &to),
            _ => bail!(
                "the sign-out did not return to the app ({}): {}",
                res.status(),
                res.text().await.unwrap_or_default()
            ),
        }
    }
    // Follow redirects to the first page (an app's install URL redirects to the server).
    let mut res = http.get(start.clone()).send().await?;
    for _ in 0..5 {
        let Some(to) = location(&res).filter(|_| res.status().is_redirection()) else {
            break;
        };
        *start = start.join(&to)?;
        res = http.get(start.clone()).send().await?;
    }
    let page = res.text().await?;
    if std::env::var_os("SCRIPTED_FORGE_CALLBACK").is_some() && page.contains("name=\"password\"") {
        let issuer = start.origin().ascii_serialization();
        let forged = format!("atrium://oauth/callback?code=forged&state=forged&iss={issuer}");
        open_deep_link(desktop, &forged)?;
    }
    if !page.contains("name=\"password\"") {
        // Not a sign-in page: an app's page that sends the user back to Atrium.
        let link = meta_refresh(&page)
            .context("the page neither asks to sign in nor returns to Atrium")?;
        return open_deep_link(desktop, &link);
    }
    let mut form = hidden_inputs(&page);
    form.push(("username".into(), user.to_string()));
    form.push(("password".into(), password.to_string()));
    let res = http.post(start.join("/login")?).form(&form).send().await?;
    let mut next = location(&res).context("signing in did not redirect")?;
    // Follow same-server redirects until the server hands over to the app's scheme.
    for _ in 0..5 {
        if next.starts_with("atrium://") {
            return open_deep_link(desktop, &next);
        }
        let res = http.get(start.join(&next)?).send().await?;
        if let Some(to) = location(&res) {
            next = to;
            continue;
        }
        // The page asking to continue as the signed-in account (checked), or an app's
        // consent page: allow.
        let page = res.text().await?;
        let desktop_page = page.contains("to the Atrium app?");
        if desktop_page && !page.contains(&format!(">{user}</strong>")) {
            bail!("expected the page asking to continue as {user}: {page}");
        }
        if !desktop_page && !page.contains("name=\"decision\"") {
            bail!("expected a consent page: {page}");
        }
        let mut form = hidden_inputs(&page);
        form.push(("decision".into(), "allow".into()));
        let res = http
            .post(start.join("/oauth2/authorize")?)
            .form(&form)
            .send()
            .await?;
        next = location(&res).context("continuing did not redirect")?;
        if !next.starts_with("atrium://")
            && !next.starts_with('/')
            && !next.starts_with(start.origin().ascii_serialization().as_str())
        {
            // The server handed over to the app's redirect URI: the app takes it from here.
            eprintln!("scripted browser: handed over to the app");
            return Ok(());
        }
    }
    bail!("too many redirects")
}

/// What the OS does with an `atrium://` URL: start `atrium URL`.
fn open_deep_link(desktop: &str, link: &str) -> Result<()> {
    eprintln!("scripted browser: opening the deep link");
    let status = std::process::Command::new(desktop).arg(link).status()?;
    if !status.success() {
        bail!("the second atrium process failed: {status}");
    }
    Ok(())
}

/// The profile's cookies: the server's origin on the first line, then its `Cookie` header.
fn save_cookies(jar: &Jar, server: &url::Url, path: &std::path::Path) -> Result<()> {
    let origin = server.origin().ascii_serialization();
    let header = url::Url::parse(&origin)
        .ok()
        .and_then(|u| jar.cookies(&u))
        .and_then(|h| h.to_str().ok().map(str::to_string))
        .unwrap_or_default();
    std::fs::write(path, format!("{origin}\n{header}\n")).context("cannot save the profile")
}

fn restore_cookies(jar: &Jar, saved: &str) -> Result<()> {
    let mut lines = saved.lines();
    let origin = url::Url::parse(lines.next().unwrap_or_default())?;
    for cookie in lines.next().unwrap_or_default().split("; ") {
        if !cookie.is_empty() {
            jar.add_cookie_str(&format!("{cookie}; Path=/"), &origin);
        }
    }
    Ok(())
}
