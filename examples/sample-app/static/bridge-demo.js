// The apps' use of Atrium's app bridge. Inside Atrium the desktop gives the page
// `window.atrium` (see the README's "Building an app"); elsewhere (a plain browser) the
// controls say the bridge is not there. "Notify me" sends a notification to the signed-in
// user, the badge control sets the app's count, and "Get a session token" asks for a fresh
// launch token and has this app's backend verify it (`POST /<app>/api/session-token`).
(function () {
  "use strict";
  const status = document.getElementById("bridge-status");
  if (!status) return;
  const say = (text) => { status.textContent = text; };
  if (!window.atrium) {
    say("Open this app in Atrium to use the bridge.");
    return;
  }
  const app = location.pathname.split("/")[1];
  const failed = (e) => say("Refused: " + (e.code || "error") + " (" + e.message + ")");
  window.atrium.ready().then((r) => say("Bridge ready (version " + r.version + ", install #" + r.install + ")."), failed);
  document.getElementById("bridge-notify").addEventListener("click", () => {
    window.atrium.notify("Hello from " + document.title, "You asked to be notified.", "/" + app + "/")
      .then((r) => say("Notification #" + r.id + " sent."), failed);
  });
  document.getElementById("bridge-badge-set").addEventListener("click", () => {
    const n = Number(document.getElementById("bridge-badge-count").value);
    window.atrium.setBadge(n).then((r) => say("Badge set to " + r.count + "."), failed);
  });
  document.getElementById("bridge-token").addEventListener("click", () => {
    const out = document.getElementById("bridge-token-result");
    window.atrium.getSessionToken()
      .then((t) => fetch("/" + app + "/api/session-token", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token: t.token }),
      }))
      .then((r) => r.json())
      .then((v) => {
        out.textContent = v.verified
          ? "Verified by " + document.title + "'s backend: " + v.username + ", install #" + v.install + ", jti " + v.jti
          : "Not verified: " + v.reason;
      }, failed);
  });
})();
