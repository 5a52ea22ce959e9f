//! `cargo xtask <command>`: the project's developer commands.
//!
//! - `run`: install what is missing, build the console, start the server on
//!   127.0.0.1:8080 with the demo tenant.
//! - `bench`: release builds, then the media and session benchmarks,
//!   which print figures; `bench --peers` runs Tandem side by side with
//!   x11vnc + noVNC and xpra instead, and `bench --server` only the server
//!   under load, `bench --console` only the console's size and start-up.
//! - `test`: install what is missing, then fmt, invariants, builds linted
//!   by Clippy (`lint.rs`), unit,
//!   router, wasm component and browser end-to-end tests, a short run of
//!   every fuzz target, and a summary.
//! - `fuzz [--long]`: the coverage-guided fuzz targets (see `fuzz.rs`).
//!
//! It has no dependencies so that it builds in seconds on a cold machine.

mod bench;
mod cmd;
mod console;
mod fuzz;
mod invariants;
mod lint;
mod postgres;
mod run;
mod summary;
mod test;
mod tools;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <run [-- SERVER ARGS] | test | bench [--peers | --server | --console] | \
                     fuzz [--long] [--seconds N] [--runs N] [--jobs N] [--targets a,b]>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo xtask test` makes this program cargo's compiler wrapper.
    if lint::is_wrapper_call(&args) {
        return lint::wrap(&args);
    }
    let result = match args.first().map(String::as_str) {
        Some("run") => run::run(&args[1..]),
        Some("test") => test::test(),
        Some("bench") => bench::bench(&args[1..]),
        Some("fuzz") => fuzz::fuzz(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown command\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
