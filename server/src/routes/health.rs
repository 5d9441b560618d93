//! `GET /healthz`: liveness, including a round trip to the database.

use atrium_proto::Health;
use warp::http::StatusCode;
use warp::Filter;

use crate::db::Db;

/// GET /healthz
pub fn filter(
    db: Db,
) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
    warp::path!("healthz")
        .and(warp::get())
        .and(super::with_db(db))
        .then(handle)
}

async fn handle(db: Db) -> impl warp::Reply {
    let probe = db
        .call(|c| Ok::<_, crate::db::DbError>(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
        .await;
    let (status, code) = match probe {
        Ok(_) => ("ok", StatusCode::OK),
        Err(err) => {
            tracing::error!(%err, "health check failed");
            ("unavailable", StatusCode::SERVICE_UNAVAILABLE)
        }
    };
    let body = Health {
        status: status.into(),
        version: crate::VERSION.into(),
    };
    warp::reply::with_status(warp::reply::json(&body), code)
}
