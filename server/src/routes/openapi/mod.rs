//! `GET /openapi.json`: the OpenAPI 3.1 description of every JSON operation, generated from
//! the code with `utoipa` and built once, on first request.
//!
//! - the paths are `atrium_proto::paths`' constants, the same the routes match (checked when
//!   the server compiles) and the shell and the test kit call;
//! - the bodies of the first-party API are `atrium_proto`'s wire types, which derive their
//!   schemas (its `openapi` feature); the few bodies without a wire type are in [`schemas`];
//! - each operation (parameters, body, every status with its error shape, security) is one
//!   `#[utoipa::path]` function in the module of its resource, listed in [`ApiDoc`];
//! - `tests/api/openapi.rs` checks that the routed operations are exactly the documented ones.
//!
//! Why utoipa (v5): it is the maintained, widely used OpenAPI generator for Rust; it derives
//! schemas from the serde types themselves (renames, optional fields, enums' wire words), so a
//! changed wire type changes the document; and it needs no web framework (its router
//! integrations are optional, and warp has none, so the operations are declared on functions
//! of their own rather than on the handlers, whose signatures say nothing of their bodies).
//! The alternatives: `aide` is built around axum's router, `okapi` around rocket's, and
//! `oasgen` is little used; writing the JSON by hand is what this replaced (3,911 lines that
//! drifted from the code). Its cost is compile time only: the document is built once.

mod dashboard;
mod developer;
mod inbox;
mod invitations;
mod meta;
mod oauth;
mod resource;
pub mod responses;
pub mod schemas;

use std::sync::LazyLock;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::ServerBuilder;
use utoipa::{Modify, OpenApi};

/// What each operation module needs.
mod prelude {
    pub use super::responses::*;
    pub use super::schemas::*;
    pub use atrium_proto::dashboard::*;
    pub use atrium_proto::paths;
    pub use atrium_proto::Health;

    pub use crate::oauth::grants::TokenResponse;
    pub use crate::oauth::introspect::Introspection;
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Atrium server",
        description = "The Atrium platform: OAuth 2.0 authorization server and resource API. HTML pages (/login, /logout, /oauth2/authorize, /oauth2/logout) are not listed; they use the session cookie and a CSRF form field (security schemes `session` and `csrf`). Install notifications are POSTed to an app's webhook_url as JSON {id, type: app.installed|app.uninstalled, created_at, app{client_id}, company{id,name}, user{username}, install_id, scopes}, signed with `Atrium-Signature: t=<unix>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" with the app's webhook secret>`. Errors are JSON {error, error_description} (schemas Error and OAuthError). Any operation may answer 500 {error: server_error}: the response then carries an `X-Error-Id` header, a correlation id that the server also writes in its log line for that failure (quote it when reporting a problem).",
    ),
    paths(
        meta::health,
        meta::readiness,
        meta::metadata,
        meta::openid_configuration,
        meta::jwks,
        meta::openapi,
        oauth::token,
        oauth::revoke,
        oauth::introspect,
        oauth::userinfo,
        oauth::userinfo_post,
        oauth::register_client,
        resource::username,
        resource::me,
        resource::company,
        resource::company_members,
        inbox::post_notification,
        inbox::set_badge,
        inbox::notify_user,
        inbox::set_user_badge,
        inbox::notifications,
        inbox::mark_read,
        inbox::badges,
        inbox::events,
        dashboard::dashboard_me,
        dashboard::catalog,
        dashboard::companies,
        dashboard::create_company,
        dashboard::members,
        dashboard::company_installs,
        dashboard::consent,
        dashboard::install,
        dashboard::get_install,
        dashboard::uninstall,
        dashboard::launch,
        invitations::company_invitations,
        invitations::invite,
        invitations::revoke_invitation,
        invitations::leave_company,
        invitations::my_invitations,
        invitations::accept_invitation,
        invitations::decline_invitation,
        developer::my_apps,
        developer::register_app,
        developer::my_app,
        developer::edit_app,
        developer::delete_app,
        developer::rotate_secret,
        developer::deliveries,
        developer::retry_delivery,
    ),
    components(
        schemas(schemas::ErrorBody, schemas::OAuthErrorBody),
        responses(
            responses::Malformed,
            responses::MethodNotAllowed,
            responses::LengthRequired,
            responses::PayloadTooLarge,
            responses::UnsupportedMediaType,
            responses::BadPage,
            responses::Unauthorized,
            responses::Forbidden,
            responses::QuotaExceeded,
            responses::InvalidBody,
            responses::NotFound,
            responses::Unavailable,
            responses::RateLimited,
        ),
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "health", description = "Liveness and readiness, for supervisors and load balancers"),
        (name = "discovery", description = "RFC 8414 authorization server metadata and the signing keys"),
        (name = "oauth", description = "OAuth 2.0 token, revocation and introspection endpoints (RFC 6749, 7009, 7662)"),
        (name = "resource", description = "The API apps call with an install's access token, one scope per endpoint"),
        (name = "dashboard", description = "The desktop's first-party API: the user, catalog, companies and installs (scope dashboard)"),
        (name = "invitations", description = "Company invitations and membership (scope dashboard)"),
        (name = "developer", description = "Registering and managing one's own apps (scope dashboard)"),
    ),
)]
pub struct ApiDoc;

/// The security schemes: bearer tokens (RFC 6750), client authentication with HTTP Basic
/// (RFC 6749 §2.3.1; `client_secret_post` is the form's `client_id` and `client_secret`), and
/// the browser pages' session cookie and CSRF field.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        let mut add = |name: &str, scheme: SecurityScheme| {
            components.security_schemes.insert(name.to_string(), scheme);
        };
        add(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access token (RFC 6750); each operation names the scope it needs",
                    ))
                    .build(),
            ),
        );
        add(
            "clientBasic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "A confidential client's id and secret (RFC 6749 §2.3.1)",
                    ))
                    .build(),
            ),
        );
        add(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "atrium_session",
                "The browser session of the HTML pages (/login, /oauth2/authorize); `__Host-atrium_session` when the issuer is https",
            ))),
        );
        // OpenAPI has no scheme for a form field: the sign-in form's CSRF token is bound to
        // this cookie, and the consent form's to the session.
        add(
            "csrf",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "atrium_login",
                "The sign-in form's pre-session cookie: its form field `csrf` must be the token the server bound to it (each form once, for ten minutes). The consent form's `csrf` field is bound to the session. `__Host-atrium_login` when the issuer is https",
            ))),
        );
        doc.servers = Some(vec![ServerBuilder::new().url("/").build()]);
    }
}

/// Every operation of the document, as `(method, path template)`, the templates being
/// `atrium_proto::paths`' constants. Called once, at start-up, for the metrics' route list.
pub fn operations() -> Vec<(&'static str, &'static str)> {
    let doc = ApiDoc::openapi();
    let mut ops = Vec::new();
    for (path, item) in &doc.paths.paths {
        let Some(template) = atrium_proto::paths::ALL.iter().find(|p| **p == path) else {
            continue;
        };
        for (method, op) in [
            ("get", &item.get),
            ("post", &item.post),
            ("put", &item.put),
            ("patch", &item.patch),
            ("delete", &item.delete),
        ] {
            if op.is_some() {
                ops.push((method, *template));
            }
        }
    }
    ops
}

/// The document, serialized once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi().to_json().unwrap_or_else(|e| {
        serde_json::json!({ "error": "server_error", "error_description": e.to_string() })
            .to_string()
    })
});

/// `/openapi.json`'s body.
pub fn document() -> &'static str {
    &DOCUMENT
}
