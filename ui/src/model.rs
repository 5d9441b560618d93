//! The dashboard's state and the actions that change it (a `Reducible`, as in Yew's examples).

use std::rc::Rc;

use atrium_proto::dashboard::{CatalogApp, CompanyView, InstallView, InvitationView, Me, Page};
use atrium_proto::ipc::SignInPage;
use atrium_proto::{Role, ServerStatus};
use yew::Reducible;

#[derive(Debug, Clone, PartialEq)]
pub enum SessionState {
    Checking,
    SignedOut,
    SignedIn,
}

/// What the sign-in screen says about the browser after a sign-out: the sign-in happened in
/// the system browser, whose own Atrium session the sign-out ends too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedOut {
    /// The browser opened the server's sign-out page; it has not come back yet.
    InBrowser,
    /// The browser came back: its session ended too.
    Everywhere,
    /// No browser could be started: Atrium may still be signed in there.
    BrowserMayRemain,
}

/// What the main area shows.
#[derive(Debug, Clone, PartialEq)]
pub enum View {
    Catalog,
    AppDetail(String),
    Consent {
        client_id: String,
        company_id: i64,
    },
    Installing(Installing),
    Open(i64),
    /// The current company's members, invitations, and leaving it.
    Company,
    Developer,
    Settings,
}

/// The steps of an install in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Installing {
    pub app_name: String,
    pub install_id: Option<i64>,
    pub step: InstallStep,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InstallStep {
    Approving,
    /// The app's install URL is open in the system browser, where the app asks for consent.
    InBrowser,
    WaitingForApp,
    Opening,
    Failed(String),
}

/// An app open in the dashboard, in a webview of its own that the shell keeps alive while the
/// user switches, until it has been hidden long enough to sleep.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenApp {
    pub install_id: i64,
    pub name: String,
    /// Its webview is gone; showing it launches it again.
    pub asleep: bool,
    /// It never sleeps.
    pub pinned: bool,
}

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
        }
        Rc::new(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atrium_proto::{InstallState, ServerStatus};

    fn company(id: i64, role: Role) -> CompanyView {
        CompanyView {
            id,
            name: format!("Company {id}"),
            role,
        }
    }

    fn install(id: i64, company_id: i64) -> InstallView {
        InstallView {
            id,
            client_id: format!("app-{id}"),
            app_name: format!("App {id}"),
            company_id,
            scopes: Vec::new(),
            state: InstallState::Active,
            installed_by: None,
            has_ui: true,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn page<T>(items: Vec<T>, next: Option<&str>) -> Page<T> {
        Page {
            items,
            next_cursor: next.map(str::to_string),
        }
    }

    fn opened(id: i64) -> Action {
        Action::Opened(OpenApp {
            install_id: id,
            name: format!("App {id}"),
            asleep: false,
            pinned: false,
        })
    }

    fn run(m: Model, actions: Vec<Action>) -> Model {
        let mut m = Rc::new(m);
        for a in actions {
            m = m.reduce(a);
        }
        (*m).clone()
    }

    fn loaded(companies: Vec<CompanyView>) -> Action {
        Action::Loaded {
            me: Me {
                username: "ada".into(),
                display_name: "Ada".into(),
                email: None,
            },
            companies: page(companies, None),
            catalog: Page::default(),
            offline: false,
        }
    }

    #[test]
    fn loading_signs_in_and_selects_the_first_company_unless_one_is_still_there() {
        let m = run(
            Model::default(),
            vec![loaded(vec![
                company(1, Role::Member),
                company(2, Role::Owner),
            ])],
        );
        assert_eq!(m.session, SessionState::SignedIn);
        assert_eq!(m.company, Some(1));
        assert!(!m.is_owner());
        assert_eq!(m.owned().len(), 1);
        let m = run(
            m,
            vec![
                Action::SelectCompany(2),
                loaded(vec![company(1, Role::Member), company(2, Role::Owner)]),
            ],
        );
        assert_eq!(m.company, Some(2));
        assert!(m.is_owner());
    }

    #[test]
    fn switching_company_forgets_its_installs_and_open_apps() {
        let m = run(
            Model::default(),
            vec![
                loaded(vec![company(1, Role::Owner), company(2, Role::Owner)]),
                Action::Installs(1, page(vec![install(10, 1)], Some("c"))),
                opened(10),
                Action::SelectCompany(2),
            ],
        );
        assert!(m.installs.is_empty());
        assert_eq!(m.installs_next, None);
        assert_eq!(m.installs_for, None);
        assert!(m.open.is_empty());
        assert_eq!(m.view, View::Catalog);
    }

    #[test]
    fn installs_of_another_company_than_the_one_shown_are_ignored() {
        let m = run(
            Model::default(),
            vec![
                loaded(vec![company(1, Role::Owner), company(2, Role::Owner)]),
                Action::Installs(2, page(vec![install(20, 2)], None)),
                Action::MoreInstalls(2, page(vec![install(21, 2)], None)),
            ],
        );
        assert!(m.installs.is_empty());
        assert_eq!(m.installs_for, None);
    }

    #[test]
    fn an_app_no_longer_installed_is_closed_and_its_view_left() {
        let m = run(
            Model::default(),
            vec![
                loaded(vec![company(1, Role::Owner)]),
                Action::Installs(1, page(vec![install(10, 1), install(11, 1)], None)),
                opened(10),
                opened(11),
                Action::Installs(1, page(vec![install(11, 1)], None)),
            ],
        );
        assert_eq!(m.open.len(), 1);
        assert_eq!(m.open[0].install_id, 11);
        assert_eq!(m.view, View::Open(11));
        let m = run(m, vec![Action::Installs(1, Page::default())]);
        assert!(m.open.is_empty());
        assert_eq!(m.view, View::Catalog);
        assert_eq!(m.installs_for, Some(1));
    }

    #[test]
    fn opening_an_open_app_again_replaces_it_and_closing_leaves_its_view() {
        let m = run(Model::default(), vec![opened(5), opened(6), opened(5)]);
        assert_eq!(m.open.len(), 2);
        assert_eq!(m.view, View::Open(5));
        let m = run(m, vec![Action::Closed(6)]);
        assert_eq!(m.view, View::Open(5));
        let m = run(m, vec![Action::Closed(5)]);
        assert!(m.open.is_empty());
        assert_eq!(m.view, View::Catalog);
    }

    #[test]
    fn an_app_asleep_wakes_when_opened_again_and_keeps_its_pin() {
        let m = run(
            Model::default(),
            vec![
                opened(5),
                Action::Pinned(5, true),
                opened(6),
                Action::Asleep(5),
            ],
        );
        assert!(m.open[0].asleep && m.open[0].pinned);
        assert!(!m.open[1].asleep);
        let m = run(m, vec![opened(5)]);
        assert!(!m.open[0].asleep && m.open[0].pinned);
        assert_eq!(m.view, View::Open(5));
    }

    #[test]
    fn further_pages_skip_what_is_already_shown() {
        let m = run(
            Model::default(),
            vec![
                loaded(vec![company(1, Role::Owner)]),
                Action::MoreCompanies(page(
                    vec![company(1, Role::Owner), company(3, Role::Member)],
                    Some("3"),
                )),
            ],
        );
        let ids: Vec<i64> = m.companies.iter().map(|c| c.id).collect();
        assert_eq!(ids, [1, 3]);
        assert_eq!(m.companies_next.as_deref(), Some("3"));
    }

    #[test]
    fn signing_out_forgets_everything_but_the_server() {
        let server = ServerStatus {
            url: "http://127.0.0.1:8000".into(),
            health: atrium_proto::HealthState::Unreachable {
                reason: "down".into(),
            },
        };
        let m = run(
            Model::default(),
            vec![
                Action::Server(server.clone()),
                loaded(vec![company(1, Role::Owner)]),
                Action::Notice(Some("hello".into())),
                Action::Session(SessionState::SignedOut),
            ],
        );
        assert_eq!(
            m,
            Model {
                server: Some(server),
                session: SessionState::SignedOut,
                ..Model::default()
            }
        );
    }

    #[test]
    fn the_browsers_sign_out_is_shown_until_the_next_sign_in_and_confirmed_once_it_returns() {
        let m = run(
            Model::default(),
            vec![
                loaded(vec![company(1, Role::Owner)]),
                Action::SignedOut(SignedOut::InBrowser),
                Action::Session(SessionState::SignedOut),
            ],
        );
        assert_eq!(m.signed_out, Some(SignedOut::InBrowser));
        let m = run(m, vec![Action::SignedOutInBrowser]);
        assert_eq!(m.signed_out, Some(SignedOut::Everywhere));
        let page = SignInPage {
            url: "http://127.0.0.1:8000/oauth2/authorize".into(),
            browser_opened: true,
        };
        let m = run(m, vec![Action::SignInStarted(page)]);
        assert_eq!(m.signed_out, None);
        // The browser came back before the command answered: it stays confirmed.
        let m = run(
            m,
            vec![
                Action::Session(SessionState::SignedOut),
                Action::SignedOutInBrowser,
                Action::SignedOut(SignedOut::InBrowser),
            ],
        );
        assert_eq!(m.signed_out, Some(SignedOut::Everywhere));
        let m = run(m, vec![loaded(vec![])]);
        assert_eq!(m.signed_out, None);
        let m = run(m, vec![Action::SignedOutInBrowser]);
        assert_eq!(m.signed_out, None, "nothing to confirm while signed in");
    }

    #[test]
    fn showing_a_view_dismisses_the_notice() {
        let m = run(
            Model::default(),
            vec![
                Action::Notice(Some("done".into())),
                Action::Show(View::Settings),
            ],
        );
        assert_eq!(m.notice, None);
        assert_eq!(m.view, View::Settings);
        assert_eq!(role_phrase(Role::Owner), "an owner");
    }
}
