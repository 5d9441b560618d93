//! The real `atrium` desktop binary under Xvfb, driven through tauri-driver + WebKitWebDriver,
//! against a real `atrium-server`.

use std::time::Duration;

use atrium_tests::{free_port, Desktop, Server};

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
