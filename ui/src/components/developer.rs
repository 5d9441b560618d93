//! The developer pane: register an app, see its secrets once (with copy buttons), edit it,
//! rotate the client secret, delete it, and see its notifications not delivered yet (retrying
//! one now if wanted). Its state is its own reducer ([`crate::dev_model`]); what it does is in
//! [`crate::dev_actions`].

use atrium_proto::dashboard::AppView;
use yew::prelude::*;

use super::deliveries::Deliveries;
use super::edit_app::EditApp;
use super::mono;
use super::register_app::RegisterApp;
use crate::actions::{run, send, spawn};
use crate::dev_actions as act;
use crate::dev_model::{DevAction, DevModel, Revealed};

fn copy(text: String) -> Callback<MouseEvent> {
    Callback::from(move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(&text);
        }
    })
}

#[function_component(DeveloperPane)]
pub fn developer_pane() -> Html {
    let m = use_reducer(DevModel::default);
    let d = m.dispatcher();
    {
        let d = d.clone();
        use_effect_with((), move |_| spawn(act::reload(d)));
    }
    let register = {
        let d = d.clone();
        let app = m.draft.to_new_app();
        Callback::from(move |()| spawn(act::register(d.clone(), app.clone())))
    };
    let more = {
        let cursor = m.apps.next_cursor.clone();
        run(&d, move |d, _: MouseEvent| act::more(d, cursor.clone()))
    };
    html! {
        <section id="developer">
            <header class="page-head"><h1>{ "Developer" }</h1>
                <p class="lead">{ "Register apps that Atrium users can install." }</p></header>
            if let Some(e) = &m.error { <p class="error" role="alert">{ e }</p> }
            if let Some(r) = &m.revealed {
                <Secrets revealed={r.clone()} on_hide={send(&d, |()| DevAction::HideSecrets)} />
            }
            <div class="card">
                <h2>{ "Your apps" }</h2>
                if m.apps.items.is_empty() { <p class="muted">{ "You have not registered an app yet." }</p> }
                <ul class="plain" id="my-apps">
                    { for m.apps.items.iter().map(|a| html! {
                        <AppRow app={a.clone()}
                            on_edit={send(&d, DevAction::Edit)}
                            on_rotate={run(&d, act::rotate_secret)}
                            on_deliveries={run(&d, act::deliveries)}
                            on_delete={run(&d, act::delete)} />
                    }) }
                </ul>
                if m.apps.next_cursor.is_some() {
                    <button class="button secondary more" id="my-apps-more" onclick={more}>{ "Load more" }</button>
                }
                if let Some((id, draft)) = &m.editing {
                    <EditApp draft={draft.clone()}
                        on_save={ { let id = id.clone(); run(&d, move |d, patch| act::update(d, id.clone(), patch)) } }
                        on_cancel={send(&d, |()| DevAction::EditDone)} />
                }
                if let Some((id, list)) = &m.deliveries {
                    <Deliveries client_id={id.clone()} list={list.clone()}
                        on_retry={ { let id = id.clone(); run(&d, move |d, event| act::retry_delivery(d, id.clone(), event)) } }
                        on_refresh={ { let id = id.clone(); run(&d, move |d, ()| act::deliveries(d, id.clone())) } }
                        on_close={send(&d, |()| DevAction::CloseDeliveries)} />
                }
            </div>
            <RegisterApp draft={m.draft.clone()} on_change={send(&d, DevAction::Typed)} on_submit={register} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct SecretsProps {
    revealed: Revealed,
    on_hide: Callback<()>,
}

/// Secrets shown once, right after they were made.
#[function_component(Secrets)]
fn secrets(p: &SecretsProps) -> Html {
    let r = &p.revealed;
    html! {
        <div class="card reveal" id="secrets">
            <h2>{ "Keep these secrets now" }</h2>
            <p class="muted small">{ "They are shown once. Atrium stores only a digest of the client secret." }</p>
            <dl class="facts">
                <dt>{ "Client ID" }</dt><dd id="new-client-id">{ &r.client_id }</dd>
                if let Some(s) = &r.client_secret {
                    <dt>{ "Client secret" }</dt><dd><span id="new-client-secret">{ s }</span>
                        <button class="link" onclick={copy(s.clone())}>{ "Copy" }</button></dd>
                }
                if let Some(s) = &r.webhook_secret {
                    <dt>{ "Webhook secret" }</dt><dd><span>{ s }</span>
                        <button class="link" onclick={copy(s.clone())}>{ "Copy" }</button></dd>
                }
            </dl>
            <button class="button secondary" onclick={p.on_hide.reform(|_: MouseEvent| ())}>{ "I saved them" }</button>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct AppRowProps {
    app: AppView,
    on_edit: Callback<AppView>,
    /// These take the app's client id.
    on_rotate: Callback<String>,
    on_deliveries: Callback<String>,
    on_delete: Callback<String>,
}

/// One of the developer's apps, with what can be done to it.
#[function_component(AppRow)]
fn app_row(p: &AppRowProps) -> Html {
    let a = &p.app;
    let id = || {
        let id = a.client_id.clone();
        move |_: MouseEvent| id.clone()
    };
    let kind = a.application_type.as_str();
    let summary = format!(
        " {} · {} · {}{} · {}",
        a.client_id,
        kind,
        if a.public { "public · " } else { "" },
        a.method.as_str().to_uppercase(),
        a.scopes
    );
    html! {
        <li class="dev-app" data-client-id={a.client_id.clone()}>
            { mono(&a.name, "small") }
            <span class="grow"><strong>{ &a.name }</strong>
                <span class="muted small">{ summary }</span></span>
            <button class="link" onclick={ { let a = a.clone(); p.on_edit.reform(move |_: MouseEvent| a.clone()) } }>{ "Edit" }</button>
            if !a.public { <button class="link" onclick={p.on_rotate.reform(id())}>{ "Rotate secret" }</button> }
            <button class="link show-deliveries" onclick={p.on_deliveries.reform(id())}>{ "Deliveries" }</button>
            <button class="link danger" onclick={p.on_delete.reform(id())}>{ "Delete" }</button>
        </li>
    }
}
