//! Settings: the user's companies (and creating one), the server's address, when hidden
//! apps go to sleep (and putting them all to sleep now), and which notifications pop up
//! ([`super::inbox_settings`]).

use atrium_proto::dashboard::{CompanyView, InstallView};
use atrium_proto::ipc::{self, SleepSettings};
use yew::prelude::*;

use super::inbox_settings::InboxPrefs;
use super::input_value;
use crate::actions::spawn;
use crate::tauri::invoke;

#[derive(Properties, PartialEq)]
pub struct SettingsProps {
    pub companies: Vec<CompanyView>,
    /// The current company's installs (each may be muted).
    pub installs: Vec<InstallView>,
    /// The server's address as configured.
    pub server_url: String,
    /// Create a company with this name.
    pub on_create_company: Callback<String>,
    /// Switch to the server at this address (signs out).
    pub on_set_server: Callback<String>,
}

#[function_component(Settings)]
pub fn settings(p: &SettingsProps) -> Html {
    let name = use_state(String::new);
    let url = {
        let initial = p.server_url.clone();
        use_state(move || initial)
    };
    let create = {
        let on_create = p.on_create_company.clone();
        let name = name.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if !name.trim().is_empty() {
                on_create.emit((*name).clone());
                name.set(String::new());
            }
        })
    };
    let save_url = {
        let on_set_server = p.on_set_server.clone();
        let url = url.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            on_set_server.emit((*url).clone());
        })
    };
    html! {
        <section id="settings">
            <header class="page-head"><h1>{ "Settings" }</h1></header>
            <div class="card">
                <h2>{ "Companies" }</h2>
                <ul class="plain">{ for p.companies.iter().map(|c| html! { <li>{ format!("{} — {}", c.name, c.role) }</li> }) }</ul>
                <form class="field-row" onsubmit={create}>
                    <label for="new-company">{ "New company" }</label>
                    <input id="new-company" value={(*name).clone()} oninput={ { let name = name.clone(); move |e: InputEvent| name.set(input_value(&e)) } } />
                    <button class="button" type="submit">{ "Create" }</button>
                </form>
            </div>
            <AppSleep />
            <InboxPrefs installs={p.installs.clone()} />
            <div class="card">
                <h2>{ "Server" }</h2>
                <form class="field-row" onsubmit={save_url}>
                    <label for="settings-server">{ "Address" }</label>
                    <input id="settings-server" type="url" value={(*url).clone()} oninput={ { let url = url.clone(); move |e: InputEvent| url.set(input_value(&e)) } } />
                    <button class="button secondary" type="submit">{ "Switch (signs you out)" }</button>
                </form>
            </div>
        </section>
    }
}

/// When hidden apps go to sleep, read from and saved to the shell.
#[function_component(AppSleep)]
fn app_sleep() -> Html {
    // Minutes, as typed.
    let minutes = use_state(String::new);
    let status = use_state(|| None::<String>);
    {
        let minutes = minutes.clone();
        use_effect_with((), move |_| {
            spawn(async move {
                if let Ok(s) = invoke(&ipc::SleepSettingsGet {}).await {
                    minutes.set(format_minutes(s.sleep_after_secs));
                }
            })
        });
    }
    let save = {
        let minutes = minutes.clone();
        let status = status.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let status = status.clone();
            let Some(secs) = parse_minutes(&minutes) else {
                status.set(Some("Enter a number of minutes above zero.".into()));
                return;
            };
            spawn(async move {
                let set = ipc::SetSleepSettings {
                    settings: SleepSettings {
                        sleep_after_secs: secs,
                    },
                };
                status.set(Some(match invoke(&set).await {
                    Ok(_) => "Saved.".into(),
                    Err(e) => e.message,
                }));
            });
        })
    };
    let sleep_now = {
        let status = status.clone();
        Callback::from(move |_: MouseEvent| {
            let status = status.clone();
            spawn(async move {
                status.set(Some(match invoke(&ipc::SleepApps {}).await {
                    Ok(()) => "Every hidden app that is not pinned is asleep.".into(),
                    Err(e) => e.message,
                }));
            });
        })
    };
    html! {
        <div class="card" id="app-sleep">
            <h2>{ "Open apps" }</h2>
            <p class="muted small">{ "An app you have not looked at for a while goes to sleep to free its memory; selecting it opens it again. Pinned apps never sleep." }</p>
            <form class="field-row" onsubmit={save}>
                <label for="sleep-after">{ "Sleep after (minutes)" }</label>
                <input id="sleep-after" type="number" min="0.05" step="any" value={(*minutes).clone()}
                    oninput={ { let m = minutes.clone(); move |e: InputEvent| m.set(input_value(&e)) } } />
                <button class="button secondary" id="sleep-save" type="submit">{ "Save" }</button>
                <button class="button secondary" id="sleep-now" type="button" onclick={sleep_now}>{ "Put all apps to sleep now" }</button>
            </form>
            if let Some(s) = &*status { <p class="small muted" id="sleep-status" role="status">{ s }</p> }
        </div>
    }
}

fn format_minutes(secs: u64) -> String {
    if secs.is_multiple_of(60) {
        (secs / 60).to_string()
    } else {
        format!("{:.2}", secs as f64 / 60.0)
    }
}

/// Minutes as typed (a decimal number above zero) in whole seconds, at least one.
fn parse_minutes(text: &str) -> Option<u64> {
    let m: f64 = text.trim().parse().ok()?;
    (m.is_finite() && m > 0.0).then(|| ((m * 60.0).round() as u64).max(1))
}
