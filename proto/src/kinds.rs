//! The closed sets of words the API speaks: a member's role, an install's state, an app's OAuth
//! method, its application type and an authorization request's response type. Each is an enum that serialises to the
//! word on the wire (pinned by the tests below), so clients compare enums, never strings; a word
//! from outside (a form field, a request body) becomes one with [`str::parse`] at the boundary.

use serde::{Deserialize, Serialize};

/// A word that names no value of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownWord {
    /// What was expected, e.g. `role`.
    pub kind: &'static str,
    /// What was given.
    pub word: String,
}

impl std::fmt::Display for UnknownWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} is not a {}", self.word, self.kind)
    }
}

impl std::error::Error for UnknownWord {}

/// An enum of wire words: serde, `as_str`, `Display` and `FromStr` from one list.
macro_rules! words {
    ($(#[$meta:meta])* $name:ident ($kind:literal) { $($(#[$vmeta:meta])* $variant:ident = $word:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $word)] $variant,)+
        }

        impl $name {
            /// Every value, in the order the API documents them.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The word on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownWord;
            fn from_str(word: &str) -> Result<$name, UnknownWord> {
                match word {
                    $($word => Ok($name::$variant),)+
                    _ => Err(UnknownWord { kind: $kind, word: word.to_string() }),
                }
            }
        }
    };
}
pub(crate) use words;

words! {
    /// A user's role in a company. Owners install and uninstall apps and invite people.
    Role ("role") {
        Owner = "owner",
        Member = "member",
    }
}

words! {
    /// Whether an install still grants its app access.
    InstallState ("install state") {
        Active = "active",
        /// Uninstalled: every token of the install is revoked.
        Uninstalled = "uninstalled",
    }
}

words! {
    /// How a registered app may be authorized: the response types it may ask for.
    OAuthMethod ("method") {
        /// CODE: the app's server exchanges an authorization code.
        Code = "code",
        /// TOKEN: the app's page reads an access token from the redirect's fragment.
        Token = "token",
        Both = "both",
    }
}

words! {
    /// The `response_type` of one authorization request (RFC 6749 §3.1.1).
    ResponseType ("response type") {
        Code = "code",
        Token = "token",
    }
}

words! {
    /// What kind of client an app is (OpenID Connect Dynamic Registration's
    /// `application_type`).
    ApplicationType ("application type") {
        /// A server-side or browser app: https redirects (http on a loopback IP for
        /// development), matched exactly.
        Web = "web",
        /// An app on the user's device (RFC 8252): private-use-scheme or loopback-IP redirects;
        /// as a public client, its loopback redirects match on any port (RFC 8252 §7.3).
        Native = "native",
    }
}

/// An app is a web app unless registered otherwise.
impl Default for ApplicationType {
    fn default() -> ApplicationType {
        ApplicationType::Web
    }
}

impl Role {
    pub fn is_owner(self) -> bool {
        self == Role::Owner
    }
}

impl InstallState {
    pub fn is_active(self) -> bool {
        self == InstallState::Active
    }

    /// `active` when the install still grants access.
    pub fn from_active(active: bool) -> InstallState {
        if active {
            InstallState::Active
        } else {
            InstallState::Uninstalled
        }
    }
}

impl OAuthMethod {
    /// The method of an app allowed CODE and/or TOKEN (CODE when it is allowed neither, as the
    /// server registers no such app).
    pub fn from_allowed(code: bool, token: bool) -> OAuthMethod {
        match (code, token) {
            (true, true) => OAuthMethod::Both,
            (false, true) => OAuthMethod::Token,
            _ => OAuthMethod::Code,
        }
    }

    /// Whether an app with this method may ask for `response_type`.
    pub fn allows(self, response_type: ResponseType) -> bool {
        self.response_types().contains(&response_type)
    }

    /// The response types an app with this method may ask for.
    pub fn response_types(self) -> &'static [ResponseType] {
        match self {
            OAuthMethod::Code => &[ResponseType::Code],
            OAuthMethod::Token => &[ResponseType::Token],
            OAuthMethod::Both => &[ResponseType::Code, ResponseType::Token],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON each value has always had: clients in the field depend on these words.
    fn pins<T>(expected: &[(T, &str)])
    where
        T: Serialize
            + serde::de::DeserializeOwned
            + std::str::FromStr
            + PartialEq
            + std::fmt::Debug
            + Copy,
        <T as std::str::FromStr>::Err: std::fmt::Debug,
    {
        for (value, word) in expected {
            let json = serde_json::to_string(value).unwrap();
            assert_eq!(json, format!("\"{word}\""), "{value:?} on the wire");
            let back: T = serde_json::from_str(&json).unwrap();
            assert_eq!(back, *value);
            assert_eq!(word.parse::<T>().unwrap(), *value);
        }
    }

    #[test]
    fn roles_are_the_words_owner_and_member() {
        pins(&[(Role::Owner, "owner"), (Role::Member, "member")]);
        assert_eq!(Role::ALL.len(), 2);
    }

    #[test]
    fn install_states_are_the_words_active_and_uninstalled() {
        pins(&[
            (InstallState::Active, "active"),
            (InstallState::Uninstalled, "uninstalled"),
        ]);
        assert_eq!(InstallState::from_active(false), InstallState::Uninstalled);
    }

    #[test]
    fn methods_are_the_words_code_token_and_both() {
        pins(&[
            (OAuthMethod::Code, "code"),
            (OAuthMethod::Token, "token"),
            (OAuthMethod::Both, "both"),
        ]);
        assert_eq!(OAuthMethod::from_allowed(true, true), OAuthMethod::Both);
        assert_eq!(OAuthMethod::from_allowed(false, true), OAuthMethod::Token);
        assert_eq!(OAuthMethod::from_allowed(true, false), OAuthMethod::Code);
        assert_eq!(
            OAuthMethod::Both.response_types(),
            &[ResponseType::Code, ResponseType::Token]
        );
        assert!(OAuthMethod::Token.allows(ResponseType::Token));
        assert!(!OAuthMethod::Token.allows(ResponseType::Code));
    }

    #[test]
    fn response_types_are_the_words_code_and_token() {
        pins(&[(ResponseType::Code, "code"), (ResponseType::Token, "token")]);
    }

    #[test]
    fn application_types_are_the_words_web_and_native() {
        pins(&[
            (ApplicationType::Web, "web"),
            (ApplicationType::Native, "native"),
        ]);
        assert_eq!(ApplicationType::default(), ApplicationType::Web);
    }

    #[test]
    fn an_unknown_word_is_refused_and_named() {
        let err = "admin".parse::<Role>().unwrap_err();
        assert_eq!(err.to_string(), "\"admin\" is not a role");
        assert!(serde_json::from_str::<Role>("\"Owner\"").is_err());
        assert!("".parse::<InstallState>().is_err());
    }
}
