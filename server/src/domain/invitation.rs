//! Invitations to join a company: the invitee's name as typed, the role offered, and the bounds
//! that keep what an owner can trigger small.

use crate::store::Role;

/// An invitation stays open this long (seconds): 14 days.
pub const INVITATION_TTL: i64 = 14 * 24 * 3600;

/// Pending invitations a company may hold at once.
pub const MAX_PENDING_PER_COMPANY: usize = 50;

/// Invitations one user sees at most (newest first).
pub const MAX_LISTED_FOR_USER: usize = 100;

/// Why an invitation request is refused (said to the owner as is).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InviteError {
    #[error("a username has 1 to 64 letters, digits, '.', '_' or '-'")]
    Username,
    #[error("role must be member or owner")]
    Role,
}

/// A well-formed username to invite. Whether such a user exists is deliberately not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitee(String);

impl Invitee {
    /// The same rule as `atrium-server user add`, so any user can be invited.
    pub fn parse(raw: &str) -> Result<Invitee, InviteError> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(Invitee(raw.to_string()))
        } else {
            Err(InviteError::Username)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The role an invitation offers: `member` when absent.
pub fn parse_role(raw: Option<&str>) -> Result<Role, InviteError> {
    match raw {
        None => Ok(Role::Member),
        Some(word) => word.parse().map_err(|_| InviteError::Role),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_checked_for_length_and_characters() {
        assert!(Invitee::parse("ada.l_ove-1").is_ok());
        assert_eq!(Invitee::parse(""), Err(InviteError::Username));
        assert_eq!(Invitee::parse(&"a".repeat(65)), Err(InviteError::Username));
        assert_eq!(Invitee::parse("ada love"), Err(InviteError::Username));
        assert_eq!(Invitee::parse("adá"), Err(InviteError::Username));
    }

    #[test]
    fn roles_are_member_or_owner() {
        assert_eq!(parse_role(None), Ok(Role::Member));
        assert_eq!(parse_role(Some("owner")), Ok(Role::Owner));
        assert_eq!(parse_role(Some("admin")), Err(InviteError::Role));
    }
}
