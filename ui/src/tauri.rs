//! Typed wrappers over `window.__TAURI__.core.invoke` (`withGlobalTauri` in tauri.conf.json).
//!
//! The only door from the UI to the shell. Errors come back as the shell's message text.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn invoke_raw(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;
}

/// Calls the shell command `cmd` with `args` (a struct whose fields are the command's
/// parameters, in camelCase) and decodes its answer.
pub async fn invoke<A: Serialize, T: DeserializeOwned>(cmd: &str, args: &A) -> Result<T, String> {
    if !in_shell() {
        return Err("the dashboard is not running inside the Atrium desktop app".into());
    }
    let args = serde_wasm_bindgen::to_value(args).map_err(|e| e.to_string())?;
    match invoke_raw(cmd, args).await {
        Ok(value) => serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string()),
        Err(err) => Err(err
            .as_string()
            .unwrap_or_else(|| format!("the desktop shell refused `{cmd}`: {err:?}"))),
    }
}

/// Is `window.__TAURI__` there (the page runs in the desktop shell, not a plain browser)?
fn in_shell() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &JsValue::from_str("__TAURI__")).ok())
        .is_some_and(|t| !t.is_undefined())
}

/// No arguments.
#[derive(Serialize)]
pub struct NoArgs {}
