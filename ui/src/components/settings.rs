//! Settings: the user's companies (and creating one), and the server's address.

use atrium_proto::dashboard::CompanyView;
use yew::prelude::*;

use super::input_value;

#[derive(Properties, PartialEq)]
pub struct SettingsProps {
    pub companies: Vec<CompanyView>,
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
