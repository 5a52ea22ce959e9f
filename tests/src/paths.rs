//! Where the built artifacts are.

use crate::HarnessError;
use std::path::PathBuf;

/// The server binary: `$TANDEM_TEST_SERVER_BIN`, or `tandem-server` in the
/// cargo target directory this test binary was built into.
pub fn server_binary() -> Result<PathBuf, HarnessError> {
    built_binary(
        "TANDEM_TEST_SERVER_BIN",
        "tandem-server",
        "the server binary",
        "build it with `cargo build -p tandem-server` (cargo xtask test does)",
    )
}

/// The agent binary: `$TANDEM_TEST_AGENT_BIN`, or `tandem-agent` beside
/// the server.
pub fn agent_binary() -> Result<PathBuf, HarnessError> {
    built_binary(
        "TANDEM_TEST_AGENT_BIN",
        "tandem-agent",
        "the agent binary",
        "build it with `cargo build -p tandem-agent` (cargo xtask test does)",
    )
}

/// The test network's delay line (`src/bin/tandem-netem.rs`), built
/// beside the test binaries.
pub fn netem_binary() -> Result<PathBuf, HarnessError> {
    built_binary(
        "TANDEM_TEST_NETEM_BIN",
        "tandem-netem",
        "the delay line",
        "build it with `cargo build -p tandem-tests` (cargo test does)",
    )
}

fn built_binary(
    variable: &str,
    name: &str,
    what: &'static str,
    hint: &'static str,
) -> Result<PathBuf, HarnessError> {
    let path = match std::env::var_os(variable) {
        Some(path) => PathBuf::from(path),
        None => {
            // target/<profile>/deps/e2e-<hash> → target/<profile>/<name>
            let exe = std::env::current_exe()?;
            let profile_dir = exe.parent().and_then(|deps| deps.parent());
            profile_dir.map(|dir| dir.join(name)).unwrap_or_default()
        }
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(HarnessError::Missing { what, path, hint })
    }
}

/// The Trunk-built console, every build (`index.html`, `share.html` and
/// `full.html`):
/// `$TANDEM_TEST_DIST_DIR`, or `dist/` at the workspace root.
pub fn dist_dir() -> Result<PathBuf, HarnessError> {
    let dir = std::env::var_os("TANDEM_TEST_DIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist"));
    let pages = ["index.html", "share.html", "full.html"];
    if pages.iter().all(|page| dir.join(page).is_file()) {
        Ok(dir)
    } else {
        Err(HarnessError::Missing {
            what: "the built console",
            path: dir,
            hint: "build every build with `cargo xtask run` or `cargo xtask test` (a plain `trunk build` makes only the helper's)",
        })
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> Result<u16, HarnessError> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}
