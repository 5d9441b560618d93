// App1's callback (TOKEN method). Atrium put the access token in this page's URL fragment,
// which browsers never send to a server: read it here, wipe it from the address bar, give it
// to App1's backend (which reads the user's data with it and keeps it), show the result, then
// send the user back to Atrium with the deep link atrium://install-complete?app=...&state=...
"use strict";

(function () {
  const root = document.querySelector("main");
  const clientId = root.dataset.clientId;
  const issuer = root.dataset.issuer;
  const whoami = root.dataset.whoami;
  const returnDelayMs = 2000;

  const params = new URLSearchParams(window.location.hash.slice(1));
  // The token must not stay in the address bar, the history or a bookmark.
  history.replaceState(null, "", window.location.pathname + window.location.search);

  const state = params.get("state");
  let back = "atrium://install-complete?app=" + encodeURIComponent(clientId);
  if (state !== null) {
    back += "&state=" + encodeURIComponent(state);
  }

  const $ = (id) => document.getElementById(id);
  const link = $("back");

  function fail(message, deepLink) {
    $("status").hidden = true;
    $("error").textContent = message;
    $("error").hidden = false;
    if (deepLink) {
      link.href = deepLink;
      link.hidden = false;
    }
  }

  function show(profile) {
    $("p-username").textContent = profile.username;
    $("p-name").textContent = profile.display_name;
    $("p-email").textContent = profile.email || "—";
    $("p-joined").textContent = profile.date_joined || "—";
    $("p-company").textContent = profile.company
      ? profile.company.name + " (#" + profile.company.id + ")"
      : "— (not granted)";
    $("status").hidden = true;
    $("result").hidden = false;
    link.href = back;
    link.hidden = false;
    window.setTimeout(() => window.location.assign(back), returnDelayMs);
  }

  const error = params.get("error");
  if (error) {
    const why = error === "access_denied"
      ? "You did not allow App1 to access your account."
      : "Atrium could not authorize App1: " + (params.get("error_description") || error);
    fail(why, back + "&error=" + encodeURIComponent(error));
    return;
  }
  const iss = params.get("iss");
  if (iss !== issuer) {
    // RFC 9207: an answer from another server than the one App1 trusts, or one that does not
    // say where it comes from.
    fail(iss === null
      ? "This answer does not say which server sent it, so it cannot be from Atrium at " + issuer + "."
      : "This token comes from " + iss + ", not from Atrium at " + issuer + ".");
    return;
  }
  const token = params.get("access_token");
  if (!token) {
    fail("There is no access token in this page's address. Install App1 from Atrium.");
    return;
  }

  fetch(whoami, {
    method: "POST",
    headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
    body: JSON.stringify({ scope: params.get("scope") || "" }),
    credentials: "omit",
    cache: "no-store",
  })
    .then((res) => res.json().then((body) => ({ ok: res.ok, body })))
    .then(({ ok, body }) => {
      if (!ok) {
        throw new Error(body.message || "App1's server could not use the token.");
      }
      show(body);
    })
    .catch((e) => fail("App1 could not read your profile: " + e.message, back));
})();
