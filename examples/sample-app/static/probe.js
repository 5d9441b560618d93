// Test only (`--probe`): reports what this page can reach of the program that shows it.
// Inside Atrium an app's page must find no trace of the desktop's IPC: no `__TAURI__`, no
// `__TAURI_INTERNALS__`, no `window.ipc` or WebKit message handler, and no answer from the
// `ipc://` scheme. The page's CSP allows `ipc:` in probe mode, so that a refusal is the host's.
(function () {
  "use strict";
  const handlers = window.webkit && window.webkit.messageHandlers;
  const out = {
    tauri: typeof window.__TAURI__,
    internals: typeof window.__TAURI_INTERNALS__,
    ipc: typeof window.ipc,
    handler: typeof (handlers && handlers.ipc),
    top: window.top === window ? "self" : "framed",
  };
  const app = location.pathname.split("/")[1];
  const report = () =>
    fetch("/" + app + "/probe", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(out),
    });
  fetch("ipc://localhost/server_status", { method: "POST", body: "{}" })
    .then((r) => { out.ipc_fetch = "status " + r.status; }, () => { out.ipc_fetch = "blocked"; })
    .finally(report);
})();
