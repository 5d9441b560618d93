//! The `oauth2` crate's HTTP transport, over reqwest. The crate is used without its own
//! reqwest feature (which pins an older reqwest); this is the whole contract it needs.

use std::future::Future;

/// A transport failure, as the `oauth2` crate wants it: an `Error`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(String);

/// Sends one request of the `oauth2` crate with `http` and returns the raw answer.
///
/// `http` must not follow redirects: a token endpoint that redirects is misconfigured, and
/// following it would send the client's credentials elsewhere.
pub fn with_client(
    http: reqwest::Client,
) -> impl Fn(
    oauth2::HttpRequest,
) -> std::pin::Pin<
    Box<dyn Future<Output = Result<oauth2::HttpResponse, TransportError>> + Send>,
> {
    move |req| {
        let http = http.clone();
        Box::pin(async move { send(&http, req).await })
    }
}

async fn send(
    http: &reqwest::Client,
    req: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, TransportError> {
    let err = |e: reqwest::Error| TransportError(e.to_string());
    let (parts, body) = req.into_parts();
    let res = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .map_err(err)?;
    let mut builder = oauth2::http::Response::builder().status(res.status());
    for (k, v) in res.headers() {
        builder = builder.header(k, v);
    }
    let bytes = res.bytes().await.map_err(err)?;
    builder
        .body(bytes.to_vec())
        .map_err(|e| TransportError(e.to_string()))
}
