//! The dashboard's state and the actions that change it (a `Reducible`, as in Yew's examples).

use std::rc::Rc;

use atrium_proto::dashboard::{CatalogApp, CompanyView, InstallView, InvitationView, Me, Page};
use atrium_proto::ServerStatus;
use yew::Reducible;

#[derive(Debug, Clone, PartialEq)]
pub enum SessionState {
    Checking,
    SignedOut,
    SignedIn,
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

/// An app open in the dashboard (kept alive while the user switches).
#[derive(Debug, Clone, PartialEq)]
pub struct OpenApp {
    pub install_id: i64,
    pub name: String,
    pub url: String,
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
    pub sign_in_url: Option<String>,
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
            sign_in_url: None,
        }
    }
}

impl Model {
    pub fn current_company(&self) -> Option<&CompanyView> {
        self.companies.iter().find(|c| Some(c.id) == self.company)
    }

    pub fn is_owner(&self) -> bool {
        self.current_company().is_some_and(|c| c.role == "owner")
    }

    /// The companies the user may install apps into.
    pub fn owned(&self) -> Vec<&CompanyView> {
        self.companies
            .iter()
            .filter(|c| c.role == "owner")
            .collect()
    }

    pub fn installed(&self, client_id: &str) -> Option<&InstallView> {
        self.installs.iter().find(|i| i.client_id == client_id)
    }
}

pub enum Action {
    Server(ServerStatus),
    Session(SessionState),
    SignInStarted(String),
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
                    let server = m.server.take();
                    m = Model {
                        server,
                        ..Model::default()
                    };
                }
                m.session = s;
            }
            Action::SignInStarted(url) => m.sign_in_url = Some(url),
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
                    Some(existing) => *existing = app,
                    None => m.open.push(app),
                }
                m.view = View::Open(id);
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
