//! The answers many operations share, as named responses (`#/components/responses/...`):
//! what `routes::handle_rejection` answers to a request warp refuses, what the health reserve
//! answers past the connection cap, and the dashboard's token and visibility errors.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::{Content, Ref, RefOr, Response, ResponseBuilder};
use utoipa::ToResponse;

/// A response whose body is the `Error` schema.
fn error(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        Content::new(Some(Ref::from_schema_name("Error"))),
    )
}

/// Declares unit types that name a shared response, with its description.
macro_rules! responses {
    ($($name:ident => $description:literal;)+) => {
        $(
            pub struct $name;

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    (stringify!($name), error($description).build().into())
                }
            }
        )+
    };
}

responses! {
    Malformed => "Malformed request: a header, query or body the server cannot read, or more than one Authorization header";
    MethodNotAllowed => "The path exists but does not take this method";
    LengthRequired => "A body was sent without Content-Length (chunked bodies are not accepted)";
    PayloadTooLarge => "The body is larger than the server accepts (16 KiB for forms, 64 KiB for JSON)";
    UnsupportedMediaType => "The body is not declared as Content-Type: application/json";
    BadPage => "limit out of range, a cursor that was not given by the server, or a malformed request";
    Unauthorized => "Missing, unknown or expired token";
    Forbidden => "Not a dashboard token, or not allowed (e.g. not an owner)";
    NotFound => "Not found, or not visible to this user";
    QuotaExceeded => "Not a dashboard token, not allowed, or the per-user quota is reached (error quota_exceeded; the description says the limit)";
    InvalidBody => "Invalid request, e.g. a field over its length limit or a name with control characters; the description names the field and the limit";
}

/// 503 from the health reserve, with `Retry-After`.
pub struct Unavailable;

impl<'r> ToResponse<'r> for Unavailable {
    fn response() -> (&'r str, RefOr<Response>) {
        let retry_after = HeaderBuilder::new()
            .schema(<i64 as utoipa::PartialSchema>::schema())
            .description(Some("Seconds to wait before trying again"))
            .build();
        let response = error(
            "The server is at its connection limit (a connection in the health reserve); retry after the seconds in Retry-After",
        )
        .header("Retry-After", retry_after)
        .build();
        ("Unavailable", response.into())
    }
}

/// 429 from a rate (an install's notifications), with `Retry-After`.
pub struct RateLimited;

impl<'r> ToResponse<'r> for RateLimited {
    fn response() -> (&'r str, RefOr<Response>) {
        let retry_after = HeaderBuilder::new()
            .schema(<i64 as utoipa::PartialSchema>::schema())
            .description(Some("Seconds until the install may post again"))
            .build();
        let response = error(
            "The install has posted as many notifications as it may in the last hour (error rate_limited); nothing was stored",
        )
        .header("Retry-After", retry_after)
        .build();
        ("RateLimited", response.into())
    }
}
