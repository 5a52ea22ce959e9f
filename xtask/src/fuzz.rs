//! `cargo xtask fuzz [--long] [--seconds N] [--runs N] [--jobs N]`: the coverage-guided
//! fuzz targets of `fuzz/` (cargo-fuzz builds them, libFuzzer runs them).
//!
//! - Without `--long` (as `cargo xtask test` runs them): each target for
//!   20 s on its committed seeds, two targets at a time.
//! - `--long`: each target for an hour (`--seconds` changes that), or until
//!   it has run `--runs` inputs; figures for BENCHMARKS.md at the end. Its
//!   corpus and logs are kept apart from the short run's.
//! - `--jobs N`: targets at a time (default: one per core).
//! - `--targets a,b`: only these targets.
//!
//! The targets are built once, optimised with overflow checks and without
//! a sanitizer: every decoder is safe Rust (`unsafe_code = "deny"`), so
//! AddressSanitizer would find nothing a panic does not, at half the speed.
//! New inputs go to a working corpus under the target directory, never to
//! the committed seeds; a crash fails the run and names the input that
//! caused it, which then becomes a seed (and so a regression test of
//! `server/tests/fuzz_seeds.rs`).

use crate::cmd::{Result, command, describe, root, run};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

/// The nightly toolchain cargo-fuzz builds with (pinned: a new nightly
/// could change what is instrumented, or not build).
pub const NIGHTLY: &str = "nightly-2026-05-20";
/// The cargo-fuzz version installed.
pub const CARGO_FUZZ_VERSION: &str = "0.13.2";
/// The targets, as in `fuzz/Cargo.toml` (`server/tests/fuzz_seeds.rs`
/// checks the list against `tandem_server::fuzzing::TARGETS`).
pub const TARGETS: &[&str] = &[
    "signal_frames",
    "data_channel",
    "grant",
    "device_signature",
    "config_file",
    "csv_import",
    "oidc_callback",
    "code",
    "file_name",
];
const SHORT_SECONDS: u64 = 20;
const LONG_SECONDS: u64 = 3600;

/// What one target's run did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Figures {
    pub target: String,
    pub execs: u64,
    pub execs_per_sec: u64,
    /// Coverage counters (edges) and features libFuzzer reached.
    pub cov: u64,
    pub features: u64,
    pub corpus: u64,
    pub seconds: f64,
}

struct Options {
    seconds: u64,
    runs: Option<u64>,
    jobs: Option<usize>,
    /// Only these targets (all when empty).
    only: Vec<String>,
    /// `short` or `long`: where the working corpus and the logs go.
    mode: &'static str,
}

pub fn fuzz(args: &[String]) -> Result {
    let long = args.iter().any(|a| a == "--long");
    let value = |flag: &str| -> Result<Option<u64>> {
        match args.iter().position(|a| a == flag) {
            None => Ok(None),
            Some(i) => args
                .get(i + 1)
                .and_then(|v| v.parse().ok())
                .map(Some)
                .ok_or_else(|| format!("{flag} needs a number")),
        }
    };
    let options = Options {
        seconds: value("--seconds")?.unwrap_or(if long { LONG_SECONDS } else { SHORT_SECONDS }),
        runs: value("--runs")?,
        jobs: value("--jobs")?.and_then(|j| usize::try_from(j).ok()),
        only: match args.iter().position(|a| a == "--targets") {
            None => Vec::new(),
            Some(i) => args
                .get(i + 1)
                .ok_or("--targets needs a list")?
                .split(',')
                .map(str::to_owned)
                .collect(),
        },
        mode: if long { "long" } else { "short" },
    };
    if let Some(unknown) = options.only.iter().find(|t| !TARGETS.contains(&t.as_str())) {
        return Err(format!(
            "no fuzz target {unknown}; the targets are {TARGETS:?}"
        ));
    }
    ensure_tools(&Runner::Foreground)?;
    build(&Runner::Foreground)?;
    let figures = run_targets(&options)?;
    print_table(&figures);
    Ok(())
}

/// How the commands of the fuzz build run: in the foreground with their
/// output streamed (`cargo xtask fuzz`), or in the background at idle CPU
/// and I/O priority with their output in a log (`cargo xtask test`).
enum Runner {
    Foreground,
    Background(std::fs::File),
}

impl Runner {
    fn run(&self, inner: Command) -> Result {
        let Runner::Background(log) = self else {
            return run(inner);
        };
        let text = describe(&inner);
        let mut idle = command("chrt");
        idle.args(["--idle", "0", "ionice", "-c", "3"])
            .arg(inner.get_program())
            .args(inner.get_args());
        for (key, value) in inner.get_envs() {
            match value {
                Some(value) => idle.env(key, value),
                None => idle.env_remove(key),
            };
        }
        if let Some(dir) = inner.get_current_dir() {
            idle.current_dir(dir);
        }
        let mut log = log.try_clone().map_err(|e| e.to_string())?;
        writeln!(log, "==> {text}").map_err(|e| e.to_string())?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let status = idle
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .status()
            .map_err(|e| format!("cannot run `{text}` at idle priority: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{text}` failed ({status})"))
        }
    }
}

/// The fuzz targets' build for `cargo xtask test`, running beside the
/// test suites.
pub struct BackgroundBuild {
    thread: std::thread::JoinHandle<(Result, f64)>,
    log: PathBuf,
}

/// Starts installing the nightly and cargo-fuzz if they are missing, then
/// building the targets, in a thread of its own at idle CPU and I/O
/// priority (`chrt --idle`, `ionice -c 3`). The browser and agent suites
/// leave about half of two cores idle while they wait on browsers and
/// networks; this build (six minutes on a cold run) takes only that, so a
/// suite never waits for it.
pub fn build_in_background() -> Result<BackgroundBuild> {
    let dir = target_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let log = dir.join("build.log");
    let file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    println!(
        "\n==> the fuzz targets' build, in the background at idle priority (log: {})",
        log.display()
    );
    let thread = std::thread::spawn(move || {
        let started = Instant::now();
        let runner = Runner::Background(file);
        let result = ensure_tools(&runner).and_then(|()| build(&runner));
        (result, started.elapsed().as_secs_f64())
    });
    Ok(BackgroundBuild { thread, log })
}

/// The short run of `cargo xtask test`, once its background build is done.
pub fn short(build: BackgroundBuild) -> Result<Vec<Figures>> {
    let (result, seconds) = build
        .thread
        .join()
        .map_err(|_| "the fuzz build's thread panicked".to_owned())?;
    println!(
        "\n==> the fuzz targets' build (background) took {seconds:.1} s; log: {}",
        build.log.display()
    );
    if let Err(error) = result {
        let text = std::fs::read_to_string(&build.log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!("{error}\n{}", tail.join("\n")));
    }
    run_targets(&Options {
        seconds: SHORT_SECONDS,
        runs: None,
        jobs: None,
        only: Vec::new(),
        mode: "short",
    })
}

fn ensure_tools(runner: &Runner) -> Result {
    let mut has_nightly = command("rustup");
    has_nightly.args(["run", NIGHTLY, "rustc", "--version"]);
    if crate::cmd::output(has_nightly).is_none() {
        let mut install = command("rustup");
        install.args(["toolchain", "install", NIGHTLY, "--profile", "minimal"]);
        runner.run(install)?;
    }
    let mut version = command("cargo");
    version.args(["fuzz", "--version"]);
    if crate::cmd::output(version)
        .is_some_and(|v| v.trim() == format!("cargo-fuzz {CARGO_FUZZ_VERSION}"))
    {
        return Ok(());
    }
    let mut install = crate::tools::fast_install();
    install.args([
        "install",
        "cargo-fuzz",
        "--version",
        CARGO_FUZZ_VERSION,
        "--locked",
        "--force",
    ]);
    runner.run(install)
}

/// Where the fuzz build goes: beside the product's builds, apart from them.
fn target_dir() -> PathBuf {
    crate::cmd::target_dir().join("fuzz")
}

/// Builds every target, optimised with overflow checks, no sanitizer.
fn build(runner: &Runner) -> Result {
    let dir = target_dir();
    let mut build = command("cargo");
    build
        .arg(format!("+{NIGHTLY}"))
        .args(["fuzz", "build", "--release", "--debug-assertions"])
        .args(["--sanitizer", "none", "--target-dir"])
        .arg(&dir);
    runner.run(build)
}

fn run_targets(options: &Options) -> Result<Vec<Figures>> {
    let dir = target_dir();
    let bin = dir.join("x86_64-unknown-linux-gnu/release");
    let parallel = options
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    let chosen: Vec<&str> = TARGETS
        .iter()
        .copied()
        .filter(|t| options.only.is_empty() || options.only.iter().any(|o| o == t))
        .collect();
    println!(
        "\n==> fuzzing {} targets, {} s each, {parallel} at a time",
        chosen.len(),
        options.seconds
    );
    let mut figures = Vec::new();
    let mut failures = Vec::new();
    for batch in chosen.chunks(parallel) {
        let running: Vec<_> = batch
            .iter()
            .map(|target| start(&bin, &dir.join(options.mode), target, options))
            .collect();
        for (target, child) in batch.iter().zip(running) {
            match child.and_then(|c| finish(target, &dir.join(options.mode), c)) {
                Ok(f) => figures.push(f),
                Err(e) => failures.push(e),
            }
        }
    }
    if failures.is_empty() {
        Ok(figures)
    } else {
        Err(failures.join("\n"))
    }
}

struct Running {
    child: std::process::Child,
    log: PathBuf,
    started: Instant,
}

fn start(
    bin: &std::path::Path,
    dir: &std::path::Path,
    target: &str,
    options: &Options,
) -> Result<Running> {
    let corpus = dir.join("corpus").join(target);
    let artifacts = dir.join("artifacts");
    let logs = dir.join("logs");
    for d in [&corpus, &artifacts, &logs] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let log = logs.join(format!("{target}.log"));
    let file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let mut c = command(&bin.join(target).to_string_lossy());
    c.arg(&corpus)
        .arg(root().join("fuzz/seeds").join(target))
        .arg(format!("-max_total_time={}", options.seconds))
        .arg(format!(
            "-artifact_prefix={}/{target}-",
            artifacts.display()
        ))
        .args(["-print_final_stats=1", "-rss_limit_mb=2048", "-timeout=10"]);
    if let Some(runs) = options.runs {
        c.arg(format!("-runs={runs}"));
    }
    let child = c
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .map_err(|e| format!("cannot start the {target} fuzzer: {e}"))?;
    Ok(Running {
        child,
        log,
        started: Instant::now(),
    })
}

fn finish(target: &str, dir: &std::path::Path, mut running: Running) -> Result<Figures> {
    let status = running.child.wait().map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(&running.log).unwrap_or_default();
    if !status.success() {
        let tail: Vec<&str> = text.lines().rev().take(25).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "fuzz target {target} failed ({status}); the input is in {}, the log in {}:\n{}",
            dir.join("artifacts").display(),
            running.log.display(),
            tail.join("\n")
        ));
    }
    let mut figures = parse_log(&text);
    figures.target = target.to_owned();
    figures.seconds = running.started.elapsed().as_secs_f64();
    if figures.execs == 0 {
        return Err(format!(
            "fuzz target {target} ran no input (log: {})",
            running.log.display()
        ));
    }
    println!(
        "    {target}: {} execs ({}/s), cov {}, ft {}, corpus {}",
        figures.execs, figures.execs_per_sec, figures.cov, figures.features, figures.corpus
    );
    Ok(figures)
}

/// Reads libFuzzer's final statistics and its last status line.
pub fn parse_log(text: &str) -> Figures {
    let mut figures = Figures::default();
    let number = |s: &str| s.trim().parse::<u64>().unwrap_or(0);
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("stat::number_of_executed_units:") {
            figures.execs = number(v);
        } else if let Some(v) = line.strip_prefix("stat::average_exec_per_sec:") {
            figures.execs_per_sec = number(v);
        } else if line.contains(" cov: ") {
            let mut words = line.split_whitespace();
            while let Some(word) = words.next() {
                match word {
                    "cov:" => figures.cov = words.next().map_or(0, number),
                    "ft:" => figures.features = words.next().map_or(0, number),
                    "corp:" => {
                        let v = words.next().unwrap_or_default();
                        figures.corpus = number(v.split('/').next().unwrap_or_default());
                    }
                    _ => {}
                }
            }
        }
    }
    figures
}

fn print_table(figures: &[Figures]) {
    println!("\n| target | execs | execs/s | cov (edges) | features | corpus | time |");
    println!("|---|---|---|---|---|---|---|");
    for f in figures {
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.0} s |",
            f.target, f.execs, f.execs_per_sec, f.cov, f.features, f.corpus, f.seconds
        );
    }
    println!("\n0 crashes in {} targets.", figures.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libfuzzer_statistics_are_read() {
        let log = "#4096\tpulse  cov: 10 ft: 20 corp: 5/100b\n\
                   #16789126\tDONE   cov: 312 ft: 1045 corp: 737/12Kb lim: 4096 exec/s: 1049320 rss: 40Mb\n\
                   Done 16789126 runs in 16 second(s)\n\
                   stat::number_of_executed_units: 16789126\n\
                   stat::average_exec_per_sec:     1049320\n";
        let f = parse_log(log);
        assert_eq!(
            (f.execs, f.execs_per_sec, f.cov, f.features, f.corpus),
            (16_789_126, 1_049_320, 312, 1045, 737)
        );
    }

    #[test]
    fn the_target_list_matches_fuzz_cargo_toml() {
        let manifest = std::fs::read_to_string(root().join("fuzz/Cargo.toml")).unwrap();
        let bins = manifest.matches("[[bin]]").count();
        assert_eq!(bins, TARGETS.len());
        for target in TARGETS {
            assert!(
                manifest.contains(&format!("name = \"{target}\"")),
                "{target}"
            );
        }
    }
}
