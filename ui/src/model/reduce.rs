//! The actions that change the dashboard's [`Model`], and the reducer that applies them.

use std::rc::Rc;

use atrium_proto::dashboard::{CatalogApp, CompanyView, InstallView, InvitationView, Me, Page};
use atrium_proto::inbox::{BadgeView, NotificationView};
use atrium_proto::ipc::{InboxMode, SignInPage};
use atrium_proto::ServerStatus;
use yew::Reducible;

use super::{Installing, Model, OpenApp, SessionState, SignedOut, View};

pub enum Action {
    Server(ServerStatus),
    Session(SessionState),
    SignInStarted(SignInPage),
    /// The user signed out; how it went in the browser.
    SignedOut(SignedOut),
    /// The browser came back from the server's sign-out page.
    SignedOutInBrowser,
    /// The user and the first pages of their companies and of the catalog.
    Loaded {
        me: Me,
        companies: Page<CompanyView>,
        catalog: Page<CatalogApp>,
        offline: bool,
    },
    /// The next page of the catalog.
    MoreCatalog(Page<CatalogApp>),
    /// The next page of the user's companies.
    MoreCompanies(Page<CompanyView>),
    SelectCompany(i64),
    Invitations(Vec<InvitationView>),
    /// The first page of a company's installs.
    Installs(i64, Page<InstallView>),
    /// A further page of a company's installs.
    MoreInstalls(i64, Page<InstallView>),
    Show(View),
    Installing(Installing),
    Opened(OpenApp),
    Closed(i64),
    /// The shell put an open app to sleep.
    Asleep(i64),
    Pinned(i64, bool),
    Notice(Option<String>),
    /// Notifications to list: a first page, or a new one from the shell.
    Notified(Vec<NotificationView>),
    Badges(Vec<BadgeView>),
    InboxMode(InboxMode),
    /// These notifications are read.
    Read(Vec<i64>),
}

/// Appends a further page, skipping any item already shown (a page read after the list
/// changed may repeat one).
fn append<T, K: PartialEq>(list: &mut Vec<T>, more: Vec<T>, key: impl Fn(&T) -> K) {
    for item in more {
        let k = key(&item);
        if !list.iter().any(|x| key(x) == k) {
            list.push(item);
        }
    }
}

impl Reducible for Model {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut m = (*self).clone();
        match action {
            Action::Server(s) => m.server = Some(s),
            Action::Session(s) => {
                if s == SessionState::SignedOut {
                    let (server, signed_out) = (m.server.take(), m.signed_out);
                    m = Model {
                        server,
                        signed_out,
                        ..Model::default()
                    };
                }
                m.session = s;
            }
            Action::SignInStarted(page) => {
                m.sign_in = Some(page);
                m.signed_out = None;
            }
            // The browser may come back before the sign-out command answers: that stands.
            Action::SignedOut(how) if m.signed_out != Some(SignedOut::Everywhere) => {
                m.signed_out = Some(how)
            }
            // The shell confirms only the sign-out it waits for; a signed-in dashboard has none.
            Action::SignedOutInBrowser if m.session != SessionState::SignedIn => {
                m.signed_out = Some(SignedOut::Everywhere)
            }
            Action::SignedOut(_) | Action::SignedOutInBrowser => {}
            Action::Loaded {
                me,
                companies,
                catalog,
                offline,
            } => {
                if !companies.items.iter().any(|c| Some(c.id) == m.company) {
                    m.company = companies.items.first().map(|c| c.id);
                }
                m.me = Some(me);
                m.companies = companies.items;
                m.companies_next = companies.next_cursor;
                m.catalog = catalog.items;
                m.catalog_next = catalog.next_cursor;
                m.offline = offline;
                m.session = SessionState::SignedIn;
                m.signed_out = None;
            }
            Action::MoreCatalog(page) => {
                append(&mut m.catalog, page.items, |a| a.client_id.clone());
                m.catalog_next = page.next_cursor;
            }
            Action::MoreCompanies(page) => {
                append(&mut m.companies, page.items, |c| c.id);
                m.companies_next = page.next_cursor;
            }
            Action::MoreInstalls(company, page) => {
                if m.company == Some(company) {
                    append(&mut m.installs, page.items, |i| i.id);
                    m.installs_next = page.next_cursor;
                }
            }
            Action::SelectCompany(id) => {
                if m.company != Some(id) {
                    m.company = Some(id);
                    m.installs.clear();
                    m.installs_next = None;
                    m.installs_for = None;
                    m.open.clear();
                    m.view = View::Catalog;
                }
            }
            Action::Invitations(list) => m.invitations = list,
            Action::Installs(company, page) => {
                if m.company == Some(company) {
                    let list = page.items;
                    m.installs_next = page.next_cursor;
                    m.open.retain(|o| list.iter().any(|i| i.id == o.install_id));
                    if let View::Open(id) = m.view {
                        if !list.iter().any(|i| i.id == id) {
                            m.view = View::Catalog;
                        }
                    }
                    m.installs = list;
                    m.installs_for = Some(company);
                }
            }
            Action::Show(v) => {
                m.notice = None;
                m.view = v;
            }
            Action::Installing(i) => m.view = View::Installing(i),
            Action::Opened(app) => {
                let id = app.install_id;
                match m.open.iter_mut().find(|o| o.install_id == id) {
                    Some(existing) => {
                        existing.name = app.name;
                        existing.asleep = false;
                        if app.path.is_some() {
                            existing.path = app.path;
                            existing.launch += 1;
                        }
                    }
                    None => m.open.push(app),
                }
                m.view = View::Open(id);
            }
            Action::Asleep(id) => {
                if let Some(o) = m.open.iter_mut().find(|o| o.install_id == id) {
                    o.asleep = true;
                }
            }
            Action::Pinned(id, pinned) => {
                if let Some(o) = m.open.iter_mut().find(|o| o.install_id == id) {
                    o.pinned = pinned;
                }
            }
            Action::Closed(id) => {
                m.open.retain(|o| o.install_id != id);
                if m.view == View::Open(id) {
                    m.view = View::Catalog;
                }
            }
            Action::Notice(n) => m.notice = n,
            Action::Notified(list) => m.inbox.add(list),
            Action::Badges(b) => m.inbox.badges = b,
            Action::InboxMode(mode) => m.inbox.mode = Some(mode),
            Action::Read(ids) => m.inbox.mark_read(&ids),
        }
        Rc::new(m)
    }
}
