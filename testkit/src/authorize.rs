//! An authorization request (RFC 6749 §4.1.1, §4.2.1), built by name instead of as pairs.

use serde::Serialize;

use crate::{Pkce, REDIRECT};

/// The query of `GET /oauth2/authorize`. Starts with `response_type`, `client_id` and the
/// kit's [`REDIRECT`]; each method adds or replaces one parameter.
#[derive(Clone, Debug)]
pub struct Authorize {
    pairs: Vec<(String, String)>,
}

impl Authorize {
    /// The CODE method for `client_id`.
    pub fn code(client_id: &str) -> Authorize {
        Authorize::new("code", client_id)
    }

    /// The TOKEN method for `client_id`.
    pub fn token(client_id: &str) -> Authorize {
        Authorize::new("token", client_id)
    }

    fn new(response_type: &str, client_id: &str) -> Authorize {
        Authorize { pairs: Vec::new() }
            .param("response_type", response_type)
            .param("client_id", client_id)
            .param("redirect_uri", REDIRECT)
    }

    pub fn scope(self, scope: &str) -> Authorize {
        self.param("scope", scope)
    }

    pub fn state(self, state: &str) -> Authorize {
        self.param("state", state)
    }

    pub fn redirect_uri(self, uri: &str) -> Authorize {
        self.param("redirect_uri", uri)
    }

    /// The S256 challenge of `pkce`.
    pub fn pkce(self, pkce: &Pkce) -> Authorize {
        self.param("code_challenge", &pkce.challenge)
            .param("code_challenge_method", "S256")
    }

    /// Leaves a parameter out.
    pub fn without(mut self, name: &str) -> Authorize {
        self.pairs.retain(|(k, _)| k != name);
        self
    }

    /// Sets any parameter (replacing one of the same name).
    pub fn param(self, name: &str, value: &str) -> Authorize {
        let mut a = self.without(name);
        a.pairs.push((name.to_string(), value.to_string()));
        a
    }
}

impl Serialize for Authorize {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.pairs.serialize(s)
    }
}
