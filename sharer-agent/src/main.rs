//! `tandem-agent`: the sharer agent.

mod capture;
mod cli;
mod encode;
mod gate;
mod inject;
mod platform;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    eprintln!(
        "tandem-agent {}: server {}, platform {}.",
        env!("CARGO_PKG_VERSION"),
        cli.server,
        platform::NAME
    );
    ExitCode::from(3)
}
