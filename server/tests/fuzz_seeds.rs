//! Every committed seed of the fuzz targets, and every crash the fuzzers
//! ever found (kept as a seed under its target), through the same entry
//! points on the stable toolchain: a regression fails `cargo test` even
//! where nightly is not installed.

use std::path::PathBuf;
use tandem_server::fuzzing::TARGETS;

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

#[test]
fn every_seed_of_every_target_holds_its_properties() {
    for (name, target) in TARGETS {
        let dir = fuzz_dir().join("seeds").join(name);
        let mut seeds = 0;
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let outcome = std::panic::catch_unwind(|| target(&bytes));
            assert!(
                outcome.is_ok(),
                "{name}: seed {} breaks a property",
                path.display()
            );
            seeds += 1;
        }
        assert!(
            seeds >= 3,
            "{name} has {seeds} seeds; a corpus starts with real examples"
        );
    }
}

#[test]
fn targets_seeds_and_fuzz_binaries_match() {
    let names: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
    for name in &names {
        let source = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        assert!(source.is_file(), "{} is missing", source.display());
    }
    for dir in ["seeds", "fuzz_targets"] {
        for entry in std::fs::read_dir(fuzz_dir().join(dir)).unwrap_or_else(|e| panic!("{e}")) {
            let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            assert!(
                names.contains(&stem),
                "{} has no entry in TARGETS",
                path.display()
            );
        }
    }
}
