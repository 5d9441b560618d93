//! Building responses: HTML pages with their security headers, JSON, static files, and the
//! answer to requests no route takes.

use std::convert::Infallible;

use serde::Serialize;
use warp::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use warp::http::{Response, StatusCode};
use warp::{Rejection, Reply};

pub type Resp = warp::reply::Response;

/// Scripts and styles come only from this origin (no inline script), nothing else is loaded,
/// and no other page may frame these (`frame-ancestors 'none'`, with `X-Frame-Options: DENY`
/// for older engines), as most web apps guard against clickjacking. Atrium opens each app as
/// the top-level document of a webview of its own, so the apps' pages work inside it all the
/// same.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                       connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
                       form-action 'self'; frame-ancestors 'none'";

fn response(status: StatusCode, content_type: &'static str, body: impl Into<Vec<u8>>) -> Resp {
    let mut r = Response::new(body.into()).into_response();
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// An HTML page. Pages may carry tokens in their URL (launch tokens) or show user data, so
/// they are not cached and send no Referer onwards; no other page may frame them.
pub fn html(status: StatusCode, body: String) -> Resp {
    let mut r = response(status, "text/html; charset=utf-8", body);
    let h = r.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A JSON body, not cached.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Resp {
    let mut r = match serde_json::to_vec(body) {
        Ok(bytes) => response(status, "application/json", bytes),
        Err(_) => response(StatusCode::INTERNAL_SERVER_ERROR, "application/json", "{}"),
    };
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A JSON error: `{"error": code, "message": text}`.
pub fn json_error(status: StatusCode, error: &str, message: &str) -> Resp {
    json(
        status,
        &serde_json::json!({ "error": error, "message": message }),
    )
}

/// A file compiled into the binary.
pub fn asset(content_type: &'static str, body: &'static str) -> Resp {
    let mut r = response(StatusCode::OK, content_type, body);
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// Turns whatever no route took into a readable answer.
pub async fn recover(err: Rejection) -> Result<Resp, Infallible> {
    let (status, message) = if err.is_not_found() {
        (StatusCode::NOT_FOUND, "There is no page at this address.")
    } else if err.find::<warp::reject::MethodNotAllowed>().is_some() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "This address does not take this method.",
        )
    } else if err.find::<warp::reject::PayloadTooLarge>().is_some()
        || err.find::<BodyTooLarge>().is_some()
    {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "The request body is too large.",
        )
    } else if err.find::<warp::reject::InvalidQuery>().is_some() {
        (StatusCode::BAD_REQUEST, "The query string is malformed.")
    } else if err.find::<warp::reject::LengthRequired>().is_some() {
        (
            StatusCode::LENGTH_REQUIRED,
            "The request needs a Content-Length.",
        )
    } else {
        tracing::debug!(?err, "unhandled rejection");
        (StatusCode::BAD_REQUEST, "The request is malformed.")
    };
    Ok(html(status, crate::pages::problem(status, message)))
}

/// A request's query string, decoded; the first of repeated names wins.
#[derive(Debug, Default, Clone)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(raw: &str) -> Query {
        Query(
            url::form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The query string of a request (empty when there is none).
pub fn query() -> impl warp::Filter<Extract = (Query,), Error = Infallible> + Clone {
    use warp::Filter;
    warp::query::raw()
        .or(warp::any().map(String::new))
        .unify()
        .map(|raw: String| Query::parse(&raw))
}

/// A body larger than the route takes.
#[derive(Debug)]
struct BodyTooLarge;
impl warp::reject::Reject for BodyTooLarge {}

/// A request body of at most `limit` bytes, possibly empty (no Content-Length and no
/// Transfer-Encoding), unlike `warp::body::content_length_limit`, which insists on a length.
/// A chunked body without a length is refused: it cannot be bounded before it is read.
pub fn body_up_to(
    limit: u64,
) -> impl warp::Filter<Extract = (warp::hyper::body::Bytes,), Error = Rejection> + Clone {
    use warp::Filter;
    warp::header::optional::<u64>("content-length")
        .and(warp::header::optional::<String>("transfer-encoding"))
        .and_then(
            move |length: Option<u64>, chunked: Option<String>| async move {
                match (length, chunked) {
                    (Some(n), _) if n > limit => Err(warp::reject::custom(BodyTooLarge)),
                    (None, Some(_)) => Err(warp::reject::custom(BodyTooLarge)),
                    _ => Ok(()),
                }
            },
        )
        .untuple_one()
        .and(warp::body::bytes())
}
