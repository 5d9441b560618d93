//! `atrium-sample-app`: a third-party app for the Atrium platform, as a stranger to Atrium's
//! code would write it (it speaks to the server over HTTP only).
//!
//! App1 uses the TOKEN method and App2 the CODE method. This first version only parses its
//! configuration; the redirect, iframe and webhook pages come with the sample-app issue.

use clap::Parser;

/// A third-party app for Atrium (App1: TOKEN method, App2: CODE method).
#[derive(Parser, Debug)]
#[command(name = "atrium-sample-app", version, about)]
struct Args {
    /// Base URL of the Atrium server.
    #[arg(
        long,
        env = "ATRIUM_SERVER_URL",
        default_value = "http://127.0.0.1:8000"
    )]
    server: String,
    /// Address the sample app listens on.
    #[arg(long, env = "SAMPLE_APP_ADDR", default_value = "127.0.0.1:8010")]
    addr: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::bail!(
        "the sample app is not implemented yet (server {}, address {})",
        args.server,
        args.addr
    )
}
