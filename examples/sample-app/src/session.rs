//! What every app must do with launch tokens after checking them ([`crate::launch`]): accept
//! each token once, and from then on keep the user's session itself.
//!
//! - [`Launches`] remembers the `jti` of every launch token accepted until the token has
//!   expired (plus the clock leeway), and refuses a `jti` seen before: a token that leaked (a
//!   screenshot, a copied URL, a shared screen) cannot open the app a second time.
//! - [`Sessions`] holds one session per launch, keyed by a random id sent in an `HttpOnly`
//!   cookie scoped to the app's path. A session belongs to one install (user, company), so the
//!   same app opened for two companies, each in its own cookie store, keeps two sessions.
//!
//! Both are in memory and bounded: a full table drops its expired entries, then its oldest.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::config::AppId;
use crate::launch::{LaunchClaims, LEEWAY_SECS};
use crate::signin::SignIn;

/// At most this many `jti`s are remembered. Launch tokens are only minted by the server, for
/// members of a company with the app installed, and live a minute: far fewer in practice.
const MAX_LAUNCHES: usize = 100_000;
/// At most this many sessions are kept.
const MAX_SESSIONS: usize = 10_000;
/// How long a session lasts after its launch.
pub const SESSION_SECS: i64 = 8 * 3600;

/// The `jti`s of the launch tokens accepted, with when each may be forgotten.
#[derive(Default)]
pub struct Launches {
    seen: Mutex<HashMap<String, i64>>,
}

impl Launches {
    /// Records `jti` (of a token valid until `exp`) as used; false when it was used before.
    pub fn accept_once(&self, jti: &str, exp: i64, now: i64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.contains_key(jti) {
            return false;
        }
        if seen.len() >= MAX_LAUNCHES {
            seen.retain(|_, forget_at| *forget_at > now);
        }
        if seen.len() >= MAX_LAUNCHES {
            // Only still-valid tokens are remembered: forgetting one could let it be replayed,
            // so refuse new launches until some expire (a minute at most).
            return false;
        }
        seen.insert(jti.to_string(), exp + LEEWAY_SECS as i64);
        true
    }
}

/// A signed-in user of one app, in one install.
#[derive(Debug, Clone)]
pub struct Session {
    pub app: AppId,
    pub claims: LaunchClaims,
    pub expires_at: i64,
    /// App2's OpenID Connect sign-in for this session ([`crate::signin`]).
    pub signin: SignIn,
}

/// Sessions by id.
#[derive(Default)]
pub struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Starts a session for a launch; answers its id, for the cookie.
    pub fn start(&self, app: AppId, claims: LaunchClaims, now: i64) -> String {
        let id = random_id();
        let mut by_id = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        if by_id.len() >= MAX_SESSIONS {
            by_id.retain(|_, s| s.expires_at > now);
        }
        if by_id.len() >= MAX_SESSIONS {
            if let Some(oldest) = by_id
                .iter()
                .min_by_key(|(_, s)| s.expires_at)
                .map(|(k, _)| k.clone())
            {
                by_id.remove(&oldest);
            }
        }
        by_id.insert(
            id.clone(),
            Session {
                app,
                claims,
                expires_at: now + SESSION_SECS,
                signin: SignIn::default(),
            },
        );
        id
    }

    /// The live session `id` of `app`.
    pub fn get(&self, app: AppId, id: &str, now: i64) -> Option<Session> {
        let by_id = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        by_id
            .get(id)
            .filter(|s| s.app == app && s.expires_at > now)
            .cloned()
    }
}

impl Sessions {
    /// Records where the live session `id` stands with OpenID Connect; false when it is gone.
    pub fn set_signin(&self, id: &str, signin: SignIn, now: i64) -> bool {
        let mut by_id = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        match by_id.get_mut(id).filter(|s| s.expires_at > now) {
            Some(s) => {
                s.signin = signin;
                true
            }
            None => false,
        }
    }
}

/// The name of `app`'s session cookie.
pub fn cookie_name(app: AppId) -> String {
    format!("{}_session", app.path())
}

/// The `Set-Cookie` value for a new session: only for this app's path, never readable by
/// scripts, sent on top-level navigations from elsewhere but not on cross-site subrequests,
/// and `Secure` when the app is served over https.
pub fn set_cookie(app: AppId, id: &str, secure: bool) -> String {
    format!(
        "{}={id}; Path=/{}/; Max-Age={SESSION_SECS}; HttpOnly; SameSite=Lax{}",
        cookie_name(app),
        app.path(),
        if secure { "; Secure" } else { "" }
    )
}

/// The session id in a `Cookie` header, for `app`.
pub fn from_cookie_header(app: AppId, header: Option<&str>) -> Option<String> {
    let name = cookie_name(app);
    header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// 128 random bits, hex.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    // The OS random source failing is not something a request can cause or survive.
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jti_is_accepted_once() {
        let launches = Launches::default();
        assert!(launches.accept_once("a", 100, 50));
        assert!(!launches.accept_once("a", 100, 60));
        assert!(launches.accept_once("b", 100, 60));
    }

    #[test]
    fn the_session_cookie_is_read_back_among_others() {
        let header = "other=1; app1_session=abc; app2_session=def";
        assert_eq!(
            from_cookie_header(AppId::App1, Some(header)).as_deref(),
            Some("abc")
        );
        assert_eq!(
            from_cookie_header(AppId::App2, Some(header)).as_deref(),
            Some("def")
        );
        assert_eq!(from_cookie_header(AppId::App1, Some("x=y")), None);
        assert!(set_cookie(AppId::App1, "abc", false).contains("HttpOnly"));
    }
}
