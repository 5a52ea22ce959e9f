//! `cargo xtask test`: everything CI checks, in order, then one summary.

use crate::cmd::{Result, cargo, command, describe, run};
use crate::summary::{Counts, parse_result_line};
use crate::{fuzz, invariants, postgres, tools};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Runs a test command, echoing its output and adding up its results.
fn run_tests(mut command: Command, total: &mut Counts) -> Result {
    let text = describe(&command);
    println!("\n==> {text}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {text}: {e}"))?;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout)
            .lines()
            .map_while(std::io::Result::ok)
        {
            println!("{line}");
            if let Some(counts) = parse_result_line(&line) {
                *total += counts;
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{text} failed ({status})"))
    }
}

/// The agent end-to-end suite.
fn agent_suite() -> Vec<&'static str> {
    vec![
        "cargo",
        "test",
        "--locked",
        "-p",
        "tandem-tests",
        "--test",
        "e2e",
        "agent::",
    ]
}

/// `argv` in a new network namespace whose only interface is `lo`. That
/// needs root (xterm cannot set up its terminal in a user namespace).
fn loopback_only(argv: &[&str]) -> Result<Command> {
    if !tools::is_root() {
        return Err("the loopback-only agent suite needs root (unshare --net); \
                    run cargo xtask test as root"
            .into());
    }
    let mut c = command("unshare");
    c.args(["--net", "sh", "-c"])
        .arg("ip link set lo up && exec \"$@\"")
        .arg("sh")
        .args(argv);
    Ok(c)
}

/// `cargo ARGS --target x86_64-pc-windows-gnu`, linking the C++ runtime
/// (openh264) and libgcc statically: Wine, like a bare Windows machine,
/// has no mingw DLLs.
fn cargo_windows(args: &[&str]) -> Result<Command> {
    let mut gxx = command("x86_64-w64-mingw32-g++");
    gxx.arg("-print-file-name=libstdc++.a");
    let libstdcxx = crate::cmd::output(gxx).ok_or("x86_64-w64-mingw32-g++ is missing")?;
    let dir = std::path::Path::new(libstdcxx.trim())
        .parent()
        .ok_or("mingw's libstdc++.a was not found")?
        .to_path_buf();
    let (subcommand, rest) = args.split_first().ok_or("no cargo subcommand")?;
    let mut c = cargo(&[subcommand]);
    c.args(["--target", tools::WINDOWS_TARGET])
        .args(rest)
        .env("CXXSTDLIB_x86_64_pc_windows_gnu", "static=stdc++")
        .env(
            "CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUSTFLAGS",
            format!("-L native={} -C link-args=-static-libgcc", dir.display()),
        );
    Ok(c)
}

pub fn test() -> Result {
    let started = Instant::now();
    tools::ensure_for_test()?;
    run(cargo(&["fmt", "--all", "--check"]))?;
    run(cargo(&[
        "clippy",
        "--locked",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(cargo(&[
        "clippy",
        "--locked",
        "-p",
        "tandem-frontend",
        "--target",
        "wasm32-unknown-unknown",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(cargo_windows(&[
        "clippy",
        "--locked",
        "-p",
        "tandem-agent",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?)?;
    invariants::check()?;

    // The browser tests drive the real server binary and the release console.
    let mut trunk = command("trunk");
    trunk.args(["build", "--release"]);
    run(trunk)?;
    run(cargo(&[
        "build",
        "--locked",
        "-p",
        "tandem-server",
        "-p",
        "tandem-agent",
    ]))?;
    // tandem-agent.exe and the Windows backend tests the `windows` e2e
    // suite runs under Wine.
    run(cargo_windows(&[
        "test",
        "--locked",
        "--no-run",
        "-p",
        "tandem-agent",
    ])?)?;

    // One throwaway PostgreSQL cluster for the run; dropped (stopped and
    // deleted) on every way out of this function.
    let cluster = postgres::Cluster::start(postgres::Flush::Skipped)?;
    let mut total = Counts::default();
    let mut failures = Vec::new();
    for args in [
        &["test", "--locked", "--workspace", "--no-fail-fast"][..],
        &[
            "test",
            "--locked",
            "-p",
            "tandem-frontend",
            "--target",
            "wasm32-unknown-unknown",
        ][..],
    ] {
        let mut tests = cargo(args);
        tests.env(postgres::CLUSTER_VARIABLE, cluster.url());
        if let Err(error) = run_tests(tests, &mut total) {
            failures.push(error);
        }
    }
    // The store, router and session suites again, on PostgreSQL: the same
    // test binaries, each test on a new database of the cluster.
    let mut on_postgres = cargo(&["test", "--locked", "-p", "tandem-server", "--no-fail-fast"]);
    on_postgres
        .env(postgres::CLUSTER_VARIABLE, cluster.url())
        .env(postgres::BACKEND_VARIABLE, "postgres");
    if let Err(error) = run_tests(on_postgres, &mut total) {
        failures.push(format!("on PostgreSQL: {error}"));
    }
    // The agent suite again where the only interface is loopback: WebRTC
    // must not need mDNS or any other network (a locked-down device).
    if let Err(error) = loopback_only(&agent_suite()).and_then(|suite| run_tests(suite, &mut total))
    {
        failures.push(error);
    }

    // Every fuzz target for a short, bounded time on its seeds; a target
    // that runs without a crash counts as one passed test.
    match fuzz::short() {
        Ok(figures) => {
            let execs: u64 = figures.iter().map(|f| f.execs).sum();
            println!(
                "fuzzing: {} targets, {execs} inputs, 0 crashes",
                figures.len()
            );
            total.passed += u64::try_from(figures.len()).unwrap_or(0);
        }
        Err(error) => {
            total.failed += 1;
            failures.push(error);
        }
    }

    println!(
        "\nAll checks took {:.0} s.\nSummary: {} passed, {} failed, {} skipped",
        started.elapsed().as_secs_f64(),
        total.passed,
        total.failed,
        total.ignored
    );
    if !failures.is_empty() {
        return Err(failures.join("\n"));
    }
    if total.failed > 0 || total.passed == 0 {
        return Err("the test run did not pass".into());
    }
    if total.ignored > 0 {
        return Err(format!(
            "{} tests are ignored; an ignored test hides whether it passes",
            total.ignored
        ));
    }
    Ok(())
}
