//! Building the console: two Trunk builds merged into `dist/`.
//!
//! - `index.html` and `tandem-frontend-*`: the helper's console (sign-in,
//!   devices, sessions, the sharer's pages), what most people load;
//! - `full.html` and `tandem-frontend-full-*`: every page, administration,
//!   session records and monitoring included. The server sends it for the
//!   paths under `tandem_protocol::routes::FULL_CONSOLE_PREFIXES`.
//!
//! Trunk empties its output directory on every build, so the full console
//! is built into the target directory first and its files are then copied
//! beside the helper's (the shared stylesheet and `public/` are the same
//! files and are not copied twice).

use crate::cmd::{Result, command, root, run, target_dir};
use std::path::Path;

pub fn build() -> Result {
    same_page(
        &read_text(&root().join("frontend/index.html"))?,
        &read_text(&root().join("frontend/full.html"))?,
    )?;
    let full_dist = target_dir().join("console-full");
    let mut full = command("trunk");
    full.args(["build", "--release", "--html-output", "full.html", "--dist"])
        .arg(&full_dist)
        .arg("frontend/full.html");
    run(full)?;
    let mut helper = command("trunk");
    helper.args(["build", "--release"]);
    run(helper)?;
    merge(&full_dist, &root().join("dist"))
}

const HELPER_BIN: &str = r#"data-bin="tandem-frontend""#;
const FULL_BIN: &str = r#"data-bin="tandem-frontend-full""#;

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The two pages are the same but for the binary they load, so that an
/// edit of one (a stylesheet, a header) cannot be forgotten in the other.
fn same_page(index: &str, full: &str) -> Result {
    if index.matches(HELPER_BIN).count() == 1 && index.replace(HELPER_BIN, FULL_BIN) == full {
        Ok(())
    } else {
        Err(format!(
            "frontend/full.html must be frontend/index.html with {HELPER_BIN} made {FULL_BIN}, \
             and nothing else different"
        ))
    }
}

/// Copies the files at the top of `from` into `into`. A file both builds
/// made (the stylesheet) must be the same; a folder must be one both
/// have with the same files (`public/`): anything else is an error rather
/// than a console that breaks when it runs.
fn merge(from: &Path, into: &Path) -> Result {
    let read = |path: &Path| std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()));
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    let mut copied = 0;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let source = entry.path();
        let target = into.join(entry.file_name());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            same_folder(&source, &target)?;
        } else if !target.exists() {
            std::fs::copy(&source, &target)
                .map_err(|e| format!("{} → {}: {e}", source.display(), target.display()))?;
            copied += 1;
        } else if read(&source)? != read(&target)? {
            return Err(format!(
                "both console builds made {} with different contents",
                target.display()
            ));
        }
    }
    if !into.join("full.html").is_file() {
        return Err(format!(
            "the full console's full.html is missing from {}",
            into.display()
        ));
    }
    eprintln!(
        "console: {copied} files of the full console copied into {}",
        into.display()
    );
    Ok(())
}

/// `a` and `b` are folders with the same files.
fn same_folder(a: &Path, b: &Path) -> Result {
    let names = |dir: &Path| -> Result<Vec<std::ffi::OsString>> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.file_name()))
            .collect();
        names.sort();
        Ok(names)
    };
    let (in_a, in_b) = (names(a)?, names(b)?);
    let same = in_a == in_b
        && in_a.iter().all(|name| {
            let (x, y) = (a.join(name), b.join(name));
            x.is_file() && std::fs::read(&x).ok() == std::fs::read(&y).ok()
        });
    if same {
        Ok(())
    } else {
        Err(format!(
            "the full console's folder {} differs from the helper's {}",
            a.display(),
            b.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_page_differs_from_the_helpers_only_in_its_binary() {
        let index = format!("<head><link {HELPER_BIN} /><link href=\"a.css\" /></head>");
        let full = index.replace(HELPER_BIN, FULL_BIN);
        assert!(same_page(&index, &full).is_ok());
        assert!(same_page(&index, &full.replace("a.css", "b.css")).is_err());
        assert!(same_page(&index, &index).is_err());
        // The pages in the tree.
        let page = |name: &str| read_text(&root().join("frontend").join(name)).unwrap();
        assert!(same_page(&page("index.html"), &page("full.html")).is_ok());
    }
}
