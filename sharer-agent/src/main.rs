//! `tandem-agent`: the sharer agent.

use clap::Parser;
use std::process::ExitCode;
use tandem_agent::{cli, run};

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "tandem_agent=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(error) = tandem_agent::tls::configure(cli.ca.as_deref()) {
        eprintln!("tandem-agent: {error}");
        return ExitCode::FAILURE;
    }
    if let Some(cli::Command::Service { action }) = cli.command {
        return match tandem_agent::service::service(action, &cli) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("tandem-agent: {message}");
                ExitCode::FAILURE
            }
        };
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("tandem-agent: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tandem-agent: {message}");
            ExitCode::FAILURE
        }
    }
}
