//! OpenID Connect's own endpoints:
//!
//! - UserInfo (Core §5.3): `GET` and `POST /oauth2/userinfo` with a bearer token granted
//!   `openid`. Errors are RFC 6750's, as on the resource API.
//! - RP-Initiated Logout 1.0: `GET` and `POST /oauth2/logout`, an HTML page in the user's
//!   browser; the checks are in [`crate::oauth::logout`].
//!
//! Discovery and the JWKS are in [`super::meta`].

use atrium_proto::paths;
use warp::http::StatusCode;
use warp::Filter;

use super::api::bearer;
use super::error::{internal_page, reply, ApiError, ApiResult};
use super::respond::{self, Resp};
use super::session::{self, csrf_ok, same_origin, FormOrigin};
use super::{form, html, raw_query, with_state, AppState};
use crate::oauth::logout::{LogoutError, LogoutParams, LogoutRequest};
use crate::oauth::params::Params;
use crate::oauth::{oidc, OAuthError};

pub fn filters(state: AppState) -> impl Filter<Extract = (Resp,), Error = warp::Rejection> + Clone {
    // GET /oauth2/userinfo
    // POST /oauth2/userinfo
    let userinfo = route!(paths::USERINFO; "oauth2" / "userinfo")
        .and(warp::get().or(warp::post()).unify())
        .and(with_state(state.clone()))
        .and(warp::header::optional::<String>("authorization"))
        .then(userinfo)
        .map(reply);
    let session_cookie = session::session_cookie(&state);
    // GET /oauth2/logout
    let logout_get = route!(paths::END_SESSION; "oauth2" / "logout")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and(warp::cookie::optional::<String>(session_cookie))
        .and(raw_query())
        .then(|state, sid, query: String| {
            end_session(state, sid, FormOrigin::default(), Ok(Params::parse(&query)))
        });
    // POST /oauth2/logout
    let logout_post = route!(paths::END_SESSION; "oauth2" / "logout")
        .and(warp::post())
        .and(with_state(state))
        .and(warp::cookie::optional::<String>(session_cookie))
        .and(session::form_origin())
        .and(form())
        .then(end_session);
    userinfo.or(logout_get).unify().or(logout_post).unify()
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

fn logout_params(p: &Params) -> Result<LogoutParams, OAuthError> {
    let get = |name| Ok::<_, OAuthError>(p.get(name)?.map(str::to_string));
    Ok(LogoutParams {
        id_token_hint: get("id_token_hint")?,
        client_id: get("client_id")?,
        post_logout_redirect_uri: get("post_logout_redirect_uri")?,
        state: get("state")?,
    })
}

fn logout_refused(message: &str) -> Resp {
    respond::html(
        StatusCode::BAD_REQUEST,
        html::error("This sign-out request cannot be completed", message),
    )
}

/// RP-initiated logout. A request whose `id_token_hint` names the signed-in user ends the
/// session at once; any other asks the user first, and only the answer to that question (a
/// same-origin form with the session's CSRF token and `decision=sign_out`) ends it.
async fn end_session(
    state: AppState,
    sid: Option<String>,
    from: FormOrigin,
    form: Result<Params, OAuthError>,
) -> Resp {
    let p = match form {
        Ok(p) => p,
        Err(e) => return logout_refused(&e.description),
    };
    let params = match logout_params(&p) {
        Ok(params) => params,
        Err(e) => return logout_refused(&e.description),
    };
    let platform = &state.platform;
    let req = match LogoutRequest::check(
        &*platform.store,
        platform.keys.signing(),
        &platform.config.issuer,
        params,
    )
    .await
    {
        Ok(req) => req,
        Err(LogoutError::Invalid(message)) => return logout_refused(&message),
        Err(LogoutError::Store(e)) => return sign_out_failed(&e),
    };
    let signed_in = match session::current(&state, sid.as_deref()).await {
        Ok(s) => s,
        Err(e) => return sign_out_failed(e.cause()),
    };
    let Some(signed_in) = signed_in else {
        // No session in this browser: nothing to end.
        return finish(&state, &req, false);
    };
    let decision = p.get("decision").ok().flatten();
    if decision.is_some() {
        // The answer to the confirmation page: it must come from that page.
        if !same_origin(&state, &from) {
            return session::cross_origin_page();
        }
        if !csrf_ok(&signed_in.session.csrf, p.get("csrf").ok().flatten()) {
            return logout_refused("The sign-out form expired. Go back to the app and try again.");
        }
        if decision != Some("sign_out") {
            // The user chose to stay: Atrium's own page says so. Going back to the app's
            // post-logout URI would tell the app (the desktop among them) that this browser
            // signed out, which it did not.
            return respond::html(StatusCode::OK, html::signed_out(false));
        }
    } else if req.subject != Some(signed_in.user.id) {
        let app = req.client.as_ref().map(|c| c.name.as_str());
        return respond::html(
            StatusCode::OK,
            html::confirm_logout(
                app,
                &signed_in.user,
                &req.hidden_fields(),
                &signed_in.session.csrf,
            ),
        );
    }
    if let Err(e) = platform.store.delete_session(signed_in.digest).await {
        return sign_out_failed(&e);
    }
    finish(&state, &req, true)
}

/// Where the user goes after logout: the app's registered URI, or Atrium's own page. The
/// session cookie is cleared either way: after a sign-out it names a deleted session, and
/// without one it names none.
fn finish(state: &AppState, req: &LogoutRequest, signed_out: bool) -> Resp {
    let resp = match &req.redirect {
        Some(url) => respond::see_other(url.as_str()),
        None => respond::html(StatusCode::OK, html::signed_out(signed_out)),
    };
    if signed_out {
        respond::with_cookie(resp, &session::cleared_session_cookie(state))
    } else {
        resp
    }
}

/// Signing out failed on the server's side (the session may still be live): logged once.
fn sign_out_failed(cause: &(dyn std::error::Error + 'static)) -> Resp {
    internal_page(cause, "Signing out failed; please try again.")
}
