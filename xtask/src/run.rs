//! `cargo xtask run`: the product on its embedded default.

use crate::cmd::{Result, cargo, command, root, run as run_command, target_dir};
use crate::tools;

/// The one release build of the binaries, shared by `run`, `bench` and the
/// README: the server and the agent together. Cargo unifies the features
/// of shared dependencies per build, so building the server alone after
/// both (or the other way round) would compile those dependencies again.
pub const RELEASE_BUILD: &[&str] = &[
    "build",
    "--locked",
    "--release",
    "-p",
    "tandem-server",
    "-p",
    "tandem-agent",
];

/// Builds the console (release) and runs the server in the foreground with
/// the demo tenant, on 127.0.0.1:8080 unless `TANDEM_BIND` or `--bind` says
/// otherwise. Extra arguments go to the server.
pub fn run(server_args: &[String]) -> Result {
    tools::ensure_for_build()?;
    crate::console::build()?;

    run_command(cargo(RELEASE_BUILD))?;
    let binary = target_dir().join("release/tandem-server");
    let mut server = command(&binary.to_string_lossy());
    server
        .args(server_args.iter().filter(|a| *a != "--"))
        .env("TANDEM_DIST_DIR", root().join("dist"));
    for (key, default) in [
        ("TANDEM_DATA_DIR", root().join("data").display().to_string()),
        ("TANDEM_SEED_DEMO", "true".to_owned()),
    ] {
        if std::env::var_os(key).is_none() {
            server.env(key, default);
        }
    }
    println!("\nStarting Tandem; open the URL it prints below. Ctrl+C stops it.");
    run_command(server)
}
