//! `atrium-scripted-browser URL`: stands in for the system browser in end-to-end tests.
//!
//! The desktop runs it (through `ATRIUM_BROWSER`) with the sign-in URL. Like a person would, it
//! opens the page, signs in with `SCRIPTED_USER` / `SCRIPTED_PASSWORD` on the server's HTML
//! form, follows the redirects, and hands the final `atrium://` URL to the OS — here by running
//! `ATRIUM_DESKTOP_BIN URL`, a second `atrium` process that forwards the deep link to the first
//! over D-Bus, exactly as a desktop's URL handler would.

use anyhow::{bail, Context, Result};

#[tokio::main]
async fn main() -> Result<()> {
    let url = std::env::args()
        .nth(1)
        .context("usage: atrium-scripted-browser URL")?;
    let user = std::env::var("SCRIPTED_USER").context("SCRIPTED_USER is not set")?;
    let password = std::env::var("SCRIPTED_PASSWORD").context("SCRIPTED_PASSWORD is not set")?;
    let desktop = std::env::var("ATRIUM_DESKTOP_BIN").context("ATRIUM_DESKTOP_BIN is not set")?;
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let start = url::Url::parse(&url)?;
    let page = http.get(start.clone()).send().await?.text().await?;
    let mut form = hidden_inputs(&page);
    form.push(("username".into(), user));
    form.push(("password".into(), password));
    let res = http.post(start.join("/login")?).form(&form).send().await?;
    let mut next = location(&res).context("signing in did not redirect")?;
    // Follow same-server redirects until the server hands over to the app's scheme.
    for _ in 0..5 {
        if next.starts_with("atrium://") {
            eprintln!("scripted browser: opening the deep link");
            let status = std::process::Command::new(&desktop).arg(&next).status()?;
            if !status.success() {
                bail!("the second atrium process failed: {status}");
            }
            return Ok(());
        }
        let res = http.get(start.join(&next)?).send().await?;
        next = location(&res).context("the flow stopped without reaching the app")?;
    }
    bail!("too many redirects")
}

fn location(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get("location")?
        .to_str()
        .ok()
        .map(str::to_string)
}

/// The `<input type="hidden">` fields of the page.
fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|chunk| {
            let attr = |name: &str| -> Option<String> {
                let start = chunk.find(&format!("{name}=\""))? + name.len() + 2;
                let end = chunk[start..].find('"')? + start;
                Some(
                    chunk[start..end]
                        .replace("&quot;", "\"")
                        .replace("&#39;", "'")
                        .replace("&lt;", "<")
                        .replace("&gt;", ">")
                        .replace("&amp;", "&"),
                )
            };
            Some((attr("name")?, attr("value")?))
        })
        .collect()
}
