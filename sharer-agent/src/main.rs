//! `tandem-agent`: the sharer agent.
//!
//! For now it parses its command line and reports the platform backend it
//! would use; capture, encoding, WebRTC and input injection come with the
//! agent issue. It refuses to pretend: it exits non-zero saying so.

mod cli;
mod platform;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let enrollment = if cli.enroll.is_some() {
        "with an enrollment token"
    } else {
        "unenrolled"
    };
    eprintln!(
        "tandem-agent {}: server {}, {enrollment}, platform {}.\n\
         Screen sharing is not available in this build yet; nothing was shared.",
        env!("CARGO_PKG_VERSION"),
        cli.server,
        platform::NAME,
    );
    ExitCode::from(3)
}
