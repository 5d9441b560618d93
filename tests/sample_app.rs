//! The real `atrium-server` (seeded by `atrium-server demo`) and the real `atrium-sample-app`,
//! driven over HTTP without the desktop: a scripted browser signs in on the server's HTML
//! pages and installs App2 (CODE) and App1 (TOKEN); the sample app exchanges the code, reads
//! the user through the API, receives the signed install notifications, and verifies the
//! launch tokens the dashboard API hands out; App2, opened inside Atrium, signs its user in with
//! OpenID Connect (`prompt=none`) and verifies the ID token.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use atrium_tests::{fragment_param, free_port, query_param, Browser, SampleApp, Server};
use serde_json::Value;

const PASSWORD: &str = "atrium-demo";
const NOTIFICATION_TIMEOUT: Duration = Duration::from_secs(30);

/// A server seeded with the demo, the sample app it points at, and a signed-in browser.
struct World {
    server: Server,
    app: SampleApp,
    demo: Value,
    browser: Browser,
    http: reqwest::Client,
}

async fn world() -> Result<World> {
    let port = free_port();
    let (server, demo) = Server::start_with_demo(&format!("http://127.0.0.1:{port}")).await?;
    ensure!(demo["username"] == "demo", "unexpected demo output: {demo}");
    let app = SampleApp::start(&server.url, port, &demo).await?;
    let browser = server.atrium().signed_in("demo", PASSWORD).await;
    let http = atrium_tests::http();
    Ok(World {
        server,
        app,
        demo,
        browser,
        http,
    })
}

impl World {
    fn app_url(&self, path: &str) -> String {
        format!("{}{path}", self.app.url)
    }

    /// GETs a page of the sample app; returns its status and body.
    async fn get(&self, url: &str) -> Result<(u16, String)> {
        let res = self.http.get(url).send().await?;
        Ok((res.status().as_u16(), res.text().await?))
    }

    /// Does what an app page's script does with a launch URL: posts the token of its fragment
    /// to the page's `launch` endpoint.
    async fn launch(&self, url: &str, token: &str) -> Result<(u16, String)> {
        let page = url::Url::parse(url)?;
        let to = page.join("launch")?;
        let res = self
            .http
            .post(to)
            .form(&[("atrium_launch", token)])
            .send()
            .await?;
        Ok((res.status().as_u16(), res.text().await?))
    }

    /// Waits until the sample app has received a notification of `kind` about `client_id`.
    async fn notification(&self, kind: &str, client_id: &str) -> Result<Value> {
        let deadline = Instant::now() + NOTIFICATION_TIMEOUT;
        loop {
            let events: Value = self
                .http
                .get(self.app_url("/webhook/events.json"))
                .send()
                .await?
                .json()
                .await?;
            let found = events.as_array().and_then(|list| {
                list.iter()
                    .map(|r| &r["event"])
                    .find(|e| e["type"] == kind && e["app"]["client_id"] == client_id)
                    .cloned()
            });
            if let Some(event) = found {
                return Ok(event);
            }
            if Instant::now() > deadline {
                bail!("no {kind} notification about {client_id} within {NOTIFICATION_TIMEOUT:?}: {events}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// A first-party token with the `dashboard` scope, obtained as the desktop does (PKCE, the
    /// `atrium://` deep-link redirect, and a click on "Continue as ...").
    async fn dashboard_token(&self) -> String {
        self.server.atrium().desktop_token(&self.browser).await
    }

    /// The dashboard API, as the desktop shell calls it.
    async fn dashboard(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> Result<(u16, Value)> {
        let res = self
            .http
            .request(method, format!("{}{path}", self.server.url))
            .bearer_auth(token)
            .send()
            .await?;
        let status = res.status().as_u16();
        Ok((status, res.json().await.unwrap_or(Value::Null)))
    }

    /// "Open app" for `install`: the launch URL the desktop opens (its token in the fragment).
    async fn launch_url(&self, token: &str, install: i64) -> Result<String> {
        let (status, launch) = self
            .dashboard(
                reqwest::Method::POST,
                &format!("/api/dashboard/installs/{install}/launch"),
                token,
            )
            .await?;
        ensure!(status == 200, "launch answered {status}: {launch}");
        Ok(launch["url"].as_str().context("launch url")?.to_string())
    }

    /// The active install of `client_id` in the demo company.
    async fn install_id(&self, token: &str, client_id: &str) -> Result<i64> {
        let company = self.demo["company_id"]
            .as_i64()
            .context("demo company_id")?;
        let (status, installs) = self
            .dashboard(
                reqwest::Method::GET,
                &format!("/api/dashboard/companies/{company}/installs"),
                token,
            )
            .await?;
        ensure!(status == 200, "installs answered {status}: {installs}");
        installs["items"]
            .as_array()
            .and_then(|l| {
                l.iter()
                    .find(|i| i["client_id"] == client_id && i["state"] == "active")
            })
            .and_then(|i| i["id"].as_i64())
            .with_context(|| format!("no active install of {client_id}: {installs}"))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_code_method_installs_app2_and_the_sample_app_reads_the_user() -> Result<()> {
    let w = world().await?;
    let redirect = w.app_url("/app2/callback");
    let location = w
        .browser
        .authorize_and_allow(&[
            ("response_type", "code"),
            ("client_id", "demo-app2"),
            ("redirect_uri", &redirect),
            ("scope", "profile"),
            ("state", "e2e-state-app2"),
        ])
        .await;
    ensure!(
        location.starts_with(&format!("{redirect}?code=")),
        "unexpected redirect: {location}"
    );

    // The browser follows the 303 to the sample app, which exchanges the code.
    let res = w.browser.client.get(&location).send().await?;
    let status = res.status();
    let page = res.text().await?;
    ensure!(status == 200, "the sample app answered {status}: {page}");
    ensure!(
        page.contains("data-field=\"username\">demo<"),
        "no username on: {page}"
    );
    ensure!(
        page.contains("atrium://install-complete?app=demo-app2&amp;state=e2e-state-app2"),
        "no deep link back to Atrium on: {page}"
    );

    // The server notified the app of the install, signed with the secret `demo` printed.
    let event = w.notification("app.installed", "demo-app2").await?;
    ensure!(event["company"]["name"] == "Demo Company", "{event}");
    ensure!(event["user"]["username"] == "demo", "{event}");
    ensure!(event["scopes"] == "profile", "{event}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn app2_shows_a_clear_page_when_the_user_cancels_the_consent() -> Result<()> {
    let w = world().await?;
    let redirect = w.app_url("/app2/callback");
    let page = w
        .browser
        .consent_page(&[
            ("response_type", "code"),
            ("client_id", "demo-app2"),
            ("redirect_uri", &redirect),
            ("scope", "profile"),
            ("state", "e2e-deny"),
        ])
        .await;
    let location = w.browser.decide_to(&page, "deny", &[]).await;
    ensure!(
        query_param(&location, "error").as_deref() == Some("access_denied"),
        "{location}"
    );
    let (status, page) = w.get(&location).await?;
    ensure!(status == 400, "answered {status}");
    ensure!(page.contains("You did not allow App2"), "{page}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_method_installs_app1_and_its_backend_reads_the_user() -> Result<()> {
    let w = world().await?;
    let redirect = w.app_url("/app1/callback");
    // Company scopes make the consent form carry the company (the demo user owns one).
    let location = w
        .browser
        .authorize_and_allow(&[
            ("response_type", "token"),
            ("client_id", "demo-app1"),
            ("redirect_uri", &redirect),
            ("scope", "profile company"),
            ("state", "e2e-state-app1"),
        ])
        .await;
    ensure!(
        location.starts_with(&format!("{redirect}#")),
        "the token must come in the fragment: {location}"
    );
    let token = fragment_param(&location, "access_token").context("no access_token")?;
    ensure!(fragment_param(&location, "state").as_deref() == Some("e2e-state-app1"));

    // The browser loads the callback (a fragment is never sent) and its script.
    let (status, page) = w.get(&redirect).await?;
    ensure!(status == 200, "callback answered {status}");
    ensure!(
        page.contains("<script src=\"/app1/static/callback.js\""),
        "{page}"
    );
    ensure!(page.contains("data-client-id=\"demo-app1\""), "{page}");
    let (status, js) = w.get(&w.app_url("/app1/static/callback.js")).await?;
    ensure!(status == 200 && js.contains("atrium://install-complete?app="));

    // What the script does with the fragment: hand the token to App1's backend.
    let res = w
        .http
        .post(w.app_url("/app1/api/whoami"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "scope": "profile company" }))
        .send()
        .await?;
    ensure!(res.status() == 200, "whoami answered {}", res.status());
    let profile: Value = res.json().await?;
    ensure!(profile["username"] == "demo", "{profile}");
    ensure!(profile["company"]["name"] == "Demo Company", "{profile}");

    let event = w.notification("app.installed", "demo-app1").await?;
    ensure!(event["company"]["name"] == "Demo Company", "{event}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_install_path_reaches_the_sample_app_and_its_launch_token_verifies(
) -> Result<()> {
    let w = world().await?;
    let token = w.dashboard_token().await;
    let company = w.demo["company_id"].as_i64().context("company_id")?;

    // What the desktop does after its own consent screen: approve, then send the user on.
    let res = w
        .http
        .post(format!("{}/api/dashboard/installs", w.server.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "client_id": "demo-app2", "company_id": company,
            "scope": "profile company", "state": "from-the-desktop",
        }))
        .send()
        .await?;
    ensure!(res.status() == 200, "install answered {}", res.status());
    let answer: Value = res.json().await?;
    let redirect_to = answer["redirect_to"].as_str().context("redirect_to")?;
    let (status, page) = w.get(redirect_to).await?;
    ensure!(status == 200, "the sample app answered {status}: {page}");
    ensure!(
        page.contains("atrium://install-complete?app=demo-app2&amp;state=from-the-desktop"),
        "{page}"
    );
    w.notification("app.installed", "demo-app2").await?;

    // "Open app": the server signs a launch token; the sample app checks it against the JWKS.
    let install = w.install_id(&token, "demo-app2").await?;
    let url = w.launch_url(&token, install).await?;
    let url = url.as_str();
    // The token is in the fragment, which a browser never sends to the app's server.
    ensure!(
        url.starts_with(&w.app_url("/app2/#atrium_launch=")),
        "{url}"
    );
    let jwt = url.split("#atrium_launch=").nth(1).context("jwt")?;
    let (status, page) = w.get(url).await?;
    ensure!(
        status == 200 && page.contains("Open this app from Atrium"),
        "the page without its fragment answered {status}: {page}"
    );
    let (status, page) = w.launch(url, jwt).await?;
    ensure!(status == 200, "the launched page answered {status}: {page}");
    ensure!(
        page.contains("running for <strong>demo</strong> in <strong>Demo Company</strong>"),
        "{page}"
    );
    ensure!(page.contains("What App2 read with its token"), "{page}");

    // The same token is accepted once: replayed, it is refused.
    let (status, page) = w.launch(url, jwt).await?;
    ensure!(
        status == 401 && page.contains("used already"),
        "a replayed launch token answered {status}: {page}"
    );

    // A fresh token does not open App1, and a tampered one opens nothing.
    let url = w.launch_url(&token, install).await?;
    let jwt = url.split("#atrium_launch=").nth(1).context("jwt")?;
    let (status, _) = w.launch(&w.app_url("/app1/"), jwt).await?;
    ensure!(status == 401, "App1 accepted App2's launch token");
    let tampered = format!(
        "{}{}",
        &jwt[..jwt.len() - 2],
        if jwt.ends_with("AA") { "BB" } else { "AA" }
    );
    let (status, _) = w.launch(&url, &tampered).await?;
    ensure!(status == 401, "a tampered launch token answered {status}");

    // Uninstall: the app is told, and forgets the company's token.
    let (status, _) = w
        .dashboard(
            reqwest::Method::DELETE,
            &format!("/api/dashboard/installs/{install}"),
            &token,
        )
        .await?;
    ensure!(status == 200, "uninstall answered {status}");
    let event = w.notification("app.uninstalled", "demo-app2").await?;
    ensure!(event["install_id"] == install, "{event}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sample_app_refuses_a_launch_without_a_valid_token() -> Result<()> {
    let w = world().await?;
    let (status, page) = w.get(&w.app_url("/app1/")).await?;
    ensure!(
        status == 200 && page.contains("Open this app from Atrium"),
        "{page}"
    );
    let (status, page) = w
        .launch(&w.app_url("/app2/"), "eyJhbGciOiJFZERTQSJ9.e30.AAAA")
        .await?;
    ensure!(
        status == 401 && page.contains("not valid"),
        "{status}: {page}"
    );
    Ok(())
}

/// App2 installed by the dashboard (every scope it registered, `openid` among them), and a
/// fresh launch URL and token for it.
async fn app2_launch(w: &World) -> Result<(String, String)> {
    let token = w.dashboard_token().await;
    let company = w.demo["company_id"].as_i64().context("company_id")?;
    let res = w
        .http
        .post(format!("{}/api/dashboard/installs", w.server.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "client_id": "demo-app2", "company_id": company }))
        .send()
        .await?;
    ensure!(res.status() == 200, "install answered {}", res.status());
    // The install's redirect: App2 exchanges the code and keeps the install's token.
    let answer: Value = res.json().await?;
    let redirect_to = answer["redirect_to"].as_str().context("redirect_to")?;
    let (status, page) = w.get(redirect_to).await?;
    ensure!(status == 200, "the sample app answered {status}: {page}");
    let install = w.install_id(&token, "demo-app2").await?;
    let url = w.launch_url(&token, install).await?;
    let jwt = url
        .split("#atrium_launch=")
        .nth(1)
        .context("jwt")?
        .to_string();
    Ok((url, jwt))
}

/// Posts a launch token from `client` (as the page's script does) and returns the
/// authorization URL the launched page sends the browser on to.
async fn launched_signin(client: &reqwest::Client, url: &str, jwt: &str) -> Result<String> {
    let to = url::Url::parse(url)?.join("launch")?;
    let res = client
        .post(to)
        .form(&[("atrium_launch", jwt)])
        .send()
        .await?;
    ensure!(res.status() == 200, "the launch answered {}", res.status());
    let page = res.text().await?;
    atrium_tests::html::meta_refresh(&page).with_context(|| format!("no sign-in on: {page}"))
}

/// Follows one redirect of `url` in `client`; returns its `Location`.
async fn redirect_of(client: &reqwest::Client, url: &str) -> Result<String> {
    let res = client.get(url).send().await?;
    ensure!(
        res.status().is_redirection(),
        "{url} answered {}",
        res.status()
    );
    Ok(atrium_tests::location(&res))
}

#[tokio::test(flavor = "multi_thread")]
async fn app2_opened_inside_atrium_signs_its_user_in_with_openid_connect_without_a_click(
) -> Result<()> {
    let w = world().await?;
    let (url, jwt) = app2_launch(&w).await?;
    let callback = w.app_url("/app2/callback");

    // The browser that is signed in to Atrium opens App2: prompt=none, no page, a code.
    let authorize = launched_signin(&w.browser.client, &url, &jwt).await?;
    ensure!(
        authorize.starts_with(&format!("{}/oauth2/authorize?", w.server.url)),
        "{authorize}"
    );
    ensure!(query_param(&authorize, "prompt").as_deref() == Some("none"));
    let answer = redirect_of(&w.browser.client, &authorize).await?;
    ensure!(answer.starts_with(&format!("{callback}?code=")), "{answer}");
    let res = w.browser.client.get(&answer).send().await?;
    let status = res.status();
    let page = res.text().await?;
    ensure!(status == 200, "the callback answered {status}: {page}");
    ensure!(
        page.contains("<dd data-claim=\"aud\">demo-app2</dd>"),
        "{page}"
    );
    ensure!(
        page.contains(&format!("<dd data-claim=\"iss\">{}</dd>", w.server.url)),
        "{page}"
    );
    // The ID token's subject is the user the launch token named.
    let launch_user = page
        .split("data-field=\"launch-user\">demo (#")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .context("the launch's user")?;
    ensure!(
        page.contains(&format!("<dd data-claim=\"sub\">{launch_user}</dd>")),
        "{page}"
    );
    ensure!(page.contains("matches the one App2 sent"), "{page}");
    ensure!(page.contains("matches the access token"), "{page}");
    ensure!(page.contains("(RS256, key"), "{page}");
    ensure!(page.contains("What App2 read with its token"), "{page}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn app2_offers_a_sign_in_link_when_atrium_answers_login_required() -> Result<()> {
    let w = world().await?;
    let (url, jwt) = app2_launch(&w).await?;
    // A browser without an Atrium session.
    let stranger = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let authorize = launched_signin(&stranger, &url, &jwt).await?;
    let answer = redirect_of(&stranger, &authorize).await?;
    ensure!(
        query_param(&answer, "error").as_deref() == Some("login_required"),
        "{answer}"
    );
    let res = stranger.get(&answer).send().await?;
    ensure!(
        res.status() == 200,
        "the callback answered {}",
        res.status()
    );
    let page = res.text().await?;
    ensure!(page.contains(">Sign in with Atrium</a>"), "{page}");
    ensure!(!page.contains("data-claim"), "{page}");
    ensure!(
        atrium_tests::html::meta_refresh(&page).is_none(),
        "no second silent attempt: {page}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn app2_refuses_an_id_token_issued_for_another_nonce() -> Result<()> {
    let w = world().await?;
    let (url, jwt) = app2_launch(&w).await?;
    let authorize = launched_signin(&w.browser.client, &url, &jwt).await?;
    // Someone between App2 and Atrium swaps the nonce: the ID token echoes the wrong one.
    let mut swapped = url::Url::parse(&authorize)?;
    let pairs: Vec<(String, String)> = swapped
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "nonce" {
                "a-nonce-app2-never-sent".to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    swapped.query_pairs_mut().clear().extend_pairs(pairs);
    let answer = redirect_of(&w.browser.client, swapped.as_str()).await?;
    ensure!(query_param(&answer, "code").is_some(), "{answer}");
    let res = w.browser.client.get(&answer).send().await?;
    let status = res.status();
    let page = res.text().await?;
    ensure!(status == 401, "the callback answered {status}: {page}");
    ensure!(page.contains("The ID token is not valid"), "{page}");
    ensure!(!page.contains("data-claim"), "{page}");
    Ok(())
}

/// The bridge's `getSessionToken()` gives the page a fresh launch token for its backend:
/// App2 verifies it (`POST /app2/api/session-token`) as a launch, for the page's own session,
/// and accepts its `jti` once; without the page's session cookie it proves nothing.
#[tokio::test(flavor = "multi_thread")]
async fn app2_verifies_a_session_token_once_and_only_for_its_pages_session() -> Result<()> {
    let w = world().await?;
    let (url, jwt) = app2_launch(&w).await?;
    let page = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let res = page
        .post(url::Url::parse(&url)?.join("launch")?)
        .form(&[("atrium_launch", jwt.as_str())])
        .send()
        .await?;
    ensure!(res.status() == 200, "the launch answered {}", res.status());
    // A second launch token, as `getSessionToken()` gets it.
    let token = w.dashboard_token().await;
    let install = w.install_id(&token, "demo-app2").await?;
    let fresh = || async {
        let url = w.launch_url(&token, install).await?;
        Ok::<String, anyhow::Error>(url.split("#atrium_launch=").nth(1).context("jwt")?.into())
    };
    let verify = |client: &reqwest::Client, token: String| {
        let req = client
            .post(w.app_url("/app2/api/session-token"))
            .json(&serde_json::json!({ "token": token }));
        async move {
            let res = req.send().await?;
            Ok::<(u16, Value), anyhow::Error>((res.status().as_u16(), res.json().await?))
        }
    };
    let session_token = fresh().await?;
    let (status, body) = verify(&page, session_token.clone()).await?;
    ensure!(
        status == 200 && body["verified"] == true,
        "{status}: {body}"
    );
    ensure!(
        body["install"] == install && body["username"] == "demo",
        "{body}"
    );
    let (status, body) = verify(&page, session_token).await?;
    ensure!(
        status == 401 && body["verified"] == false,
        "a replay: {status} {body}"
    );
    // No session cookie: refused, and the token is not spent by the refusal.
    let stranger = reqwest::Client::new();
    let unspent = fresh().await?;
    let (status, _) = verify(&stranger, unspent.clone()).await?;
    ensure!(
        status == 401,
        "verified without the page's session: {status}"
    );
    let (status, body) = verify(&page, unspent).await?;
    ensure!(status == 200, "{status}: {body}");
    let (status, _) = verify(&page, "not.a.token".into()).await?;
    ensure!(status == 401, "a bad token: {status}");
    Ok(())
}
