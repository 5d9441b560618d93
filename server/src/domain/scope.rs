//! The scope catalogue and validated scope sets (RFC 6749 §3.3).
//!
//! Scopes belong to an approval, not to an app: an app lists the scopes it may ask for, each
//! authorization asks for some of them, and each API endpoint requires one.

use std::collections::BTreeSet;
use std::fmt;

/// One scope of the catalogue, with the words shown on consent screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeInfo {
    pub name: &'static str,
    pub description: &'static str,
    /// Reserved for Atrium's own desktop client; no registered app may ask for it.
    pub first_party: bool,
}

/// Every scope the server knows.
pub const CATALOGUE: &[ScopeInfo] = &[
    // OpenID Connect Core §3.1.2.1: asks for an ID token saying who signed in.
    ScopeInfo {
        name: "openid",
        description: "Sign you in with your Atrium account",
        first_party: false,
    },
    ScopeInfo {
        name: "profile",
        description: "See your username, display name and the date you joined",
        first_party: false,
    },
    ScopeInfo {
        name: "email",
        description: "See your email address",
        first_party: false,
    },
    ScopeInfo {
        name: "company",
        description: "See the name of the company the app is installed in",
        first_party: false,
    },
    ScopeInfo {
        name: "company.members",
        description: "See the members of that company and their roles",
        first_party: false,
    },
    ScopeInfo {
        name: "notifications",
        description: "Send you notifications and show a count on its icon",
        first_party: false,
    },
    ScopeInfo {
        name: "dashboard",
        description: "Use Atrium on your behalf (the Atrium desktop app only)",
        first_party: true,
    },
];

/// Looks a scope up in the catalogue.
pub fn info(name: &str) -> Option<&'static ScopeInfo> {
    CATALOGUE.iter().find(|s| s.name == name)
}

/// A set of known scopes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(BTreeSet<&'static str>);

/// Why a scope string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("unknown scope {0:?}")]
    Unknown(String),
    #[error("the scope parameter is malformed")]
    Malformed,
}

impl ScopeSet {
    /// Parses a space-delimited scope string. Every token must be in the catalogue; an empty
    /// string is the empty set.
    pub fn parse(raw: &str) -> Result<ScopeSet, ScopeError> {
        let mut set = BTreeSet::new();
        // RFC 6749 §3.3: scope tokens separated by single spaces, each of NQCHARs.
        if raw.starts_with(' ') || raw.ends_with(' ') || raw.contains("  ") {
            return Err(ScopeError::Malformed);
        }
        for token in raw.split(' ').filter(|t| !t.is_empty()) {
            if !token
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
            {
                return Err(ScopeError::Malformed);
            }
            let known = info(token).ok_or_else(|| ScopeError::Unknown(token.to_string()))?;
            set.insert(known.name);
        }
        Ok(ScopeSet(set))
    }

    /// Builds a set from names already known to be in the catalogue (stored data).
    pub fn from_stored(raw: &str) -> ScopeSet {
        ScopeSet(raw.split(' ').filter_map(info).map(|s| s.name).collect())
    }

    pub fn single(name: &'static str) -> ScopeSet {
        ScopeSet(BTreeSet::from([name]))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static ScopeInfo> + '_ {
        self.0.iter().filter_map(|n| info(n))
    }

    /// True when any scope of the set is reserved for the first-party client.
    pub fn has_first_party(&self) -> bool {
        self.iter().any(|s| s.first_party)
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(s)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_scopes_in_a_canonical_order() {
        let s = ScopeSet::parse("email profile").unwrap();
        assert_eq!(s.to_string(), "email profile");
        assert!(s.contains("profile"));
        assert!(ScopeSet::parse("").unwrap().is_empty());
    }

    #[test]
    fn refuses_unknown_and_malformed_scopes() {
        assert_eq!(
            ScopeSet::parse("profile admin"),
            Err(ScopeError::Unknown("admin".into()))
        );
        assert_eq!(
            ScopeSet::parse("profile  email"),
            Err(ScopeError::Malformed)
        );
        assert_eq!(ScopeSet::parse(" profile"), Err(ScopeError::Malformed));
        assert_eq!(ScopeSet::parse("pro\"file"), Err(ScopeError::Malformed));
    }

    #[test]
    fn subsets_and_first_party_scopes() {
        let granted = ScopeSet::parse("profile email").unwrap();
        assert!(ScopeSet::parse("profile").unwrap().is_subset(&granted));
        assert!(!ScopeSet::parse("company").unwrap().is_subset(&granted));
        assert!(ScopeSet::parse("dashboard").unwrap().has_first_party());
        assert!(!granted.has_first_party());
    }
}
