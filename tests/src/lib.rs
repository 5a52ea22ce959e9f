//! Harness for Tandem's end-to-end suites.
//!
//! Each test starts what it needs on free loopback ports: its own server
//! ([`TestServer`], with a temporary database and the demo tenant) and its
//! own browser ([`Browser`]: chromedriver and headless Chromium with a fresh
//! profile). Every process is started in its own process group and only
//! those groups are stopped at the end, so parallel tests and other
//! processes on the machine are never touched.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod balancer;
mod browser;
pub mod desktop;
mod error;
pub mod flows;
pub mod idp;
pub mod network;
mod paths;
pub mod postgres;
mod process;
mod server;
pub mod sites;
pub mod turn;
pub mod wine;

pub use balancer::Balancer;
pub use browser::{Browser, CHROMIUM_REQUIRED_ARGS};
pub use error::HarnessError;
pub use paths::{agent_binary, dist_dir, free_port};
pub use process::GroupChild;
pub use server::{Database, ServerOptions, TestServer};

/// Password of every seeded demo account.
pub const DEMO_PASSWORD: &str = "tandem-demo";

/// The most one end-to-end test may take, start-up included.
pub const TEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(180);

/// Runs `test` against a fresh [`Env`], failing it if it takes longer than
/// [`TEST_TIMEOUT`]. The processes are stopped however the test ends.
pub async fn e2e(test: impl AsyncFnOnce(&Env)) {
    e2e_on(Database::Sqlite, test).await;
}

/// [`e2e`] with the server on `database`.
pub async fn e2e_on(database: Database, test: impl AsyncFnOnce(&Env)) {
    let env = Env::start_on(database)
        .await
        .expect("start the server and the browser");
    let outcome = tokio::time::timeout(TEST_TIMEOUT, test(&env)).await;
    env.finish().await;
    assert!(
        outcome.is_ok(),
        "test did not finish within {} s",
        TEST_TIMEOUT.as_secs()
    );
}

/// A server and a browser pointed at it.
pub struct Env {
    pub server: TestServer,
    pub browser: Browser,
}

impl Env {
    /// Starts a fresh server with the demo tenant and a fresh browser.
    pub async fn start() -> Result<Self, HarnessError> {
        Self::start_on(Database::Sqlite).await
    }

    /// [`Env::start`] with the server on `database`.
    pub async fn start_on(database: Database) -> Result<Self, HarnessError> {
        let server = TestServer::start_with(ServerOptions {
            database,
            ..ServerOptions::default()
        })
        .await?;
        let browser = Browser::start(server.base_url()).await?;
        Ok(Self { server, browser })
    }

    /// Runs `test`, failing it after [`TEST_TIMEOUT`], then closes up.
    pub async fn run(self, test: impl AsyncFnOnce(&Env)) {
        let outcome = tokio::time::timeout(TEST_TIMEOUT, test(&self)).await;
        self.finish().await;
        assert!(
            outcome.is_ok(),
            "test did not finish within {} s",
            TEST_TIMEOUT.as_secs()
        );
    }

    /// Closes the browser session cleanly; the processes stop on drop.
    pub async fn finish(self) {
        self.browser.close().await;
    }
}

/// Asks `probe` every 50 ms until it answers `Ok`; panics after `timeout`
/// with `what` and the last `Err` it gave (what it saw instead).
pub async fn eventually<T, E: std::fmt::Debug>(
    what: &str,
    timeout: std::time::Duration,
    mut probe: impl AsyncFnMut() -> Result<T, E>,
) -> T {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(seen) if tokio::time::Instant::now() >= deadline => {
                panic!("{what}: not within {timeout:?}; last seen: {seen:?}")
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
}
