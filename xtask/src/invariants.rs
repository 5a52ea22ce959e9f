//! Checks of ARCHITECTURE.md's invariants that a compiler does not enforce.

use crate::cmd::{Result, command, output, root};
use std::path::Path;

/// Crates that must not be in a dependency graph, with why.
const RUNTIME_CRATES: &[&str] = &["tokio", "axum", "sqlx", "hyper", "mio", "tower-sessions"];

fn normal_deps(package: &str, target: &str) -> Result<Vec<String>> {
    let mut tree = command("cargo");
    tree.args([
        "tree", "--locked", "-p", package, "-e", "normal", "--prefix", "none", "--target", target,
    ]);
    let out = output(tree).ok_or_else(|| format!("cargo tree -p {package} failed"))?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect())
}

fn forbid(package: &str, target: &str, forbidden: &[&str], why: &str) -> Result {
    let deps = normal_deps(package, target)?;
    let found: Vec<&str> = forbidden
        .iter()
        .copied()
        .filter(|f| deps.iter().any(|d| d == f))
        .collect();
    if found.is_empty() {
        println!("    ok: {package} ({target}) has none of {forbidden:?}");
        Ok(())
    } else {
        Err(format!(
            "invariant broken: {package} depends on {found:?}; {why}"
        ))
    }
}

/// OS-specific `cfg`s that must live only in `sharer-agent/src/platform/`.
const OS_CFGS: &[&str] = &["target_os", "windows", "unix", "target_family"];

fn os_cfgs_outside_platform(dir: &Path, offenders: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "platform") {
                os_cfgs_outside_platform(&path, offenders);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for (n, line) in text.lines().enumerate() {
                let is_cfg = line.contains("cfg(") || line.contains("cfg!(");
                if is_cfg && OS_CFGS.iter().any(|c| line.contains(c)) {
                    offenders.push(format!("{}:{}", path.display(), n + 1));
                }
            }
        }
    }
}

pub fn check() -> Result {
    println!("\n==> architecture invariants");
    forbid(
        "tandem-protocol",
        "all",
        &[RUNTIME_CRATES, &["web-sys", "wasm-bindgen"]].concat(),
        "protocol depends on no runtime",
    )?;
    forbid(
        "tandem-frontend",
        "wasm32-unknown-unknown",
        &[RUNTIME_CRATES, &["tandem-server"]].concat(),
        "the console runs in the browser and never sees server or store types",
    )?;
    let mut offenders = Vec::new();
    os_cfgs_outside_platform(&root().join("sharer-agent/src"), &mut offenders);
    if offenders.is_empty() {
        println!("    ok: OS cfgs appear only in sharer-agent/src/platform/");
        Ok(())
    } else {
        Err(format!(
            "invariant broken: OS-specific cfg outside sharer-agent/src/platform/: {offenders:?}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_cfgs_are_found_outside_platform_only() {
        let dir = std::env::temp_dir().join(format!("xtask-inv-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("platform")).unwrap();
        std::fs::write(
            dir.join("platform/x11.rs"),
            "#[cfg(target_os = \"linux\")]\n",
        )
        .unwrap();
        std::fs::write(dir.join("ok.rs"), "#[cfg(test)]\nfn f() {}\n").unwrap();
        let mut found = Vec::new();
        os_cfgs_outside_platform(&dir, &mut found);
        assert!(found.is_empty(), "{found:?}");

        std::fs::write(
            dir.join("bad.rs"),
            "fn f() {}\n#[cfg(windows)]\nfn g() {}\n",
        )
        .unwrap();
        os_cfgs_outside_platform(&dir, &mut found);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].ends_with("bad.rs:2"), "{found:?}");
    }
}
