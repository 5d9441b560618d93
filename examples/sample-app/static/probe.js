// Test only (`--probe`): reports what this page can reach of the program that shows it.
// Inside Atrium an app's page must find no trace of the desktop's IPC: no `__TAURI__`, no
// `__TAURI_INTERNALS__`, no `window.ipc` or WebKit message handler, and no answer from the
// `ipc://` scheme. The page's CSP allows `ipc:` in probe mode, so that a refusal is the host's.
// It also reports the framing headers its own address is served with (fetched again, with its
// cookie): the page refuses to be framed, and works all the same as the top-level document.
(function () {
  "use strict";
  const handlers = window.webkit && window.webkit.messageHandlers;
  const out = {
    tauri: typeof window.__TAURI__,
    internals: typeof window.__TAURI_INTERNALS__,
    ipc: typeof window.ipc,
    handler: typeof (handlers && handlers.ipc),
    top: window.top === window ? "self" : "framed",
    at: location.pathname + location.search,
  };
  // Set by launch.js when a new launch replaces this page (a woken app's earlier session).
  if (document.documentElement.dataset.replacedByLaunch) {
    out.replaced_by_launch = true;
  }
  const app = location.pathname.split("/")[1];
  const report = () =>
    fetch("/" + app + "/probe", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(out),
    });
  const framing = fetch(location.pathname, { credentials: "same-origin" }).then(
    (r) => {
      out.x_frame_options = r.headers.get("x-frame-options");
      const csp = r.headers.get("content-security-policy") || "";
      const rule = csp.split(";").map((d) => d.trim()).find((d) => d.startsWith("frame-ancestors"));
      out.frame_ancestors = rule ? rule.slice("frame-ancestors".length).trim() : null;
    },
    () => { out.x_frame_options = "unreadable"; },
  );
  const ipc = fetch("ipc://localhost/server_status", { method: "POST", body: "{}" })
    .then((r) => { out.ipc_fetch = "status " + r.status; }, () => { out.ipc_fetch = "blocked"; });
  // When the page was first on screen, as Unix milliseconds (for the desktop bench): the
  // second animation frame after loading starts once the first has been painted.
  const now = () => performance.timeOrigin + performance.now();
  const painted = () =>
    new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(now()))));
  const firstPaint = painted().then((at) => { out.painted_at_ms = at; });
  Promise.allSettled([framing, ipc, firstPaint]).finally(report);
  // Shown again after being hidden (the desktop switched back to this open app): a report of
  // its own, `shown_at_ms` alone, which tests counting page loads leave out.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible") return;
    painted().then((at) =>
      fetch("/" + app + "/probe", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ shown_at_ms: at }),
      }));
  });
})();
