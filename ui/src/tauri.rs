//! Typed wrappers over `window.__TAURI__.core.invoke` and `window.__TAURI__.event.listen`
//! (`withGlobalTauri` in tauri.conf.json): the only door from the UI to the shell. Commands and
//! events are the types of `atrium_proto::ipc`, which the shell uses too.

use atrium_proto::ipc::{Command, ErrorKind, Event};
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn invoke_raw(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "event"], js_name = listen, catch)]
    async fn listen_raw(
        event: &str,
        handler: &Closure<dyn FnMut(JsValue)>,
    ) -> Result<JsValue, JsValue>;
}

pub use atrium_proto::ipc::ShellError;

/// An error made on this side of the bridge.
fn local(message: impl Into<String>) -> ShellError {
    ShellError {
        kind: ErrorKind::Internal,
        message: message.into(),
    }
}

/// Is `window.__TAURI__` there (the page runs in the desktop shell, not a plain browser)?
fn in_shell() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &JsValue::from_str("__TAURI__")).ok())
        .is_some_and(|t| !t.is_undefined())
}

/// The payload of every command: its value under `args` (the shell's commands take
/// `args: <the command's type>`).
#[derive(Serialize)]
struct Payload<'a, C> {
    args: &'a C,
}

/// Invokes the shell command `C` with `args` and decodes its answer.
pub async fn invoke<C: Command>(args: &C) -> Result<C::Output, ShellError> {
    if !in_shell() {
        return Err(local(
            "the dashboard is not running inside the Atrium desktop app",
        ));
    }
    let payload =
        serde_wasm_bindgen::to_value(&Payload { args }).map_err(|e| local(e.to_string()))?;
    match invoke_raw(C::NAME, payload).await {
        Ok(value) => serde_wasm_bindgen::from_value(value).map_err(|e| local(e.to_string())),
        Err(err) => Err(
            serde_wasm_bindgen::from_value::<ShellError>(err.clone()).unwrap_or_else(|_| {
                local(
                    err.as_string()
                        .unwrap_or_else(|| format!("the desktop shell refused `{}`", C::NAME)),
                )
            }),
        ),
    }
}

/// A subscription to a shell event; dropping it unsubscribes.
pub struct Listener {
    _closure: Closure<dyn FnMut(JsValue)>,
    unlisten: Option<js_sys::Function>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(f) = &self.unlisten {
            let _ = f.call0(&JsValue::NULL);
        }
    }
}

/// Subscribes to the shell's event `E`; `handler` gets each payload that decodes as one.
pub async fn listen<E: Event>(handler: impl Fn(E) + 'static) -> Option<Listener> {
    if !in_shell() {
        return None;
    }
    let closure = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        let payload =
            js_sys::Reflect::get(&e, &JsValue::from_str("payload")).unwrap_or(JsValue::NULL);
        match serde_wasm_bindgen::from_value::<E>(payload) {
            Ok(event) => handler(event),
            Err(err) => web_sys::console::warn_1(&format!("{}: {err}", E::NAME).into()),
        }
    });
    let unlisten = listen_raw(E::NAME, &closure)
        .await
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok();
    Some(Listener {
        _closure: closure,
        unlisten,
    })
}
