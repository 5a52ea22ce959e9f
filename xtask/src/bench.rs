//! `cargo xtask bench`: builds release binaries and the console, then runs
//! the benchmarks, which print figures (see BENCHMARKS.md). Nothing here
//! passes or fails on speed; compare figures within one run.

use crate::cmd::{Result, cargo, run};
use crate::tools;

pub fn bench(args: &[String]) -> Result {
    let peers = args.iter().any(|a| a == "--peers");
    // `--server`: only the server under load (SQLite, PostgreSQL, two
    // replicas), for work on the store and the session path.
    let server_only = args.iter().any(|a| a == "--server");
    // `--console`: only the console's size and start-up.
    let console_only = args.iter().any(|a| a == "--console");
    tools::ensure_for_test()?;
    if peers {
        tools::ensure_for_peers()?;
    }
    crate::console::build()?;
    run(cargo(crate::run::RELEASE_BUILD))?;
    if peers {
        // Tandem, x11vnc + noVNC and xpra side by side on one display.
        run(cargo(&[
            "build",
            "--locked",
            "--release",
            "-p",
            "tandem-tests",
            "--bin",
            "tandem-workload",
        ]))?;
        return run(tests_bench("peers"));
    }
    if console_only {
        // The console's size and start-up need no database of their own.
        return run(tests_bench("console"));
    }
    // The server bench compares SQLite with PostgreSQL: a throwaway
    // cluster for it, stopped and deleted when the benches end.
    let cluster = crate::postgres::Cluster::start(crate::postgres::Flush::ToDisk)?;
    let with_cluster = |bench: &str| {
        let mut command = tests_bench(bench);
        command.env(crate::postgres::CLUSTER_VARIABLE, cluster.url());
        command
    };
    if server_only {
        return run(with_cluster("server"));
    }

    // Encoder, pacing and quality on synthetic 1080p desktops.
    run(cargo(&[
        "bench",
        "--locked",
        "-p",
        "tandem-agent",
        "--bench",
        "media",
    ]))?;
    // A real session: Xvfb, the release agent, the server and Chromium.
    // Then the server under load, and the console's size and start-up.
    for bench in ["session", "server", "console"] {
        run(with_cluster(bench))?;
    }
    Ok(())
}

/// `cargo bench` of one of `tandem-tests`' benches.
fn tests_bench(bench: &str) -> std::process::Command {
    cargo(&["bench", "--locked", "-p", "tandem-tests", "--bench", bench])
}
