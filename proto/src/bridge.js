// Atrium's app bridge, version 1. The desktop injects this script into the top document of
// every open app's webview, before the page's own scripts run; apps include nothing. It
// defines `window.atrium`, whose calls each return a Promise:
//
//   atrium.ready()                     -> {version, install}
//   atrium.setBadge(count)             -> {count}       (0..99999, for the signed-in user)
//   atrium.notify(title, body, path)   -> {id}          (to the signed-in user; path: "/...")
//   atrium.getSessionToken()           -> {token, expires_at}  (a launch token, 60 s, one jti)
//   atrium.openExternal(url)           -> {}            (http(s), in a click or key handler)
//
// Each call takes an optional last argument {install: id}: the install the page believes it
// runs as (its launch token's `install`); the desktop refuses the call if its webview belongs
// to another. A refused call rejects with an Error whose `code` is one of: refused,
// wrong_install, no_gesture, invalid, too_large, rate_limited, unavailable, unsupported,
// timeout.
//
// Why the key: the webview's raw message channel (`window.ipc`, WebKit's message handler) is
// visible to every script in the webview and cannot be removed. The desktop accepts only
// messages carrying this webview's secret key, which only this script holds (in a closure the
// page cannot read); it calls only functions it took before the page's scripts ran, so a page
// that replaces them (the channel's postMessage, JSON.stringify, Reflect.apply) sees no key.
(function () {
  "use strict";
  if (window.top !== window || window.atrium) return;
  const KEY = "__ATRIUM_BRIDGE_KEY__";
  // WebKit's message handler and its own postMessage, taken now, before any page script
  // runs. Not `window.ipc.postMessage`: it looks `window.webkit.messageHandlers.ipc` up again
  // on every call, so a page that replaced the handler's postMessage (on the object or its
  // prototype) would be handed every message, key included.
  const handlers = window.webkit && window.webkit.messageHandlers;
  const channel = handlers && handlers.ipc;
  if (!channel || typeof channel.postMessage !== "function") return;
  const post = channel.postMessage;
  const apply = Reflect.apply;
  const stringify = JSON.stringify;
  const P = Promise;
  const Err = Error;
  const setT = setTimeout;
  const clearT = clearTimeout;
  const perfNow = performance.now;
  const now = () => apply(perfNow, performance, []);
  const desc = (proto, name) => proto && Object.getOwnPropertyDescriptor(proto, name);
  const uaGet = (desc(window.Navigator && Navigator.prototype, "userActivation") || {}).get;
  const activeGet = (desc(window.UserActivation && UserActivation.prototype, "isActive") || {}).get;
  // The last trusted click or key press (events a script cannot forge: isTrusted).
  let trustedAt = -Infinity;
  const mark = (e) => { if (e.isTrusted) trustedAt = now(); };
  addEventListener("click", mark, true);
  addEventListener("keydown", mark, true);
  // A user gesture now: a trusted click or key under a second ago, not used yet, and (where
  // WebKit has it) the page's transient activation.
  const gesture = () => {
    let active = true;
    if (uaGet && activeGet) {
      try { active = apply(activeGet, apply(uaGet, navigator, []), []) === true; } catch (e) { active = false; }
    }
    const recent = now() - trustedAt < 1000;
    if (recent && active) { trustedAt = -Infinity; return true; }
    return false;
  };
  const pending = Object.create(null);
  let next = 1;
  Object.defineProperty(window, "__atrium_bridge_reply", {
    value: function (reply) {
      const id = reply && reply.id;
      const call = pending[id];
      if (!call) return;
      delete pending[id];
      clearT(call.timer);
      if (reply.ok) {
        call.resolve(reply.result);
      } else {
        const e = new Err((reply.error && reply.error.message) || "refused");
        e.code = (reply.error && reply.error.code) || "refused";
        call.reject(e);
      }
    },
  });
  const send = (call, options, withGesture) => new P((resolve, reject) => {
    const id = next++;
    const install = options && typeof options.install === "number" ? options.install : null;
    // The key is never in an object the page could reach (Object.prototype.toJSON included).
    const rest = stringify({ v: 1, id: id, install: install, gesture: !!withGesture, call: call });
    const message = '{"key":"' + KEY + '",' + rest.slice(1);
    if (message.length > 4096) {
      const e = new Err("the call is too large");
      e.code = "too_large";
      reject(e);
      return;
    }
    const timer = setT(() => {
      delete pending[id];
      const e = new Err("the desktop did not answer");
      e.code = "timeout";
      reject(e);
    }, 30000);
    pending[id] = { resolve: resolve, reject: reject, timer: timer };
    apply(post, channel, [message]);
  });
  const api = {
    version: 1,
    ready: (o) => send({ method: "ready" }, o),
    setBadge: (count, o) => send({ method: "setBadge", count: count }, o),
    notify: (title, body, path, o) =>
      send({ method: "notify", title: String(title), body: body == null ? "" : String(body), path: path == null ? null : String(path) }, o),
    getSessionToken: (o) => send({ method: "getSessionToken" }, o),
    openExternal: (url, o) => send({ method: "openExternal", url: String(url) }, o, gesture()),
  };
  Object.defineProperty(window, "atrium", { value: Object.freeze(api), enumerable: true });
})();
