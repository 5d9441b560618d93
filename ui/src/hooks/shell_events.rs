//! Listening to the shell's events (`atrium_proto::ipc`) while a component is mounted.

use std::cell::RefCell;
use std::rc::Rc;

use atrium_proto::ipc::{
    AppAsleep, BadgesChanged, Event, InboxLink, InstallComplete, NotificationArrived,
    OpenNotification, SessionChanged, SignInFailed, SignedOutInBrowser,
};
use yew::prelude::*;

use crate::actions::{self, spawn, Dispatch};
use crate::model::{Action, SessionState};
use crate::tauri::{listen, Listener};

/// Calls `handler` with each event `E` the shell emits, from mount to unmount. The handler of
/// the first render is kept.
#[hook]
pub fn use_shell_event<E: Event + 'static>(handler: Callback<E>) {
    use_effect_with((), move |_| {
        // The subscription, once made; `None` inside after unmount, so a subscription that
        // completes late is dropped (unsubscribed) at once.
        let held: Rc<RefCell<Option<Option<Listener>>>> = Rc::new(RefCell::new(Some(None)));
        let slot = held.clone();
        spawn(async move {
            let listener = listen::<E>(move |e| handler.emit(e)).await;
            if let Some(alive) = slot.borrow_mut().as_mut() {
                *alive = listener;
            }
        });
        move || drop(held.borrow_mut().take())
    });
}

/// The dashboard's answers to the shell's events: a sign-in loads the dashboard, a sign-out
/// shows the sign-in screen, a failed sign-in is shown, the browser's return from signing out
/// is confirmed, and a finished install is checked with the server and opened; an app put to
/// sleep is shown asleep. Notifications and badges go to the inbox, and a clicked native
/// notification opens its app at its path.
#[hook]
pub fn use_shell_events(d: Dispatch) {
    let on_session = {
        let d = d.clone();
        Callback::from(move |e: SessionChanged| {
            if e.signed_in {
                spawn(actions::load(d.clone()));
            } else {
                d.dispatch(Action::Session(SessionState::SignedOut));
            }
        })
    };
    let on_failed = {
        let d = d.clone();
        Callback::from(move |e: SignInFailed| d.dispatch(Action::Notice(Some(e.message))))
    };
    let on_browser_signed_out = {
        let d = d.clone();
        Callback::from(move |_: SignedOutInBrowser| d.dispatch(Action::SignedOutInBrowser))
    };
    let on_installed = {
        let d = d.clone();
        Callback::from(move |e: InstallComplete| {
            spawn(actions::finish_install(d.clone(), e.install_id))
        })
    };
    let on_asleep = {
        let d = d.clone();
        Callback::from(move |e: AppAsleep| d.dispatch(Action::Asleep(e.install_id)))
    };
    let on_notified = {
        let d = d.clone();
        Callback::from(move |e: NotificationArrived| {
            d.dispatch(Action::Notified(vec![e.notification]))
        })
    };
    let on_badges = {
        let d = d.clone();
        Callback::from(move |e: BadgesChanged| d.dispatch(Action::Badges(e.badges)))
    };
    let on_link = {
        let d = d.clone();
        Callback::from(move |e: InboxLink| d.dispatch(Action::InboxMode(e.mode)))
    };
    let on_open = {
        let d = d.clone();
        Callback::from(move |e: OpenNotification| {
            spawn(crate::inbox_actions::open_at(d.clone(), e))
        })
    };
    use_shell_event(on_notified);
    use_shell_event(on_badges);
    use_shell_event(on_link);
    use_shell_event(on_open);
    use_shell_event(on_asleep);
    use_shell_event(on_session);
    use_shell_event(on_failed);
    use_shell_event(on_browser_signed_out);
    use_shell_event(on_installed);
}
