//! `atrium-sample-app`: parses the command line and runs the app (see the library's docs).

use anyhow::Context;
use clap::Parser;

use atrium_sample_app::config::{AppId, Args, Config};
use atrium_sample_app::{shutdown_signal, SampleApp};

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,warp=error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let config = Config::from_args(args)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let app = SampleApp::bind(config).await?;
        let state = app.state();
        for id in AppId::ALL {
            let creds = state.config.app(id);
            tracing::info!(
                app = id.label(),
                client_id = %creds.client_id,
                client_secret = creds.client_secret.is_some(),
                webhook_secret = creds.webhook_secret.is_some(),
                redirect_uri = %format!("{}/{}/callback", state.base_url, id.path()),
                "serving"
            );
        }
        tracing::info!(
            redirect_uri = %atrium_sample_app::signin::redirect_uri(&state.base_url),
            "App2 signs its users in with OpenID Connect"
        );
        tracing::info!(addr = %app.addr(), server = %state.config.server, "atrium-sample-app listening");
        app.run_until(shutdown_signal()).await;
        Ok(())
    })
}
