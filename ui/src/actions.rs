//! What the dashboard does: each action calls the shell and dispatches what it learned to the
//! dashboard's reducer ([`crate::model`]). The root component ([`crate::app`]) turns them into
//! the callbacks it hands to components, which stay views.

use atrium_proto::dashboard::{CatalogApp, CompanyView, InstallView, InvitationView};
use atrium_proto::ipc;
use yew::{Callback, Reducible, UseReducerDispatcher};

use crate::model::{
    Action, InstallStep, Installing, Model, OpenApp, SessionState, SignedOut, View,
};
use crate::tauri::{invoke, ShellError};

pub type Dispatch = UseReducerDispatcher<Model>;

pub fn spawn(f: impl std::future::Future<Output = ()> + 'static) {
    wasm_bindgen_futures::spawn_local(f);
}

/// A callback that runs the action `f` with the reducer's dispatcher and what it is given.
pub fn run<M, T, F>(
    d: &UseReducerDispatcher<M>,
    f: impl Fn(UseReducerDispatcher<M>, T) -> F + 'static,
) -> Callback<T>
where
    M: Reducible + 'static,
    T: 'static,
    F: std::future::Future<Output = ()> + 'static,
{
    let d = d.clone();
    Callback::from(move |x| spawn(f(d.clone(), x)))
}

/// A callback that dispatches `f` of what it is given.
pub fn send<M, T>(d: &UseReducerDispatcher<M>, f: impl Fn(T) -> M::Action + 'static) -> Callback<T>
where
    M: Reducible + 'static,
    T: 'static,
{
    let d = d.clone();
    Callback::from(move |x| d.dispatch(f(x)))
}

/// Shows an error, or the sign-in screen when the session is gone.
pub fn fail(d: &Dispatch, err: ShellError) {
    if err.kind.needs_sign_in() {
        d.dispatch(Action::Session(SessionState::SignedOut));
    }
    d.dispatch(Action::Notice(Some(err.message)));
}

pub async fn check_server(d: Dispatch) {
    if let Ok(s) = invoke(&ipc::ServerStatus {}).await {
        d.dispatch(Action::Server(s));
    }
}

pub async fn check_session(d: Dispatch) {
    match invoke(&ipc::SessionState {}).await {
        Ok(s) if s.signed_in => load(d).await,
        Ok(_) => d.dispatch(Action::Session(SessionState::SignedOut)),
        Err(e) => {
            d.dispatch(Action::Session(SessionState::SignedOut));
            d.dispatch(Action::Notice(Some(e.message)));
        }
    }
}

/// Loads the user, their companies and the catalog, then the selected company's installs.
pub async fn load(d: Dispatch) {
    let me = invoke(&ipc::Me {}).await;
    let companies = invoke(&ipc::Companies { cursor: None }).await;
    let catalog = invoke(&ipc::Catalog { cursor: None }).await;
    match (me, companies, catalog) {
        (Ok(me), Ok(companies), Ok(catalog)) => {
            let first = companies.data.items.first().map(|c| c.id);
            d.dispatch(Action::Loaded {
                offline: me.offline || companies.offline || catalog.offline,
                me: me.data,
                companies: companies.data,
                catalog: catalog.data,
            });
            if let Some(id) = first {
                load_installs(d.clone(), id).await;
            }
            load_invitations(d.clone()).await;
            crate::inbox_actions::load(d.clone()).await;
            // The dispatches above have rendered the dashboard; tell the shell (it logs the
            // time since start once).
            let _ = invoke(&ipc::DashboardShown {}).await;
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => fail(&d, e),
    }
}

pub async fn load_installs(d: Dispatch, company_id: i64) {
    let arg = ipc::CompanyInstalls {
        company_id,
        cursor: None,
    };
    match invoke(&arg).await {
        Ok(f) => d.dispatch(Action::Installs(company_id, f.data)),
        Err(e) => fail(&d, e),
    }
}

/// The next page of the catalog, after `cursor`.
pub async fn more_catalog(d: Dispatch, cursor: String) {
    match invoke(&ipc::Catalog {
        cursor: Some(cursor),
    })
    .await
    {
        Ok(f) => d.dispatch(Action::MoreCatalog(f.data)),
        Err(e) => fail(&d, e),
    }
}

/// The next page of the user's companies, after `cursor`.
pub async fn more_companies(d: Dispatch, cursor: String) {
    match invoke(&ipc::Companies {
        cursor: Some(cursor),
    })
    .await
    {
        Ok(f) => d.dispatch(Action::MoreCompanies(f.data)),
        Err(e) => fail(&d, e),
    }
}

/// The next page of a company's installs, after `cursor`.
pub async fn more_installs(d: Dispatch, company_id: i64, cursor: String) {
    let arg = ipc::CompanyInstalls {
        company_id,
        cursor: Some(cursor),
    };
    match invoke(&arg).await {
        Ok(f) => d.dispatch(Action::MoreInstalls(company_id, f.data)),
        Err(e) => fail(&d, e),
    }
}

/// The user's pending invitations (shown as a banner). A failure leaves the list as it was:
/// the dashboard works without it.
pub async fn load_invitations(d: Dispatch) {
    if let Ok(list) = invoke(&ipc::MyInvitations {}).await {
        d.dispatch(Action::Invitations(list));
    }
}

/// Accepts an invitation, then shows the company joined.
pub async fn accept_invitation(d: Dispatch, invitation: InvitationView) {
    let arg = ipc::AcceptInvitation {
        invitation_id: invitation.id,
    };
    match invoke(&arg).await {
        Ok(c) => {
            load(d.clone()).await;
            select_company(d.clone(), c.id).await;
            let role = crate::model::role_phrase(c.role);
            d.dispatch(Action::Notice(Some(format!(
                "You joined {} as {role}.",
                c.name
            ))));
        }
        Err(e) => {
            fail(&d, e);
            load_invitations(d).await;
        }
    }
}

pub async fn decline_invitation(d: Dispatch, invitation: InvitationView) {
    let arg = ipc::DeclineInvitation {
        invitation_id: invitation.id,
    };
    match invoke(&arg).await {
        Ok(()) => {
            d.dispatch(Action::Notice(Some(format!(
                "You declined the invitation to {}.",
                invitation.company_name
            ))));
            load_invitations(d).await;
        }
        Err(e) => {
            fail(&d, e);
            load_invitations(d).await;
        }
    }
}

/// Leaves the company; the dashboard moves to another one. The server refuses for the last
/// owner, and the reason is shown.
pub async fn leave_company(d: Dispatch, company: CompanyView) {
    match invoke(&ipc::LeaveCompany {
        company_id: company.id,
    })
    .await
    {
        Ok(()) => {
            load(d.clone()).await;
            d.dispatch(Action::Show(View::Catalog));
            d.dispatch(Action::Notice(Some(format!("You left {}.", company.name))));
        }
        Err(e) => fail(&d, e),
    }
}

pub async fn select_company(d: Dispatch, company_id: i64) {
    d.dispatch(Action::SelectCompany(company_id));
    load_installs(d, company_id).await;
}

pub async fn set_server(d: Dispatch, url: String) {
    match invoke(&ipc::SetServerUrl { url }).await {
        Ok(_) => {
            d.dispatch(Action::Notice(None));
            check_server(d).await;
        }
        Err(e) => d.dispatch(Action::Notice(Some(e.message))),
    }
}

pub async fn sign_in(d: Dispatch) {
    match invoke(&ipc::SignIn {}).await {
        Ok(page) => d.dispatch(Action::SignInStarted(page)),
        Err(e) => d.dispatch(Action::Notice(Some(e.message))),
    }
}

/// Signs out here, and says what became of the browser's session: its sign-out page opened,
/// or no browser could be started and Atrium may still be signed in there.
pub async fn sign_out(d: Dispatch) {
    let answer = invoke(&ipc::SignOut {}).await;
    let how = match &answer {
        Ok(ipc::BrowserSignOut::Opened) => Some(SignedOut::InBrowser),
        Ok(ipc::BrowserSignOut::NoBrowser) => Some(SignedOut::BrowserMayRemain),
        Ok(ipc::BrowserSignOut::NotSignedIn) | Err(_) => None,
    };
    if let Some(how) = how {
        d.dispatch(Action::SignedOut(how));
    }
    d.dispatch(Action::Session(SessionState::SignedOut));
    if let Err(e) = answer {
        d.dispatch(Action::Notice(Some(e.message)));
    }
}

pub async fn create_company(d: Dispatch, name: String) {
    match invoke(&ipc::CreateCompany { name }).await {
        Ok(c) => {
            load(d.clone()).await;
            select_company(d, c.id).await;
        }
        Err(e) => fail(&d, e),
    }
}

/// Allow: the server records the install; the app's redirect runs in its own window; the
/// `install-complete` deep link then calls [`finish_install`].
pub async fn install(d: Dispatch, app: CatalogApp, company_id: i64) {
    // Show the company the app goes into, so it appears among its installed apps.
    d.dispatch(Action::SelectCompany(company_id));
    let mut progress = Installing {
        app_name: app.name.clone(),
        install_id: None,
        step: InstallStep::Approving,
    };
    d.dispatch(Action::Installing(progress.clone()));
    match invoke(&ipc::InstallApp {
        client_id: app.client_id.clone(),
        company_id,
    })
    .await
    {
        Ok(install) => {
            progress.install_id = Some(install.id);
            progress.step = InstallStep::WaitingForApp;
            d.dispatch(Action::Installing(progress));
            load_installs(d, company_id).await;
        }
        Err(e) => {
            if e.kind.needs_sign_in() {
                return fail(&d, e);
            }
            progress.step = InstallStep::Failed(e.message);
            d.dispatch(Action::Installing(progress));
        }
    }
}

/// The app said it is done (a hint): re-read the install from the server, then open it.
/// How long the dashboard watches for an install finished in the browser, and how often.
const BROWSER_INSTALL_WAIT_MS: i32 = 10 * 60 * 1000;
const BROWSER_INSTALL_POLL_MS: i32 = 2000;

/// An app with an install URL asks for consent itself: the shell opens that URL in the system
/// browser, the app starts its own authorization request there (with its own PKCE and state),
/// and the user picks the company and allows. The dashboard watches the company's installs
/// until the app appears, then opens it.
pub async fn install_via_url(d: Dispatch, app: CatalogApp, company_id: i64) {
    let mut progress = Installing {
        app_name: app.name.clone(),
        install_id: None,
        step: InstallStep::InBrowser,
    };
    d.dispatch(Action::Installing(progress.clone()));
    if let Err(e) = invoke(&ipc::InstallViaUrl {
        client_id: app.client_id.clone(),
        company_id,
    })
    .await
    {
        if e.kind.needs_sign_in() {
            return fail(&d, e);
        }
        progress.step = InstallStep::Failed(e.message);
        return d.dispatch(Action::Installing(progress));
    }
    let mut waited = 0;
    while waited < BROWSER_INSTALL_WAIT_MS {
        sleep_ms(BROWSER_INSTALL_POLL_MS).await;
        waited += BROWSER_INSTALL_POLL_MS;
        if let Some(id) = find_install(company_id, &app.client_id).await {
            return finish_install(d, id).await;
        }
    }
    progress.step = InstallStep::Failed("it was not finished in the browser".into());
    d.dispatch(Action::Installing(progress));
}

/// The active install of `client_id` in the company, looked for through every page.
async fn find_install(company_id: i64, client_id: &str) -> Option<i64> {
    let mut cursor: Option<String> = None;
    loop {
        let arg = ipc::CompanyInstalls { company_id, cursor };
        let page = invoke(&arg).await.ok()?.data;
        if let Some(done) = page
            .items
            .iter()
            .find(|i| i.client_id == client_id && i.state.is_active())
        {
            return Some(done.id);
        }
        cursor = Some(page.next_cursor?);
    }
}

async fn sleep_ms(ms: i32) {
    let wait = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(wait).await;
}

pub async fn finish_install(d: Dispatch, install_id: i64) {
    match invoke(&ipc::GetInstall { install_id }).await {
        Ok(install) if install.state.is_active() => {
            d.dispatch(Action::Installing(Installing {
                app_name: install.app_name.clone(),
                install_id: Some(install.id),
                step: InstallStep::Opening,
            }));
            load_installs(d.clone(), install.company_id).await;
            open(d, install).await;
        }
        Ok(install) => d.dispatch(Action::Installing(Installing {
            app_name: install.app_name,
            install_id: Some(install.id),
            step: InstallStep::Failed("the install is not active any more".into()),
        })),
        Err(e) => fail(&d, e),
    }
}

pub async fn open(d: Dispatch, install: InstallView) {
    if !install.has_ui {
        d.dispatch(Action::Show(View::Catalog));
        d.dispatch(Action::Notice(Some(format!(
            "{} is installed; it has no screen to open.",
            install.app_name
        ))));
        return;
    }
    // The open-apps area asks the shell to show it (launching it first), once it knows where.
    d.dispatch(Action::Opened(OpenApp {
        install_id: install.id,
        name: install.app_name,
        asleep: false,
        pinned: false,
        path: None,
        launch: 0,
    }));
}

/// Pins an open app (it never sleeps) or unpins it.
pub async fn pin(d: Dispatch, (install_id, pinned): (i64, bool)) {
    match invoke(&ipc::PinApp { install_id, pinned }).await {
        Ok(()) => d.dispatch(Action::Pinned(install_id, pinned)),
        Err(e) => fail(&d, e),
    }
}

/// The shell could not show an app (its launch failed): it is closed, and the reason shown.
pub fn open_failed(d: &Dispatch, install_id: i64, e: ShellError) {
    d.dispatch(Action::Closed(install_id));
    fail(d, e);
}

pub async fn uninstall(d: Dispatch, install: InstallView) {
    match invoke(&ipc::Uninstall {
        install_id: install.id,
    })
    .await
    {
        Ok(_) => {
            d.dispatch(Action::Closed(install.id));
            d.dispatch(Action::Notice(Some(format!(
                "{} was uninstalled.",
                install.app_name
            ))));
            load_installs(d, install.company_id).await;
        }
        Err(e) => fail(&d, e),
    }
}
