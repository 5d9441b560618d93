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
// Why the key: the webview's raw message channel (WebKit's message handler,
// `window.webkit.messageHandlers.atrium`) is visible to every script in the webview and cannot
// be removed. The desktop accepts only
// messages carrying this webview's secret key, which only this script holds (in a closure the
// page cannot read). It calls only functions it took before the page's scripts ran and builds
// each message from objects without a prototype, so a page that replaces built-ins (the
// channel's postMessage, JSON.stringify, String.prototype.slice, Object.prototype.toJSON)
// neither sees the key nor rewrites a message (to claim a user gesture, say). Arguments out of
// bounds are refused at once (`invalid`).
(function () {
  "use strict";
  if (window.top !== window || window.atrium) return;
  const KEY = "__ATRIUM_BRIDGE_KEY__";
  // WebKit's message handler and its own postMessage, taken now, before any page script
  // runs, so a page that replaces the handler's postMessage (on the object or its prototype)
  // is never handed a message. Its promise brings the desktop's answer.
  const handlers = window.webkit && window.webkit.messageHandlers;
  const channel = handlers && handlers.atrium;
  if (!channel || typeof channel.postMessage !== "function") return;
  const post = channel.postMessage;
  const apply = Reflect.apply;
  const then = Promise.prototype.then;
  const parse = JSON.parse;
  const stringify = JSON.stringify;
  const sliceOf = String.prototype.slice;
  const isInteger = Number.isSafeInteger;
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
  let next = 1;
  const invalid = (why) => {
    const e = new Err(why);
    e.code = "invalid";
    return new P((resolve, reject) => reject(e));
  };
  const send = (call, options, withGesture) => {
    const named = options == null ? null : options.install;
    if (named != null && !isInteger(named)) return invalid("install must be a whole number");
    return ask(call, named == null ? null : named, withGesture);
  };
  const ask = (call, install, withGesture) => new P((resolve, reject) => {
    const id = next++;
    // The key is never in an object the page could reach, and nothing the page could replace
    // shapes the message: null-prototype objects (no inherited toJSON) and a slice taken
    // before the page ran. A page that could rewrite the message could claim a gesture.
    const rest = stringify({ __proto__: null, v: 1, id: id, install: install, gesture: !!withGesture, call: call });
    const message = '{"key":"' + KEY + '",' + apply(sliceOf, rest, [1]);
    if (message.length > 4096) {
      const e = new Err("the call is too large");
      e.code = "too_large";
      reject(e);
      return;
    }
    let done = false;
    const timer = setT(() => {
      done = true;
      const e = new Err("the desktop did not answer");
      e.code = "timeout";
      reject(e);
    }, 30000);
    const settle = (reply) => {
      if (done) return;
      done = true;
      clearT(timer);
      if (reply && reply.ok) {
        resolve(reply.result);
      } else {
        const e = new Err((reply && reply.error && reply.error.message) || "refused");
        e.code = (reply && reply.error && reply.error.code) || "refused";
        reject(e);
      }
    };
    // The desktop's answer comes as the rejection's message (see the desktop's channel.rs);
    // a promise resolved (with `undefined`) means the message was not taken.
    const answered = (e) => {
      let reply = null;
      try { reply = parse(e.message); } catch (x) { reply = null; }
      settle(reply);
    };
    apply(then, apply(post, channel, [message]), [() => settle(null), answered]);
  });
  const api = {
    version: 1,
    ready: (o) => send({ __proto__: null, method: "ready" }, o),
    setBadge: (count, o) => (isInteger(count) && count >= 0 && count <= 99999
      ? send({ __proto__: null, method: "setBadge", count: count }, o)
      : invalid("the count must be a whole number from 0 to 99999")),
    notify: (title, body, path, o) =>
      send({ __proto__: null, method: "notify", title: String(title), body: body == null ? "" : String(body), path: path == null ? null : String(path) }, o),
    getSessionToken: (o) => send({ __proto__: null, method: "getSessionToken" }, o),
    openExternal: (url, o) => send({ __proto__: null, method: "openExternal", url: String(url) }, o, gesture()),
  };
  Object.defineProperty(window, "atrium", { value: Object.freeze(api), enumerable: true });
})();
