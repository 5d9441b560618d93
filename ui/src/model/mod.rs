//! The dashboard's state and the actions that change it (a `Reducible`, as in Yew's examples).
//!
//! - [`views`]: the session's state, the main view, an install in progress, the open apps;
//! - [`reduce`]: the [`Action`]s and the reducer;
//! - [`inbox`]: the user's notifications and the apps' badges;
//! - here: the [`Model`] itself and the questions the components ask of it.

pub mod inbox;
mod reduce;
#[cfg(test)]
mod tests;
mod views;

use atrium_proto::dashboard::{CatalogApp, CompanyView, InstallView, InvitationView, Me};
use atrium_proto::ipc::SignInPage;
use atrium_proto::{Role, ServerStatus};

pub use reduce::Action;
pub use views::{InstallStep, Installing, OpenApp, SessionState, SignedOut, View};

#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub session: SessionState,
    pub server: Option<ServerStatus>,
    pub me: Option<Me>,
    pub companies: Vec<CompanyView>,
    /// Where the next page of companies starts, if there is one.
    pub companies_next: Option<String>,
    pub company: Option<i64>,
    pub installs: Vec<InstallView>,
    pub installs_next: Option<String>,
    /// The company whose installs `installs` are (None while they load).
    pub installs_for: Option<i64>,
    pub catalog: Vec<CatalogApp>,
    pub catalog_next: Option<String>,
    /// Invitations to join companies, waiting for the user's answer.
    pub invitations: Vec<InvitationView>,
    pub offline: bool,
    pub view: View,
    pub open: Vec<OpenApp>,
    pub notice: Option<String>,
    /// The sign-in in progress: its page, and whether a browser opened it.
    pub sign_in: Option<SignInPage>,
    /// How the last sign-out went in the browser, until the next sign-in.
    pub signed_out: Option<SignedOut>,
    pub inbox: inbox::Inbox,
}

impl Default for Model {
    fn default() -> Self {
        Model {
            session: SessionState::Checking,
            server: None,
            me: None,
            companies: Vec::new(),
            companies_next: None,
            company: None,
            installs: Vec::new(),
            installs_next: None,
            installs_for: None,
            catalog: Vec::new(),
            catalog_next: None,
            invitations: Vec::new(),
            offline: false,
            view: View::Catalog,
            open: Vec::new(),
            notice: None,
            sign_in: None,
            signed_out: None,
            inbox: inbox::Inbox::default(),
        }
    }
}

impl Model {
    pub fn current_company(&self) -> Option<&CompanyView> {
        self.companies.iter().find(|c| Some(c.id) == self.company)
    }

    pub fn is_owner(&self) -> bool {
        self.current_company().is_some_and(|c| c.role.is_owner())
    }

    /// The companies the user may install apps into.
    pub fn owned(&self) -> Vec<&CompanyView> {
        self.companies
            .iter()
            .filter(|c| c.role.is_owner())
            .collect()
    }

    pub fn installed(&self, client_id: &str) -> Option<&InstallView> {
        self.installs.iter().find(|i| i.client_id == client_id)
    }
}

/// "an owner" or "a member", as a sentence says it.
pub fn role_phrase(role: Role) -> &'static str {
    match role {
        Role::Owner => "an owner",
        Role::Member => "a member",
    }
}
