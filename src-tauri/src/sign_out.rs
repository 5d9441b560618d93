//! Signing out of the browser session the desktop signed in with (OpenID Connect
//! RP-Initiated Logout 1.0).
//!
//! Sign-in happens in the system browser, which keeps a session cookie at the server. Signing
//! out of the desktop would leave that session behind (the next person at the browser is
//! still signed in), so the shell also opens the server's `end_session_endpoint` in the
//! browser, where the cookie lives:
//!
//! - `id_token_hint` is the ID token from the sign-in (the desktop asks for `openid` for this
//!   alone, and verifies nothing in it: it is only handed back to the server that issued it).
//!   It names the desktop and the user, so the server ends the session at once. A session
//!   saved before the desktop asked for `openid` has none: it sends `client_id`, and the server
//!   asks the user first;
//! - `post_logout_redirect_uri` is the desktop's registered deep link [`SIGNED_OUT_URI`], with a
//!   random `state`. The link only tells the UI that the browser finished; any local program
//!   can open an `atrium://` link, so one whose `state` is not the pending sign-out's is
//!   ignored, and even a matching one changes nothing but a line of text.

use std::sync::Mutex;

use atrium_proto::paths;
use url::Url;

use crate::error::Error;

/// Where the server sends the browser after it signed out: a deep link into this app,
/// registered for the desktop client by the server's migrations.
pub const SIGNED_OUT_URI: &str = "atrium://signed-out";

/// The sign-out whose browser step is still under way: what its deep link must carry.
#[derive(Default)]
pub struct PendingSignOut(Mutex<Option<String>>);

impl PendingSignOut {
    /// Remembers `state` as the one the deep link must carry (replacing an older one).
    pub fn expect(&self, state: String) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(state);
    }

    /// Forgets the pending sign-out (a new sign-in began: a late link means nothing now).
    pub fn forget(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// Takes the deep link `atrium://signed-out?state=...` as the answer when its `state` is
    /// the pending sign-out's; anything else is refused and leaves the pending one alone.
    pub fn complete(&self, link: &Url) -> bool {
        let state = link
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned());
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take_if(|expected| state.as_deref() == Some(expected.as_str()))
            .is_some()
    }
}

/// The browser's sign-out URL at `server`: with the ID token as the hint when the session has
/// one, else with the desktop's `client_id`. It holds the ID token: open it, never log it.
pub fn end_session_url(
    server: &Url,
    client_id: &str,
    id_token: Option<&str>,
    state: &str,
) -> Result<Url, Error> {
    let mut url = server
        .join(paths::END_SESSION.trim_start_matches('/'))
        .map_err(|e| Error::Internal(e.to_string()))?;
    {
        let mut query = url.query_pairs_mut();
        match id_token {
            Some(token) => query.append_pair("id_token_hint", token),
            None => query.append_pair("client_id", client_id),
        };
        query
            .append_pair("post_logout_redirect_uri", SIGNED_OUT_URI)
            .append_pair("state", state);
    }
    Ok(url)
}

/// The token endpoint's extra field the desktop keeps: the ID token (OpenID Connect Core
/// §3.1.3.3). Its `Debug` hides it.
#[derive(Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl std::fmt::Debug for IdTokenField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdTokenField")
            .field("id_token", &self.id_token.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

impl oauth2::ExtraTokenFields for IdTokenField {}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(state: Option<&str>) -> Url {
        let mut url = Url::parse(SIGNED_OUT_URI).unwrap();
        if let Some(s) = state {
            url.query_pairs_mut().append_pair("state", s);
        }
        url
    }

    #[test]
    fn only_the_pending_sign_outs_state_completes_it_and_only_once() {
        let pending = PendingSignOut::default();
        assert!(!pending.complete(&link(Some("s1"))), "nothing pending");
        pending.expect("s1".into());
        assert!(!pending.complete(&link(Some("forged"))));
        assert!(!pending.complete(&link(None)));
        assert!(pending.complete(&link(Some("s1"))));
        assert!(!pending.complete(&link(Some("s1"))), "used once");
        pending.expect("s2".into());
        pending.forget();
        assert!(!pending.complete(&link(Some("s2"))), "forgotten");
    }

    #[test]
    fn the_sign_out_url_carries_the_hint_or_the_client_and_the_deep_link() {
        let server = Url::parse("https://atrium.example/prefix/").unwrap();
        let url = end_session_url(&server, "atrium-desktop", Some("h.i.nt"), "st").unwrap();
        assert_eq!(
            url.as_str(),
            "https://atrium.example/prefix/oauth2/logout?id_token_hint=h.i.nt\
             &post_logout_redirect_uri=atrium%3A%2F%2Fsigned-out&state=st"
        );
        let url = end_session_url(&server, "atrium-desktop", None, "st").unwrap();
        assert!(url
            .query()
            .unwrap()
            .starts_with("client_id=atrium-desktop&"));
        let hidden = format!(
            "{:?}",
            IdTokenField {
                id_token: Some("h.i.nt".into())
            }
        );
        assert!(!hidden.contains("h.i.nt"), "{hidden}");
    }
}
