//! Ids of the platform's records, one type each, so a company id can't be passed where an
//! install id is meant. They are plain numbers (and one string) on the wire and in the store;
//! the routes parse them from paths ([`std::str::FromStr`]) and the services take them.
//!
//! The store still speaks bare `i64`s and `&str`s; [`UserId::get`] and friends unwrap at that
//! boundary.

use std::fmt;
use std::str::FromStr;

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(i64);

        impl $name {
            pub const fn new(raw: i64) -> $name {
                $name(raw)
            }
            /// The number, for the store and the wire.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl From<i64> for $name {
            fn from(raw: i64) -> $name {
                $name(raw)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<$name, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

numeric_id!(
    /// A user account.
    UserId
);
numeric_id!(
    /// A company.
    CompanyId
);
numeric_id!(
    /// An install of an app in a company.
    InstallId
);
numeric_id!(
    /// A registered app (its row; clients know it by its [`ClientId`]).
    AppId
);
numeric_id!(
    /// An invitation to join a company.
    InvitationId
);

/// An app's public OAuth identifier (`client_id`, RFC 6749 §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(String);

impl ClientId {
    pub fn new(raw: impl Into<String>) -> ClientId {
        ClientId(raw.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ClientId {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<ClientId, Self::Err> {
        Ok(ClientId(s.to_string()))
    }
}

impl AsRef<str> for ClientId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_from_a_path_segment_and_print_as_numbers() {
        let c: CompanyId = "42".parse().unwrap();
        assert_eq!(c.get(), 42);
        assert_eq!(c.to_string(), "42");
        assert!("x".parse::<InstallId>().is_err());
        let id: ClientId = "atr_ci_x".parse().unwrap();
        assert_eq!(id.as_str(), "atr_ci_x");
    }
}
