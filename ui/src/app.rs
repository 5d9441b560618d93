//! The root component: the sign-in screen, or the sidebar beside the main area. It owns the
//! dashboard's reducer ([`crate::model`]), subscribes to the shell's events and shortcuts
//! ([`crate::hooks`]), and hands each component ([`crate::components`]) only the data it shows
//! and callbacks over [`crate::actions`].

use std::collections::HashSet;

use atrium_proto::dashboard::InstallView;
use yew::prelude::*;

use crate::actions::{self, run, send, spawn, Dispatch};
use crate::components::app_detail::AppDetail;
use crate::components::catalog::Catalog;
use crate::components::company::CompanyPane;
use crate::components::consent::Consent;
use crate::components::developer::DeveloperPane;
use crate::components::installing::Installing;
use crate::components::invitations::InvitationsBanner;
use crate::components::notifications::Notifications;
use crate::components::open_apps::OpenApps;
use crate::components::settings::Settings;
use crate::components::sidebar::Sidebar;
use crate::components::sign_in::SignIn;
use crate::hooks::{use_app_shortcuts, use_shell_events};
use crate::model::{Action, Model, SessionState, View};

#[function_component(App)]
pub fn app() -> Html {
    let model = use_reducer(Model::default);
    let d = model.dispatcher();
    {
        let d = d.clone();
        use_effect_with((), move |_| {
            spawn(async move {
                actions::check_server(d.clone()).await;
                actions::check_session(d).await;
            })
        });
    }
    use_shell_events(d.clone());
    use_window_badge(model.inbox.total());
    let on_open = open_or_show(&d, &model);
    use_app_shortcuts(model.installs.clone(), on_open.clone());

    let m = &*model;
    match m.session {
        SessionState::Checking => {
            html! { <div class="splash"><img class="splash-mark" src="icon.svg" alt="" /><p>{ "Opening Atrium…" }</p></div> }
        }
        SessionState::SignedOut => html! {
            <SignIn server={m.server.clone()} sign_in={m.sign_in.clone()} notice={m.notice.clone()}
                signed_out={m.signed_out}
                on_set_server={run(&d, actions::set_server)}
                on_sign_in={run(&d, |d, ()| actions::sign_in(d))} />
        },
        SessionState::SignedIn => html! {
            <div class="layout">
                <Sidebar companies={m.companies.clone()} companies_next={m.companies_next.clone()} company={m.company}
                    installs={m.installs.clone()} installs_next={m.installs_next.clone()} installs_for={m.installs_for}
                    open={m.open.iter().map(|o| o.install_id).collect::<Vec<_>>()}
                    asleep={m.open.iter().filter(|o| o.asleep).map(|o| o.install_id).collect::<Vec<_>>()} view={m.view.clone()}
                    badges={m.installs.iter().map(|i| (i.id, m.inbox.badge(i.id))).filter(|(_, n)| *n > 0).collect::<Vec<_>>()}
                    total={m.inbox.total()} inbox_mode={m.inbox.mode.map(|mode| mode.as_str())}
                    offline={m.offline} username={m.me.as_ref().map(|me| me.username.clone())}
                    on_select_company={run(&d, actions::select_company)}
                    on_more_companies={run(&d, actions::more_companies)}
                    on_more_installs={run(&d, |d, (company, cursor): (i64, String)| actions::more_installs(d, company, cursor))}
                    on_show={send(&d, Action::Show)} on_open={on_open.clone()}
                    on_sign_out={run(&d, |d, ()| actions::sign_out(d))} />
                <main class="main">
                    if let Some(n) = &m.notice {
                        <div class="notice" role="status">
                            <span>{ n }</span>
                            <button class="link" onclick={send(&d, |_: MouseEvent| Action::Notice(None))}>{ "Dismiss" }</button>
                        </div>
                    }
                    <InvitationsBanner invitations={m.invitations.clone()}
                        on_accept={run(&d, actions::accept_invitation)}
                        on_decline={run(&d, actions::decline_invitation)} />
                    { page(m, &d, &on_open) }
                    <OpenApps open={m.open.clone()} shown={match m.view { View::Open(id) => Some(id), _ => None }}
                        installs={m.installs.clone()} owner={m.is_owner()}
                        on_uninstall={run(&d, actions::uninstall)} on_close={send(&d, Action::Closed)}
                        on_pin={run(&d, actions::pin)}
                        on_failed={ { let d = d.clone(); Callback::from(move |(id, e)| actions::open_failed(&d, id, e)) } } />
                </main>
            </div>
        },
    }
}

/// The window's title carries the total of the badges: "Atrium (3)" (the shell sets the
/// window's; the document's follows, as WebDriver and screen readers read that one).
#[hook]
fn use_window_badge(total: u32) {
    use_effect_with(total, move |&count| {
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            doc.set_title(&match count {
                0 => "Atrium".to_string(),
                n => format!("Atrium ({n})"),
            });
        }
        spawn(async move {
            let _ = crate::tauri::invoke(&atrium_proto::ipc::WindowBadge { count }).await;
        });
    });
}

/// Opens an installed app, or shows it if it is open already.
fn open_or_show(d: &Dispatch, m: &Model) -> Callback<InstallView> {
    let d = d.clone();
    // Open and awake: shown as it is. Asleep or not open: (re)opened, with a fresh launch.
    let awake: Vec<i64> = m
        .open
        .iter()
        .filter(|o| !o.asleep)
        .map(|o| o.install_id)
        .collect();
    Callback::from(move |install: InstallView| {
        if awake.contains(&install.id) {
            d.dispatch(Action::Show(View::Open(install.id)));
        } else {
            spawn(actions::open(d.clone(), install));
        }
    })
}

/// What the main area shows above the open apps.
fn page(m: &Model, d: &Dispatch, on_open: &Callback<InstallView>) -> Html {
    let to_catalog = send(d, |()| Action::Show(View::Catalog));
    let find = |id: &str| m.catalog.iter().find(|a| a.client_id == id).cloned();
    match &m.view {
        View::Catalog => {
            let installed: HashSet<String> =
                m.installs.iter().map(|i| i.client_id.clone()).collect();
            html! {
                <Catalog apps={m.catalog.clone()} {installed} next={m.catalog_next.clone()}
                    on_show_app={send(d, |id| Action::Show(View::AppDetail(id)))}
                    on_more={run(d, actions::more_catalog)} />
            }
        }
        View::AppDetail(id) => match find(id) {
            Some(app) => {
                let installed = m.installed(&app.client_id).cloned();
                let owned: Vec<_> = m.owned().into_iter().cloned().collect();
                let client_id = app.client_id.clone();
                let on_install = send(d, move |company_id| {
                    Action::Show(View::Consent {
                        client_id: client_id.clone(),
                        company_id,
                    })
                });
                html! {
                    <AppDetail {app} {owned} {installed} on_back={to_catalog} {on_install} on_open={on_open.clone()} />
                }
            }
            None => html! { <p>{ "This app is not in the catalog any more." }</p> },
        },
        View::Consent {
            client_id,
            company_id,
        } => match find(client_id) {
            Some(app) => {
                let company_id = *company_id;
                let company = m
                    .companies
                    .iter()
                    .find(|c| c.id == company_id)
                    .map(|c| c.name.clone())
                    .unwrap_or_default();
                let target = app.clone();
                let on_allow = run(d, move |d, ()| {
                    let app = target.clone();
                    async move {
                        if app.install_url.is_some() {
                            actions::install_via_url(d, app, company_id).await
                        } else {
                            actions::install(d, app, company_id).await
                        }
                    }
                });
                html! { <Consent {app} {company} {on_allow} on_cancel={to_catalog} /> }
            }
            None => html! {},
        },
        View::Installing(progress) => {
            html! { <Installing progress={progress.clone()} on_back={to_catalog} /> }
        }
        View::Open(_) => html! {},
        View::Company => html! {
            <CompanyPane company={m.current_company().cloned()} on_leave={run(d, actions::leave_company)} />
        },
        View::Developer => html! { <DeveloperPane /> },
        View::Notifications => html! {
            <Notifications notifications={m.inbox.notifications.clone()} mode={m.inbox.mode}
                companies={m.companies.iter().map(|c| (c.id, c.name.clone())).collect::<Vec<_>>()} company={m.company}
                on_open={run(d, crate::inbox_actions::open_listed)}
                on_mark_read={run(d, crate::inbox_actions::mark_read)} />
        },
        View::Settings => html! {
            <Settings companies={m.companies.clone()} installs={m.installs.clone()}
                server_url={m.server.as_ref().map(|s| s.url.clone()).unwrap_or_default()}
                on_create_company={run(d, actions::create_company)}
                on_set_server={run(d, actions::set_server)} />
        },
    }
}
