//! Health checks, both cheap enough to poll every second and answered also on connections
//! past the cap (see [`crate::serve`]):
//!
//! - `GET /healthz`, liveness: the process answers. It touches nothing else, so that a slow or
//!   locked database never gets a live server restarted by its supervisor;
//! - `GET /readyz`, readiness: the database answers, and its schema is the one this server
//!   migrates to. On SQLite, on a connection kept for this alone (so it never queues behind
//!   the read pool); on PostgreSQL, a pooled query that must answer within two seconds.
//!   Otherwise 503 with the reason, so a load balancer takes the server out of rotation.

use atrium_proto::paths;
use atrium_proto::Health;
use serde::Serialize;
use warp::http::StatusCode;
use warp::Filter;

use crate::store::Backend;

/// The body of `GET /readyz`.
#[derive(Debug, Serialize)]
struct Readiness {
    /// `"ready"` or `"unavailable"`.
    status: &'static str,
    version: &'static str,
    /// Why the server is not ready; absent when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// GET /healthz, GET /readyz
pub fn filter(
    db: Backend,
) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
    let live = route!(paths::HEALTHZ; "healthz").and(warp::get()).map(|| {
        warp::reply::with_status(
            warp::reply::json(&Health {
                status: "ok".into(),
                version: crate::VERSION.into(),
                reason: None,
            }),
            StatusCode::OK,
        )
    });
    let ready = route!(paths::READYZ; "readyz")
        .and(warp::get())
        .and(super::with_db(db))
        .then(ready);
    live.or(ready).unify()
}

async fn ready(db: Backend) -> warp::reply::WithStatus<warp::reply::Json> {
    let (status, code, reason) = match db.readiness().await {
        Ok(()) => ("ready", StatusCode::OK, None),
        Err(err) => {
            tracing::warn!(%err, "not ready");
            // Anyone may ask: the database's own error text (paths, SQL) stays in the log.
            let reason = match err {
                crate::db::NotReady::Unavailable(_) => "the database does not answer".into(),
                schema => schema.to_string(),
            };
            ("unavailable", StatusCode::SERVICE_UNAVAILABLE, Some(reason))
        }
    };
    let body = Readiness {
        status,
        version: crate::VERSION,
        reason,
    };
    warp::reply::with_status(warp::reply::json(&body), code)
}
