//! Installs what the commands need, idempotently: nothing is reinstalled
//! when the right version is already there.

use crate::cmd::{self, Result, command, on_path, output, run};

/// Trunk 0.22 needs a newer rustc than 1.95.
const TRUNK_VERSION: &str = "0.21.14";
/// Pinned in tools/package.json; Debian's binaryen 108 breaks the bundle.
const WASM_OPT_VERSION: &str = "version_132";
/// Pinned in tests/idp/package.json.
const OIDC_PROVIDER_VERSION: &str = "9.13.3";

/// Debian packages the tests need, by the binary that shows they are there.
const TEST_PACKAGES: &[(&str, &str)] = &[
    ("chromium", "chromium"),
    ("chromedriver", "chromium-driver"),
    ("Xvfb", "xvfb"),
    ("xterm", "xterm"),
    ("xdotool", "xdotool"),
    ("xwininfo", "x11-utils"),
    // The sharer's keyboard layouts (French, German) in the agent's tests.
    ("setxkbmap", "x11-xkb-utils"),
    // The device's clipboard (X's CLIPBOARD selection) in the e2e tests.
    ("xsel", "xsel"),
    ("nasm", "nasm"),
    ("pkg-config", "pkg-config"),
    // Sessions across real networks: namespaces, NAT and netem (ip, tc,
    // nft), with coturn relaying between the sites.
    ("ip", "iproute2"),
    ("nft", "nftables"),
    // The delay line's NFQUEUE rules (`tests/src/network.rs`).
    ("iptables", "iptables"),
    ("turnserver", "coturn"),
    // The README's reverse-proxy configuration is tested as shipped.
    ("nginx", "nginx-light"),
    // The Windows agent: cross-compiled with mingw, tested under Wine,
    // its screen capture compared with ImageMagick.
    ("x86_64-w64-mingw32-g++", "mingw-w64"),
    ("wine", "wine"),
    ("wineboot", "wine64"),
    ("compare", "imagemagick"),
];

/// What every console build needs: Trunk.toml's post-build hook writes a
/// gzip and a brotli copy of each asset.
const BUILD_PACKAGES: &[(&str, &str)] = &[("gzip", "gzip"), ("brotli", "brotli")];

/// What the peer benchmark compares Tandem with, and counts bytes with.
const PEER_PACKAGES: &[(&str, &str)] = &[
    ("x11vnc", "x11vnc"),
    ("websockify", "websockify"),
    ("xpra", "xpra"),
    ("nft", "nftables"),
];

/// The Windows agent's target.
pub const WINDOWS_TARGET: &str = "x86_64-pc-windows-gnu";

/// The wasm-bindgen version in Cargo.lock; the CLI must equal it.
fn locked_wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string(cmd::root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(version) = lines
                .next()
                .and_then(|l| l.strip_prefix("version = \""))
                .and_then(|l| l.strip_suffix('"'))
        {
            return Ok(version.to_owned());
        }
    }
    Err("Cargo.lock has no wasm-bindgen package".into())
}

fn version_of(program: &str) -> Option<String> {
    let mut c = command(program);
    c.arg("--version");
    output(c)
}

fn rustup_target(target: &str) -> Result {
    let mut list = command("rustup");
    list.args(["target", "list", "--installed"]);
    if output(list).is_some_and(|out| out.lines().any(|l| l.trim() == target)) {
        return Ok(());
    }
    let mut add = command("rustup");
    add.args(["target", "add", target]);
    run(add)
}

fn rustup_components() -> Result {
    let mut list = command("rustup");
    list.args(["component", "list", "--installed"]);
    let installed = output(list).unwrap_or_default();
    let missing: Vec<&str> = ["clippy", "rustfmt"]
        .into_iter()
        .filter(|c| !installed.lines().any(|l| l.starts_with(c)))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut add = command("rustup");
    add.args(["component", "add"]).args(missing);
    run(add)
}

/// `cargo` for installing a tool: its release profile at `opt-level = 1`,
/// without fat LTO and a single codegen unit (Trunk asks for both). On two
/// cores, cold installs of Trunk and wasm-bindgen-cli took 360 and 147 s
/// without LTO and with 16 units, and 299 and 138 s also at
/// `opt-level = 1` (2026-12-07); the tools run for seconds, so their last
/// percent of speed does not matter.
pub fn fast_install() -> std::process::Command {
    let mut cargo = command("cargo");
    cargo
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1")
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
    cargo
}

fn trunk() -> Result {
    if version_of("trunk").is_some_and(|v| v.trim() == format!("trunk {TRUNK_VERSION}")) {
        return Ok(());
    }
    // No TLS, no update check: Trunk must never download anything here.
    let mut install = fast_install();
    install.args([
        "install",
        "trunk",
        "--version",
        TRUNK_VERSION,
        "--locked",
        "--no-default-features",
        "--force",
    ]);
    run(install)
}

fn wasm_bindgen_cli() -> Result {
    let version = locked_wasm_bindgen_version()?;
    if version_of("wasm-bindgen").is_some_and(|v| v.split_whitespace().nth(1) == Some(&version)) {
        return Ok(());
    }
    // Not --locked: its own lockfile names a webpki-roots the registry lacks.
    let mut install = fast_install();
    install.args([
        "install",
        "wasm-bindgen-cli",
        "--version",
        &version,
        "--force",
    ]);
    run(install)
}

fn wasm_opt() -> Result {
    if version_of("wasm-opt").is_some_and(|v| v.contains(WASM_OPT_VERSION)) {
        return Ok(());
    }
    npm_ci("tools")
}

/// `npm ci` in `dir` (a folder with a package-lock.json).
fn npm_ci(dir: &str) -> Result {
    if !on_path("npm") {
        apt_install(&["npm"])?;
    }
    let mut install = command("npm");
    install.args(["ci", "--prefix", dir, "--no-audit", "--no-fund"]);
    run(install)
}

/// The version of npm package `package` installed under `dir`, if any.
fn npm_installed(dir: &str, package: &str) -> Option<String> {
    let manifest = cmd::root()
        .join(dir)
        .join("node_modules")
        .join(package)
        .join("package.json");
    let text = std::fs::read_to_string(manifest).ok()?;
    let start = text.find("\"version\"")?;
    text[start..].split('"').nth(3).map(str::to_owned)
}

/// The test IdP: panva's oidc-provider at the version tests/idp pins.
fn test_idp() -> Result {
    if npm_installed("tests/idp", "oidc-provider").as_deref() == Some(OIDC_PROVIDER_VERSION) {
        return Ok(());
    }
    npm_ci("tests/idp")
}

pub fn is_root() -> bool {
    let mut id = command("id");
    id.arg("-u");
    output(id).is_some_and(|uid| uid.trim() == "0")
}

fn apt_install(packages: &[&str]) -> Result {
    let sudo = if is_root() {
        None
    } else if on_path("sudo") {
        Some("sudo")
    } else {
        return Err(format!(
            "missing Debian packages {packages:?}; install them as root: apt-get install {}",
            packages.join(" ")
        ));
    };
    let apt = |args: &[&str]| {
        let mut c = match sudo {
            Some(sudo) => {
                let mut c = command(sudo);
                c.arg("apt-get");
                c
            }
            None => command("apt-get"),
        };
        c.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        c
    };
    run(apt(&["update"]))?;
    let mut install = vec!["install", "-y", "--no-install-recommends"];
    install.extend_from_slice(packages);
    run(apt(&install))
}

/// Installs the Debian packages of `list` (binary, package) whose binary
/// is not on PATH.
fn apt_install_missing(list: &[(&str, &str)]) -> Result {
    let missing: Vec<&str> = list
        .iter()
        .filter(|(binary, _)| !on_path(binary))
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        apt_install(&missing)
    }
}

/// What `cargo xtask run` needs: the console's toolchain.
pub fn ensure_for_build() -> Result {
    apt_install_missing(BUILD_PACKAGES)?;
    rustup_target("wasm32-unknown-unknown")?;
    trunk()?;
    wasm_bindgen_cli()?;
    wasm_opt()?;
    let mut fetch = command("cargo");
    fetch.args(["fetch", "--locked"]);
    run(fetch)
}

/// What `cargo xtask test` needs on top: lints, browsers and test tools.
pub fn ensure_for_test() -> Result {
    apt_install_missing(TEST_PACKAGES)?;
    // The throwaway test cluster (not on PATH: Debian keeps it per version).
    if !std::path::Path::new(crate::postgres::BIN_DIR)
        .join("initdb")
        .is_file()
    {
        apt_install(&["postgresql-15"])?;
    }
    rustup_components()?;
    rustup_target(WINDOWS_TARGET)?;
    test_idp()?;
    ensure_for_build()
}

/// What `cargo xtask bench --peers` needs on top: the peers themselves
/// (noVNC's files come with the `novnc` package, checked by path).
pub fn ensure_for_peers() -> Result {
    let mut missing: Vec<&str> = PEER_PACKAGES
        .iter()
        .filter(|(binary, _)| !on_path(binary))
        .map(|(_, package)| *package)
        .collect();
    if !std::path::Path::new("/usr/share/novnc/vnc.html").exists() {
        missing.push("novnc");
    }
    if missing.is_empty() {
        Ok(())
    } else {
        apt_install(&missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_idp_version_matches_its_package_json() {
        let manifest = std::fs::read_to_string(cmd::root().join("tests/idp/package.json")).unwrap();
        assert!(
            manifest.contains(&format!("\"oidc-provider\": \"{OIDC_PROVIDER_VERSION}\"")),
            "{manifest}"
        );
    }

    #[test]
    fn the_locked_wasm_bindgen_version_is_found() {
        let version = locked_wasm_bindgen_version().unwrap();
        assert!(version.starts_with("0.2."), "{version}");
    }
}
