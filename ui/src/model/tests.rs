//! The reducer's tests, on the host.

use std::rc::Rc;

use atrium_proto::dashboard::{Me, Page};
use yew::Reducible;

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
        path: None,
        launch: 0,
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

#[test]
fn opening_an_app_at_a_path_launches_it_again_there_and_signing_out_forgets_the_inbox() {
    let at = |path: &str| {
        Action::Opened(OpenApp {
            install_id: 5,
            name: "App 5".into(),
            asleep: false,
            pinned: false,
            path: Some(path.into()),
            launch: 0,
        })
    };
    let m = run(
        Model::default(),
        vec![opened(5), Action::Asleep(5), at("/a")],
    );
    assert_eq!(
        (m.open[0].path.as_deref(), m.open[0].launch),
        (Some("/a"), 1)
    );
    assert!(!m.open[0].asleep);
    let m = run(m, vec![opened(5)]);
    assert_eq!(m.open[0].launch, 1, "a plain open shows it as it is");
    let m = run(
        m,
        vec![
            Action::Badges(vec![atrium_proto::inbox::BadgeView {
                install_id: 5,
                count: 3,
            }]),
            Action::Session(SessionState::SignedOut),
        ],
    );
    assert_eq!(m.inbox, Default::default());
}
