//! The notification centre: the recent notifications, grouped by app (newest app first), each
//! read or unread, opened (its app at its deep path) or marked read; and how the shell hears of
//! new ones (live, polling, or not at all).

use std::collections::HashMap;

use atrium_proto::inbox::NotificationView;
use atrium_proto::ipc::InboxMode;
use yew::prelude::*;

use super::mono;

#[derive(Properties, PartialEq)]
pub struct NotificationsProps {
    /// Newest first.
    pub notifications: Vec<NotificationView>,
    pub mode: Option<InboxMode>,
    /// The companies' names, by id (a notification of another company says which).
    pub companies: Vec<(i64, String)>,
    pub company: Option<i64>,
    pub on_open: Callback<NotificationView>,
    pub on_mark_read: Callback<Vec<i64>>,
}

#[function_component(Notifications)]
pub fn notifications(p: &NotificationsProps) -> Html {
    // Groups in the order of their newest notification.
    let mut order: Vec<i64> = Vec::new();
    let mut groups: HashMap<i64, Vec<&NotificationView>> = HashMap::new();
    for n in &p.notifications {
        if !groups.contains_key(&n.install_id) {
            order.push(n.install_id);
        }
        groups.entry(n.install_id).or_default().push(n);
    }
    let unread: Vec<i64> = p
        .notifications
        .iter()
        .filter(|n| !n.read)
        .map(|n| n.id)
        .collect();
    let (mode, mode_text) = match p.mode {
        Some(InboxMode::Live) => ("live", "Live: new notifications arrive as they are sent."),
        Some(InboxMode::Polling) => (
            "polling",
            "The live connection cannot be held here: checking every 30 seconds.",
        ),
        Some(InboxMode::Down) => ("down", "Cannot reach the server: trying again."),
        None => ("connecting", "Connecting…"),
    };
    let company_name = |id: i64| {
        p.companies
            .iter()
            .find(|(c, _)| *c == id)
            .map(|(_, name)| name.clone())
    };
    html! {
        <section id="notifications">
            <header class="page-head">
                <h1>{ "Notifications" }</h1>
                <span class="spacer"></span>
                if !unread.is_empty() {
                    <button class="button secondary" id="mark-all-read"
                        onclick={p.on_mark_read.reform(move |_: MouseEvent| unread.clone())}>{ "Mark all read" }</button>
                }
            </header>
            <p class="small muted" id="inbox-link" data-mode={mode}>{ mode_text }</p>
            if p.notifications.is_empty() {
                <p class="muted">{ "Nothing yet. Your apps' notifications appear here, and on your desktop unless you mute them in Settings." }</p>
            }
            { for order.iter().map(|install_id| {
                let list = &groups[install_id];
                let first = list[0];
                let elsewhere = (Some(first.company_id) != p.company)
                    .then(|| company_name(first.company_id))
                    .flatten();
                html! {
                    <div class="card notification-group" data-install={install_id.to_string()}>
                        <h2>{ mono(&first.app_name, "small") }{ &first.app_name }
                            if let Some(c) = elsewhere { <span class="muted small">{ format!(" in {c}") }</span> }
                        </h2>
                        <ul class="plain">
                            { for list.iter().map(|n| notification(n, p)) }
                        </ul>
                    </div>
                }
            }) }
        </section>
    }
}

fn notification(n: &NotificationView, p: &NotificationsProps) -> Html {
    let open = {
        let n = n.clone();
        p.on_open.reform(move |_: MouseEvent| n.clone())
    };
    let id = n.id;
    html! {
        <li class={classes!("notification", (!n.read).then_some("unread"))} data-id={n.id.to_string()} data-read={n.read.to_string()}>
            <div class="notification-text">
                <strong>{ &n.title }</strong>
                if !n.body.is_empty() { <span class="small">{ &n.body }</span> }
                <span class="small muted">{ when(n.created_at) }</span>
            </div>
            <button class="button secondary notification-open" onclick={open}>{ "Open" }</button>
            if !n.read {
                <button class="link notification-read" onclick={p.on_mark_read.reform(move |_: MouseEvent| vec![id])}>{ "Mark read" }</button>
            }
        </li>
    }
}

/// When it was sent, in the user's local time.
fn when(unix: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix as f64 * 1000.0));
    String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED))
}
