//! On Windows targets, compiles the Event Log message table
//! (`windows/messages.mc`) into a resource object and links it into
//! `tandem-agent.exe`, the source's EventMessageFile. Other targets need
//! nothing. The GNU target uses mingw's `windmc` and `windres` (override
//! with `WINDMC` / `WINDRES`); the MSVC target is not built here.

use std::path::PathBuf;
use std::process::Command;

fn main() -> Result<(), String> {
    println!("cargo::rerun-if-changed=windows/messages.mc");
    println!("cargo::rerun-if-env-changed=WINDMC");
    println!("cargo::rerun-if-env-changed=WINDRES");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if target_os != "windows" || target_env != "gnu" {
        return Ok(());
    }
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let tool = |name: &str, var: &str| {
        std::env::var(var).unwrap_or_else(|_| format!("{arch}-w64-mingw32-{name}"))
    };
    let out = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let source = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?)
        .join("windows/messages.mc");

    run(Command::new(tool("windmc", "WINDMC"))
        .arg("-h")
        .arg(&out)
        .arg("-r")
        .arg(&out)
        .arg(&source))?;
    let object = out.join("messages.o");
    run(Command::new(tool("windres", "WINDRES"))
        .arg("-I")
        .arg(&out)
        .arg("-i")
        .arg(out.join("messages.rc"))
        .args(["-O", "coff", "-o"])
        .arg(&object))?;
    // An object (not an archive member) is always linked whole, so its
    // .rsrc section reaches the executable.
    println!("cargo::rustc-link-arg-bins={}", object.display());
    Ok(())
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}
