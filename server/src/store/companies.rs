//! Companies, their members and roles, and invitations to join them.

use async_trait::async_trait;

use super::{Page, PageReq, StoreResult, User};

/// A member's role: the API's word, stored as it (`owner`, `member`).
pub use atrium_proto::Role;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub company: Company,
    pub role: Role,
}

/// A pending invitation to join a company (see `migrations/009_invitations.sql`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: i64,
    pub company: Company,
    /// The invitee's username as the owner typed it.
    pub username: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// An invitation to record.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub company: i64,
    /// Well formed ([`crate::domain::invitation::Invitee`]), never looked up.
    pub username: String,
    pub role: Role,
    /// `None` when the operator's CLI invites.
    pub invited_by: Option<i64>,
    pub expires_at: i64,
}

/// What asking for an invitation did. `Sent` does not depend on whether the user exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invited {
    /// Recorded (or renewed, when that username was already invited).
    Sent,
    /// That username is already a member of the company.
    AlreadyMember,
    /// The company holds its cap of pending invitations.
    TooMany,
}

/// What accepting an invitation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    Joined(Membership),
    /// No pending invitation with that id for this user (never, declined, revoked, used).
    NotFound,
    Expired,
    /// The user was a member already; the invitation is used up and the role unchanged.
    AlreadyMember,
}

/// What leaving a company did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Left {
    Left,
    NotMember,
    /// The user is its only owner: a company always keeps one.
    LastOwner,
}

#[async_trait]
pub trait CompanyStore: Send + Sync {
    /// Creates a company owned by `owner`. With `quota`, refuses (`StoreError::Quota`) when
    /// the owner already owns that many companies; the count and the insert are one
    /// transaction.
    async fn create_company(&self, name: &str, owner: i64, quota: Option<u32>) -> StoreResult<i64>;

    /// Adds a member directly: for the operator's CLI and tests only (users join through
    /// invitations).
    async fn add_member(&self, company: i64, user: i64, role: Role) -> StoreResult<()>;

    /// Invites `username` (never looked up) into `company`, or renews its invitation, unless
    /// the company already holds `cap` unexpired ones. Sweeps expired invitations first.
    async fn invite(&self, invite: NewInvitation, at: i64, cap: usize) -> StoreResult<Invited>;

    /// The company's unexpired invitations, oldest first.
    async fn company_invitations(&self, company: i64, at: i64) -> StoreResult<Vec<Invitation>>;

    /// The user's unexpired invitations, newest first, at most `limit`.
    async fn invitations_for(
        &self,
        user: i64,
        at: i64,
        limit: usize,
    ) -> StoreResult<Vec<Invitation>>;

    /// Deletes an invitation of `company`; false when there was none.
    async fn revoke_invitation(&self, company: i64, id: i64) -> StoreResult<bool>;

    /// In one transaction: checks the invitation is pending, unexpired and for `user`, makes
    /// the user a member with its role, and uses it up.
    async fn accept_invitation(&self, id: i64, user: i64, at: i64) -> StoreResult<Accepted>;

    /// Deletes an invitation for `user`; false when there was none.
    async fn decline_invitation(&self, id: i64, user: i64) -> StoreResult<bool>;

    /// Ends the user's membership, unless they are the company's last owner (checked in the
    /// same transaction).
    async fn leave_company(&self, company: i64, user: i64) -> StoreResult<Left>;

    async fn memberships(&self, user: i64) -> StoreResult<Vec<Membership>>;

    /// A page of the user's companies, by name.
    async fn memberships_page(&self, user: i64, page: PageReq) -> StoreResult<Page<Membership>>;

    async fn company(&self, id: i64) -> StoreResult<Option<Company>>;

    async fn company_members(&self, id: i64) -> StoreResult<Vec<(User, Role)>>;

    /// A page of a company's members, by username.
    async fn company_members_page(&self, id: i64, page: PageReq)
        -> StoreResult<Page<(User, Role)>>;

    /// The role of `user` in `company`, if a member.
    async fn role(&self, company: i64, user: i64) -> StoreResult<Option<Role>>;
}
