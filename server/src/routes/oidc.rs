//! OpenID Connect's UserInfo endpoint (Core §5.3): `GET` and `POST /oauth2/userinfo` with a
//! bearer token granted `openid`. Errors are RFC 6750's, as on the resource API. Discovery
//! and the JWKS are in [`super::meta`].

use atrium_proto::paths;
use warp::http::StatusCode;
use warp::Filter;

use super::api::bearer;
use super::error::{reply, ApiError, ApiResult};
use super::respond::{self, Resp};
use super::{with_state, AppState};
use crate::oauth::oidc;

pub fn filters(state: AppState) -> impl Filter<Extract = (Resp,), Error = warp::Rejection> + Clone {
    // GET /oauth2/userinfo
    // POST /oauth2/userinfo
    route!(paths::USERINFO; "oauth2" / "userinfo")
        .and(warp::get().or(warp::post()).unify())
        .and(with_state(state))
        .and(warp::header::optional::<String>("authorization"))
        .then(userinfo)
        .map(reply)
}

async fn userinfo(state: AppState, header: Option<String>) -> ApiResult {
    let info = bearer(&state, header.as_deref(), "openid").await?;
    let no_user = || ApiError::Bearer {
        status: StatusCode::UNAUTHORIZED,
        error: Some("invalid_token"),
        description: "this access token does not act for a user",
        scope: None,
    };
    let user_id = info.user_id.ok_or_else(no_user)?;
    let user = state
        .platform
        .store
        .user(user_id)
        .await?
        .ok_or_else(no_user)?;
    Ok(respond::no_store(respond::json(
        StatusCode::OK,
        &oidc::userinfo(&user, &info.scopes),
    )))
}
