//! The resource API that apps call with their access tokens (RFC 6750 bearer tokens).
//! Each endpoint names the scope it requires; a token must have been granted that scope.

use atrium_proto::paths;
use serde::Serialize;
use warp::http::StatusCode;
use warp::Filter;

use super::error::{reply, ApiError, ApiResult};
use super::respond::{self, Resp};
use super::{with_state, AppState};
use crate::domain::now;
use crate::domain::secret::TokenDigest;
use crate::store::AccessInfo;

pub fn filters(state: AppState) -> impl Filter<Extract = (Resp,), Error = warp::Rejection> + Clone {
    let auth = || with_state(state.clone()).and(warp::header::optional::<String>("authorization"));
    // GET /api/username
    let username = route!(paths::USERNAME; "api" / "username")
        .and(warp::get())
        .and(auth())
        .then(username)
        .map(reply);
    // GET /api/me
    let me = route!(paths::API_ME; "api" / "me")
        .and(warp::get())
        .and(auth())
        .then(me)
        .map(reply);
    // GET /api/company
    let company = route!(paths::API_COMPANY; "api" / "company")
        .and(warp::get())
        .and(auth())
        .then(company)
        .map(reply);
    // GET /api/company/members
    let members = route!(paths::API_COMPANY_MEMBERS; "api" / "company" / "members")
        .and(warp::get())
        .and(auth())
        .then(members)
        .map(reply);
    username
        .or(me)
        .unify()
        .or(company)
        .unify()
        .or(members)
        .unify()
}

/// Authenticates the bearer token and checks that it was granted `scope`.
pub async fn bearer(
    state: &AppState,
    header: Option<&str>,
    scope: &'static str,
) -> Result<AccessInfo, ApiError> {
    let Some(header) = header else {
        return Err(ApiError::Bearer {
            status: StatusCode::UNAUTHORIZED,
            error: None,
            description: "a bearer token is required",
            scope: None,
        });
    };
    let token = match header.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() => {
            t.trim()
        }
        _ => {
            return Err(ApiError::Bearer {
                status: StatusCode::BAD_REQUEST,
                error: Some("invalid_request"),
                description: "the Authorization header must be: Bearer <token>",
                scope: None,
            })
        }
    };
    let info = state
        .platform
        .store
        .access_token(TokenDigest::of(token), now())
        .await
        .map_err(|e| ApiError::Internal {
            source: Box::new(e),
            description: "the server could not check the token",
        })?
        .ok_or(ApiError::Bearer {
            status: StatusCode::UNAUTHORIZED,
            error: Some("invalid_token"),
            description: "the access token is unknown, expired or revoked",
            scope: None,
        })?;
    if !info.scopes.contains(scope) {
        return Err(ApiError::Bearer {
            status: StatusCode::FORBIDDEN,
            error: Some("insufficient_scope"),
            description: "the access token was not granted the scope this endpoint requires",
            scope: Some(scope),
        });
    }
    Ok(info)
}

/// The user behind a first-party (desktop) token: scope `dashboard`, which only Atrium's own
/// client can be granted.
pub async fn dashboard_user(
    state: &AppState,
    header: Option<&str>,
) -> Result<crate::store::User, ApiError> {
    let info = bearer(state, header, "dashboard").await?;
    let user_id = info.user_id.ok_or_else(no_user)?;
    state
        .platform
        .store
        .user(user_id)
        .await?
        .ok_or_else(no_user)
}

fn no_user() -> ApiError {
    ApiError::Bearer {
        status: StatusCode::FORBIDDEN,
        error: Some("insufficient_scope"),
        description: "this token acts for no user (client credentials)",
        scope: None,
    }
}

fn no_company() -> ApiError {
    ApiError::refused(
        StatusCode::NOT_FOUND,
        "not_found",
        "this grant is not for a company",
    )
}

#[derive(Serialize)]
struct Username<'a> {
    username: &'a str,
}

async fn username(state: AppState, header: Option<String>) -> ApiResult {
    let info = bearer(&state, header.as_deref(), "profile").await?;
    let username = info.username.ok_or_else(no_user)?;
    Ok(respond::json(
        StatusCode::OK,
        &Username {
            username: &username,
        },
    ))
}

#[derive(Serialize)]
struct Me {
    username: String,
    display_name: String,
    date_joined: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
}

async fn me(state: AppState, header: Option<String>) -> ApiResult {
    let info = bearer(&state, header.as_deref(), "profile").await?;
    let user_id = info.user_id.ok_or_else(no_user)?;
    let u = state
        .platform
        .store
        .user(user_id)
        .await?
        .ok_or_else(no_user)?;
    Ok(respond::json(
        StatusCode::OK,
        &Me {
            username: u.username,
            display_name: u.display_name,
            date_joined: rfc3339(u.joined_at),
            email: if info.scopes.contains("email") {
                u.email
            } else {
                None
            },
        },
    ))
}

#[derive(Serialize)]
struct CompanyView {
    id: i64,
    name: String,
}

async fn company(state: AppState, header: Option<String>) -> ApiResult {
    let info = bearer(&state, header.as_deref(), "company").await?;
    let id = info.company_id.ok_or_else(no_company)?;
    let c = state
        .platform
        .store
        .company(id)
        .await?
        .ok_or_else(no_company)?;
    Ok(respond::json(
        StatusCode::OK,
        &CompanyView {
            id: c.id,
            name: c.name,
        },
    ))
}

#[derive(Serialize)]
struct MemberView {
    username: String,
    display_name: String,
    role: &'static str,
}

async fn members(state: AppState, header: Option<String>) -> ApiResult {
    let info = bearer(&state, header.as_deref(), "company.members").await?;
    let id = info.company_id.ok_or_else(no_company)?;
    let members: Vec<MemberView> = state
        .platform
        .store
        .company_members(id)
        .await?
        .into_iter()
        .map(|(u, role)| MemberView {
            username: u.username,
            display_name: u.display_name,
            role: role.as_str(),
        })
        .collect();
    Ok(respond::json(
        StatusCode::OK,
        &serde_json::json!({ "company_id": id, "members": members }),
    ))
}

/// Unix seconds as an RFC 3339 UTC timestamp (days-from-civil, proleptic Gregorian).
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn timestamps_format_as_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_876_627), "2026-11-28T14:37:07Z");
    }
}
