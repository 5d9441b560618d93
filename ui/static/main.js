// Loads the Yew app. A file of its own, not an inline script, so the CSP needs no 'unsafe-inline'.
import init from './atrium_ui.js';
init({ module_or_path: new URL('./atrium_ui_bg.wasm', import.meta.url) });
