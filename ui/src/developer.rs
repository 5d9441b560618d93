//! The developer pane: register an app, see its secrets once (with copy buttons), rotate the
//! client secret, delete the app, and see its notifications not delivered yet (retrying one
//! now if wanted).

use atrium_proto::dashboard::{
    AppCreated, AppPatch, AppView, DeliveryView, NewApp, Page, SecretRotated,
};
use serde::Serialize;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::actions::spawn;
use crate::deliveries::Deliveries;
use crate::tauri::{invoke, CursorArg, Fetched};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClientArg<'a> {
    client_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RetryArgs<'a> {
    client_id: &'a str,
    event_id: &'a str,
}

#[derive(Serialize)]
struct RegisterArgs {
    app: NewApp,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UpdateArgs<'a> {
    client_id: &'a str,
    patch: AppPatch,
}

/// Secrets shown once, right after they were made.
#[derive(Clone, PartialEq)]
struct Revealed {
    client_id: String,
    client_secret: Option<String>,
    webhook_secret: Option<String>,
}

fn copy(text: String) -> Callback<MouseEvent> {
    Callback::from(move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(&text);
        }
    })
}

#[function_component(DeveloperPane)]
pub fn developer_pane() -> Html {
    // The pages of the developer's apps loaded so far, and where the next one starts.
    let apps = use_state(Page::<AppView>::default);
    let error = use_state(|| None::<String>);
    let revealed = use_state(|| None::<Revealed>);
    let deliveries = use_state(|| None::<(String, Vec<DeliveryView>)>);
    let form = use_state(NewApp::default);
    let scopes = use_state(|| vec!["profile".to_string()]);
    // The app being edited, with its draft.
    let editing = use_state(|| None::<(String, AppPatch)>);

    let reload = {
        let apps = apps.clone();
        let error = error.clone();
        Callback::from(move |_: ()| {
            let apps = apps.clone();
            let error = error.clone();
            spawn(async move {
                match invoke::<_, Fetched<Page<AppView>>>("dev_apps", &CursorArg { cursor: None })
                    .await
                {
                    Ok(f) => apps.set(f.data),
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };
    let more = {
        let apps = apps.clone();
        let error = error.clone();
        Callback::from(move |_: MouseEvent| {
            let apps = apps.clone();
            let error = error.clone();
            let cursor = apps.next_cursor.clone();
            spawn(async move {
                let arg = CursorArg {
                    cursor: cursor.as_deref(),
                };
                match invoke::<_, Fetched<Page<AppView>>>("dev_apps", &arg).await {
                    Ok(f) => {
                        let mut all = (*apps).clone();
                        all.items.extend(f.data.items);
                        all.next_cursor = f.data.next_cursor;
                        apps.set(all);
                    }
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };
    {
        let reload = reload.clone();
        use_effect_with((), move |_| reload.emit(()));
    }

    // Loads the deliveries of an app into the panel.
    let load_deliveries = {
        let deliveries = deliveries.clone();
        let error = error.clone();
        Callback::from(move |id: String| {
            let deliveries = deliveries.clone();
            let error = error.clone();
            spawn(async move {
                match invoke::<_, Vec<DeliveryView>>(
                    "dev_deliveries",
                    &ClientArg { client_id: &id },
                )
                .await
                {
                    Ok(list) => deliveries.set(Some((id, list))),
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };
    // Makes one due now, then shows the list as it now stands.
    let retry_delivery = {
        let deliveries = deliveries.clone();
        let load = load_deliveries.clone();
        let error = error.clone();
        Callback::from(move |event_id: String| {
            let Some((id, _)) = (*deliveries).clone() else {
                return;
            };
            let load = load.clone();
            let error = error.clone();
            spawn(async move {
                match invoke::<_, DeliveryView>(
                    "dev_retry_delivery",
                    &RetryArgs {
                        client_id: &id,
                        event_id: &event_id,
                    },
                )
                .await
                {
                    Ok(_) => load.emit(id),
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };

    let register = {
        let form = form.clone();
        let scopes = scopes.clone();
        let error = error.clone();
        let revealed = revealed.clone();
        let reload = reload.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut app = (*form).clone();
            app.scopes = scopes.join(" ");
            if app.method.is_empty() {
                app.method = "code".into();
            }
            let error = error.clone();
            let revealed = revealed.clone();
            let reload = reload.clone();
            let form = form.clone();
            spawn(async move {
                match invoke::<_, AppCreated>("dev_register", &RegisterArgs { app }).await {
                    Ok(created) => {
                        error.set(None);
                        revealed.set(Some(Revealed {
                            client_id: created.app.client_id,
                            client_secret: created.client_secret,
                            webhook_secret: Some(created.webhook_secret),
                        }));
                        form.set(NewApp::default());
                        reload.emit(());
                    }
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };

    let text = |f: fn(&mut NewApp, String)| {
        let form = form.clone();
        Callback::from(move |e: InputEvent| {
            let mut next = (*form).clone();
            f(
                &mut next,
                e.target_unchecked_into::<HtmlInputElement>().value(),
            );
            form.set(next);
        })
    };
    let uris = {
        let form = form.clone();
        Callback::from(move |e: InputEvent| {
            let mut next = (*form).clone();
            next.redirect_uris = e
                .target_unchecked_into::<HtmlTextAreaElement>()
                .value()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            form.set(next);
        })
    };
    let method = {
        let form = form.clone();
        Callback::from(move |e: Event| {
            let mut next = (*form).clone();
            next.method = e.target_unchecked_into::<HtmlSelectElement>().value();
            form.set(next);
        })
    };
    let app_type = {
        let form = form.clone();
        Callback::from(move |e: Event| {
            let mut next = (*form).clone();
            next.application_type = Some(e.target_unchecked_into::<HtmlSelectElement>().value());
            form.set(next);
        })
    };
    let scope_box = |name: &'static str, label: &'static str| {
        let scopes = scopes.clone();
        let checked = scopes.iter().any(|s| s == name);
        html! {
            <label class="check"><input type="checkbox" name="scope" value={name} {checked}
                onchange={move |_| {
                    let mut next = (*scopes).clone();
                    if let Some(i) = next.iter().position(|s| s == name) { next.remove(i); } else { next.push(name.to_string()); }
                    scopes.set(next);
                }} />{ label }</label>
        }
    };

    html! {
        <section id="developer">
            <header class="page-head"><h1>{ "Developer" }</h1>
                <p class="lead">{ "Register apps that Atrium users can install." }</p></header>
            if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
            if let Some(r) = &*revealed {
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
                    <button class="button secondary" onclick={ { let r = revealed.clone(); move |_| r.set(None) } }>{ "I saved them" }</button>
                </div>
            }
            <div class="card">
                <h2>{ "Your apps" }</h2>
                if apps.items.is_empty() { <p class="muted">{ "You have not registered an app yet." }</p> }
                <ul class="plain" id="my-apps">
                    { for apps.items.iter().map(|a| {
                        let id = a.client_id.clone();
                        let rotate = {
                            let id = id.clone(); let revealed = revealed.clone(); let error = error.clone();
                            Callback::from(move |_| {
                                let id = id.clone(); let revealed = revealed.clone(); let error = error.clone();
                                spawn(async move {
                                    match invoke::<_, SecretRotated>("dev_rotate_secret", &ClientArg { client_id: &id }).await {
                                        Ok(r) => revealed.set(Some(Revealed { client_id: r.client_id, client_secret: Some(r.client_secret), webhook_secret: None })),
                                        Err(e) => error.set(Some(e.message)),
                                    }
                                });
                            })
                        };
                        let delete = {
                            let id = id.clone(); let reload = reload.clone(); let error = error.clone();
                            Callback::from(move |_| {
                                let id = id.clone(); let reload = reload.clone(); let error = error.clone();
                                spawn(async move {
                                    match invoke::<_, ()>("dev_delete", &ClientArg { client_id: &id }).await {
                                        Ok(()) => reload.emit(()),
                                        Err(e) => error.set(Some(e.message)),
                                    }
                                });
                            })
                        };
                        let show_deliveries = {
                            let id = id.clone(); let load = load_deliveries.clone();
                            Callback::from(move |_| load.emit(id.clone()))
                        };
                        let edit = {
                            let editing = editing.clone();
                            let a = a.clone();
                            Callback::from(move |_| editing.set(Some((a.client_id.clone(), AppPatch {
                                name: Some(a.name.clone()),
                                description: Some(a.description.clone()),
                                redirect_uris: Some(a.redirect_uris.clone()),
                                iframe_url: Some(a.iframe_url.clone().unwrap_or_default()),
                                webhook_url: Some(a.webhook_url.clone().unwrap_or_default()),
                                install_url: Some(a.install_url.clone().unwrap_or_default()),
                                ..AppPatch::default()
                            }))))
                        };
                        html! {
                            <li class="dev-app" data-client-id={a.client_id.clone()}>
                                { crate::app::mono(&a.name, "small") }
                                <span class="grow"><strong>{ &a.name }</strong>
                                    <span class="muted small">{ format!(" {} · {} · {}{} · {}", a.client_id, if a.application_type == "native" { "native" } else { "web" }, if a.public { "public · " } else { "" }, a.method.to_uppercase(), a.scopes) }</span></span>
                                <button class="link" onclick={edit}>{ "Edit" }</button>
                                if !a.public { <button class="link" onclick={rotate}>{ "Rotate secret" }</button> }
                                <button class="link show-deliveries" onclick={show_deliveries}>{ "Deliveries" }</button>
                                <button class="link danger" onclick={delete}>{ "Delete" }</button>
                            </li>
                        }
                    }) }
                </ul>
                if apps.next_cursor.is_some() {
                    <button class="button secondary more" id="my-apps-more" onclick={more}>{ "Load more" }</button>
                }
                if let Some((id, draft)) = &*editing {
                    <EditForm client_id={id.clone()} draft={draft.clone()}
                        on_done={ { let editing = editing.clone(); let reload = reload.clone(); let error = error.clone();
                            Callback::from(move |result: Result<(), String>| {
                                match result { Ok(()) => { editing.set(None); reload.emit(()); } Err(e) => error.set(Some(e)) }
                            }) } }
                        on_cancel={ { let editing = editing.clone(); Callback::from(move |_| editing.set(None)) } } />
                }
                if let Some((id, list)) = &*deliveries {
                    <Deliveries client_id={id.clone()} list={list.clone()} on_retry={retry_delivery}
                        on_refresh={ { let load = load_deliveries.clone(); let id = id.clone(); Callback::from(move |_| load.emit(id.clone())) } }
                        on_close={ { let deliveries = deliveries.clone(); Callback::from(move |_| deliveries.set(None)) } } />
                }
            </div>
            <form class="card form" id="register-app" onsubmit={register}>
                <h2>{ "Register an app" }</h2>
                <label for="app-name">{ "Name" }</label>
                <input id="app-name" required=true maxlength="100" value={form.name.clone()} oninput={text(|a, v| a.name = v)} />
                <label for="app-description">{ "Description" }</label>
                <input id="app-description" maxlength="2000" value={form.description.clone()} oninput={text(|a, v| a.description = v)} />
                <label for="app-type">{ "Kind of app" }</label>
                <select id="app-type" onchange={app_type}>
                    <option value="web" selected={form.application_type.as_deref() != Some("native")}>{ "Web — runs on your server or in the browser" }</option>
                    <option value="native" selected={form.application_type.as_deref() == Some("native")}>{ "Native — runs on the user's device" }</option>
                </select>
                <label for="app-redirects">{ "Redirect URIs (one per line; https, http on 127.0.0.1, or for native apps com.example.app:/callback)" }</label>
                <textarea id="app-redirects" rows="2" required=true oninput={uris} value={form.redirect_uris.join("\n")} />
                <label for="app-iframe">{ "App URL (shown inside Atrium)" }</label>
                <input id="app-iframe" type="url" value={form.iframe_url.clone().unwrap_or_default()} oninput={text(|a, v| a.iframe_url = Some(v))} />
                <label for="app-webhook">{ "Webhook URL (install notifications)" }</label>
                <input id="app-webhook" type="url" value={form.webhook_url.clone().unwrap_or_default()} oninput={text(|a, v| a.webhook_url = Some(v))} />
                <label for="app-install-url">{ "Install URL (the dashboard sends users here; your app then asks for consent itself — required for public apps using CODE)" }</label>
                <input id="app-install-url" type="url" value={form.install_url.clone().unwrap_or_default()} oninput={text(|a, v| a.install_url = Some(v))} />
                <label class="check"><input type="checkbox" id="app-public" checked={form.public}
                    onchange={ { let form = form.clone(); move |_| { let mut next = (*form).clone(); next.public = !next.public; form.set(next); } } } />
                    { "Public client: no client secret, PKCE only (an app that can't keep a secret)" }</label>
                <fieldset><legend>{ "Permissions it may ask for" }</legend>
                    { scope_box("profile", "Profile") }{ scope_box("email", "Email") }
                    { scope_box("company", "Company") }{ scope_box("company.members", "Company members") }
                </fieldset>
                <label for="app-method">{ "Method" }</label>
                <select id="app-method" onchange={method}>
                    <option value="code" selected={form.method != "token" && form.method != "both"}>{ "CODE — your server exchanges a code" }</option>
                    <option value="token" selected={form.method == "token"}>{ "TOKEN — your page reads a token" }</option>
                    <option value="both" selected={form.method == "both"}>{ "Both" }</option>
                </select>
                <div class="actions"><button class="button" type="submit" id="register-submit">{ "Register" }</button></div>
            </form>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct EditProps {
    client_id: String,
    draft: AppPatch,
    on_done: Callback<Result<(), String>>,
    on_cancel: Callback<()>,
}

/// Edits an app's name, description and URLs.
#[function_component(EditForm)]
fn edit_form(p: &EditProps) -> Html {
    let draft = use_state(|| p.draft.clone());
    let field = |f: fn(&mut AppPatch, String)| {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let mut next = (*draft).clone();
            f(
                &mut next,
                e.target_unchecked_into::<HtmlInputElement>().value(),
            );
            draft.set(next);
        })
    };
    let uris = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let mut next = (*draft).clone();
            next.redirect_uris = Some(
                e.target_unchecked_into::<HtmlTextAreaElement>()
                    .value()
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect(),
            );
            draft.set(next);
        })
    };
    let save = {
        let draft = draft.clone();
        let id = p.client_id.clone();
        let done = p.on_done.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let patch = (*draft).clone();
            let id = id.clone();
            let done = done.clone();
            spawn(async move {
                let r = invoke::<_, AppView>(
                    "dev_update",
                    &UpdateArgs {
                        client_id: &id,
                        patch,
                    },
                )
                .await;
                done.emit(r.map(|_| ()).map_err(|e| e.message));
            });
        })
    };
    let d = &*draft;
    html! {
        <form class="form edit" id="edit-app" onsubmit={save}>
            <h3>{ format!("Edit {}", d.name.clone().unwrap_or_default()) }</h3>
            <label for="edit-name">{ "Name" }</label>
            <input id="edit-name" value={d.name.clone().unwrap_or_default()} oninput={field(|a, v| a.name = Some(v))} />
            <label for="edit-description">{ "Description" }</label>
            <input id="edit-description" value={d.description.clone().unwrap_or_default()} oninput={field(|a, v| a.description = Some(v))} />
            <label for="edit-redirects">{ "Redirect URIs (one per line)" }</label>
            <textarea id="edit-redirects" rows="2" oninput={uris} value={d.redirect_uris.clone().unwrap_or_default().join("\n")} />
            <label for="edit-iframe">{ "App URL (empty for none)" }</label>
            <input id="edit-iframe" value={d.iframe_url.clone().unwrap_or_default()} oninput={field(|a, v| a.iframe_url = Some(v))} />
            <label for="edit-webhook">{ "Webhook URL (empty for none)" }</label>
            <input id="edit-webhook" value={d.webhook_url.clone().unwrap_or_default()} oninput={field(|a, v| a.webhook_url = Some(v))} />
            <label for="edit-install-url">{ "Install URL (empty for none)" }</label>
            <input id="edit-install-url" value={d.install_url.clone().unwrap_or_default()} oninput={field(|a, v| a.install_url = Some(v))} />
            <div class="actions">
                <button class="button secondary" type="button" onclick={ { let c = p.on_cancel.clone(); move |_| c.emit(()) } }>{ "Cancel" }</button>
                <button class="button" type="submit" id="edit-save">{ "Save" }</button>
            </div>
        </form>
    }
}
