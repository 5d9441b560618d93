// The apps' pages: Atrium opens them with the launch token in the fragment
// (#atrium_launch=<JWT>), which the browser never sends to a server. This script takes it out
// of the address bar (and so out of history) and posts it to the app's launch endpoint, which
// checks it, accepts it once and answers the page with a session cookie.
(function () {
  "use strict";
  const path = location.pathname;
  if (path.endsWith("/launch")) {
    // The answer to the launch POST: reloading it should show the session's page, not post the
    // (now used) token again.
    history.replaceState(null, "", path.slice(0, -"launch".length));
  } else if (path.endsWith("/callback")) {
    // The answer to App2's OpenID Connect sign-in: the code in the address is spent.
    history.replaceState(null, "", path.slice(0, -"callback".length));
  }
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get("atrium_launch");
  // Where Atrium asks the app to go once launched (a notification's deep path).
  const deepPath = fragment.get("atrium_path");
  if (!token) {
    return;
  }
  history.replaceState(null, "", location.pathname + location.search);
  // A page served from an earlier session's cookie (an app woken from sleep keeps its
  // partition, and so its cookie) is replaced at once by this launch's: not shown, and
  // flagged so that the test probe does not count it as a page the user saw.
  document.documentElement.dataset.replacedByLaunch = "true";
  document.body.hidden = true;
  const form = document.createElement("form");
  form.method = "POST";
  form.action = location.pathname.replace(/\/?$/, "/") + "launch";
  const input = document.createElement("input");
  input.type = "hidden";
  input.name = "atrium_launch";
  input.value = token;
  form.appendChild(input);
  if (deepPath) {
    const at = document.createElement("input");
    at.type = "hidden";
    at.name = "atrium_path";
    at.value = deepPath;
    form.appendChild(at);
  }
  document.body.appendChild(form);
  form.submit();
})();
