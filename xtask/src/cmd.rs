//! Running commands with the project's environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

pub type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// `$HOME/.cargo/bin`, where `cargo install` puts tools.
pub fn cargo_bin_dir() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
        .join("bin")
}

/// PATH with the project's npm tools and cargo's bin directory first, so
/// Trunk finds the pinned wasm-opt and wasm-bindgen.
pub fn tool_path() -> std::ffi::OsString {
    let mut dirs = vec![root().join("tools/node_modules/.bin"), cargo_bin_dir()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// On CI (`CI` set, `CARGO_TARGET_DIR` not), builds go to a cache outside
/// the fresh clone, so that the next run on the same machine is warm.
pub fn ci_target_dir() -> Option<PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        if std::env::var_os("CI").is_none() || std::env::var_os("CARGO_TARGET_DIR").is_some() {
            return None;
        }
        let dir = PathBuf::from(std::env::var_os("HOME")?).join(".cache/tandem/target");
        println!("CI: building in CARGO_TARGET_DIR={}", dir.display());
        Some(dir)
    })
    .clone()
}

/// A command run from the workspace root with [`tool_path`].
pub fn command(program: &str) -> Command {
    let mut command = Command::new(program);
    command.current_dir(root()).env("PATH", tool_path());
    if let Some(dir) = ci_target_dir() {
        command.env("CARGO_TARGET_DIR", dir);
    }
    command
}

/// `cargo ARGS`, from the workspace root.
pub fn cargo(args: &[&str]) -> Command {
    let mut c = command("cargo");
    c.args(args);
    c
}

/// Where cargo puts what it builds for these commands.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(ci_target_dir)
        .unwrap_or_else(|| root().join("target"))
}

pub fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Runs `command`, streaming its output; fails if it exits non-zero.
pub fn run(mut command: Command) -> Result {
    let text = describe(&command);
    println!("\n==> {text}");
    let started = Instant::now();
    let status = command
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run `{text}`: {e}"))?;
    println!("    ({:.1} s)", started.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{text}` failed ({status})"))
    }
}

/// Runs `command` quietly and returns its stdout, or None if it cannot run
/// or fails.
pub fn output(mut command: Command) -> Option<String> {
    let out = command
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether `program` is on PATH (the project's PATH included).
pub fn on_path(program: &str) -> bool {
    std::env::split_paths(&tool_path()).any(|dir| dir.join(program).is_file())
}
