//! What app a test registers, by name instead of by a row of booleans.

use serde_json::{json, Value};

/// The redirect URI every [`AppSpec`] registers unless told otherwise.
pub const REDIRECT: &str = "https://app.example/callback";

/// An app to register: `AppSpec::code("profile")` is a confidential app using the CODE method
/// with the scope `profile`, the name "Test App", one redirect URI ([`REDIRECT`]) and an iframe
/// URL; the methods change one thing each. A suite turns it into its own registration (the
/// server's tests into the server's registration type, others into [`AppSpec::to_json`] for
/// the developer API).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppSpec {
    pub name: String,
    pub description: String,
    pub scopes: String,
    pub allow_code: bool,
    pub allow_token: bool,
    /// No client secret (PKCE only).
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub iframe_url: Option<String>,
    pub webhook_url: Option<String>,
    /// Where the dashboard sends a user who installs the app. [`AppSpec::public`] sets one for
    /// a CODE app, which must have one.
    pub install_url: Option<String>,
}

impl AppSpec {
    /// A confidential app using the CODE method.
    pub fn code(scopes: &str) -> AppSpec {
        AppSpec {
            name: "Test App".into(),
            description: "An app for tests".into(),
            scopes: scopes.into(),
            allow_code: true,
            allow_token: false,
            public: false,
            redirect_uris: vec![REDIRECT.into()],
            iframe_url: Some("https://app.example/ui".into()),
            webhook_url: None,
            install_url: None,
        }
    }

    /// An app using the TOKEN method.
    pub fn token(scopes: &str) -> AppSpec {
        AppSpec {
            allow_code: false,
            allow_token: true,
            ..AppSpec::code(scopes)
        }
    }

    /// Both methods.
    pub fn both(scopes: &str) -> AppSpec {
        AppSpec {
            allow_token: true,
            ..AppSpec::code(scopes)
        }
    }

    /// A public client (no secret); a CODE app also gets an install URL, which it must have.
    pub fn public(self) -> AppSpec {
        let install_url = self
            .allow_code
            .then(|| "https://app.example/install".to_string());
        AppSpec {
            public: true,
            install_url: self.install_url.or(install_url),
            ..self
        }
    }

    pub fn name(self, name: &str) -> AppSpec {
        AppSpec {
            name: name.into(),
            ..self
        }
    }

    pub fn description(self, description: &str) -> AppSpec {
        AppSpec {
            description: description.into(),
            ..self
        }
    }

    pub fn redirect_uris(self, uris: &[&str]) -> AppSpec {
        AppSpec {
            redirect_uris: uris.iter().map(|u| u.to_string()).collect(),
            ..self
        }
    }

    pub fn webhook_url(self, url: &str) -> AppSpec {
        AppSpec {
            webhook_url: Some(url.into()),
            ..self
        }
    }

    pub fn install_url(self, url: &str) -> AppSpec {
        AppSpec {
            install_url: Some(url.into()),
            ..self
        }
    }

    pub fn without_iframe(self) -> AppSpec {
        AppSpec {
            iframe_url: None,
            ..self
        }
    }

    /// The developer API's `method`: `code`, `token` or `both`.
    pub fn method(&self) -> &'static str {
        match (self.allow_code, self.allow_token) {
            (true, true) => "both",
            (false, true) => "token",
            _ => "code",
        }
    }

    /// The body of `POST /api/developer/apps`; only the fields that are set.
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "name": self.name,
            "description": self.description,
            "redirect_uris": self.redirect_uris,
            "scopes": self.scopes,
            "method": self.method(),
        });
        let optional = [
            ("iframe_url", &self.iframe_url),
            ("webhook_url", &self.webhook_url),
            ("install_url", &self.install_url),
        ];
        for (key, value) in optional {
            if let Some(v) = value {
                body[key] = json!(v);
            }
        }
        if self.public {
            body["public"] = json!(true);
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_code_app_gets_an_install_url_and_a_token_app_does_not() {
        assert_eq!(
            AppSpec::code("profile").public().install_url.as_deref(),
            Some("https://app.example/install")
        );
        assert_eq!(AppSpec::token("profile").public().install_url, None);
        assert_eq!(AppSpec::code("profile").install_url, None);
    }

    #[test]
    fn the_developer_api_body_names_the_method_and_leaves_unset_fields_out() {
        let body = AppSpec::token("profile email")
            .name("Hook App")
            .without_iframe()
            .webhook_url("https://hooks.example/")
            .to_json();
        assert_eq!(
            body,
            json!({
                "name": "Hook App", "description": "An app for tests",
                "redirect_uris": [REDIRECT], "scopes": "profile email", "method": "token",
                "webhook_url": "https://hooks.example/",
            })
        );
        assert_eq!(AppSpec::both("profile").method(), "both");
    }
}
