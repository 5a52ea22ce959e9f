//! `cargo xtask test`: everything CI checks, in order, then one summary.

use crate::cmd::{Result, cargo, command, describe, run};
use crate::lint::wrapped as linted;
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

/// The test executables `cargo test --workspace` built, as cargo lists
/// them (nothing is built again: the workspace run came first). Cargo's
/// list, even when a crate failed to build: the others still run.
fn workspace_test_artifacts() -> Result<String> {
    let mut list = linted(cargo(&[
        "test",
        "--locked",
        "--workspace",
        "--no-run",
        "--message-format=json",
    ]))?;
    let out = list
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run cargo test --no-run: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The test executables of `tandem-server` (its unit tests and every
/// suite under `server/tests`) among `artifacts`.
fn server_test_binaries(artifacts: &str) -> Result<Vec<std::path::PathBuf>> {
    let binaries = test_executables(artifacts, "tandem-server");
    if binaries.is_empty() {
        return Err("cargo listed no test executable of tandem-server".into());
    }
    Ok(binaries)
}

/// The end-to-end executable (`tests/e2e`) among `artifacts`. Running it
/// directly, rather than `cargo test -p tandem-tests`, keeps the features
/// the workspace resolved: `-p` resolves others and builds some twenty
/// crates and the suite a second time.
fn e2e_binary(artifacts: &str) -> Result<std::path::PathBuf> {
    test_executables(artifacts, "tandem-tests")
        .into_iter()
        .find(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("e2e-"))
        })
        .ok_or_else(|| "cargo listed no e2e executable of tandem-tests".into())
}

/// The `executable` of each test artifact of `package` in cargo's JSON
/// messages (one object per line; paths are JSON strings without
/// escapes on these machines, which is checked).
fn test_executables(json: &str, package: &str) -> Vec<std::path::PathBuf> {
    let field = |line: &str, name: &str| -> Option<String> {
        let start = line.find(&format!("\"{name}\":\""))? + name.len() + 4;
        let end = start + line[start..].find('"')?;
        let value = &line[start..end];
        (!value.contains('\\')).then(|| value.to_owned())
    };
    json.lines()
        .filter(|line| line.contains("\"reason\":\"compiler-artifact\""))
        // The profile's `test`, not the target's (a binary is a target
        // with tests too, and its plain build is no test harness).
        .filter(|line| {
            line.split_once("\"profile\":{")
                .and_then(|(_, rest)| rest.split_once('}'))
                .is_some_and(|(profile, _)| profile.contains("\"test\":true"))
        })
        .filter(|line| {
            field(line, "package_id").is_some_and(|id| id.contains(&format!("#{package}@")))
        })
        .filter_map(|line| field(line, "executable"))
        .map(std::path::PathBuf::from)
        .collect()
}

/// The agent end-to-end suite, run by the e2e executable from the
/// directory `cargo test` runs it in.
fn agent_suite(e2e: &std::path::Path) -> Command {
    let mut suite = command(&e2e.to_string_lossy());
    suite
        .arg("agent::")
        .current_dir(crate::cmd::root().join("tests"));
    suite
}

/// `argv` in a new network namespace whose only interface is `lo`. That
/// needs root (xterm cannot set up its terminal in a user namespace).
fn loopback_only(inner: &Command) -> Result<Command> {
    if !tools::is_root() {
        return Err("the loopback-only agent suite needs root (unshare --net); \
                    run cargo xtask test as root"
            .into());
    }
    let mut c = command("unshare");
    c.args(["--net", "sh", "-c"])
        .arg("ip link set lo up && exec \"$@\"")
        .arg("sh")
        .arg(inner.get_program())
        .args(inner.get_args());
    if let Some(dir) = inner.get_current_dir() {
        c.current_dir(dir);
    }
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
    invariants::check()?;

    // The browser tests drive the real server binary and the release console.
    crate::console::build()?;
    // The whole workspace, built and linted, with the features `cargo test
    // --workspace` resolves, so that the run below builds nothing: first
    // the binaries the e2e suites start, then every test, bench and
    // example target (benches and examples are only built, for their
    // lints).
    run(linted(cargo(&["build", "--locked", "--workspace"]))?)?;
    run(linted(cargo(&[
        "test",
        "--locked",
        "--workspace",
        "--all-targets",
        "--no-run",
    ]))?)?;
    // tandem-agent.exe and the Windows backend tests the `windows` e2e
    // suite runs under Wine, linted for Windows.
    run(linted(cargo_windows(&[
        "test",
        "--locked",
        "--no-run",
        "--all-targets",
        "-p",
        "tandem-agent",
    ])?)?)?;

    // One throwaway PostgreSQL cluster for the run; dropped (stopped and
    // deleted) on every way out of this function.
    let cluster = postgres::Cluster::start(postgres::Flush::Skipped)?;
    // The fuzz targets' own build (another toolchain, instrumented) runs
    // beside the suites, on the CPU they leave idle.
    let fuzz_build = fuzz::build_in_background();
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
        let tests = linted(cargo(args)).map(|mut tests| {
            tests.env(postgres::CLUSTER_VARIABLE, cluster.url());
            tests
        });
        if let Err(error) = tests.and_then(|tests| run_tests(tests, &mut total)) {
            failures.push(error);
        }
    }
    // The store, router and session suites again, on PostgreSQL: the very
    // test binaries the workspace run built (`cargo test -p tandem-server`
    // would resolve other features and build the server a second time),
    // each test on a new database of the cluster.
    let artifacts = workspace_test_artifacts();
    match artifacts
        .as_deref()
        .map_err(|e| e.clone())
        .and_then(server_test_binaries)
    {
        Ok(binaries) => {
            for binary in binaries {
                let mut on_postgres = command(&binary.to_string_lossy());
                on_postgres
                    .current_dir(crate::cmd::root().join("server"))
                    .env(postgres::CLUSTER_VARIABLE, cluster.url())
                    .env(postgres::BACKEND_VARIABLE, "postgres");
                if let Err(error) = run_tests(on_postgres, &mut total) {
                    failures.push(format!("on PostgreSQL: {error}"));
                }
            }
        }
        Err(error) => failures.push(format!("on PostgreSQL: {error}")),
    }
    // The agent suite again where the only interface is loopback: WebRTC
    // must not need mDNS or any other network (a locked-down device).
    if let Err(error) = artifacts
        .as_deref()
        .map_err(|e| e.clone())
        .and_then(e2e_binary)
        .and_then(|e2e| loopback_only(&agent_suite(&e2e)))
        .and_then(|suite| run_tests(suite, &mut total))
    {
        failures.push(error);
    }

    // Every fuzz target for a short, bounded time on its seeds; a target
    // that runs without a crash counts as one passed test.
    match fuzz_build.and_then(fuzz::short) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_test_executables_are_picked_from_cargo_messages() {
        let json = concat!(
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/server#tandem-server@0.1.0","target":{"kind":["test"],"test":true},"profile":{"opt_level":"0","debug_assertions":true,"test":true},"executable":"/t/debug/deps/sessions-1a","fresh":true}"#,
            "\n",
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/server#tandem-server@0.1.0","target":{"kind":["bin"],"test":true},"profile":{"opt_level":"0","test":false},"executable":"/t/debug/tandem-server","fresh":true}"#,
            "\n",
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/protocol#tandem-protocol@0.1.0","profile":{"test":true},"executable":"/t/debug/deps/tandem_protocol-2b","fresh":true}"#,
            "\n",
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/server#tandem-server@0.1.0","profile":{"test":true},"executable":null,"fresh":true}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(
            test_executables(json, "tandem-server"),
            vec![std::path::PathBuf::from("/t/debug/deps/sessions-1a")]
        );
    }
}
