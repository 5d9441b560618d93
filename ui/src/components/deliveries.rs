//! The deliveries of one app: its install notifications not delivered yet (waiting, retrying
//! or given up), with the next attempt, the attempts so far, the last classified error, and a
//! "Retry now" button each. A pure view: the developer pane loads and retries.

use atrium_proto::dashboard::{DeliveryState, DeliveryView};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DeliveriesProps {
    pub client_id: String,
    pub list: Vec<DeliveryView>,
    /// Retry the notification with this event id now.
    pub on_retry: Callback<String>,
    pub on_refresh: Callback<()>,
    pub on_close: Callback<()>,
}

#[function_component(Deliveries)]
pub fn deliveries(p: &DeliveriesProps) -> Html {
    let now = (js_sys::Date::now() / 1000.0) as i64;
    let refresh = p.on_refresh.reform(|_: MouseEvent| ());
    let close = p.on_close.reform(|_: MouseEvent| ());
    html! {
        <div class="deliveries" id="deliveries" data-client-id={p.client_id.clone()}>
            <div class="app-head">
                <h3>{ "Undelivered notifications" }</h3>
                <span class="muted small">{ &p.client_id }</span>
                <span class="spacer" />
                <button class="link" id="deliveries-refresh" onclick={refresh}>{ "Refresh" }</button>
                <button class="link" onclick={close}>{ "Close" }</button>
            </div>
            if p.list.is_empty() {
                <p class="muted small">{ "None: every notification was delivered." }</p>
            } else {
                <table class="delivery-table">
                    <thead><tr>
                        <th>{ "Event" }</th><th>{ "State" }</th><th>{ "Attempts" }</th>
                        <th>{ "Last error" }</th><th>{ "Next attempt" }</th><th />
                    </tr></thead>
                    <tbody>{ for p.list.iter().map(|d| row(d, now, &p.on_retry)) }</tbody>
                </table>
            }
        </div>
    }
}

fn row(d: &DeliveryView, now: i64, on_retry: &Callback<String>) -> Html {
    let (state, class) = match d.state {
        DeliveryState::Pending => ("waiting", "state pending"),
        DeliveryState::Retrying => ("retrying", "state retrying"),
        DeliveryState::Failed => ("given up", "state failed"),
    };
    let retry = {
        let id = d.event_id.clone();
        on_retry.reform(move |_: MouseEvent| id.clone())
    };
    html! {
        <tr class="delivery" data-event-id={d.event_id.clone()}>
            <td>{ &d.event_type }<br /><span class="muted small">{ &d.event_id }</span></td>
            <td><span class={class}>{ state }</span></td>
            <td>{ d.attempts }</td>
            <td class="last-error">{ d.last_error.clone().unwrap_or_else(|| "—".into()) }</td>
            <td>{ next_attempt(d.next_attempt_at, now) }</td>
            <td><button class="link retry-now" onclick={retry}>{ "Retry now" }</button></td>
        </tr>
    }
}

/// "due now", "in 40 s", "in 5 min", "in 2 h", or "—" once given up.
fn next_attempt(at: Option<i64>, now: i64) -> String {
    match at.map(|t| t - now) {
        None => "—".into(),
        Some(s) if s <= 0 => "due now".into(),
        Some(s) if s < 60 => format!("in {s} s"),
        Some(s) if s < 3600 => format!("in {} min", (s + 59) / 60),
        Some(s) => format!("in {} h", (s + 3599) / 3600),
    }
}
