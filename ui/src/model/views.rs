//! What the dashboard shows: the session's state, the main view, an install in progress and
//! the apps open in their webviews.

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
    /// The notification centre.
    Notifications,
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
    /// The deep path it was last asked to open at (a notification's), if any.
    pub path: Option<String>,
    /// Moves on at each such request: the shell launches it afresh at `path`.
    pub launch: u32,
}
