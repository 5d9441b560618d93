//! Building responses: JSON, OAuth errors, HTML pages with their security headers, redirects.

use serde::Serialize;
use warp::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use warp::http::{Response, StatusCode};
use warp::Reply;

use crate::oauth::OAuthError;

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

/// An OAuth error from the token, revocation or introspection endpoint (RFC 6749 §5.2).
pub fn oauth_error(err: &OAuthError, used_basic: bool) -> Resp {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut r = no_store(json(status, err));
    if status == StatusCode::UNAUTHORIZED {
        let challenge = if used_basic {
            "Basic realm=\"atrium\""
        } else {
            "Basic realm=\"atrium\", error=\"invalid_client\""
        };
        r.headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    }
    r
}

/// A bearer-token failure of the resource API (RFC 6750 §3).
pub fn bearer_error(
    status: StatusCode,
    error: Option<&str>,
    description: &str,
    scope: Option<&str>,
) -> Resp {
    let mut challenge = String::from("Bearer realm=\"atrium\"");
    if let Some(e) = error {
        challenge.push_str(&format!(
            ", error=\"{e}\", error_description=\"{description}\""
        ));
    }
    if let Some(s) = scope {
        challenge.push_str(&format!(", scope=\"{s}\""));
    }
    let body = serde_json::json!({
        "error": error.unwrap_or("invalid_token"),
        "error_description": description,
    });
    let mut r = json(status, &body);
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        r.headers_mut().insert(WWW_AUTHENTICATE, v);
    }
    r
}

/// A JSON error that is not an OAuth one (`not_found`, `forbidden`, ...).
pub fn api_error(status: StatusCode, error: &str, description: &str) -> Resp {
    json(
        status,
        &serde_json::json!({ "error": error, "error_description": description }),
    )
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
