use clap::Parser;
use std::process::ExitCode;
use tandem_server::config::{Cli, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(&cli, None) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("tandem-server: {error}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let reload: tandem_server::Reload = Box::new(move || Config::load(&cli, None));
    match tandem_server::serve_reloading(config, Some(reload)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "tandem-server failed");
            eprintln!("tandem-server: {error}");
            ExitCode::FAILURE
        }
    }
}
