//! `atrium-server`: the headless Atrium platform server. See `atrium-server --help`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = atrium_server::cli::Cli::parse();
    match atrium_server::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line, as the architecture promises: the reason and its causes.
            eprintln!("atrium-server: {err:#}");
            ExitCode::FAILURE
        }
    }
}
