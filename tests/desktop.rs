//! The real `atrium` desktop binary under Xvfb, driven through tauri-driver + WebKitWebDriver,
//! against a real `atrium-server`.

use std::time::Duration;

use atrium_tests::{free_port, Desktop, NotificationDaemon, Server};

const RENDER_TIMEOUT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_renders_and_shows_the_servers_health() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let desktop = Desktop::launch(&server.url).await?;

    // Rendered by Yew: fails if the wasm does not load or the app does not mount.
    let brand = desktop.wait_for(".brand-name", RENDER_TIMEOUT).await?;
    assert_eq!(brand.text().await?, "Atrium");

    // UI → invoke → Rust → HTTP → server → UI.
    let health = desktop
        .wait_for("#server-health[data-state='healthy']", RENDER_TIMEOUT)
        .await?;
    assert!(
        health.text().await?.contains("healthy"),
        "health line: {:?}",
        health.text().await?
    );
    let url = desktop.wait_for("#server-url", RENDER_TIMEOUT).await?;
    assert_eq!(url.text().await?, server.url);

    desktop.screenshot("dashboard-healthy").await?;
    desktop.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_says_so_when_the_server_is_down() -> anyhow::Result<()> {
    let nobody = format!("http://127.0.0.1:{}", free_port());
    let desktop = Desktop::launch(&nobody).await?;

    let health = desktop
        .wait_for("#server-health[data-state='unreachable']", RENDER_TIMEOUT)
        .await?;
    let text = health.text().await?;
    assert!(text.contains("unreachable"), "health line: {text:?}");
    assert_eq!(
        desktop
            .wait_for("#server-url", RENDER_TIMEOUT)
            .await?
            .text()
            .await?,
        nobody
    );

    desktop.screenshot("dashboard-unreachable").await?;
    desktop.close().await
}

/// A public CODE app can't be installed by the dashboard (only the app can hold its PKCE
/// verifier): the desktop opens its install URL in the system browser, with `iss`; the app
/// starts its own authorization request there, the user allows it, and the dashboard notices
/// the new install on its own.
#[tokio::test(flavor = "multi_thread")]
async fn an_app_with_an_install_url_is_installed_through_it_in_the_browser() -> anyhow::Result<()> {
    let (server, _sample, desktop) = story(&[]).await?;
    // "The app": its install URL answers with a redirect to the server's authorization
    // endpoint, carrying the app's own PKCE challenge and state; it records what it was sent.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let install_url = format!("http://{}/install", listener.local_addr()?);
    let out = std::process::Command::new(atrium_tests::binary("atrium-server")?)
        .arg("--db")
        .arg(server.db_path())
        .args([
            "app",
            "add",
            "--owner",
            "demo",
            "--name",
            "Portal",
            "--public",
            "--redirect-uri",
            "http://127.0.0.1:9/cb",
            "--scopes",
            "profile company",
            "--install-url",
            &install_url,
        ])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let client_id = serde_json::from_slice::<serde_json::Value>(&out.stdout)?["client_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let authorize = format!(
        "{}/oauth2/authorize?response_type=code&client_id={client_id}&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&scope=profile+company&state=portal-state&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        server.url
    );
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let app = tokio::spawn({
        let seen = seen.clone();
        async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = vec![0u8; 4096];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                if let Some(line) = request.lines().next() {
                    seen.lock().unwrap().push(line.to_string());
                }
                let answer = format!(
                    "HTTP/1.1 302 Found\r\nLocation: {authorize}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        }
    });

    sign_in(&desktop).await?;
    desktop
        .click(&format!(".app-card[data-client-id='{client_id}']"))
        .await?;
    desktop.click("#install").await?;
    desktop
        .wait_for("#consent-in-browser", RENDER_TIMEOUT)
        .await?;
    desktop.screenshot("install-url-consent").await?;
    desktop.click("#consent-allow").await?;
    // The browser ran the app's own request; the dashboard saw the install appear.
    desktop
        .wait_for(
            &format!("#installed-apps .app-item[data-client-id='{client_id}']"),
            RENDER_TIMEOUT,
        )
        .await?;
    desktop.screenshot("install-url-installed").await?;
    let seen = seen.lock().unwrap().clone();
    let iss: String = url::form_urlencoded::byte_serialize(server.url.as_bytes()).collect();
    assert!(
        seen.iter()
            .any(|l| l.starts_with("GET /install?") && l.contains(&format!("iss={iss}"))),
        "the app's install URL was not opened with iss: {seen:?}"
    );
    app.abort();
    desktop.close().await
}

/// The whole story in the real desktop app: sign in through the system browser (scripted)
/// whose answer comes back as a deep link through a second `atrium` process; install App2
/// (CODE) and App1 (TOKEN) with consent; each app's redirect completes at
/// `atrium://install-complete`; open both, switch between them; check an embedded app cannot
/// reach the shell; uninstall; register an app from the developer pane.
/// The server with demo data, the sample app, and the desktop with a scripted system browser
/// (signed in as `demo`), plus `extra` environment for the desktop.
async fn story(
    extra: &[(&str, String)],
) -> anyhow::Result<(Server, atrium_tests::SampleApp, Desktop)> {
    story_on(extra, None, &[]).await
}

/// [`story`], with the desktop on the D-Bus session bus at `bus` (a [`NotificationDaemon`]'s)
/// and `sample_args` added to the sample app's (such as `--probe-bridge`).
async fn story_on(
    extra: &[(&str, String)],
    bus: Option<&str>,
    sample_args: &[&str],
) -> anyhow::Result<(Server, atrium_tests::SampleApp, Desktop)> {
    let sample_port = free_port();
    let sample_url = format!("http://127.0.0.1:{sample_port}");
    let (server, demo) = Server::start_with_demo(&sample_url).await?;
    let sample =
        atrium_tests::SampleApp::start_with(&server.url, sample_port, &demo, sample_args).await?;
    let mut env = vec![
        (
            "ATRIUM_BROWSER",
            atrium_tests::binary("atrium-scripted-browser")?
                .display()
                .to_string(),
        ),
        (
            "ATRIUM_DESKTOP_BIN",
            atrium_tests::binary("atrium")?.display().to_string(),
        ),
        ("SCRIPTED_USER", "demo".into()),
        ("SCRIPTED_PASSWORD", "atrium-demo".into()),
    ];
    env.extend(extra.iter().cloned());
    let desktop = Desktop::launch_on(&server.url, &env, bus).await?;
    Ok((server, sample, desktop))
}

/// Signs in through the scripted system browser; the answer returns as a deep link.
async fn sign_in(desktop: &Desktop) -> anyhow::Result<()> {
    desktop
        .wait_for("#server-health[data-state='healthy']", RENDER_TIMEOUT)
        .await?;
    desktop.click("#sign-in").await?;
    let who = desktop.wait_for("#signed-in-as", RENDER_TIMEOUT).await?;
    assert_eq!(who.text().await?, "Signed in as demo");
    Ok(())
}

/// Any local program can open `atrium://oauth/callback`: a forged one (a `state` of its own),
/// arriving while a sign-in is in progress, is ignored and the real answer still signs in.
#[tokio::test(flavor = "multi_thread")]
async fn a_forged_callback_during_sign_in_leaves_the_sign_in_working() -> anyhow::Result<()> {
    let (_server, _sample, desktop) = story(&[("SCRIPTED_FORGE_CALLBACK", "1".into())]).await?;
    sign_in(&desktop).await?;
    desktop
        .screenshot("08-signed-in-despite-a-forged-callback")
        .await?;
    desktop.close().await
}

/// When no browser can be started, the sign-in card shows the sign-in page's URL with a copy
/// button, and the sign-in waits for it.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_browser_the_sign_in_card_offers_the_url_to_copy() -> anyhow::Result<()> {
    let (server, _sample, desktop) =
        story(&[("ATRIUM_BROWSER", "/nonexistent/browser".into())]).await?;
    desktop
        .wait_for("#server-health[data-state='healthy']", RENDER_TIMEOUT)
        .await?;
    desktop.click("#sign-in").await?;
    desktop
        .wait_for("#sign-in-no-browser", RENDER_TIMEOUT)
        .await?;
    let url = desktop
        .wait_for("#sign-in-url", RENDER_TIMEOUT)
        .await?
        .prop("value")
        .await?
        .unwrap_or_default();
    assert!(
        url.starts_with(&format!("{}/oauth2/authorize?", server.url)),
        "{url}"
    );
    assert!(
        url.contains("state=") && url.contains("code_challenge="),
        "{url}"
    );
    desktop
        .wait_for("#copy-sign-in-url", RENDER_TIMEOUT)
        .await?;
    desktop.screenshot("09-sign-in-without-a-browser").await?;
    desktop.close().await
}

/// Signing out of the desktop ends the session its sign-in left in the system browser: the
/// desktop opens the server's sign-out page there (with its ID token as the hint), the browser
/// comes back through `atrium://signed-out`, and the dashboard says so. The server deleted the
/// session: a new authorization request with the browser's cookie, even a copy kept from
/// before, asks for the password again.
#[tokio::test(flavor = "multi_thread")]
async fn signing_out_of_the_desktop_signs_its_browser_out_too() -> anyhow::Result<()> {
    let profile = tempfile::tempdir()?;
    let (server, _sample, desktop) =
        story(&[("SCRIPTED_PROFILE", profile.path().display().to_string())]).await?;
    sign_in(&desktop).await?;
    let cookies = profile.path().join("cookies");
    let before = browser_cookie(&cookies)?;
    assert_eq!(
        next_sign_in_page(&server, &before).await?,
        NextSignIn::Continue,
        "the browser is signed in after the desktop's sign-in"
    );

    desktop.click("#sign-out").await?;
    desktop.wait_for("#sign-in", RENDER_TIMEOUT).await?;
    // The browser signs out on its own, after the desktop did: wait for it.
    let deadline = std::time::Instant::now() + RENDER_TIMEOUT;
    while next_sign_in_page(&server, &before).await? == NextSignIn::Continue {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the browser's session at the server outlived the desktop's sign-out"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        next_sign_in_page(&server, &browser_cookie(&cookies)?).await?,
        NextSignIn::Password,
        "the browser's profile asks for the password again"
    );
    desktop
        .wait_for("#signed-out-everywhere", RENDER_TIMEOUT)
        .await?;
    desktop.screenshot("10-signed-out-everywhere").await?;
    desktop.close().await
}

/// The `Cookie` header the scripted browser's profile keeps for the server (see
/// `bin/scripted_browser.rs`).
fn browser_cookie(path: &std::path::Path) -> anyhow::Result<String> {
    let saved = std::fs::read_to_string(path)?;
    Ok(saved.lines().nth(1).unwrap_or_default().to_string())
}

/// What a browser with `cookie` sees when the desktop next asks it to sign in.
#[derive(Debug, PartialEq)]
enum NextSignIn {
    /// The page that continues as the signed-in account: the session is live.
    Continue,
    /// The login form: no session.
    Password,
}

async fn next_sign_in_page(server: &Server, cookie: &str) -> anyhow::Result<NextSignIn> {
    let pkce = atrium_tests::Pkce::new();
    let request = atrium_tests::Authorize::code(atrium_tests::DESKTOP_CLIENT)
        .redirect_uri(atrium_tests::DESKTOP_REDIRECT)
        .scope("dashboard")
        .state("again")
        .pkce(&pkce);
    let res = atrium_tests::http()
        .get(server.atrium().url(atrium_proto::paths::AUTHORIZE))
        .query(&request)
        .header("cookie", cookie)
        .send()
        .await?;
    let status = res.status();
    let page = res.text().await?;
    if page.contains("name=\"password\"") {
        Ok(NextSignIn::Password)
    } else if page.contains("to the Atrium app?") {
        Ok(NextSignIn::Continue)
    } else {
        anyhow::bail!("neither the login form nor the page to continue ({status}): {page}")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_install_finished_in_the_system_browser_returns_through_a_deep_link(
) -> anyhow::Result<()> {
    let (_server, _sample, desktop) = story(&[("ATRIUM_APP_REDIRECTS", "browser".into())]).await?;
    sign_in(&desktop).await?;
    desktop
        .click(".app-card[data-client-id='demo-app2']")
        .await?;
    desktop.click("#install").await?;
    desktop.click("#consent-allow").await?;
    // App2's page ran in the (scripted) browser, whose deep link reached this app through a
    // second `atrium` process; the dashboard re-read the install and opened it.
    desktop
        .wait_for(
            "#installed-apps .app-item[data-client-id='demo-app2']",
            RENDER_TIMEOUT,
        )
        .await?;
    desktop
        .wait_for(".app-frame:not(.hidden) .app-view", RENDER_TIMEOUT)
        .await?;
    let shown = desktop
        .wait_for(".app-frame:not(.hidden)", RENDER_TIMEOUT)
        .await?;
    assert_eq!(shown.attr("data-name").await?.as_deref(), Some("App2"));
    desktop.close().await
}

/// The whole story in the real desktop app: sign in through the system browser (scripted)
/// whose answer comes back as a deep link through a second `atrium` process; install App2
/// (CODE) and App1 (TOKEN) with consent; each app's redirect completes at
/// `atrium://install-complete`; open both, switch between them; check an embedded app cannot
/// reach the shell; uninstall; register an app from the developer pane; with the sample app
/// down, see an undelivered notification there (classified error) and retry it now.
#[tokio::test(flavor = "multi_thread")]
async fn a_user_signs_in_installs_both_kinds_of_app_opens_them_and_uninstalls() -> anyhow::Result<()>
{
    let (_server, sample, desktop) = story(&[]).await?;
    let long = Duration::from_secs(60);

    // Sign in.
    desktop
        .wait_for("#server-health[data-state='healthy']", long)
        .await?;
    desktop.screenshot("01-sign-in").await?;
    desktop.click("#sign-in").await?;
    let who = desktop.wait_for("#signed-in-as", long).await?;
    assert_eq!(who.text().await?, "Signed in as demo");
    desktop
        .wait_for(".app-card[data-client-id='demo-app2']", long)
        .await?;
    desktop.screenshot("02-catalog").await?;

    // Install App2 (CODE) and App1 (TOKEN).
    for client_id in ["demo-app2", "demo-app1"] {
        desktop.click("#nav-catalog").await?;
        desktop
            .click(&format!(".app-card[data-client-id='{client_id}']"))
            .await?;
        desktop.click("#install").await?;
        let consent = desktop.wait_for("#consent", long).await?;
        let text = consent.text().await?;
        assert!(text.contains("Made by demo"), "{text}");
        assert!(text.contains("See your username"), "{text}");
        desktop
            .screenshot(&format!("03-consent-{client_id}"))
            .await?;
        desktop.click("#consent-allow").await?;
        // The app's redirect runs, then `atrium://install-complete` brings us back and opens it.
        desktop
            .wait_for(
                &format!("#installed-apps .app-item[data-client-id='{client_id}']"),
                long,
            )
            .await?;
        // The app runs in a webview of its own, out of WebDriver's reach: its page reports
        // from inside (the sample app's probe) that it holds the launched session.
        desktop
            .wait_for(".app-frame:not(.hidden) .app-view", long)
            .await?;
        let report = wait_for_report(&sample, app_label(client_id), 1).await?;
        assert_isolated(&report);
        desktop.screenshot(&format!("04-open-{client_id}")).await?;
    }

    // Both apps' pages found no way to the shell (checked in `assert_isolated` above).
    desktop.screenshot("04-open-app-webview").await?;

    // Switch back to App2: its page is still alive.
    desktop
        .click("#installed-apps .app-item[data-client-id='demo-app2']")
        .await?;
    let shown = desktop.wait_for(".app-frame:not(.hidden)", long).await?;
    assert_eq!(shown.attr("data-name").await?.as_deref(), Some("App2"));
    // Shown again, not loaded again: still one page load of App2.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(reports_of(&sample, "App2").await?.len(), 1);
    assert_eq!(
        desktop
            .client
            .find_all(fantoccini::Locator::Css(".app-frame"))
            .await?
            .len(),
        2
    );

    // Uninstall App2.
    desktop.click("#uninstall").await?;
    desktop.click("#confirm-uninstall").await?;
    desktop
        .wait_gone(
            "#installed-apps .app-item[data-client-id='demo-app2']",
            long,
        )
        .await?;
    desktop.screenshot("05-uninstalled").await?;

    // Register an app from the developer pane.
    desktop.click("#nav-developer").await?;
    desktop.type_into("#app-name", "Timesheets").await?;
    desktop
        .type_into("#app-description", "Hours per project")
        .await?;
    desktop
        .type_into("#app-redirects", "https://timesheets.example/callback")
        .await?;
    desktop.click("#register-submit").await?;
    let id = desktop
        .wait_for("#new-client-id", long)
        .await?
        .text()
        .await?;
    assert!(id.starts_with("atr_ci_"), "{id}");
    let secret = desktop
        .wait_for("#new-client-secret", long)
        .await?
        .text()
        .await?;
    assert!(secret.starts_with("atr_cs_"));
    let mine = desktop.wait_for("#my-apps", long).await?.text().await?;
    assert!(mine.contains("Timesheets"), "{mine}");
    desktop.screenshot("06-developer").await?;

    // Edit it.
    desktop
        .click(&format!("#my-apps li[data-client-id='{id}'] button.link"))
        .await?;
    desktop.type_into("#edit-name", " Pro").await?;
    desktop.click("#edit-save").await?;
    desktop.wait_gone("#edit-app", long).await?;
    let mine = desktop.wait_for("#my-apps", long).await?.text().await?;
    assert!(mine.contains("Timesheets Pro"), "{mine}");

    // The sample app goes down; uninstalling App1 now cannot notify it. Its developer sees the
    // notification retrying, with a classified error, and retries it now.
    drop(sample);
    desktop
        .click("#installed-apps .app-item[data-client-id='demo-app1']")
        .await?;
    desktop.click("#uninstall").await?;
    desktop.click("#confirm-uninstall").await?;
    desktop
        .wait_gone(
            "#installed-apps .app-item[data-client-id='demo-app1']",
            long,
        )
        .await?;
    desktop.click("#nav-developer").await?;
    desktop
        .click("#my-apps li[data-client-id='demo-app1'] button.show-deliveries")
        .await?;
    let mut shown = String::new();
    for _ in 0..60 {
        shown = desktop.wait_for("#deliveries", long).await?.text().await?;
        if shown.contains("connection refused") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        desktop.click("#deliveries-refresh").await?;
    }
    assert!(
        shown.contains("app.uninstalled") && shown.contains("retrying"),
        "{shown}"
    );
    assert!(shown.contains("connection refused"), "{shown}");
    desktop
        .click("#deliveries tr.delivery button.retry-now")
        .await?;
    let shown = desktop.wait_for("#deliveries", long).await?.text().await?;
    assert!(shown.contains("app.uninstalled"), "{shown}");
    desktop.screenshot("07-deliveries").await?;
    desktop.close().await
}

/// More apps than one page holds: the catalog and the developer pane show the first page and
/// a "Load more" control that brings the rest, each app once.
#[tokio::test(flavor = "multi_thread")]
async fn the_catalog_and_the_developer_pane_page_through_many_apps() -> anyhow::Result<()> {
    let (server, _sample, desktop) = story(&[]).await?;
    let long = Duration::from_secs(60);
    // 60 more apps of `demo` (App1 and App2 already exist): 62, more than a page of 50.
    for i in 0..60 {
        let out = std::process::Command::new(atrium_tests::binary("atrium-server")?)
            .arg("--db")
            .arg(server.db_path())
            .args(["app", "add", "--owner", "demo", "--name"])
            .arg(format!("Bulk {i:02}"))
            .args(["--redirect-uri", "https://bulk.example/callback"])
            .env("RUST_LOG", "warn")
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "app add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    sign_in(&desktop).await?;
    desktop.wait_for("#catalog-more", long).await?;
    let cards = "#catalog .app-card";
    assert_eq!(count(&desktop, cards).await?, 50);
    desktop
        .client
        .execute(
            "document.getElementById('catalog-more').scrollIntoView()",
            vec![],
        )
        .await?;
    desktop.screenshot("07-catalog-first-page").await?;
    desktop.click("#catalog-more").await?;
    desktop.wait_gone("#catalog-more", long).await?;
    assert_eq!(count(&desktop, cards).await?, 62);
    let last = desktop
        .wait_for("#catalog .app-card:last-child strong", long)
        .await?
        .text()
        .await?;
    assert_eq!(last, "Bulk 59");
    desktop.screenshot("08-catalog-all-pages").await?;

    desktop.click("#nav-developer").await?;
    desktop.wait_for("#my-apps-more", long).await?;
    assert_eq!(count(&desktop, "#my-apps li").await?, 50);
    desktop.click("#my-apps-more").await?;
    desktop.wait_gone("#my-apps-more", long).await?;
    assert_eq!(count(&desktop, "#my-apps li").await?, 62);
    desktop.screenshot("09-developer-all-pages").await?;
    desktop.close().await
}

/// How many elements match `css`.
async fn count(desktop: &Desktop, css: &str) -> anyhow::Result<usize> {
    Ok(desktop
        .client
        .find_all(fantoccini::Locator::Css(css))
        .await?
        .len())
}
/// Runs `atrium-server --db DB ARGS...` beside the live server (with `stdin` as its input) and
/// returns the JSON it printed.
fn server_cli(server: &Server, args: &[&str], stdin: &str) -> anyhow::Result<serde_json::Value> {
    use std::io::Write;
    let mut child = std::process::Command::new(atrium_tests::binary("atrium-server")?)
        .arg("--db")
        .arg(server.db_path())
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    anyhow::ensure!(
        out.status.success(),
        "atrium-server {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// Company membership with consent, and installing into the company the user chooses: ada
/// invites demo to own her company; demo sees the invitation, accepts it, now owns two
/// companies, so the install page pre-selects neither; demo picks ada's company, the consent
/// screen names it, and App2 lands there and not in demo's own. Demo then invites ada to
/// Demo Company from the members pane, and leaves ada's company.
#[tokio::test(flavor = "multi_thread")]
async fn a_user_accepts_an_invitation_and_installs_into_the_company_they_choose(
) -> anyhow::Result<()> {
    let (server, _sample, desktop) = story(&[]).await?;
    let long = Duration::from_secs(60);
    server_cli(
        &server,
        &["user", "add", "ada", "--password-stdin"],
        "ada-password-1\n",
    )?;
    let company = server_cli(
        &server,
        &["company", "add", "Zebra Works", "--owner", "ada"],
        "",
    )?;
    let zebra = company["id"].as_i64().expect("a company id").to_string();
    server_cli(
        &server,
        &["company", "invite", &zebra, "demo", "--role", "owner"],
        "",
    )?;

    // Before accepting, demo is not in ada's company.
    sign_in(&desktop).await?;
    let invitation = desktop
        .wait_for("#invitations .invitation[data-company='Zebra Works']", long)
        .await?;
    let text = invitation.text().await?;
    assert!(text.contains("as an owner"), "{text}");
    let switcher = desktop.wait_for("#company-switcher", long).await?;
    assert!(!switcher.text().await?.contains("Zebra Works"));
    desktop.screenshot("07-invitation").await?;

    // Accept: demo now owns Zebra Works too, and the dashboard shows it.
    desktop
        .click("#invitations .invitation[data-company='Zebra Works'] .accept-invitation")
        .await?;
    desktop.wait_gone("#invitations", long).await?;
    desktop
        .wait_for(&format!("#company-switcher option[value='{zebra}']"), long)
        .await?;

    // Two owned companies: the install page chooses neither until demo does.
    desktop.click("#nav-catalog").await?;
    desktop
        .click(".app-card[data-client-id='demo-app2']")
        .await?;
    desktop
        .wait_for("#install-company input[name='install-company']", long)
        .await?;
    let install = desktop.wait_for("#install", long).await?;
    assert!(
        !install.is_enabled().await?,
        "a company was chosen for demo"
    );
    for radio in desktop
        .client
        .find_all(fantoccini::Locator::Css("input[name='install-company']"))
        .await?
    {
        assert!(!radio.is_selected().await?, "a company is pre-selected");
    }
    desktop.screenshot("08-choose-company").await?;
    desktop
        .click(&format!("input[name='install-company'][value='{zebra}']"))
        .await?;
    let install = desktop.wait_for("#install:not([disabled])", long).await?;
    assert_eq!(install.text().await?, "Install in Zebra Works");
    install.click().await?;
    let consent = desktop.wait_for("#consent", long).await?;
    let text = consent.text().await?;
    assert!(text.contains("Install App2 in Zebra Works?"), "{text}");
    desktop.click("#consent-allow").await?;
    desktop
        .wait_for(
            "#installed-apps .app-item[data-client-id='demo-app2']",
            long,
        )
        .await?;
    let frame = desktop.wait_for(".app-frame:not(.hidden)", long).await?;
    assert_eq!(frame.attr("data-name").await?.as_deref(), Some("App2"));
    let switcher = desktop.wait_for("#company-switcher", long).await?;
    assert_eq!(
        switcher.prop("value").await?.as_deref(),
        Some(zebra.as_str())
    );
    desktop.screenshot("09-installed-in-chosen-company").await?;

    // It went into Zebra Works only: Demo Company has no App2.
    let mut demo_company = None;
    for option in desktop
        .client
        .find_all(fantoccini::Locator::Css("#company-switcher option"))
        .await?
    {
        if option.text().await? == "Demo Company" {
            demo_company = option.attr("value").await?;
        }
    }
    let demo_company = demo_company.expect("Demo Company in the switcher");
    desktop
        .wait_for("#company-switcher", long)
        .await?
        .select_by_value(&demo_company)
        .await?;
    desktop
        .wait_for(
            &format!("#installed-apps[data-loaded-for='{demo_company}']"),
            long,
        )
        .await?;
    assert!(desktop
        .client
        .find_all(fantoccini::Locator::Css(
            "#installed-apps .app-item[data-client-id='demo-app2']"
        ))
        .await?
        .is_empty());

    // Owners invite by username with a role; nobody joins until they accept.
    desktop.click("#nav-company").await?;
    desktop
        .wait_for("#members li[data-username='demo']", long)
        .await?;
    desktop.type_into("#invite-username", "ada").await?;
    desktop
        .wait_for("#invite-role", long)
        .await?
        .select_by_value("owner")
        .await?;
    desktop.click("#invite-submit").await?;
    let pending = desktop
        .wait_for("#pending-invitations li[data-username='ada']", long)
        .await?;
    assert!(pending.text().await?.contains("owner"));
    assert!(desktop
        .client
        .find_all(fantoccini::Locator::Css("#members li[data-username='ada']"))
        .await?
        .is_empty());
    desktop.screenshot("10-members").await?;

    // Demo leaves Zebra Works (ada is still its owner).
    desktop
        .wait_for("#company-switcher", long)
        .await?
        .select_by_value(&zebra)
        .await?;
    desktop.click("#nav-company").await?;
    desktop
        .wait_for("#members li[data-username='ada']", long)
        .await?;
    desktop.click("#leave-company").await?;
    desktop.click("#confirm-leave").await?;
    desktop
        .wait_gone(&format!("#company-switcher option[value='{zebra}']"), long)
        .await?;
    desktop.close().await
}

/// "App1" or "App2", as the sample app's probe names them.
fn app_label(client_id: &str) -> &'static str {
    if client_id == "demo-app1" {
        "App1"
    } else {
        "App2"
    }
}

/// What the sample app's pages reported (`--probe`): one report per load of a launched page
/// that the user saw. A woken app's webview keeps its partition, so its first request still
/// carries the earlier session's cookie and is answered that session's page, which the new
/// launch replaces at once; such a page may or may not get its report out before it goes, and
/// flags it (`replaced_by_launch`): it is left out here (see [`replaced_reports_of`]).
async fn reports_of(
    sample: &atrium_tests::SampleApp,
    app: &str,
) -> anyhow::Result<Vec<serde_json::Value>> {
    Ok(all_reports_of(sample, app)
        .await?
        .into_iter()
        .filter(|r| r["findings"]["replaced_by_launch"] != true)
        .collect())
}

/// Whether a report is a page's load, not an open page shown again (`shown_at_ms`, which the
/// desktop bench reads).
fn is_load(report: &serde_json::Value) -> bool {
    report["findings"]["shown_at_ms"].is_null() && !is_elsewhere(report)
}

/// Whether `report` is of App2's page at another origin (`/app2/elsewhere`, see
/// [`an_open_app_uses_the_bridge_and_no_other_page_can`]): the record of its being served, or
/// what the page found.
fn is_elsewhere(report: &serde_json::Value) -> bool {
    let found = &report["findings"];
    !found["redirected_elsewhere"].is_null()
        || !found["served_elsewhere"].is_null()
        || found["at"] == "/app2/elsewhere"
}

/// The reports of pages that a new launch replaced at once (see [`reports_of`]).
async fn replaced_reports_of(
    sample: &atrium_tests::SampleApp,
    app: &str,
) -> anyhow::Result<Vec<serde_json::Value>> {
    Ok(all_reports_of(sample, app)
        .await?
        .into_iter()
        .filter(|r| r["findings"]["replaced_by_launch"] == true)
        .collect())
}

async fn all_reports_of(
    sample: &atrium_tests::SampleApp,
    app: &str,
) -> anyhow::Result<Vec<serde_json::Value>> {
    Ok(all_reports(sample)
        .await?
        .into_iter()
        .filter(|r| r["app"] == app && is_load(r))
        .collect())
}

/// Every report the sample app holds.
async fn all_reports(sample: &atrium_tests::SampleApp) -> anyhow::Result<Vec<serde_json::Value>> {
    Ok(reqwest::get(format!("{}/probe/reports", sample.url))
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// Waits until apps' pages have been redirected `n` times to App2's page at another origin.
async fn wait_for_elsewhere(sample: &atrium_tests::SampleApp, n: usize) -> anyhow::Result<()> {
    for _ in 0..150 {
        let all = all_reports(sample).await?;
        let redirected = all
            .iter()
            .filter(|r| !r["findings"]["redirected_elsewhere"].is_null())
            .count();
        if redirected >= n {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::bail!("the apps' pages did not ask {n} times for a page at another origin within 30 s")
}

/// Waits for the `n`th report (from 1) of `app`'s pages.
async fn wait_for_report(
    sample: &atrium_tests::SampleApp,
    app: &str,
    n: usize,
) -> anyhow::Result<serde_json::Value> {
    for _ in 0..300 {
        if let Some(r) = reports_of(sample, app).await?.get(n - 1) {
            return Ok(r.clone());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let all = all_reports(sample).await.unwrap_or_default();
    anyhow::bail!(
        "{app}'s page did not report a {n}th load within a minute; the reports: {}",
        serde_json::Value::from(all)
    )
}

/// The app's page is a top-level document (so its cookies are first-party) holding demo's
/// launched session, and found no trace of the desktop's Tauri IPC: no `__TAURI__`, no
/// `__TAURI_INTERNALS__`, and `ipc://` refused (its CSP allows `ipc:` in probe mode, so the
/// refusal is the webview's), and no `window.ipc`. Its one channel is the app bridge's
/// (WebKit's message handler `atrium`, which takes nothing without the bridge's key; see
/// [`an_open_app_uses_the_bridge_and_no_other_page_can`]). The page refuses to be framed
/// (`X-Frame-Options: DENY`, `frame-ancestors 'none'`) and works all the same.
fn assert_isolated(report: &serde_json::Value) {
    let found = &report["findings"];
    assert_eq!(found["top"], "self", "framed: {report}");
    assert_eq!(found["x_frame_options"], "DENY", "{report}");
    assert_eq!(found["frame_ancestors"], "'none'", "{report}");
    for name in ["tauri", "internals", "ipc"] {
        assert_eq!(found[name], "undefined", "the app saw {name}: {report}");
    }
    assert_eq!(found["handler"], "object", "no bridge channel: {report}");
    assert_eq!(
        found["ipc_fetch"], "blocked",
        "the app reached IPC: {report}"
    );
    assert_eq!(report["username"], "demo", "no session: {report}");
    assert!(report["install"].is_i64(), "no session: {report}");
}

/// Installs `client_id` from the catalog into demo's only company; the app opens.
async fn install(desktop: &Desktop, client_id: &str) -> anyhow::Result<()> {
    desktop.click("#nav-catalog").await?;
    desktop
        .click(&format!(".app-card[data-client-id='{client_id}']"))
        .await?;
    desktop.click("#install").await?;
    desktop.click("#consent-allow").await?;
    desktop
        .wait_for(".app-frame:not(.hidden) .app-view", Duration::from_secs(60))
        .await?;
    Ok(())
}

/// Installs `client_id` from the catalog into the company `company` (demo owns several, so
/// the install page asks which); the app opens.
async fn install_into(desktop: &Desktop, client_id: &str, company: &str) -> anyhow::Result<()> {
    let long = Duration::from_secs(60);
    desktop.click("#nav-catalog").await?;
    desktop
        .click(&format!(".app-card[data-client-id='{client_id}']"))
        .await?;
    desktop
        .click(&format!("input[name='install-company'][value='{company}']"))
        .await?;
    desktop
        .wait_for("#install:not([disabled])", long)
        .await?
        .click()
        .await?;
    desktop.click("#consent-allow").await?;
    desktop
        .wait_for(
            &format!("#installed-apps .app-item[data-client-id='{client_id}']"),
            long,
        )
        .await?;
    desktop
        .wait_for(".app-frame:not(.hidden) .app-view", long)
        .await?;
    Ok(())
}

/// The same app installed in two companies runs in two webviews with two partitions: each
/// page holds its own install's session, never the other's; uninstalling one deletes its
/// partition and leaves the other's.
#[tokio::test(flavor = "multi_thread")]
async fn one_app_in_two_companies_keeps_two_sessions_in_two_partitions() -> anyhow::Result<()> {
    let (server, sample, desktop) = story(&[]).await?;
    let long = Duration::from_secs(60);
    let zebra = server_cli(
        &server,
        &["company", "add", "Zebra Works", "--owner", "demo"],
        "",
    )?["id"]
        .as_i64()
        .expect("a company id");
    sign_in(&desktop).await?;
    let switcher = desktop.wait_for("#company-switcher", long).await?;
    let demo_company = switcher.prop("value").await?.unwrap_or_default();
    desktop
        .wait_for(&format!("#company-switcher option[value='{zebra}']"), long)
        .await?;

    install_into(&desktop, "demo-app2", &demo_company).await?;
    let first = wait_for_report(&sample, "App2", 1).await?;
    assert_isolated(&first);
    desktop.screenshot("11-app-in-demo-company").await?;

    desktop
        .wait_for("#company-switcher", long)
        .await?
        .select_by_value(&zebra.to_string())
        .await?;
    desktop
        .wait_for(&format!("#installed-apps[data-loaded-for='{zebra}']"), long)
        .await?;
    install_into(&desktop, "demo-app2", &zebra.to_string()).await?;
    let second = wait_for_report(&sample, "App2", 2).await?;
    assert_isolated(&second);
    desktop.screenshot("12-same-app-in-zebra-works").await?;

    // Two installs, two sessions, each in its own company.
    assert_ne!(first["install"], second["install"]);
    assert_eq!(first["company"].to_string(), demo_company);
    assert_eq!(second["company"], zebra);
    let partitions = desktop.data_dir().join("partitions");
    let partition = |report: &serde_json::Value| -> anyhow::Result<std::path::PathBuf> {
        let install = report["install"].to_string();
        for server_dir in std::fs::read_dir(&partitions)? {
            let dir = server_dir?.path().join(&install);
            if dir.is_dir() {
                return Ok(dir);
            }
        }
        anyhow::bail!(
            "no partition for install {install} under {}",
            partitions.display()
        )
    };
    let (first_dir, second_dir) = (partition(&first)?, partition(&second)?);
    assert_ne!(first_dir, second_dir);

    // Uninstalling the one shown (Zebra Works') deletes its partition only.
    desktop.click("#uninstall").await?;
    desktop.click("#confirm-uninstall").await?;
    desktop
        .wait_gone(
            "#installed-apps .app-item[data-client-id='demo-app2']",
            long,
        )
        .await?;
    assert!(
        !second_dir.exists(),
        "{} is still there",
        second_dir.display()
    );
    assert!(first_dir.is_dir(), "{} is gone", first_dir.display());
    desktop.close().await
}

/// An app whose pages refuse to be framed (`X-Frame-Options: DENY` and `frame-ancestors
/// 'none'`, as the sample app's pages are served; its page checks the headers of its own
/// address) opens in its webview, keeps its session cookie (the page's own requests carry it)
/// and, hidden and shown again, is still the same page, not loaded again.
#[tokio::test(flavor = "multi_thread")]
async fn an_app_that_refuses_to_be_framed_opens_and_keeps_its_session() -> anyhow::Result<()> {
    let (_server, sample, desktop) = story(&[]).await?;
    let long = Duration::from_secs(60);
    sign_in(&desktop).await?;
    install(&desktop, "demo-app1").await?;
    let report = wait_for_report(&sample, "App1", 1).await?;
    let found = &report["findings"];
    assert_eq!(found["x_frame_options"], "DENY", "{report}");
    assert_eq!(found["frame_ancestors"], "'none'", "{report}");
    assert_eq!(found["top"], "self", "{report}");
    // The probe's own request carried the session cookie the launch set.
    assert_eq!(report["username"], "demo", "no session: {report}");
    desktop.screenshot("15-app-refusing-frames").await?;

    desktop.click("#nav-catalog").await?;
    desktop
        .click("#installed-apps .app-item[data-client-id='demo-app1']")
        .await?;
    desktop
        .wait_for(".app-frame:not(.hidden)[data-name='App1'] .app-view", long)
        .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(reports_of(&sample, "App1").await?.len(), 1);
    desktop.close().await
}

/// With a short sleep time, an app left hidden goes to sleep: the sidebar says so and its web
/// process ends. Selecting it loads it again with a fresh launch. A pinned app stays awake,
/// even through "put all apps to sleep now".
#[tokio::test(flavor = "multi_thread")]
async fn a_hidden_app_sleeps_and_wakes_with_a_fresh_launch_unless_pinned() -> anyhow::Result<()> {
    let (_server, sample, desktop) = story(&[]).await?;
    let long = Duration::from_secs(60);
    sign_in(&desktop).await?;

    // Three seconds.
    desktop.click("#nav-settings").await?;
    let field = desktop.wait_for("#sleep-after", long).await?;
    field.clear().await?;
    field.send_keys("0.05").await?;
    desktop.click("#sleep-save").await?;
    let status = desktop.wait_for("#sleep-status", long).await?;
    assert_eq!(status.text().await?, "Saved.");
    desktop.screenshot("13-settings-sleep").await?;

    install(&desktop, "demo-app1").await?;
    assert_isolated(&wait_for_report(&sample, "App1", 1).await?);
    // The install's redirect window has closed; its web process has had time to end.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let awake = desktop.web_processes();

    // Hidden (the catalog is shown): asleep within the sleep time and a tick.
    desktop.click("#nav-catalog").await?;
    desktop
        .wait_for(
            "#installed-apps .app-item.asleep[data-client-id='demo-app1']",
            Duration::from_secs(15),
        )
        .await?;
    desktop.screenshot("14-app-asleep").await?;
    let mut asleep = desktop.web_processes();
    for _ in 0..50 {
        if asleep < awake {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        asleep = desktop.web_processes();
    }
    assert_eq!(asleep + 1, awake, "the app's web process is still running");

    // Selected: launched again (a second page load, with a new launch and session).
    desktop
        .click("#installed-apps .app-item[data-client-id='demo-app1']")
        .await?;
    let first = wait_for_report(&sample, "App1", 1).await?;
    let again = wait_for_report(&sample, "App1", 2).await?;
    assert_isolated(&again);
    assert_ne!(first["launch"], again["launch"], "not a fresh launch");
    desktop
        .wait_gone("#installed-apps .app-item.asleep", long)
        .await?;

    // Pinned, it stays awake while hidden, even when all apps are put to sleep.
    desktop.click("#pin-app").await?;
    desktop
        .wait_for("#pin-app[aria-pressed='true']", long)
        .await?;
    desktop.click("#nav-settings").await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    desktop.click("#sleep-now").await?;
    desktop.wait_for("#sleep-status", long).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(desktop
        .client
        .find_all(fantoccini::Locator::Css(".app-item.asleep"))
        .await?
        .is_empty());
    // Two pages seen: the first launch's and the wake's; both found no way to the shell.
    let seen = reports_of(&sample, "App1").await?;
    assert_eq!(seen.len(), 2, "{seen:?}");
    for report in &seen {
        assert_isolated(report);
    }
    // The page the wake's first request was answered (the first launch's session, from the
    // partition's cookie), if it reported at all before the new launch replaced it.
    let replaced = replaced_reports_of(&sample, "App1").await?;
    eprintln!(
        "pages replaced by the wake's launch that reported: {}",
        replaced.len()
    );
    for page in replaced {
        assert_eq!(page["launch"], first["launch"], "{page}");
    }
    desktop.close().await
}

/// Waits (a few seconds) for the dashboard's title to be `title`.
async fn wait_for_title(desktop: &Desktop, title: &str) -> anyhow::Result<()> {
    let mut last = String::new();
    for _ in 0..50 {
        last = desktop.client.title().await?;
        if last == title {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the title is {last:?}, not {title:?}")
}

/// Makes App2's backend post a notification through Atrium's API (`POST /app2/ping`, test
/// only): answers the notification's id.
async fn ping(sample: &atrium_tests::SampleApp, title: &str, path: &str) -> anyhow::Result<i64> {
    let res = reqwest::Client::new()
        .post(format!("{}/app2/ping", sample.url))
        .json(&serde_json::json!({ "title": title, "path": path }))
        .send()
        .await?;
    let status = res.status();
    let body: serde_json::Value = res.json().await?;
    anyhow::ensure!(status.as_u16() == 201, "the ping answered {status}: {body}");
    body["id"]
        .as_i64()
        .ok_or_else(|| anyhow::anyhow!("no id in {body}"))
}

/// While App2 is asleep, its backend posts a notification through the API: the desktop's event
/// stream brings it at once, the sidebar shows App2's badge and the window's title the total,
/// and a native notification reaches the notification service (a stand-in on the test's bus).
/// Clicking it wakes App2 with a fresh launch at the notification's path, and marks it read.
/// Then the server restarts (same database, same port): the stream reconnects with its
/// `Last-Event-ID`, and a notification posted right after the restart pops up exactly once,
/// the first one not again.
#[tokio::test(flavor = "multi_thread")]
async fn a_sleeping_app_notifies_through_the_system_and_a_click_wakes_it_at_its_path(
) -> anyhow::Result<()> {
    let daemon = NotificationDaemon::start().await?;
    let (mut server, sample, desktop) = story_on(&[], Some(&daemon.address), &[]).await?;
    let long = Duration::from_secs(60);
    sign_in(&desktop).await?;
    install(&desktop, "demo-app2").await?;
    assert_isolated(&wait_for_report(&sample, "App2", 1).await?);
    desktop
        .wait_for("#nav-notifications[data-inbox-mode='live']", long)
        .await?;

    // Asleep: Settings → put all apps to sleep now.
    desktop.click("#nav-settings").await?;
    desktop.click("#sleep-now").await?;
    let app2 = "#installed-apps .app-item[data-client-id='demo-app2']";
    desktop.wait_for(&format!("{app2}.asleep"), long).await?;
    assert!(daemon.notified().is_empty());

    ping(&sample, "Order 42 shipped", "/app2/?order=42").await?;
    let badge = desktop
        .wait_for(&format!("{app2} .app-badge"), long)
        .await?;
    assert_eq!(badge.text().await?, "1");
    desktop.wait_for("#total-badge", long).await?;
    wait_for_title(&desktop, "Atrium (1)").await?;
    let shown = daemon.wait_for(1, long).await?;
    assert_eq!(shown.summary, "App2: Order 42 shipped");
    assert_eq!(shown.app_name, "Atrium");
    assert!(shown.actions.iter().any(|a| a == "default"), "{shown:?}");
    assert!(
        desktop
            .client
            .find_all(fantoccini::Locator::Css(&format!("{app2}.asleep")))
            .await?
            .len()
            == 1
    );
    desktop.screenshot("16-asleep-app-notified").await?;
    desktop.click("#nav-notifications").await?;
    desktop
        .wait_for("#notifications .notification.unread", long)
        .await?;
    desktop.screenshot("17-notification-centre").await?;

    // The click wakes App2 afresh, at the notification's path, and the badge goes.
    daemon.click(shown.id).await?;
    let woke = wait_for_report(&sample, "App2", 2).await?;
    assert_isolated(&woke);
    assert_eq!(woke["findings"]["at"], "/app2/?order=42", "{woke}");
    desktop
        .wait_for(".app-frame:not(.hidden)[data-name='App2'] .app-view", long)
        .await?;
    desktop.wait_gone(&format!("{app2}.asleep"), long).await?;
    desktop.wait_gone(".app-badge", long).await?;
    wait_for_title(&desktop, "Atrium").await?;
    desktop.screenshot("18-woken-at-path").await?;

    // A server restart: the stream reconnects and misses nothing, nor repeats anything.
    server.stop();
    desktop
        .wait_for("#nav-notifications[data-inbox-mode='down']", long)
        .await?;
    server.start_again().await?;
    ping(&sample, "Posted in the gap", "/app2/?order=43").await?;
    desktop
        .wait_for("#nav-notifications[data-inbox-mode='live']", long)
        .await?;
    let gap = daemon.wait_for(2, long).await?;
    assert_eq!(gap.summary, "App2: Posted in the gap");
    let badge = desktop
        .wait_for(&format!("{app2} .app-badge"), long)
        .await?;
    assert_eq!(badge.text().await?, "1");
    // Time for a duplicate to show up, if the stream were to send one.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all: Vec<String> = daemon.notified().into_iter().map(|n| n.summary).collect();
    assert_eq!(
        all,
        ["App2: Order 42 shipped", "App2: Posted in the gap"],
        "each notification pops up exactly once"
    );
    desktop.close().await
}

/// The app bridge, end to end. From App2's webview, `window.atrium` notifies the user (the
/// notification is in the server's list for demo, from App2's install), sets App2's badge
/// (the dashboard API answers it) and gets a session token that App2's backend verifies
/// (once: a replay is refused). Refused: App1's page acting as App2's install (every call
/// answers `wrong_install`, nothing lands), a raw message without the bridge's key (dropped:
/// nothing lands), `openExternal` without a user gesture, and every bridge call from the
/// dashboard's own webview (it has no such command).
#[tokio::test(flavor = "multi_thread")]
async fn an_open_app_uses_the_bridge_and_no_other_page_can() -> anyhow::Result<()> {
    use atrium_proto::paths;
    let (server, sample, desktop) = story_on(&[], None, &["--probe-bridge"]).await?;
    sign_in(&desktop).await?;
    let kit = server.atrium();
    let dashboard = kit
        .desktop_token(&kit.signed_in("demo", "atrium-demo").await)
        .await;
    let list = |path: &'static str| {
        let (kit, token) = (&kit, dashboard.clone());
        async move {
            let res = kit.call("GET", path, &token, None).await;
            anyhow::ensure!(res.status() == 200, "{path}: {}", res.status());
            Ok::<serde_json::Value, anyhow::Error>(res.json().await?)
        }
    };

    install(&desktop, "demo-app2").await?;
    let app2 = wait_for_report(&sample, "App2", 1).await?;
    assert_isolated(&app2);
    let app2_install = app2["install"].as_i64().expect("App2's install");
    let b = &app2["findings"]["bridge"];
    assert_eq!(b["ready"]["ok"], true, "{app2}");
    assert_eq!(b["ready"]["result"]["install"], app2_install, "{app2}");
    assert_eq!(b["ready"]["result"]["version"], 1, "{app2}");
    assert_eq!(b["badge"]["result"]["count"], 7, "{app2}");
    assert_eq!(b["notify"]["ok"], true, "{app2}");
    assert_eq!(b["verified"]["verified"], true, "{app2}");
    assert_eq!(b["verified"]["install"], app2_install, "{app2}");
    assert_eq!(b["verified"]["username"], "demo", "{app2}");
    assert_eq!(
        b["replayed"], 401,
        "a replayed session token was accepted: {app2}"
    );
    assert_eq!(b["no_gesture"]["code"], "no_gesture", "{app2}");
    assert_eq!(
        b["key_seen"], false,
        "the page read the bridge's key off the message channel: {app2}"
    );
    assert_eq!(
        b["forged_gesture"]["code"], "no_gesture",
        "the page rewrote a bridge message to claim a gesture: {app2}"
    );
    assert_eq!(b["bad_badge"]["code"], "invalid", "{app2}");
    // A raw message without the key is answered nothing (`undefined`).
    assert_eq!(b["raw"]["ok"], true, "{app2}");
    assert!(b["raw"]["result"].is_null(), "{app2}");
    desktop.screenshot("16-bridge-app2").await?;

    // Having reported, App2's page asks (by script, nobody clicking) to be shown App2's page
    // at another origin of the same server (`/probe/elsewhere` redirects to its other loopback
    // name). The desktop holds navigation to the app's origin, redirects included: no webview
    // fetches that page, and as no user asked, no browser is handed it either (checked after
    // App1 below). Had it loaded, its bridge calls must all be refused; nothing of it reaches
    // the server (checked with the lists at the end).
    wait_for_elsewhere(&sample, 1).await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let elsewhere: Vec<serde_json::Value> = all_reports(&sample)
        .await?
        .into_iter()
        .filter(is_elsewhere)
        .collect();
    for r in &elsewhere {
        let agent = r["findings"]["user_agent"].as_str().unwrap_or("");
        assert!(
            !agent.contains("AppleWebKit"),
            "a webview loaded App2's page at another origin: {r}"
        );
    }
    let pages: Vec<&serde_json::Value> = elsewhere
        .iter()
        .filter(|r| r["findings"]["at"] == "/app2/elsewhere")
        .collect();
    for page in &pages {
        let b = &page["findings"]["bridge"];
        assert_ne!(
            page["findings"]["origin"], app2["findings"]["origin"],
            "{page}"
        );
        for call in ["ready", "notify", "badge", "token"] {
            assert_eq!(
                b[call]["ok"], false,
                "{call} answered at another origin: {page}"
            );
        }
    }

    let notifications = list(paths::NOTIFICATIONS).await?;
    let items = notifications["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let titles: Vec<&str> = items.iter().filter_map(|n| n["title"].as_str()).collect();
    assert_eq!(titles, ["Bridge check"], "{notifications}");
    assert_eq!(items[0]["install_id"], app2_install);
    assert_eq!(items[0]["personal"], true);
    assert_eq!(items[0]["path"], "/app2/");
    assert_eq!(
        list(paths::BADGES).await?,
        serde_json::json!([{"install_id": app2_install, "count": 7}])
    );

    // App1's page tries to act as App2's install.
    install(&desktop, "demo-app1").await?;
    let app1 = wait_for_report(&sample, "App1", 1).await?;
    assert_isolated(&app1);
    let b = &app1["findings"]["bridge"];
    assert_eq!(b["others"], serde_json::json!([app2_install]), "{app1}");
    let tries = b["as_other"].as_array().cloned().unwrap_or_default();
    assert_eq!(tries.len(), 3, "{app1}");
    for t in &tries {
        assert_eq!(t["code"], "wrong_install", "{app1}");
    }
    assert_eq!(b["no_gesture"]["code"], "no_gesture", "{app1}");
    // App1's page, too, asks by script for the page at another origin: nobody fetches it, no
    // webview and no browser (App2's sign-in, which opens the browser at its launch, can hide
    // a browser opening there; App1 has none).
    wait_for_elsewhere(&sample, 2).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let fetched: Vec<serde_json::Value> = all_reports(&sample)
        .await?
        .into_iter()
        .filter(|r| !r["findings"]["served_elsewhere"].is_null())
        .collect();
    assert!(
        fetched.is_empty(),
        "a page at another origin was fetched though no user asked: {fetched:?}"
    );

    // The dashboard's own webview has no bridge and no command of it.
    let outcome = desktop
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
            const calls = [["ready", {}], ["notify", {title: "From the catalog"}],
                ["set_badge", {count: 5}], ["setBadge", {count: 5}],
                ["get_session_token", {}], ["getSessionToken", {}], ["open_external", {url: "https://example.com/"}]];
            const results = {atrium: typeof window.atrium};
            Promise.all(calls.map(([c, args]) => window.__TAURI_INTERNALS__.invoke(c, args)
                .then(() => { results[c] = "accepted"; }, () => { results[c] = "refused"; })))
              .then(() => done(results));"#,
            vec![],
        )
        .await?;
    assert_eq!(outcome["atrium"], "undefined", "{outcome}");
    for (name, result) in outcome.as_object().into_iter().flatten() {
        if name != "atrium" {
            assert_eq!(result, "refused", "the dashboard ran {name}: {outcome}");
        }
    }

    // Nothing of the refused calls (App1 as App2, raw messages, the catalog) reached the
    // server: App2's one notification, App1's none; App2's badge as it set it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let notifications = list(paths::NOTIFICATIONS).await?;
    let titles: Vec<String> = notifications["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["title"].as_str().map(String::from))
        .collect();
    assert_eq!(titles, ["Bridge check"], "{notifications}");
    assert_eq!(
        list(paths::BADGES).await?,
        serde_json::json!([{"install_id": app2_install, "count": 7}])
    );
    desktop.close().await
}
