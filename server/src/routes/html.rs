//! The server's HTML: login, consent and error pages. Plain forms with labelled fields, no
//! JavaScript; every value is escaped.

use crate::domain::scope::ScopeSet;
use crate::store::{Client, Membership, User};

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

const STYLE: &str = "
body{margin:0;font:15px/1.5 system-ui,'Noto Sans','DejaVu Sans',sans-serif;background:#f4f5f8;color:#1d2430}
main{max-width:440px;margin:8vh auto;padding:28px 32px;background:#fff;border:1px solid #dde1e8;border-radius:12px}
h1{font-size:21px;margin:0 0 6px}p.lead{color:#5d6675;margin:0 0 20px}
label{display:block;font-weight:600;margin:14px 0 4px}
input[type=text],input[type=password],select{width:100%;box-sizing:border-box;padding:9px 10px;border:1px solid #c9ced8;border-radius:7px;font:inherit}
.actions{display:flex;gap:10px;margin-top:22px}
button{flex:1;padding:10px;border-radius:7px;border:1px solid #3c5ccf;font:inherit;font-weight:600;cursor:pointer}
button.primary{background:#3c5ccf;color:#fff}button.secondary{background:#fff;color:#3c5ccf}
fieldset.companies{border:1px solid #c9ced8;border-radius:7px;margin:14px 0 0;padding:8px 12px}
fieldset.companies legend{font-weight:600;padding:0 4px}
label.choice{font-weight:400;margin:6px 0;cursor:pointer}
ul.scopes{padding-left:20px}ul.scopes li{margin:6px 0}
.error{background:#fdecec;color:#a32020;padding:10px 12px;border-radius:7px}
.muted{color:#5d6675;font-size:13px}
@media (prefers-color-scheme:dark){body{background:#15181e;color:#e7eaf0}main{background:#1d2129;border-color:#2c323d}
input[type=text],input[type=password],select{background:#15181e;color:#e7eaf0;border-color:#2c323d}p.lead,.muted{color:#9aa3b2}}
";

/// A whole page.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} · Atrium</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        esc(title)
    )
}

/// The sign-in form. `next` is where to go after signing in (a local path); `username`
/// prefills the username (an app's `login_hint`).
pub fn login(next: &str, csrf: &str, error: Option<&str>, username: Option<String>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    page(
        "Sign in",
        &format!(
            "<h1>Sign in to Atrium</h1><p class=\"lead\">Sign in to continue.</p>{error}\
             <form method=\"post\" action=\"/login\">\
             <input type=\"hidden\" name=\"next\" value=\"{}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <label for=\"username\">Username</label>\
             <input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" value=\"{}\" required autofocus>\
             <label for=\"password\">Password</label>\
             <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
             <div class=\"actions\"><button class=\"primary\" type=\"submit\">Sign in</button></div></form>",
            esc(next),
            esc(csrf),
            esc(username.as_deref().unwrap_or_default())
        ),
    )
}

/// The consent page: who asks, for what, into which company.
pub fn consent(
    client: &Client,
    scopes: &ScopeSet,
    companies: &[Membership],
    hidden: &[(&str, &str)],
    csrf: &str,
    username: &str,
) -> String {
    let developer = client
        .developer
        .as_deref()
        .map(|d| format!(" by <strong>{}</strong>", esc(d)))
        .unwrap_or_default();
    let description = if client.description.is_empty() {
        String::new()
    } else {
        format!("<p>{}</p>", esc(&client.description))
    };
    let permissions: String = if scopes.is_empty() {
        "<li>Nothing beyond knowing that you installed it</li>".into()
    } else {
        scopes
            .iter()
            .map(|s| {
                format!(
                    "<li>{} <span class=\"muted\">({})</span></li>",
                    esc(s.description),
                    esc(s.name)
                )
            })
            .collect()
    };
    let company = match companies {
        [] => String::new(),
        [only] => format!(
            "<p>It will be installed in <strong>{}</strong>.</p>\
             <input type=\"hidden\" name=\"company_id\" value=\"{}\">",
            esc(&only.company.name),
            only.company.id
        ),
        // Several: the user picks one; none is chosen for them, so that a company whose name
        // sorts first cannot catch installs meant for another.
        many => {
            let choices: String = many
                .iter()
                .map(|m| {
                    format!(
                        "<label class=\"choice\"><input type=\"radio\" name=\"company_id\" \
                         value=\"{}\" required> {}</label>",
                        m.company.id,
                        esc(&m.company.name)
                    )
                })
                .collect();
            format!(
                "<fieldset class=\"companies\"><legend>Install in which company?</legend>\
                 {choices}</fieldset>"
            )
        }
    };
    let hidden = hidden_fields(hidden);
    page(
        "Allow access",
        &format!(
            "<h1>Install {name}?</h1><p class=\"lead\">{name}{developer} asks to:</p>{description}\
             <ul class=\"scopes\">{permissions}</ul>\
             <form method=\"post\" action=\"/oauth2/authorize\">{hidden}\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{company}\
             <div class=\"actions\">\
             <button class=\"secondary\" type=\"submit\" name=\"decision\" value=\"deny\" formnovalidate>Cancel</button>\
             <button class=\"primary\" type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
             </div></form><p class=\"muted\">Signed in as {user}.</p>",
            name = esc(&client.name),
            csrf = esc(csrf),
            user = esc(username),
        ),
    )
}

/// The desktop's sign-in page: one click, naming the account that will be signed in.
pub fn continue_as(hidden: &[(&str, &str)], csrf: &str, user: &User, next: &str) -> String {
    page(
        "Continue to Atrium",
        &format!(
            "<h1>Continue as {display} to the Atrium app?</h1>\
             <p class=\"lead\">The Atrium desktop app on this computer asks to sign in as \
             <strong id=\"account\">{username}</strong>. It will see your companies and the apps \
             installed in them.</p>\
             <form method=\"post\" action=\"/oauth2/authorize\">{hidden}\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <div class=\"actions\">\
             <button class=\"secondary\" type=\"submit\" name=\"decision\" value=\"deny\">Cancel</button>\
             <button class=\"primary\" type=\"submit\" name=\"decision\" value=\"allow\">Continue</button>\
             </div></form>\
             <p class=\"muted\">Not {username}? <a href=\"/login?next={next}\">Use another account</a></p>",
            display = esc(&user.display_name),
            username = esc(&user.username),
            hidden = hidden_fields(hidden),
            csrf = esc(csrf),
            next = esc(&url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()),
        ),
    )
}

/// RP-initiated logout's question, when the app's request does not show it is this user's
/// (OpenID Connect RP-Initiated Logout §2).
pub fn confirm_logout(
    app: Option<&str>,
    user: &User,
    hidden: &[(&str, &str)],
    csrf: &str,
) -> String {
    let asker = app.map_or_else(
        || "A site".to_string(),
        |name| format!("<strong>{}</strong>", esc(name)),
    );
    page(
        "Sign out of Atrium?",
        &format!(
            "<h1>Sign out of Atrium?</h1>\
             <p class=\"lead\">{asker} asks to end your Atrium session as \
             <strong id=\"account\">{username}</strong> in this browser.</p>\
             <form method=\"post\" action=\"{action}\">{hidden}\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <div class=\"actions\">\
             <button class=\"secondary\" type=\"submit\" name=\"decision\" value=\"stay\">Stay signed in</button>\
             <button class=\"primary\" type=\"submit\" name=\"decision\" value=\"sign_out\">Sign out</button>\
             </div></form>",
            username = esc(&user.username),
            action = atrium_proto::paths::END_SESSION,
            hidden = hidden_fields(hidden),
            csrf = esc(csrf),
        ),
    )
}

/// The page after RP-initiated logout when the app named no place to return to.
pub fn signed_out(signed_out: bool) -> String {
    let lead = if signed_out {
        "You are signed out of Atrium in this browser."
    } else {
        "You are still signed in to Atrium."
    };
    page(
        "Atrium",
        &format!(
            "<h1>Atrium</h1><p class=\"lead\" id=\"outcome\">{lead}</p>\
             <p class=\"muted\">You can close this page.</p>"
        ),
    )
}

/// The one script of the form-post page: it sends the form at once.
pub const FORM_POST_SCRIPT: &str = "document.forms[0].submit()";

/// OAuth 2.0 Form Post Response Mode: the authorization response as a form the browser POSTs to
/// the client's redirect URI; a button sends it when scripts are off.
pub fn form_post(action: &str, fields: &[(&str, String)]) -> String {
    let hidden: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    page(
        "Returning to the app",
        &format!(
            "<h1>Returning to the app…</h1>\
             <form method=\"post\" action=\"{action}\">{hidden}\
             <noscript><div class=\"actions\"><button class=\"primary\" type=\"submit\">Continue</button></div></noscript>\
             </form><script>{FORM_POST_SCRIPT}</script>",
            action = esc(action),
            hidden = hidden_fields(&hidden),
        ),
    )
}

fn hidden_fields(hidden: &[(&str, &str)]) -> String {
    hidden
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                esc(k),
                esc(v)
            )
        })
        .collect()
}

/// An error page for requests that must not be redirected.
pub fn error(title: &str, message: &str) -> String {
    page(
        title,
        &format!(
            "<h1>{}</h1><p class=\"error\" role=\"alert\">{}</p>",
            esc(title),
            esc(message)
        ),
    )
}

/// The page of a failure on the server's side: what failed, and the id to report, which is
/// also on the operator's log line.
pub fn server_error(message: &str, error_id: &str) -> String {
    page(
        "Server error",
        &format!(
            "<h1>Server error</h1><p class=\"error\" role=\"alert\">{}</p>\
             <p class=\"muted\">If it happens again, tell the operator this error id: \
             <code>{}</code></p>",
            esc(message),
            esc(error_id)
        ),
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
}
