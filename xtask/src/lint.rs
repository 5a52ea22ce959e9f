//! Clippy without a second build of the dependencies.
//!
//! `cargo clippy` checks every dependency again in a metadata-only build of
//! its own before it lints the workspace: on a cold run on two cores, the
//! host, wasm32 and Windows passes took 459 s together. `cargo xtask test`
//! instead makes this program cargo's `RUSTC_WORKSPACE_WRAPPER`. For each
//! of the workspace's own crates, cargo then calls it with the compiler and
//! its arguments, and it:
//!
//! 1. runs Clippy's driver on the same arguments, emitting only metadata
//!    into a scratch folder, against the dependencies the build already
//!    made (`-D warnings`, from `CLIPPY_ARGS`); a lint stops the build;
//! 2. then runs rustc itself, unchanged, for the real artifact.
//!
//! The binaries the suites run are rustc's: Clippy's driver turns off
//! MIR passes such as the debug build's null and alignment checks of raw
//! pointers, which the agent's FFI code should keep under test.
//!
//! Cargo counts the wrapper's path in the hash of every workspace unit, so
//! linted artifacts never mix with plain builds. The path carries a hash of
//! both `clippy.toml` files (the root's and the console's) and the Clippy
//! arguments: changing any of them lints every crate again.

use crate::cmd::{Result, root};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Names the driver for the wrapper (set by [`wrapped`]).
const DRIVER_VARIABLE: &str = "TANDEM_CLIPPY_DRIVER";
/// What `cargo clippy -- -D warnings` hands its driver.
const CLIPPY_ARGS: &str = "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__";

/// Whether cargo started this process as the wrapper: then its first
/// argument is the compiler.
pub fn is_wrapper_call(args: &[String]) -> bool {
    args.first()
        .map(Path::new)
        .and_then(Path::file_stem)
        .is_some_and(|stem| stem == "rustc")
}

/// `cargo` with this program as the workspace crates' compiler wrapper:
/// their builds linted. Every command that must reuse the linted
/// artifacts goes through here.
pub fn wrapped(mut cargo: Command) -> Result<Command> {
    let mut which = crate::cmd::command("rustup");
    which.args(["which", "clippy-driver"]);
    let driver = crate::cmd::output(which)
        .ok_or("clippy-driver is missing (rustup component add clippy)")?;
    cargo
        .env("RUSTC_WORKSPACE_WRAPPER", wrapper()?)
        .env(DRIVER_VARIABLE, driver.trim())
        .env("CLIPPY_ARGS", CLIPPY_ARGS);
    Ok(cargo)
}

/// A copy of this program at a path that names what the lints depend on,
/// made once, before the first build: a build of the workspace replaces
/// `target/debug/xtask`, and this process's own file with it.
fn wrapper() -> Result<PathBuf> {
    static PATH: std::sync::OnceLock<Result<PathBuf>> = std::sync::OnceLock::new();
    PATH.get_or_init(copy_of_this_program).clone()
}

fn copy_of_this_program() -> Result<PathBuf> {
    // The console has its own clippy.toml (clippy reads the nearest).
    let configs = ["clippy.toml", "frontend/clippy.toml"]
        .map(|file| std::fs::read(root().join(file)).unwrap_or_default());
    let mut hasher = std::hash::DefaultHasher::new();
    (configs, CLIPPY_ARGS).hash(&mut hasher);
    let dir = crate::cmd::target_dir().join("lint");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(format!("xtask-lint-{:016x}", hasher.finish()));
    let me = std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?;
    let fresh = dir.join(format!("xtask-lint-{}.tmp", std::process::id()));
    std::fs::copy(&me, &fresh)
        .map_err(|e| format!("copying {} to {}: {e}", me.display(), fresh.display()))?;
    std::fs::rename(&fresh, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Cargo's call: `args` is the compiler and its arguments.
pub fn wrap(args: &[String]) -> ExitCode {
    let Some((rustc, rest)) = args.split_first() else {
        return ExitCode::FAILURE;
    };
    if let Some(lint) = lint_arguments(rest) {
        let Some(driver) = std::env::var_os(DRIVER_VARIABLE) else {
            eprintln!("xtask lint wrapper: {DRIVER_VARIABLE} is not set");
            return ExitCode::FAILURE;
        };
        if let Some(dir) = lint.scratch.as_deref()
            && let Err(e) = std::fs::create_dir_all(dir)
        {
            eprintln!("xtask lint wrapper: {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
        match Command::new(driver).arg(rustc).args(&lint.args).status() {
            Ok(status) if status.success() => {}
            Ok(status) => return exit_code(status),
            Err(e) => {
                eprintln!("xtask lint wrapper: cannot run Clippy's driver: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    match Command::new(rustc).args(rest).status() {
        Ok(status) => exit_code(status),
        Err(e) => {
            eprintln!("xtask lint wrapper: cannot run {rustc}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    status
        .code()
        .and_then(|code| u8::try_from(code).ok())
        .map_or(ExitCode::FAILURE, ExitCode::from)
}

/// The driver's arguments for one compilation.
#[derive(Debug, PartialEq)]
struct Lint {
    args: Vec<String>,
    scratch: Option<PathBuf>,
}

/// The arguments of a metadata-only Clippy run for a compilation, or
/// `None` for a call that compiles nothing (cargo asks the compiler for
/// its version and target details through the wrapper too):
/// - `--emit` becomes `metadata` alone, into `<out-dir>/../lint`, so the
///   real artifact and its dep-info are rustc's only;
/// - no incremental folder, which belongs to rustc's build;
/// - no artifact notices (`--json=artifacts`): cargo starts dependent
///   crates when it reads one, and this metadata is not the build's.
fn lint_arguments(args: &[String]) -> Option<Lint> {
    let compiles = args.iter().any(|a| a.starts_with("--emit="))
        && !args.iter().any(|a| a.starts_with("--print") || a == "-vV");
    if !compiles {
        return None;
    }
    let mut lint = Vec::with_capacity(args.len());
    let mut scratch = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg.starts_with("--emit=") {
            lint.push("--emit=metadata".to_owned());
        } else if arg == "--out-dir" {
            let dir = rest.next().map(|d| Path::new(d).join("../lint"));
            lint.push(arg.clone());
            lint.extend(dir.iter().map(|d| d.to_string_lossy().into_owned()));
            scratch = dir;
        } else if arg == "-C" {
            match rest.next() {
                Some(value) if value.starts_with("incremental=") => {}
                Some(value) => lint.extend([arg.clone(), value.clone()]),
                None => lint.push(arg.clone()),
            }
        } else if arg.starts_with("-Cincremental=") {
        } else if let Some(kinds) = arg.strip_prefix("--json=") {
            let kept: Vec<&str> = kinds.split(',').filter(|k| *k != "artifacts").collect();
            if !kept.is_empty() {
                lint.push(format!("--json={}", kept.join(",")));
            }
        } else {
            lint.push(arg.clone());
        }
    }
    Some(Lint {
        args: lint,
        scratch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn cargo_calls_it_with_the_compiler_first() {
        assert!(is_wrapper_call(&strings(&["/t/bin/rustc", "-vV"])));
        assert!(is_wrapper_call(&strings(&["rustc", "-"])));
        assert!(!is_wrapper_call(&strings(&["test"])));
        assert!(!is_wrapper_call(&[]));
    }

    #[test]
    fn a_compilation_is_linted_as_metadata_into_a_scratch_folder() {
        let args = strings(&[
            "--crate-name",
            "tandem_server",
            "--edition=2024",
            "server/src/lib.rs",
            "--error-format=json",
            "--json=diagnostic-rendered-ansi,artifacts,future-incompat",
            "--crate-type",
            "lib",
            "--emit=dep-info,metadata,link",
            "-C",
            "debuginfo=1",
            "-C",
            "extra-filename=-0abc",
            "--out-dir",
            "/t/debug/deps",
            "-C",
            "incremental=/t/debug/incremental",
            "-L",
            "dependency=/t/debug/deps",
        ]);
        let lint = lint_arguments(&args).unwrap();
        assert_eq!(
            lint.args,
            strings(&[
                "--crate-name",
                "tandem_server",
                "--edition=2024",
                "server/src/lib.rs",
                "--error-format=json",
                "--json=diagnostic-rendered-ansi,future-incompat",
                "--crate-type",
                "lib",
                "--emit=metadata",
                "-C",
                "debuginfo=1",
                "-C",
                "extra-filename=-0abc",
                "--out-dir",
                "/t/debug/deps/../lint",
                "-L",
                "dependency=/t/debug/deps",
            ])
        );
        assert_eq!(lint.scratch, Some(PathBuf::from("/t/debug/deps/../lint")));
    }

    #[test]
    fn questions_about_the_compiler_are_not_linted() {
        assert_eq!(lint_arguments(&strings(&["-vV"])), None);
        let probe = strings(&[
            "-",
            "--crate-name",
            "___",
            "--print=file-names",
            "--crate-type",
            "bin",
            "--emit=link",
        ]);
        assert_eq!(lint_arguments(&probe), None);
    }
}
