// Test only (`--probe`): reports what this page can reach of the program that shows it.
// Inside Atrium an app's page must find no trace of the desktop's IPC: no `__TAURI__`, no
// `__TAURI_INTERNALS__`, no `window.ipc`, and no answer from the `ipc://` scheme; its one
// channel is the app bridge's WebKit message handler (`atrium`). The page's CSP allows `ipc:` in probe mode, so that a refusal is the host's.
// It also reports the framing headers its own address is served with (fetched again, with its
// cookie): the page refuses to be framed, and works all the same as the top-level document.
// With `--probe-bridge` (the script tag's `data-bridge`) and Atrium's app bridge there
// (`window.atrium`), it also exercises the bridge (see `bridge` below).
(function () {
  "use strict";
  const exerciseBridge = document.currentScript && document.currentScript.hasAttribute("data-bridge");
  const handlers = window.webkit && window.webkit.messageHandlers;
  const out = {
    tauri: typeof window.__TAURI__,
    internals: typeof window.__TAURI_INTERNALS__,
    ipc: typeof window.ipc,
    handler: typeof (handlers && handlers.atrium),
    top: window.top === window ? "self" : "framed",
    at: location.pathname + location.search,
    origin: location.origin,
  };
  // Set by launch.js when a new launch replaces this page (a woken app's earlier session).
  if (document.documentElement.dataset.replacedByLaunch) {
    out.replaced_by_launch = true;
  }
  const app = location.pathname.split("/")[1];
  // A call's outcome; one the desktop never answers (it answers only pages at the app's
  // origin) is `no_answer` after 3 s.
  const outcome = (p) => Promise.race([
    p.then((r) => ({ ok: true, result: r }), (e) => ({ ok: false, code: e.code })),
    new Promise((done) => setTimeout(() => done({ ok: false, code: "no_answer" }), 3000)),
  ]);
  const post = (path, body) => fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  // App2 uses every call and has its backend verify the session token (twice: the second is
  // a replay), and tries to read the bridge's key off the message channel. App1 tries to act
  // as every App2 install that reported (the wrong install). Both post a raw message without
  // the bridge's key, and call openExternal with no gesture. App2's page at another origin
  // (`/app2/elsewhere`, reached by a redirect; see `elsewhere` in probe.rs) tries every call.
  async function bridge(app) {
    if (!exerciseBridge || !window.atrium) return;
    const b = (out.bridge = {});
    if (location.pathname === "/app2/elsewhere") {
      // At once: a refused call may never be answered here.
      const [ready, notify, badge, token] = await Promise.all([
        outcome(window.atrium.ready()),
        outcome(window.atrium.notify("From another origin", "", null)),
        outcome(window.atrium.setBadge(99)),
        outcome(window.atrium.getSessionToken()),
      ]);
      Object.assign(b, { ready, notify, badge, token: { ok: token.ok, code: token.code } });
      return;
    }
    if (app === "app2") {
      b.key_seen = await sniffKey();
      b.forged_gesture = await forgeGesture();
      b.bad_badge = await outcome(window.atrium.setBadge(-1));
    }
    b.ready = await outcome(window.atrium.ready());
    const me = b.ready.ok ? b.ready.result.install : null;
    if (app === "app2") {
      b.badge = await outcome(window.atrium.setBadge(7));
      b.notify = await outcome(window.atrium.notify("Bridge check", "from App2's page", "/app2/"));
      const t = await outcome(window.atrium.getSessionToken());
      b.token = t.ok ? { ok: true, expires_at: t.result.expires_at } : t;
      if (t.ok) {
        const first = await post("/app2/api/session-token", { token: t.result.token });
        b.verified = await first.json();
        b.replayed = (await post("/app2/api/session-token", { token: t.result.token })).status;
      }
    } else {
      const reports = await (await fetch("/probe/reports")).json();
      const installs = reports.filter((r) => r.app === "App2" && r.install && r.install !== me).map((r) => r.install);
      b.others = installs.filter((id, i) => installs.indexOf(id) === i);
      b.as_other = [];
      for (const id of b.others) {
        b.as_other.push(await outcome(window.atrium.notify("Acting as App2", "", null, { install: id })));
        b.as_other.push(await outcome(window.atrium.setBadge(99, { install: id })));
        b.as_other.push(await outcome(window.atrium.getSessionToken({ install: id })));
      }
    }
    b.raw = await outcome(handlers.atrium.postMessage(JSON.stringify({ key: "", v: 1, id: 1, call: { method: "notify", title: "Raw message" } })));
    b.no_gesture = await outcome(window.atrium.openExternal("https://example.com/"));
  }
  // Replaces the page's own view of the message channel (WebKit's handler's and its
  // prototype's postMessage) with spies, makes a bridge call, and answers whether any
  // spy saw the bridge's key. Everything is put back after.
  async function sniffKey() {
    const seen = [];
    const undo = [];
    const spy = (target, name) => {
      const was = target && Object.getOwnPropertyDescriptor(target, name);
      const original = target && target[name];
      if (typeof original !== "function") return;
      try {
        Object.defineProperty(target, name, {
          configurable: true,
          writable: true,
          value: function (m) { seen.push(String(m)); return original.apply(this, arguments); },
        });
        undo.push(() => (was ? Object.defineProperty(target, name, was) : delete target[name]));
      } catch (e) { /* not replaceable */ }
    };
    const handler = window.webkit && window.webkit.messageHandlers && window.webkit.messageHandlers.atrium;
    spy(handler, "postMessage");
    spy(handler && Object.getPrototypeOf(handler), "postMessage");
    await outcome(window.atrium.ready());
    undo.forEach((u) => { try { u(); } catch (e) { /* leave it */ } });
    return seen.some((m) => /"key":"[^"]/.test(m));
  }
  // Rewrites the bridge's messages on their way out (Object.prototype.toJSON, and
  // String.prototype.slice) to claim a user gesture, and calls openExternal with none: the
  // outcome (`no_gesture` when the bridge's messages are beyond the page's reach).
  async function forgeGesture() {
    const undo = [];
    const put = (target, name, value) => {
      const was = Object.getOwnPropertyDescriptor(target, name);
      Object.defineProperty(target, name, { configurable: true, writable: true, value: value });
      undo.push(() => (was ? Object.defineProperty(target, name, was) : delete target[name]));
    };
    const slice = String.prototype.slice;
    put(Object.prototype, "toJSON", function () {
      return this && this.v === 1 && "gesture" in this ? Object.assign({}, this, { gesture: true }) : this;
    });
    put(String.prototype, "slice", function () {
      return slice.apply(this, arguments).replace('"gesture":false', '"gesture":true');
    });
    try {
      return await outcome(window.atrium.openExternal(location.origin + "/probe/opened"));
    } finally {
      undo.reverse().forEach((u) => u());
    }
  }
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
  // The page, having reported, asks (by script, no user acting) to be shown a page of another
  // origin (a redirect): its host must hold navigation to the app's origin, or refuse that
  // page the bridge, and must not hand it to the browser either.
  const exerciseElsewhere = exerciseBridge && window.atrium && location.pathname !== "/app2/elsewhere";
  Promise.allSettled([framing, ipc, firstPaint, bridge(app)])
    .finally(report)
    .then(() => { if (exerciseElsewhere) location.assign("/probe/elsewhere"); });
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
