//! The sample app's HTML. Every value is escaped with [`esc`]; pages load `/static/style.css`
//! and their scripts: App1's callback script, or on the apps' pages the launch script and the
//! bridge's controls (`static/bridge-demo.js`; see `web::html` for the CSP).

use warp::http::StatusCode;

use crate::atrium::Profile;
use crate::config::{AppId, Config};
use crate::launch::LaunchClaims;
use crate::webhook::Received;

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The apps' pages load the launch script (see `static/launch.js`).
const LAUNCH_SCRIPT: &str = "<script src=\"/static/launch.js\" defer></script>";

/// A whole page; `head` is extra markup for `<head>` (already escaped).
fn layout(title: &str, app: Option<AppId>, head: &str, body: &str) -> String {
    let class = app.map(AppId::path).unwrap_or("");
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><link rel=\"stylesheet\" href=\"/static/style.css\">{head}</head>\
         <body class=\"{class}\">{body}</body></html>",
        esc(title)
    )
}

/// The header of an app's card: its initial, name and method.
fn app_header(app: AppId, title: &str) -> String {
    let method = match app {
        AppId::App1 => "TOKEN method",
        AppId::App2 => "CODE method",
    };
    format!(
        "<header class=\"app\"><div class=\"logo\" aria-hidden=\"true\">{n}</div><div>\
         <span class=\"badge\">{label} · {method}</span><h1>{title}</h1></div></header>",
        n = &app.label()[3..],
        label = app.label(),
        title = esc(title),
    )
}

fn card(app: AppId, title: &str, inner: &str) -> String {
    format!(
        "<main><section class=\"card\">{}{inner}</section></main>",
        app_header(app, title)
    )
}

/// The user's data as a definition list.
fn profile_list(p: &Profile) -> String {
    let mut rows = vec![
        ("Username", p.username.clone()),
        ("Name", p.display_name.clone()),
    ];
    if let Some(e) = &p.email {
        rows.push(("Email", e.clone()));
    }
    if let Some(d) = &p.date_joined {
        rows.push(("Joined", d.clone()));
    }
    if let Some(c) = &p.company {
        rows.push(("Company", format!("{} (#{})", c.name, c.id)));
    }
    let items: String = rows
        .iter()
        .map(|(k, v)| {
            format!(
                "<dt>{k}</dt><dd data-field=\"{}\">{}</dd>",
                k.to_lowercase(),
                esc(v)
            )
        })
        .collect();
    format!("<dl class=\"profile\">{items}</dl>")
}

/// A link back to the dashboard.
fn back_link(deep_link: &str) -> String {
    format!(
        "<a class=\"button\" id=\"back\" href=\"{}\">Return to Atrium</a>",
        esc(deep_link)
    )
}

/// `GET /`: what this program is.
pub fn index(config: &Config, base: &str) -> String {
    let apps: String = AppId::ALL
        .iter()
        .map(|id| {
            let creds = config.app(*id);
            format!(
                "<li><strong>{label}</strong> ({method}), client_id <code>{cid}</code>: \
                 <a href=\"/{path}/\">page</a>, redirect URI <code>{base}/{path}/callback</code></li>",
                label = id.label(),
                method = id.method().to_uppercase(),
                cid = esc(&creds.client_id),
                path = id.path(),
                base = esc(base),
            )
        })
        .collect();
    layout(
        "Atrium sample app",
        None,
        "",
        &format!(
            "<main><section class=\"card\"><h1>Atrium sample app</h1>\
             <p class=\"lead\">A third-party app of the Atrium server at <code>{server}</code>.</p>\
             <ul class=\"plain\">{apps}</ul>\
             <p>Install notifications arrive at <code>{base}/webhook</code>: \
             <a href=\"/webhook/events\">see the events received</a>.</p></section></main>",
            server = esc(&config.server),
            base = esc(base),
        ),
    )
}

/// `GET /app1/callback`: the script reads the token from the fragment and does the rest.
pub fn app1_callback(client_id: &str, issuer: &str) -> String {
    let inner = "<p class=\"lead\" id=\"status\" role=\"status\">Reading your profile with the new access token…</p>\
         <div id=\"result\" hidden><p class=\"notice ok\">App1 is installed. Taking you back to Atrium…</p>\
         <dl class=\"profile\">\
         <dt>Username</dt><dd id=\"p-username\"></dd>\
         <dt>Name</dt><dd id=\"p-name\"></dd>\
         <dt>Email</dt><dd id=\"p-email\"></dd>\
         <dt>Joined</dt><dd id=\"p-joined\"></dd>\
         <dt>Company</dt><dd id=\"p-company\"></dd></dl></div>\
         <p class=\"notice error\" id=\"error\" role=\"alert\" hidden></p>\
         <a class=\"button\" id=\"back\" href=\"atrium://install-complete\" hidden>Return to Atrium</a>\
         <noscript><p class=\"notice error\">App1 needs JavaScript to read the access token \
         that Atrium put in this page's address.</p></noscript>";
    layout(
        "App1 · finishing the install",
        Some(AppId::App1),
        "<script src=\"/app1/static/callback.js\" defer></script>",
        &format!(
            "<main data-client-id=\"{}\" data-issuer=\"{}\" data-whoami=\"/app1/api/whoami\">\
             <section class=\"card\">{}{inner}</section></main>",
            esc(client_id),
            esc(issuer),
            app_header(AppId::App1, "Finishing the install"),
        ),
    )
}

/// Seconds before the callback pages send the user back to Atrium.
pub const RETURN_DELAY_SECS: u32 = 2;

/// App2's callback after a successful exchange: the data, then back to Atrium.
///
/// The return is a `<meta http-equiv="refresh">` to the deep link plus a visible link, rather
/// than a 303: a browser or a webview follows a meta refresh to a custom scheme just like a
/// redirect (the OS or the shell takes the `atrium:` URL), but the user sees what the app did
/// meanwhile, and the link is there when a browser wants a click before opening another
/// program.
pub fn app2_installed(profile: &Profile, deep_link: &str) -> String {
    layout(
        "App2 · installed",
        Some(AppId::App2),
        &format!(
            "<meta http-equiv=\"refresh\" content=\"{RETURN_DELAY_SECS};url={}\">",
            esc(deep_link)
        ),
        &card(
            AppId::App2,
            &format!("Welcome, {}", profile.display_name),
            &format!(
                "<p class=\"notice ok\" role=\"status\">App2 is installed: it exchanged the \
                 authorization code for a token and read your profile. Taking you back to \
                 Atrium…</p>{}{}",
                profile_list(profile),
                back_link(deep_link)
            ),
        ),
    )
}

/// A callback that cannot complete.
pub fn callback_error(app: AppId, title: &str, message: &str, deep_link: Option<&str>) -> String {
    layout(
        &format!("{} · {title}", app.label()),
        Some(app),
        "",
        &card(
            app,
            title,
            &format!(
                "<p class=\"notice error\" role=\"alert\">{}</p>{}",
                esc(message),
                deep_link.map(back_link).unwrap_or_default()
            ),
        ),
    )
}

/// The app page opened without a launch token.
pub fn launch_missing(app: AppId) -> String {
    layout(
        app.label(),
        Some(app),
        LAUNCH_SCRIPT,
        &card(
            app,
            "Open this app from Atrium",
            &format!(
                "<p class=\"lead\">{} runs inside the Atrium dashboard. Open it from your \
                 installed apps there: Atrium tells it who you are and which company it works \
                 for.</p>",
                app.label()
            ),
        ),
    )
}

/// The app page opened with a launch token that does not check out.
pub fn launch_refused(app: AppId, reason: &str) -> String {
    layout(
        app.label(),
        Some(app),
        LAUNCH_SCRIPT,
        &card(
            app,
            "Open this app from Atrium",
            &format!(
                "<p class=\"notice error\" role=\"alert\">This launch link is not valid: {}.</p>\
                 <p class=\"lead\">Open {} again from your installed apps in Atrium.</p>",
                esc(reason),
                app.label()
            ),
        ),
    )
}

/// The launch token could not be checked (the server's keys are out of reach).
pub fn launch_unavailable(app: AppId, reason: &str) -> String {
    layout(
        app.label(),
        Some(app),
        "",
        &card(
            app,
            "Atrium cannot be reached",
            &format!(
                "<p class=\"notice error\" role=\"alert\">{} cannot check this launch right \
                 now: {}.</p><p class=\"lead\">Try again in a moment.</p>",
                app.label(),
                esc(reason)
            ),
        ),
    )
}

/// What the app knows from its stored token, for the launched page.
pub enum Stored {
    /// Read just now with the stored token.
    Data { profile: Profile, scope: String },
    /// No token for this install (for instance, the sample app restarted since).
    None,
    /// A token was kept, but reading with it failed.
    Failed(String),
}

/// The app page, launched by a valid token; `head` is extra `<head>` markup (the probe, in
/// probe mode, or App2's sign-in redirect) and `signin` App2's OpenID Connect section
/// markup (already escaped, see [`crate::signin::section`]), shown beside what the app read
/// from the API.
pub fn launched(
    app: AppId,
    claims: &LaunchClaims,
    stored: &Stored,
    head: &str,
    signin: &str,
) -> String {
    let stored = match stored {
        Stored::Data { profile, scope } => format!(
            "<h2>What {} read with its token</h2>{}<p class=\"muted\">Scopes: <code>{}</code></p>",
            app.label(),
            profile_list(profile),
            esc(scope)
        ),
        Stored::None => format!(
            "<h2>No token yet</h2><p class=\"lead\">{} holds no access token for this install \
             (it keeps them in memory only). Uninstall and install it again from Atrium to give \
             it one.</p>",
            app.label()
        ),
        Stored::Failed(reason) => format!(
            "<h2>Token not usable</h2><p class=\"notice error\">{}</p>",
            esc(reason)
        ),
    };
    layout(
        app.label(),
        Some(app),
        &format!("{LAUNCH_SCRIPT}{}{head}", crate::bridge::BRIDGE_SCRIPT),
        &card(
            app,
            &format!("Hello, {}", claims.username),
            &format!(
                "<p class=\"lead\">{label} is running for <strong>{user}</strong> in \
                 <strong>{company}</strong>.</p>\
                 <dl class=\"launch\"><dt>User</dt><dd data-field=\"launch-user\">{user} (#{sub})</dd>\
                 <dt>Company</dt><dd data-field=\"launch-company\">{company} (#{cid})</dd>\
                 <dt>Install</dt><dd>#{install}</dd>\
                 <dt>Launch valid until</dt><dd>{exp}</dd></dl>{stored}{signin}{bridge}",
                label = app.label(),
                user = esc(&claims.username),
                sub = esc(&claims.sub),
                company = esc(&claims.company_name),
                cid = claims.company,
                install = claims.install,
                exp = rfc3339(claims.exp),
                bridge = crate::bridge::section(),
            ),
        ),
    )
}

/// `GET /webhook/events`: the notifications received, newest first.
pub fn events(events: &[Received]) -> String {
    let rows: String = if events.is_empty() {
        "<tr><td colspan=\"7\" class=\"muted\">No notification received yet.</td></tr>".into()
    } else {
        events
            .iter()
            .map(|r| {
                let e = &r.event;
                let class = match e.kind.as_str() {
                    "app.installed" => "type-installed",
                    "app.uninstalled" => "type-uninstalled",
                    _ => "",
                };
                format!(
                    "<tr><td class=\"nowrap\">{received}</td><td class=\"nowrap {class}\">{kind}</td><td class=\"nowrap\"><code>{app}</code></td>\
                     <td>{company} (#{cid})</td><td>{user}</td><td>#{install}<br><code>{scopes}</code></td>\
                     <td><code>{id}</code></td></tr>",
                    received = rfc3339(r.received_at),
                    kind = esc(&e.kind),
                    app = esc(&e.app.client_id),
                    company = esc(&e.company.name),
                    cid = e.company.id,
                    user = esc(e.user.as_ref().map(|u| u.username.as_str()).unwrap_or("—")),
                    install = e.install_id,
                    scopes = esc(&e.scopes),
                    id = esc(&e.id),
                )
            })
            .collect()
    };
    layout(
        "Webhook events",
        None,
        "<meta http-equiv=\"refresh\" content=\"5\">",
        &format!(
            "<main class=\"wide\"><section class=\"card\"><h1>Install notifications</h1>\
             <p class=\"lead\">Signed webhooks received at <code>/webhook</code>, newest first \
             (this page reloads every 5 seconds; <a href=\"/webhook/events.json\">JSON</a>).</p>\
             <table><thead><tr><th>Received</th><th>Event</th><th>App</th><th>Company</th>\
             <th>By</th><th>Install</th><th>Id</th></tr></thead><tbody>{rows}</tbody></table>\
             </section></main>"
        ),
    )
}

/// An error page for requests no route takes.
pub fn problem(status: StatusCode, message: &str) -> String {
    let title = status.canonical_reason().unwrap_or("Error");
    layout(
        title,
        None,
        "",
        &format!(
            "<main><section class=\"card\"><h1>{} {}</h1><p class=\"lead\">{}</p>\
             <p><a href=\"/\">The sample app's home</a></p></section></main>",
            status.as_u16(),
            esc(title),
            esc(message)
        ),
    )
}

/// Unix seconds as an RFC 3339 UTC timestamp (days-from-civil, proleptic Gregorian).
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn timestamps_read_as_utc_dates() {
        assert_eq!(rfc3339(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(rfc3339(951_782_400), "2000-02-29 00:00:00 UTC");
    }

    #[test]
    fn the_code_callback_page_returns_to_atrium_by_meta_refresh_and_link() {
        let p = Profile {
            username: "demo".into(),
            display_name: "Demo <User>".into(),
            email: None,
            date_joined: None,
            company: None,
        };
        let page = app2_installed(&p, "atrium://install-complete?app=demo-app2&state=a\"b");
        assert!(page.contains(
            "content=\"2;url=atrium://install-complete?app=demo-app2&amp;state=a&quot;b\""
        ));
        assert!(
            page.contains("href=\"atrium://install-complete?app=demo-app2&amp;state=a&quot;b\"")
        );
        assert!(page.contains("Demo &lt;User&gt;"));
    }
}
