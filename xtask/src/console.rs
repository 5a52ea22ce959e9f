//! Building the console: three Trunk builds merged into `dist/` (see
//! `tandem_protocol::routes::Console`).
//!
//! - `index.html` and `tandem-frontend-*`: the helper's console (sign-in,
//!   devices, sessions), what most people load;
//! - `share.html` and `tandem-frontend-share-*`: the sharer's console
//!   (sign-in and the sharer's pages);
//! - `full.html` and `tandem-frontend-full-*`: every page, administration,
//!   session records and monitoring included.
//!
//! The server sends each page the build that has it. Trunk empties its
//! output directory on every build, so the other builds are made in the
//! target directory first and their files are then copied beside the
//! helper's (the shared stylesheet and `public/` are the same files and
//! are not copied twice).

use crate::cmd::{Result, command, root, run, target_dir};
use std::path::Path;

/// A build besides the helper's: its page and its binary.
struct OtherBuild {
    page: &'static str,
    bin: &'static str,
}

const OTHER_BUILDS: [OtherBuild; 2] = [
    OtherBuild {
        page: "share.html",
        bin: "tandem-frontend-share",
    },
    OtherBuild {
        page: "full.html",
        bin: "tandem-frontend-full",
    },
];

pub fn build() -> Result {
    let index = read_text(&root().join("frontend/index.html"))?;
    for other in &OTHER_BUILDS {
        same_page(
            &index,
            &read_text(&root().join("frontend").join(other.page))?,
            other,
        )?;
    }
    let mut made = Vec::new();
    for other in &OTHER_BUILDS {
        let stem = other.page.trim_end_matches(".html");
        let dist = target_dir().join(format!("console-{stem}"));
        let mut trunk = command("trunk");
        trunk
            .args(["build", "--release", "--html-output", other.page, "--dist"])
            .arg(&dist)
            .arg(format!("frontend/{}", other.page));
        run(trunk)?;
        made.push((other, dist));
    }
    let mut helper = command("trunk");
    helper.args(["build", "--release"]);
    run(helper)?;
    for (other, dist) in made {
        merge(&dist, &root().join("dist"), other.page)?;
    }
    Ok(())
}

const HELPER_BIN: &str = "tandem-frontend";

fn bin_attribute(bin: &str) -> String {
    format!(r#"data-bin="{bin}""#)
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The pages are the same but for the binary they load, so that an edit
/// of one (a stylesheet, a header) cannot be forgotten in another.
fn same_page(index: &str, page: &str, other: &OtherBuild) -> Result {
    let (helper, theirs) = (bin_attribute(HELPER_BIN), bin_attribute(other.bin));
    if index.matches(&helper).count() == 1 && index.replace(&helper, &theirs) == page {
        Ok(())
    } else {
        Err(format!(
            "frontend/{} must be frontend/index.html with {helper} made {theirs}, \
             and nothing else different",
            other.page
        ))
    }
}

/// Copies the files at the top of `from` into `into`. A file both builds
/// made (the stylesheet) must be the same; a folder must be one both
/// have with the same files (`public/`): anything else is an error rather
/// than a console that breaks when it runs.
fn merge(from: &Path, into: &Path, page: &str) -> Result {
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
                "two console builds made {} with different contents",
                target.display()
            ));
        }
    }
    if !into.join(page).is_file() {
        return Err(format!(
            "the console's {page} is missing from {}",
            into.display()
        ));
    }
    eprintln!(
        "console: {copied} files of the build of {page} copied into {}",
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
            "the folder {} of a console build differs from the helper's {}",
            a.display(),
            b.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_other_pages_differ_from_the_helpers_only_in_their_binary() {
        let full = &OTHER_BUILDS[1];
        let index = format!(
            "<head><link {} /><link href=\"a.css\" /></head>",
            bin_attribute(HELPER_BIN)
        );
        let page = index.replace(&bin_attribute(HELPER_BIN), &bin_attribute(full.bin));
        assert!(same_page(&index, &page, full).is_ok());
        assert!(same_page(&index, &page.replace("a.css", "b.css"), full).is_err());
        assert!(same_page(&index, &index, full).is_err());
        // The pages in the tree.
        let read = |name: &str| read_text(&root().join("frontend").join(name)).unwrap();
        for other in &OTHER_BUILDS {
            assert!(
                same_page(&read("index.html"), &read(other.page), other).is_ok(),
                "{}",
                other.page
            );
        }
    }
}
