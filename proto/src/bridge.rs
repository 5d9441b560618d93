//! The app bridge: the calls an open app's page makes to the desktop that shows it, and the
//! desktop's replies. Version [`VERSION`].
//!
//! The desktop injects [`SCRIPT`] (a few KB of plain JavaScript, no build step) into the top
//! document of each app's webview; it defines `window.atrium` with exactly five calls, each a
//! Promise: `ready()`, `setBadge(n)`, `notify(title, body, path)`, `getSessionToken()` and
//! `openExternal(url)` (see the script's header for what each answers). A call travels as one
//! JSON [`Request`] (at most [`MAX_MESSAGE_CHARS`] characters) through the webview's message
//! channel (`window.webkit.messageHandlers.atrium`); the desktop answers with a [`Reply`],
//! as JSON text, through the promise that channel's `postMessage` returns.
//!
//! Injected rather than included by the app: the desktop then knows the script the page runs
//! (same version as itself) and can give it a secret key per webview ([`Request::key`]), which
//! is what lets the desktop tell the script's calls from anything else in the webview (the raw
//! channel is visible to every script there and cannot be removed); an app needs no file and
//! no build step, only `window.atrium`.

use serde::{Deserialize, Serialize};

/// The bridge's version: the `v` of every request, and what `ready()` answers.
pub const VERSION: u32 = 1;
/// The largest request the desktop reads, in bytes. The script refuses (`too_large`) a
/// request over [`MAX_MESSAGE_CHARS`] UTF-16 units, which is at most 12 KiB of UTF-8.
pub const MAX_MESSAGE: usize = 16 * 1024;
/// The longest request the script sends, in UTF-16 units (what JavaScript's `length` counts):
/// room for the longest title, body and path.
pub const MAX_MESSAGE_CHARS: usize = 4096;
/// The longest URL `openExternal` takes, in bytes.
pub const MAX_URL: usize = 2048;
/// The script, with [`KEY_PLACEHOLDER`] where the webview's key goes ([`script`]).
pub const SCRIPT: &str = include_str!("bridge.js");
/// What [`script`] replaces with the key.
pub const KEY_PLACEHOLDER: &str = "__ATRIUM_BRIDGE_KEY__";

/// The script for a webview whose key is `key` (letters, digits, `-` and `_` only; anything
/// else is left out, so the key can never break out of its string literal).
pub fn script(key: &str) -> String {
    let safe: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    SCRIPT.replace(KEY_PLACEHOLDER, &safe)
}

/// One call from the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// The webview's secret key, known only to the injected script.
    pub key: String,
    /// The bridge version the script speaks ([`VERSION`]).
    pub v: u32,
    /// Chosen by the page; the reply carries it back.
    pub id: u32,
    /// The install the page believes it runs as: the call is refused if its webview belongs
    /// to another.
    #[serde(default)]
    pub install: Option<i64>,
    /// Whether the script saw a user gesture just before the call (trusted click or key, and
    /// WebKit's transient activation where it has it). Only `openExternal` needs it.
    #[serde(default)]
    pub gesture: bool,
    pub call: Call,
}

/// The calls, by `method`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "camelCase", deny_unknown_fields)]
pub enum Call {
    /// The page is up: answers [`Answer::Ready`].
    // Struct variants, even when empty: a unit variant would take any extra field.
    Ready {},
    /// The app's badge for the signed-in user.
    SetBadge { count: u32 },
    /// A notification to the signed-in user; `path` is where in the app a click leads.
    Notify {
        title: String,
        #[serde(default)]
        body: String,
        #[serde(default)]
        path: Option<String>,
    },
    /// A fresh launch token (JWT, 60 s, one `jti`) for the app's own backend to verify.
    GetSessionToken {},
    /// Opens an http(s) URL in the system browser; needs a user gesture.
    OpenExternal { url: String },
}

impl Call {
    /// The method's name, as the page calls it.
    pub fn method(&self) -> &'static str {
        match self {
            Call::Ready {} => "ready",
            Call::SetBadge { .. } => "setBadge",
            Call::Notify { .. } => "notify",
            Call::GetSessionToken {} => "getSessionToken",
            Call::OpenExternal { .. } => "openExternal",
        }
    }
}

/// The desktop's answer to the request `id`: `result` when `ok`, else `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    pub id: u32,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Answer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Refusal>,
}

impl Reply {
    pub fn answer(id: u32, result: Result<Answer, Refusal>) -> Reply {
        match result {
            Ok(answer) => Reply {
                id,
                ok: true,
                result: Some(answer),
                error: None,
            },
            Err(refusal) => Reply {
                id,
                ok: false,
                result: None,
                error: Some(refusal),
            },
        }
    }
}

/// What a call answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// `ready()`: the bridge's version and the webview's install.
    Ready { version: u32, install: i64 },
    /// `setBadge(n)`: the count as set.
    Badge { count: u32 },
    /// `notify(...)`: the stored notification's id.
    Notified { id: i64 },
    /// `getSessionToken()`: the token and when it expires (Unix seconds).
    SessionToken { token: String, expires_at: i64 },
    /// `openExternal(url)`: opened.
    Opened {},
}

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub code: RefusalCode,
    /// For the app's developer.
    pub message: String,
}

impl Refusal {
    pub fn new(code: RefusalCode, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

/// The kinds of refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// The page is not at the app's origin.
    Refused,
    /// The call names another install than its webview's.
    WrongInstall,
    /// `openExternal` outside a user gesture.
    NoGesture,
    /// The arguments are out of bounds (the message says which).
    Invalid,
    /// The request is over [`MAX_MESSAGE_CHARS`] (refused by the script itself).
    TooLarge,
    /// Too many calls (the webview's, or the install's notifications an hour).
    RateLimited,
    /// The server could not be reached or refused (signed out, uninstalled, not allowed).
    Unavailable,
    /// Another bridge version.
    Unsupported,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_typed_calls_and_anything_else_is_refused() {
        let r: Request = serde_json::from_str(
            r#"{"key":"k","v":1,"id":3,"install":null,"gesture":false,
                "call":{"method":"notify","title":"Hi","body":"","path":null}}"#,
        )
        .unwrap();
        assert_eq!(
            r.call,
            Call::Notify {
                title: "Hi".into(),
                body: String::new(),
                path: None
            }
        );
        for bad in [
            r#"{"key":"k","v":1,"id":3,"call":{"method":"invoke","cmd":"sign_out"}}"#,
            r#"{"key":"k","v":1,"id":3,"call":{"method":"ready","extra":1}}"#,
            r#"{"key":"k","v":1,"id":3,"call":{"method":"setBadge","count":-1}}"#,
            r#"{"key":"k","v":1,"id":3,"cmd":"x","call":{"method":"ready"}}"#,
            r#"{"v":1,"id":3,"call":{"method":"ready"}}"#,
        ] {
            assert!(serde_json::from_str::<Request>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn replies_carry_the_id_and_a_result_or_a_coded_refusal() {
        let ok = Reply::answer(
            7,
            Ok(Answer::SessionToken {
                token: "t".into(),
                expires_at: 9,
            }),
        );
        assert_eq!(
            serde_json::to_value(&ok).unwrap(),
            serde_json::json!({"id": 7, "ok": true, "result": {"token": "t", "expires_at": 9}})
        );
        let no = Reply::answer(8, Err(Refusal::new(RefusalCode::WrongInstall, "no")));
        assert_eq!(
            serde_json::to_value(&no).unwrap(),
            serde_json::json!({"id": 8, "ok": false, "error": {"code": "wrong_install", "message": "no"}})
        );
    }

    #[test]
    fn the_script_gets_the_key_and_nothing_that_breaks_its_string() {
        let s = script("abc-_1\"+alert(1)+\"");
        assert!(s.contains("const KEY = \"abc-_1alert1\";"), "{s}");
        assert!(!s.contains(KEY_PLACEHOLDER));
        assert!(
            SCRIPT.len() < 8 * 1024,
            "the script is {} bytes",
            SCRIPT.len()
        );
        assert!(SCRIPT.contains(&format!("message.length > {MAX_MESSAGE_CHARS}")));
        let max = crate::inbox::MAX_BADGE;
        assert!(
            SCRIPT.contains(&format!("count <= {max}")),
            "the script's badge bound"
        );
        assert!(
            SCRIPT.contains(&format!("from 0 to {max}")),
            "the script's badge message"
        );
    }
}
