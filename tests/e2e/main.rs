//! The end-to-end suites, one binary. Each test starts its own server and
//! browser (see `tandem_tests::Env`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod admin;
mod admin_directory;
mod agent;
mod files;
mod networks;
mod oidc;
mod operations;
mod outage;
mod picture;
mod proxy;
mod relays;
mod replicas;
mod reports;
mod rogue;
mod session;
mod sign_in;
mod tls;
mod tools;
mod window;
mod windows;
