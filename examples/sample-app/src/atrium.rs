//! The Atrium API as this app uses it: `GET /api/username`, `/api/me` and `/api/company` with a
//! bearer token, and the server's published signing keys.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// What went wrong talking to Atrium.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Atrium answered with an error status (401 for a bad token, 403 for a missing scope...).
    #[error("Atrium answered {status}: {description}")]
    Refused {
        status: u16,
        error: String,
        description: String,
    },
    #[error("cannot reach Atrium: {0}")]
    Unreachable(#[source] reqwest::Error),
    #[error("Atrium's answer is not what this app expects: {0}")]
    Unexpected(String),
}

impl ApiError {
    /// The token itself was refused (unknown, expired or revoked).
    pub fn is_invalid_token(&self) -> bool {
        matches!(self, ApiError::Refused { status: 401, .. })
    }
}

/// The user's data as the app reads it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Profile {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub date_joined: Option<String>,
    /// The company the app is installed in, when the token was granted the `company` scope.
    pub company: Option<Company>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Company {
    pub id: i64,
    pub name: String,
}

#[derive(Deserialize)]
struct Username {
    username: String,
}

#[derive(Deserialize)]
struct Me {
    username: String,
    display_name: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    date_joined: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// A client of one Atrium server.
#[derive(Clone)]
pub struct Atrium {
    base: String,
    http: reqwest::Client,
}

impl Atrium {
    /// `base` is the server's URL without a trailing slash.
    pub fn new(base: &str, http: reqwest::Client) -> Atrium {
        Atrium {
            base: base.to_string(),
            http,
        }
    }

    /// The server's base URL (the issuer).
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
    ) -> Result<T, ApiError> {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.map_err(ApiError::Unreachable)?;
        let status = res.status();
        let bytes = res.bytes().await.map_err(ApiError::Unreachable)?;
        if !status.is_success() {
            let body: Option<ErrorBody> = serde_json::from_slice(&bytes).ok();
            let (error, description) = body
                .map(|b| (b.error, b.error_description))
                .unwrap_or_default();
            return Err(ApiError::Refused {
                status: status.as_u16(),
                description: if description.is_empty() {
                    status.canonical_reason().unwrap_or("error").to_string()
                } else {
                    description
                },
                error,
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Unexpected(format!("{path}: {e}")))
    }

    /// `GET /api/username` (the seed's example; scope `profile`).
    pub async fn username(&self, token: &str) -> Result<String, ApiError> {
        Ok(self
            .get::<Username>("/api/username", Some(token))
            .await?
            .username)
    }

    /// Reads `/api/username` and `/api/me`, and `/api/company` when the token may: when
    /// `scope` (what the token was granted, if known) lists `company`, or is unknown.
    pub async fn profile(&self, token: &str, scope: Option<&str>) -> Result<Profile, ApiError> {
        let ask_company = scope
            .filter(|s| !s.trim().is_empty())
            .is_none_or(|s| s.split_whitespace().any(|s| s == "company"));
        let company = async {
            if ask_company {
                self.get::<Company>("/api/company", Some(token)).await
            } else {
                Err(ApiError::Refused {
                    status: 403,
                    error: "insufficient_scope".into(),
                    description: "not granted".into(),
                })
            }
        };
        let (username, me, company) = tokio::join!(
            self.username(token),
            self.get::<Me>("/api/me", Some(token)),
            company,
        );
        let (username, me) = (username?, me?);
        if username != me.username {
            return Err(ApiError::Unexpected(
                "/api/username and /api/me disagree about who this is".into(),
            ));
        }
        let company = match company {
            Ok(c) => Some(c),
            // 403: the token was not granted `company`; 404: the grant is for no company.
            Err(ApiError::Refused {
                status: 403 | 404, ..
            }) => None,
            Err(e) => return Err(e),
        };
        Ok(Profile {
            username,
            display_name: me.display_name,
            email: me.email,
            date_joined: me.date_joined,
            company,
        })
    }

    /// `GET /.well-known/jwks.json`, as JSON (each key is parsed by the caller, so that one key
    /// of a type this app does not know cannot hide the others).
    pub async fn jwks(&self) -> Result<serde_json::Value, ApiError> {
        self.get("/.well-known/jwks.json", None).await
    }
}
