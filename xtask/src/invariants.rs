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

/// The code of a Rust file without its `//` comments (line and doc), so
/// that prose naming a module is not taken for an import.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(n, line)| {
        let code = line.split("//").next().unwrap_or_default();
        (!code.trim().is_empty()).then_some((n + 1, code))
    })
}

fn rust_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// Places in the files under `src` that `forbidden` says name a module
/// they must not: `forbidden(relative path, code)` is true for a line that
/// breaks the rule.
fn import_offenders(src: &Path, forbidden: impl Fn(&str, &str) -> bool) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut offenders = Vec::new();
    for path in files {
        let rel = path
            .strip_prefix(src)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (n, code) in code_lines(&text) {
            if forbidden(&rel, code) {
                offenders.push(format!("{rel}:{n}: {}", code.trim()));
            }
        }
    }
    offenders
}

/// The server's web layer is `http/` alone: nothing else names it (the
/// crate root wires it up).
fn names_http_outside_http(rel: &str, code: &str) -> bool {
    let exempt = rel.starts_with("http/") || rel == "lib.rs" || rel == "main.rs";
    !exempt && (code.contains("crate::http") || code.contains("super::http"))
}

/// Every `crate::…` path in `code` that does not start with one of
/// `allowed`.
fn crate_paths_outside<'a>(code: &'a str, allowed: &[&str]) -> Vec<&'a str> {
    code.match_indices("crate::")
        .map(|(i, _)| {
            let rest = &code[i + "crate::".len()..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|module| !allowed.contains(module))
        .collect()
}

/// The pure floor, `domain/`, and the proof types in `auth/proof.rs` name
/// nothing of the crate above them (`super::` out of `domain/` included).
fn names_above_the_floor(rel: &str, code: &str) -> bool {
    if rel == "auth/proof.rs" {
        return code.contains("crate::") || code.contains("super::");
    }
    if !rel.starts_with("domain/") {
        return false;
    }
    let leaves_domain = if rel == "domain/mod.rs" {
        code.contains("super::")
    } else {
        // A file right under domain/ may use `super::` (domain itself),
        // but not `super::super::`; deeper files one more level.
        let depth = rel.matches('/').count();
        code.contains(&"super::".repeat(depth + usize::from(!rel.ends_with("mod.rs"))))
    };
    leaves_domain || !crate_paths_outside(code, &["domain"]).is_empty()
}

/// The agent's capability traits and the pure consent gate: what
/// `platform/` implements and may name.
const AGENT_FLOOR: &[&str] = &[
    "capture",
    "inject",
    "indicator",
    "journal",
    "clipboard",
    "overlay",
    "window",
    "gate",
];

/// The agent's `platform/` is a leaf: it names only itself and the
/// capability modules it implements, and those name nothing above them.
fn names_above_the_platform(rel: &str, code: &str) -> bool {
    if rel.starts_with("platform/") {
        let allowed = [AGENT_FLOOR, &["platform"]].concat();
        return !crate_paths_outside(code, &allowed).is_empty();
    }
    let floor_file = AGENT_FLOOR
        .iter()
        .any(|module| rel == format!("{module}.rs") || rel.starts_with(&format!("{module}/")));
    floor_file && !crate_paths_outside(code, AGENT_FLOOR).is_empty()
}

fn agent_imports() -> Result {
    let offenders = import_offenders(&root().join("sharer-agent/src"), names_above_the_platform);
    if !offenders.is_empty() {
        return Err(format!(
            "invariant broken: sharer-agent/src/platform/ may name only {AGENT_FLOOR:?}, and those \
             nothing above them, so the OS backends stay a leaf:\n  {}",
            offenders.join("\n  ")
        ));
    }
    println!("    ok: the agent's platform/ names only the capability modules");
    Ok(())
}

fn server_imports() -> Result {
    let src = root().join("server/src");
    let http = import_offenders(&src, names_http_outside_http);
    if !http.is_empty() {
        return Err(format!(
            "invariant broken: only server/src/http/ (and lib.rs, main.rs) may name crate::http; \
             the web layer sits on top of the domain:\n  {}",
            http.join("\n  ")
        ));
    }
    println!("    ok: only server/src/http/ names the web layer");
    let floor = import_offenders(&src, names_above_the_floor);
    if !floor.is_empty() {
        return Err(format!(
            "invariant broken: server/src/domain/ and auth/proof.rs must name nothing of the crate \
             above them, so the pure rules stand alone:\n  {}",
            floor.join("\n  ")
        ));
    }
    println!("    ok: server/src/domain/ and auth/proof.rs name nothing above them");
    let writers = import_offenders(&src, begins_outside_the_gate);
    if !writers.is_empty() {
        return Err(format!(
            "invariant broken: a transaction on the store's pool or a request's held connection \
             begins with Store::begin_write, \
             which queues SQLite's writers instead of letting its busy handler sleep:\n  {}",
            writers.join("\n  ")
        ));
    }
    println!("    ok: the store's transactions begin through Store::begin_write");
    Ok(())
}

/// A transaction begun on the pool (`begin()` or `begin_with(…)`), or on
/// a request's connection (`store/held.rs`: a `Lease`'s `connection()`),
/// anywhere but in `Store::begin_write`, whose two begins (SQLite's
/// IMMEDIATE, PostgreSQL's plain one) are the only ones allowed.
fn begins_outside_the_gate(rel: &str, code: &str) -> bool {
    const GATED: [&str; 2] = [
        "self.pool.begin_with(\"BEGIN IMMEDIATE\").await?",
        "self.pool.begin().await?",
    ];
    let begins = [
        "pool().begin",
        "pool.begin",
        "connection()?.begin",
        "Connection::begin(",
    ]
    .iter()
    .map(|begin| code.matches(begin).count())
    .sum::<usize>();
    let gated = if rel == "store/mod.rs" {
        GATED.iter().map(|g| code.matches(g).count().min(1)).sum()
    } else {
        0
    };
    begins > gated
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
    server_imports()?;
    agent_imports()?;
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
    fn transactions_begin_through_the_gate() {
        assert!(begins_outside_the_gate(
            "store/rbac.rs",
            "let mut tx = self.pool().begin().await?;"
        ));
        assert!(!begins_outside_the_gate(
            "store/rbac.rs",
            "let (_gate, mut tx) = self.begin_write().await?;"
        ));
        assert!(begins_outside_the_gate(
            "store/rbac.rs",
            "let tx = self.pool().begin_with(\"BEGIN\").await?;"
        ));
        let gate = "Some(_) => self.pool.begin_with(\"BEGIN IMMEDIATE\").await?,\n\
                    None => self.pool.begin().await?,";
        assert!(!begins_outside_the_gate("store/mod.rs", gate));
        // Nor on a request's held connection.
        assert!(begins_outside_the_gate(
            "store/rbac.rs",
            "let mut tx = lease.connection()?.begin().await?;"
        ));
        assert!(begins_outside_the_gate(
            "store/rbac.rs",
            "let tx = sqlx::Connection::begin(lease.connection()?).await?;"
        ));
        // A third begin in the gate's own file is one too many.
        let third = format!("{gate}\nlet other = self.pool.begin().await?;");
        assert!(begins_outside_the_gate("store/mod.rs", &third));
    }

    #[test]
    fn the_web_layer_is_named_only_inside_it() {
        assert!(names_http_outside_http(
            "store/mod.rs",
            "use crate::http::ApiError;"
        ));
        assert!(names_http_outside_http(
            "config.rs",
            "    super::http::router(x)"
        ));
        assert!(!names_http_outside_http(
            "http/sign_in.rs",
            "use crate::http::ApiError;"
        ));
        assert!(!names_http_outside_http(
            "lib.rs",
            "use crate::http::AppState;"
        ));
        // Prose is not an import.
        let text = "//! mapped by `crate::http::error`\nfn f() {}\n";
        assert!(code_lines(text).all(|(_, c)| !names_http_outside_http("auth/mod.rs", c)));
    }

    #[test]
    fn the_floor_names_nothing_above_it() {
        assert!(!names_above_the_floor("domain/machine.rs", "use super::*;"));
        assert!(!names_above_the_floor(
            "domain/rbac/resolve.rs",
            "use super::super::ice;"
        ));
        assert!(!names_above_the_floor(
            "domain/ice.rs",
            "use crate::domain::machine::State;"
        ));
        assert!(names_above_the_floor(
            "domain/ice.rs",
            "use crate::store::Store;"
        ));
        assert!(names_above_the_floor(
            "domain/ice.rs",
            "use super::super::store;"
        ));
        assert!(names_above_the_floor("domain/mod.rs", "use super::config;"));
        assert!(names_above_the_floor(
            "domain/rbac/resolve.rs",
            "use super::super::super::auth;"
        ));
        assert!(names_above_the_floor(
            "auth/proof.rs",
            "use crate::store::Store;"
        ));
        assert!(!names_above_the_floor(
            "store/mod.rs",
            "use crate::auth::TenantScope;"
        ));
    }

    #[test]
    fn the_platform_names_only_what_it_implements() {
        let above = names_above_the_platform;
        assert!(!above(
            "platform/x11/inject.rs",
            "use crate::inject::{InjectError, Injector};"
        ));
        assert!(!above("platform/mod.rs", "use crate::platform::keymap;"));
        assert!(above(
            "platform/windows/mod.rs",
            "crate::run::register_device(x)"
        ));
        assert!(above("platform/linux.rs", "fn f(c: &crate::cli::Cli) {}"));
        assert!(!above("inject.rs", "use crate::gate::Gate;"));
        assert!(above("indicator.rs", "use crate::session::Finish;"));
        assert!(!above("session.rs", "use crate::run::x;"));
    }

    #[test]
    fn the_real_tree_keeps_the_import_rules() {
        server_imports().unwrap();
        agent_imports().unwrap();
    }

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
