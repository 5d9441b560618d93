//! Settings of native notifications: do not disturb, and the apps muted (their notifications
//! are listed in the notification centre but never pop up). Read from and saved to the shell
//! (`inbox.json` in the desktop's data directory).

use atrium_proto::dashboard::InstallView;
use atrium_proto::ipc::{self, InboxSettings};
use yew::prelude::*;

use crate::actions::spawn;
use crate::tauri::invoke;

#[derive(Properties, PartialEq)]
pub struct InboxPrefsProps {
    /// The current company's installs (each may be muted).
    pub installs: Vec<InstallView>,
}

#[function_component(InboxPrefs)]
pub fn inbox_prefs(p: &InboxPrefsProps) -> Html {
    let settings = use_state(|| None::<InboxSettings>);
    let status = use_state(|| None::<String>);
    {
        let settings = settings.clone();
        use_effect_with((), move |_| {
            spawn(async move {
                if let Ok(s) = invoke(&ipc::InboxSettingsGet {}).await {
                    settings.set(Some(s));
                }
            })
        });
    }
    let save = {
        let settings = settings.clone();
        let status = status.clone();
        Callback::from(move |next: InboxSettings| {
            let settings = settings.clone();
            let status = status.clone();
            spawn(async move {
                match invoke(&ipc::SetInboxSettings { settings: next }).await {
                    Ok(saved) => {
                        settings.set(Some(saved));
                        status.set(Some("Saved.".into()));
                    }
                    Err(e) => status.set(Some(e.message)),
                }
            });
        })
    };
    let Some(current) = (*settings).clone() else {
        return html! {};
    };
    let dnd = {
        let current = current.clone();
        save.reform(move |_: Event| InboxSettings {
            do_not_disturb: !current.do_not_disturb,
            ..current.clone()
        })
    };
    html! {
        <div class="card" id="inbox-settings">
            <h2>{ "Notifications" }</h2>
            <p class="muted small">{ "Your apps' notifications are always listed under Notifications. These settings say which also pop up on your desktop." }</p>
            <label class="check"><input type="checkbox" id="dnd" checked={current.do_not_disturb} onchange={dnd} />
                { " Do not disturb (no pop-ups at all)" }</label>
            if !p.installs.is_empty() {
                <p class="small">{ "Mute an app of this company:" }</p>
            }
            { for p.installs.iter().map(|i| {
                let id = i.id;
                let muted = current.muted.contains(&id);
                let toggle = {
                    let current = current.clone();
                    save.reform(move |_: Event| {
                        let mut next = current.clone();
                        if muted {
                            next.muted.retain(|m| *m != id);
                        } else {
                            next.muted.push(id);
                        }
                        next
                    })
                };
                html! {
                    <label class="check"><input type="checkbox" class="mute" data-install={id.to_string()} checked={muted} onchange={toggle} />
                        { format!(" Mute {}", i.app_name) }</label>
                }
            }) }
            if let Some(s) = &*status { <p class="small muted" id="inbox-settings-status" role="status">{ s }</p> }
        </div>
    }
}
