//! The dashboard shell: a sidebar and a main area.

use atrium_proto::{HealthState, ServerStatus};
use yew::prelude::*;

use crate::tauri::{invoke, NoArgs};

/// What the main area knows about the server.
#[derive(Clone, PartialEq)]
enum Probe {
    Checking,
    Done(ServerStatus),
    ShellError(String),
}

#[function_component(App)]
pub fn app() -> Html {
    let probe = use_state(|| Probe::Checking);

    let check = {
        let probe = probe.clone();
        Callback::from(move |_| {
            let probe = probe.clone();
            probe.set(Probe::Checking);
            wasm_bindgen_futures::spawn_local(async move {
                match invoke::<_, ServerStatus>("server_status", &NoArgs {}).await {
                    Ok(status) => probe.set(Probe::Done(status)),
                    Err(err) => probe.set(Probe::ShellError(err)),
                }
            });
        })
    };
    {
        let check = check.clone();
        use_effect_with((), move |_| check.emit(()));
    }

    html! {
        <div class="layout">
            <aside class="sidebar">
                <div class="brand">
                    <img class="brand-mark" src="icon.svg" alt="" />
                    <span class="brand-name">{ "Atrium" }</span>
                </div>
                <nav class="nav">
                    <span class="nav-item active">{ "Home" }</span>
                </nav>
                <div class="sidebar-foot">
                    <ServerBadge probe={(*probe).clone()} />
                </div>
            </aside>
            <main class="main">
                <header class="page-head">
                    <h1>{ "Welcome to Atrium" }</h1>
                    <p class="lead">{ "Your company's apps, installed with your consent and opened in one place." }</p>
                </header>
                <ServerCard probe={(*probe).clone()} on_retry={check.reform(|_: MouseEvent| ())} />
            </main>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct ServerBadgeProps {
    probe: Probe,
}

#[function_component(ServerBadge)]
fn server_badge(props: &ServerBadgeProps) -> Html {
    let (class, label) = match &props.probe {
        Probe::Checking => ("dot checking", "Checking…"),
        Probe::Done(ServerStatus {
            health: HealthState::Healthy { .. },
            ..
        }) => ("dot ok", "Online"),
        Probe::Done(_) | Probe::ShellError(_) => ("dot down", "Offline"),
    };
    html! { <span class="server-badge"><span class={class}></span>{ label }</span> }
}

#[derive(Properties, PartialEq)]
struct ServerCardProps {
    probe: Probe,
    on_retry: Callback<MouseEvent>,
}

#[function_component(ServerCard)]
fn server_card(props: &ServerCardProps) -> Html {
    let (url, state, detail) = match &props.probe {
        Probe::Checking => (None, "checking", "Checking the server…".to_string()),
        Probe::Done(s) => match &s.health {
            HealthState::Healthy { version } => (
                Some(s.url.clone()),
                "healthy",
                format!("Server is healthy (version {version})"),
            ),
            HealthState::Unreachable { reason } => (
                Some(s.url.clone()),
                "unreachable",
                format!("Server unreachable: {reason}"),
            ),
        },
        Probe::ShellError(err) => (None, "error", format!("The desktop shell failed: {err}")),
    };
    html! {
        <section class="card">
            <h2>{ "Server" }</h2>
            <dl class="facts">
                <dt>{ "Address" }</dt>
                <dd id="server-url">{ url.unwrap_or_else(|| "—".into()) }</dd>
                <dt>{ "Health" }</dt>
                <dd id="server-health" class={classes!("health", state)} data-state={state}>{ detail }</dd>
            </dl>
            <button class="button" onclick={props.on_retry.clone()} disabled={state == "checking"}>{ "Check again" }</button>
        </section>
    }
}
