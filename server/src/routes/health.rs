//! `GET /healthz`: liveness, including a read of the database on a connection of its own.

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
    // Not through the read pool: thirty slow reads there must not make the server look dead.
    let probe = db.probe();
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
