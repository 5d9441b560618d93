//! Typed wrappers over `window.__TAURI__.core.invoke` and `window.__TAURI__.event.listen`
//! (`withGlobalTauri` in tauri.conf.json): the only door from the UI to the shell.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
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

/// A failed command: `kind` says what way out to offer, `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ShellError {
    pub kind: String,
    pub message: String,
}

impl ShellError {
    fn local(message: impl Into<String>) -> ShellError {
        ShellError {
            kind: "internal".into(),
            message: message.into(),
        }
    }

    /// The session is gone: the UI should show the sign-in screen.
    pub fn needs_sign_in(&self) -> bool {
        self.kind == "not_signed_in" || self.kind == "session_expired"
    }
}

impl std::fmt::Display for ShellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A read that may come from the shell's offline cache.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Fetched<T> {
    pub data: T,
    pub offline: bool,
}

/// Is `window.__TAURI__` there (the page runs in the desktop shell, not a plain browser)?
fn in_shell() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &JsValue::from_str("__TAURI__")).ok())
        .is_some_and(|t| !t.is_undefined())
}

/// Calls the shell command `cmd` with `args` (a struct whose fields are the command's
/// parameters, in camelCase) and decodes its answer.
pub async fn invoke<A: Serialize, T: DeserializeOwned>(
    cmd: &str,
    args: &A,
) -> Result<T, ShellError> {
    if !in_shell() {
        return Err(ShellError::local(
            "the dashboard is not running inside the Atrium desktop app",
        ));
    }
    let args = serde_wasm_bindgen::to_value(args).map_err(|e| ShellError::local(e.to_string()))?;
    match invoke_raw(cmd, args).await {
        Ok(value) => {
            serde_wasm_bindgen::from_value(value).map_err(|e| ShellError::local(e.to_string()))
        }
        Err(err) => Err(
            serde_wasm_bindgen::from_value::<ShellError>(err.clone()).unwrap_or_else(|_| {
                ShellError::local(
                    err.as_string()
                        .unwrap_or_else(|| format!("the desktop shell refused `{cmd}`")),
                )
            }),
        ),
    }
}

/// No arguments.
#[derive(Serialize)]
pub struct NoArgs {}

/// The page to read of a paged list: after `cursor` (the previous page's `next_cursor`), or
/// the first one.
#[derive(Serialize)]
pub struct CursorArg<'a> {
    pub cursor: Option<&'a str>,
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

/// Subscribes to `event`; `handler` gets the event's payload.
pub async fn listen(event: &str, handler: impl Fn(JsValue) + 'static) -> Option<Listener> {
    if !in_shell() {
        return None;
    }
    let closure = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        let payload =
            js_sys::Reflect::get(&e, &JsValue::from_str("payload")).unwrap_or(JsValue::NULL);
        handler(payload);
    });
    let unlisten = listen_raw(event, &closure)
        .await
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok();
    Some(Listener {
        _closure: closure,
        unlisten,
    })
}
