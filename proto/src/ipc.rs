//! The contract between the desktop shell and the UI in its webview: one type per Tauri
//! command (its arguments, and its answer as [`Command::Output`]), one per event, and the
//! error every command may answer.
//!
//! The UI invokes a command by its [`Command::NAME`] with `{"args": <the command value>}`; the
//! shell's command of that name takes `args: <the type>` and answers `Output`. Both sides name
//! the type, so a command renamed or changed on one side fails to compile on the other (and the
//! shell checks at compile time that each handler is named after its type's `NAME`).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::dashboard::{
    AppCreated, AppPatch, AppView, CatalogApp, CompanyView, DeliveryView, InstallView,
    InvitationSent, InvitationView, LaunchView, MemberView, NewApp, Page, SecretRotated,
};
use crate::inbox::{BadgeView, MarkedRead, NotificationView};
use crate::kinds::{words, UnknownWord};
use crate::Role;

/// A Tauri command: the value is its arguments.
pub trait Command: Serialize + DeserializeOwned {
    /// The name the shell registers it under.
    const NAME: &'static str;
    /// What it answers on success.
    type Output: Serialize + DeserializeOwned;
}

/// An event the shell emits to the UI: the value is its payload.
pub trait Event: Serialize + DeserializeOwned + Clone {
    const NAME: &'static str;
}

/// The answer of a read, with `offline: true` when it comes from the shell's cache because the
/// server could not be reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fetched<T> {
    pub data: T,
    pub offline: bool,
}

/// A sign-in in progress: the page the user signs in on, in their browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInPage {
    pub url: String,
    /// False when no browser could be started: the user must open `url` themselves.
    pub browser_opened: bool,
}

/// What became of the browser session the desktop signed in with, when it signed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrowserSignOut {
    /// The system browser opened the server's sign-out page; [`SignedOutInBrowser`] follows
    /// when the browser comes back.
    Opened,
    /// No browser could be started: Atrium may still be signed in there.
    NoBrowser,
    /// No one was signed in: nothing to sign out of.
    NotSignedIn,
}

/// Whether a user is signed in, and to which server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub signed_in: bool,
    pub server_url: String,
}

words! {
    /// What went wrong, so the UI can offer a way out (sign in again, retry, fix the input).
    ErrorKind ("shell error kind") {
        NotSignedIn = "not_signed_in",
        SessionExpired = "session_expired",
        /// The server could not be reached.
        Offline = "offline",
        /// The server failed, or answered something unexpected.
        Server = "server",
        /// The request was refused: the message says what to fix.
        Invalid = "invalid",
        Internal = "internal",
    }
}

impl ErrorKind {
    /// The session is gone: the UI should show the sign-in screen.
    pub fn needs_sign_in(self) -> bool {
        matches!(self, ErrorKind::NotSignedIn | ErrorKind::SessionExpired)
    }
}

/// A failed command, as the UI receives it: `{"kind": ..., "message": ...}`; `message` is for
/// people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShellError {
    pub kind: ErrorKind,
    pub message: String,
}

impl std::fmt::Display for ShellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ShellError {}

impl From<UnknownWord> for ShellError {
    fn from(e: UnknownWord) -> ShellError {
        ShellError {
            kind: ErrorKind::Invalid,
            message: e.to_string(),
        }
    }
}

/// One struct per command, named after it, with its arguments as fields.
macro_rules! commands {
    ($(
        $(#[$meta:meta])*
        $name:ident => $ty:ident { $($(#[$fmeta:meta])* $field:ident: $fty:ty),* $(,)? } -> $out:ty;
    )+) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            pub struct $ty {
                $($(#[$fmeta])* pub $field: $fty,)*
            }

            impl Command for $ty {
                const NAME: &'static str = stringify!($name);
                type Output = $out;
            }
        )+

        /// The name of every command.
        pub const COMMANDS: &[&str] = &[$(stringify!($name)),+];
    };
}

commands! {
    /// The UI has shown the signed-in dashboard for the first time (the shell logs how long
    /// that took since start).
    dashboard_shown => DashboardShown {} -> ();
    /// The configured server and whether it answers its health check.
    server_status => ServerStatus {} -> crate::ServerStatus;
    session_state => SessionState {} -> SessionInfo;
    /// Switches servers (signs out of the previous one); answers the URL as normalised.
    set_server_url => SetServerUrl { url: String } -> String;
    /// Starts a sign-in and opens the system browser at the server's sign-in page; answers
    /// that page's URL and whether a browser opened, for the UI to offer the URL to copy. The
    /// outcome arrives as [`SessionChanged`] or [`SignInFailed`].
    sign_in => SignIn {} -> SignInPage;
    /// Forgets and revokes the session here, and opens the server's sign-out page in the system
    /// browser to end the browser's session too.
    sign_out => SignOut {} -> BrowserSignOut;
    me => Me {} -> Fetched<crate::dashboard::Me>;
    /// A page of the catalog; `cursor` is the previous page's `next_cursor`.
    catalog => Catalog { cursor: Option<String> } -> Fetched<Page<CatalogApp>>;
    companies => Companies { cursor: Option<String> } -> Fetched<Page<CompanyView>>;
    create_company => CreateCompany { name: String } -> CompanyView;
    company_members => CompanyMembers { company_id: i64, cursor: Option<String> }
        -> Fetched<Page<MemberView>>;
    /// Invites a username into a company (owners). The answer is the same whether or not the
    /// user exists; they join only when they accept.
    invite_member => InviteMember { company_id: i64, username: String, role: Role }
        -> InvitationSent;
    /// A company's pending invitations (owners).
    company_invitations => CompanyInvitations { company_id: i64 } -> Vec<InvitationView>;
    revoke_invitation => RevokeInvitation { company_id: i64, invitation_id: i64 } -> ();
    /// The signed-in user's pending invitations.
    my_invitations => MyInvitations {} -> Vec<InvitationView>;
    /// Answers the company joined, with the role now held.
    accept_invitation => AcceptInvitation { invitation_id: i64 } -> CompanyView;
    decline_invitation => DeclineInvitation { invitation_id: i64 } -> ();
    /// Leaves a company (refused for its last owner).
    leave_company => LeaveCompany { company_id: i64 } -> ();
    company_installs => CompanyInstalls { company_id: i64, cursor: Option<String> }
        -> Fetched<Page<InstallView>>;
    /// The user allowed the install: the server records it and the app's redirect runs in a
    /// window of its own; [`InstallComplete`] follows when the app is done.
    install_app => InstallApp { client_id: String, company_id: i64 } -> InstallView;
    /// Opens the app's own install URL (as the server lists it) in the system browser.
    install_via_url => InstallViaUrl { client_id: String, company_id: i64 } -> ();
    get_install => GetInstall { install_id: i64 } -> InstallView;
    uninstall => Uninstall { install_id: i64 } -> InstallView;
    /// The URL to open an installed app with, carrying a short-lived launch token.
    launch => Launch { install_id: i64 } -> LaunchView;
    /// Shows an installed app in its own webview, placed over `rect`, and hides the others.
    /// An app that is not open (or asleep) is launched first, with a fresh launch token. With
    /// `path` (a notification's deep path), the app is launched afresh at that path, open or not.
    show_app => ShowApp {
        install_id: i64,
        rect: ViewRect,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    } -> ();
    /// The content area moved or changed size: the apps' webviews follow it.
    place_apps => PlaceApps { rect: ViewRect } -> ();
    /// Hides every app's webview (the dashboard shows one of its own pages).
    hide_apps => HideApps {} -> ();
    /// Closes an app: its webview is destroyed; its data (partition) stays.
    close_app => CloseApp { install_id: i64 } -> ();
    /// Closes every open app (the dashboard signed out or switched companies).
    close_apps => CloseApps {} -> ();
    /// Puts every app that is not shown and not pinned to sleep now ([`AppAsleep`] follows).
    sleep_apps => SleepApps {} -> ();
    /// Pins an app (it never sleeps) or unpins it.
    pin_app => PinApp { install_id: i64, pinned: bool } -> ();
    /// How long an app may stay hidden before it sleeps.
    sleep_settings => SleepSettingsGet {} -> SleepSettings;
    set_sleep_settings => SetSleepSettings { settings: SleepSettings } -> SleepSettings;
    /// A page of the user's notifications from their apps, newest first.
    notifications => Notifications { cursor: Option<String> } -> Page<NotificationView>;
    /// Marks these notifications read (their native notifications are withdrawn).
    mark_notifications_read => MarkNotificationsRead { ids: Vec<i64> } -> MarkedRead;
    /// The badges of the user's installed apps.
    badges => Badges {} -> Vec<BadgeView>;
    /// Do-not-disturb and the muted apps.
    inbox_settings => InboxSettingsGet {} -> InboxSettings;
    set_inbox_settings => SetInboxSettings { settings: InboxSettings } -> InboxSettings;
    /// How the shell hears of new notifications now ([`InboxLink`] tells each change).
    inbox_link => InboxLinkGet {} -> InboxLink;
    /// The count the window's title shows ("Atrium (3)"), 0 for none.
    window_badge => WindowBadge { count: u32 } -> ();
    dev_apps => DevApps { cursor: Option<String> } -> Fetched<Page<AppView>>;
    dev_register => DevRegister { app: NewApp } -> AppCreated;
    dev_update => DevUpdate { client_id: String, patch: AppPatch } -> AppView;
    dev_rotate_secret => DevRotateSecret { client_id: String } -> SecretRotated;
    dev_delete => DevDelete { client_id: String } -> ();
    dev_deliveries => DevDeliveries { client_id: String } -> Vec<DeliveryView>;
    /// Makes an undelivered notification due now; answers it as it now stands.
    dev_retry_delivery => DevRetryDelivery { client_id: String, event_id: String }
        -> DeliveryView;
}

/// A rectangle of the dashboard, in its CSS pixels (an app's webview goes there).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ViewRect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// When hidden apps go to sleep (their webview is destroyed until they are selected again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SleepSettings {
    /// Seconds an app may stay hidden before it sleeps (at least 1).
    pub sleep_after_secs: u64,
}

impl SleepSettings {
    /// Ten minutes.
    pub const DEFAULT_SECS: u64 = 600;
}

impl Default for SleepSettings {
    fn default() -> Self {
        SleepSettings {
            sleep_after_secs: SleepSettings::DEFAULT_SECS,
        }
    }
}

/// An open app went to sleep: its webview is gone, and selecting it launches it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppAsleep {
    pub install_id: i64,
}

impl Event for AppAsleep {
    const NAME: &'static str = "app-asleep";
}

/// The session began (`true`, after a sign-in) or ended (`false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionChanged {
    pub signed_in: bool,
}

impl Event for SessionChanged {
    const NAME: &'static str = "session-changed";
}

/// A sign-in came back refused or unusable; the message says why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SignInFailed {
    pub message: String,
}

impl Event for SignInFailed {
    const NAME: &'static str = "sign-in-failed";
}

/// The browser came back from the server's sign-out page (`atrium://signed-out` with the
/// pending sign-out's `state`): the browser's session ended too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedOutInBrowser {}

impl Event for SignedOutInBrowser {
    const NAME: &'static str = "signed-out-in-browser";
}

/// The pending install's app says it has finished its side (`atrium://install-complete`). A
/// hint only: the UI re-reads the install from the server before it trusts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallComplete {
    pub install_id: i64,
}

impl Event for InstallComplete {
    const NAME: &'static str = "install-complete";
}

/// Which notifications become native ones (the notification centre lists them all).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxSettings {
    /// Do not disturb: no native notification at all.
    #[serde(default)]
    pub do_not_disturb: bool,
    /// The installs whose notifications never become native ones.
    #[serde(default)]
    pub muted: Vec<i64>,
}

impl InboxSettings {
    /// Whether a notification of `install_id` may pop up.
    pub fn may_pop_up(&self, install_id: i64) -> bool {
        !self.do_not_disturb && !self.muted.contains(&install_id)
    }
}

/// A new notification for the user, from the shell's event stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NotificationArrived {
    pub notification: NotificationView,
}

impl Event for NotificationArrived {
    const NAME: &'static str = "notification-arrived";
}

/// Every badge of the user, as they now stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BadgesChanged {
    pub badges: Vec<BadgeView>,
}

impl Event for BadgesChanged {
    const NAME: &'static str = "badges-changed";
}

/// The user clicked a native notification: show its app at its path (the shell has marked it
/// read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenNotification {
    pub id: i64,
    pub install_id: i64,
    pub company_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Event for OpenNotification {
    const NAME: &'static str = "open-notification";
}

words! {
    /// How the shell hears of new notifications.
    InboxMode ("inbox mode") {
        /// Held open: notifications arrive as they are posted.
        Live = "live",
        /// The stream could not be held: the shell asks every [`POLL_SECS`] seconds.
        Polling = "polling",
        /// The server cannot be reached (or no one is signed in).
        Down = "down",
    }
}

/// How often the shell asks for new notifications when it cannot hold the event stream.
pub const POLL_SECS: u64 = 30;

/// The shell's link to the event stream changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxLink {
    pub mode: InboxMode,
}

impl Event for InboxLink {
    const NAME: &'static str = "inbox-link";
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn commands_are_named_in_snake_case_after_their_type() {
        assert_eq!(<Catalog as Command>::NAME, "catalog");
        assert_eq!(<DevRetryDelivery as Command>::NAME, "dev_retry_delivery");
        assert_eq!(COMMANDS.len(), 47);
        for (i, c) in COMMANDS.iter().enumerate() {
            assert!(!COMMANDS[i + 1..].contains(c), "{c} declared twice");
        }
    }

    #[test]
    fn arguments_travel_as_the_commands_fields() {
        let args = InviteMember {
            company_id: 3,
            username: "ada".into(),
            role: Role::Owner,
        };
        assert_eq!(
            serde_json::to_value(&args).unwrap(),
            json!({"company_id": 3, "username": "ada", "role": "owner"})
        );
        let first: Catalog = serde_json::from_value(json!({})).unwrap();
        assert_eq!(first.cursor, None);
        let none: SignOut = serde_json::from_value(json!({})).unwrap();
        assert_eq!(none, SignOut {});
    }

    #[test]
    fn events_keep_their_names_and_payloads() {
        assert_eq!(SessionChanged::NAME, "session-changed");
        assert_eq!(SignInFailed::NAME, "sign-in-failed");
        assert_eq!(InstallComplete::NAME, "install-complete");
        assert_eq!(SignedOutInBrowser::NAME, "signed-out-in-browser");
        assert_eq!(
            serde_json::to_value(BrowserSignOut::NoBrowser).unwrap(),
            json!("no_browser")
        );
        let changed = SessionChanged { signed_in: true };
        assert_eq!(serde_json::to_value(changed).unwrap(), json!(true));
        let failed = SignInFailed {
            message: "no".into(),
        };
        assert_eq!(serde_json::to_value(&failed).unwrap(), json!("no"));
        let done = InstallComplete { install_id: 9 };
        assert_eq!(
            serde_json::to_value(done).unwrap(),
            json!({"install_id": 9})
        );
    }

    #[test]
    fn a_shell_error_is_a_kind_and_a_message() {
        let e = ShellError {
            kind: ErrorKind::SessionExpired,
            message: "your session has ended; sign in again".into(),
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"kind": "session_expired", "message": "your session has ended; sign in again"})
        );
        assert!(e.kind.needs_sign_in());
        assert!(!ErrorKind::Offline.needs_sign_in());
        let words: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            words,
            [
                "not_signed_in",
                "session_expired",
                "offline",
                "server",
                "invalid",
                "internal"
            ]
        );
    }
}
