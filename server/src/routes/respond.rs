//! Building responses: JSON, HTML pages with their security headers, redirects.

use serde::Serialize;
use warp::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use warp::http::{Response, StatusCode};
use warp::Reply;

use super::error::ApiError;

pub type Resp = warp::reply::Response;

fn response(status: StatusCode, content_type: &'static str, body: impl Into<Vec<u8>>) -> Resp {
    let mut r = Response::new(body.into()).into_response();
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A JSON body.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Resp {
    match serde_json::to_vec(body) {
        Ok(bytes) => response(status, "application/json", bytes),
        Err(_) => response(StatusCode::INTERNAL_SERVER_ERROR, "application/json", "{}"),
    }
}

/// Marks a response as not cacheable (every response carrying a token or secret, RFC 6749 §5.1).
pub fn no_store(mut r: Resp) -> Resp {
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut()
        .insert("pragma", HeaderValue::from_static("no-cache"));
    r
}

/// A JSON error that is not an OAuth one (`not_found`, `forbidden`, ...), rendered by
/// [`ApiError`] (for callers outside the handlers, such as the connection layer).
pub fn api_error(status: StatusCode, error: &str, description: &str) -> Resp {
    ApiError::refused(status, error.to_string(), description.to_string()).into_response()
}

/// An HTML page of the authorization server: never framed (RFC 9700 §4.16), never cached, and
/// it sends no Referer that could carry a code onwards.
pub fn html(status: StatusCode, body: String) -> Resp {
    let mut r = response(status, "text/html; charset=utf-8", body);
    let h = r.headers_mut();
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    no_store(r)
}

/// The form-post response page ([`super::html::form_post`]): an HTML page like [`html`]'s,
/// whose policy allows exactly its one inline script (by hash) and a form sent to the redirect
/// URI's origin, and nothing else.
pub fn form_post(action: &url::Url, fields: &[(&str, String)]) -> Resp {
    use base64::Engine;
    use sha2::Digest;
    static SCRIPT_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(
            super::html::FORM_POST_SCRIPT.as_bytes(),
        ))
    });
    let target = match action.scheme() {
        "http" | "https" => action.origin().ascii_serialization(),
        // A private-use scheme of a native app (RFC 8252 §7.1).
        other => format!("{other}:"),
    };
    let mut r = html(
        StatusCode::OK,
        super::html::form_post(action.as_str(), fields),
    );
    let policy = format!(
        "default-src 'none'; script-src 'sha256-{}'; style-src 'unsafe-inline'; form-action {target}; frame-ancestors 'none'; base-uri 'none'",
        *SCRIPT_HASH
    );
    if let Ok(v) = HeaderValue::from_str(&policy) {
        r.headers_mut().insert("content-security-policy", v);
    }
    r
}

/// `303 See Other` to `location` (RFC 9700 §4.12: never 307 after a form post).
pub fn see_other(location: &str) -> Resp {
    let mut r = response(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", "");
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(LOCATION, v);
    }
    r.headers_mut()
        .insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    no_store(r)
}

/// Adds a `Set-Cookie` header.
pub fn with_cookie(mut r: Resp, cookie: &str) -> Resp {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        r.headers_mut().append(warp::http::header::SET_COOKIE, v);
    }
    r
}
