//! A Tandem server on a free port with a temporary database.

use crate::HarnessError;
use crate::network::Inside;
use crate::paths::{dist_dir, server_binary};
use crate::process::GroupChild;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tempfile::TempDir;

const READY_TIMEOUT: Duration = Duration::from_secs(60);

pub struct TestServer {
    // Field order matters: the process stops before its data dir goes.
    process: GroupChild,
    base_url: String,
    log_filter: String,
    /// Set for PostgreSQL; SQLite's file is in `data_dir`.
    database_url: Option<String>,
    /// The namespace it runs in (see [`crate::network`]), if not the
    /// test's own.
    inside: Option<Inside>,
    /// The console it serves.
    dist_dir: PathBuf,
    data_dir: TempDir,
}

/// Which database a [`TestServer`] runs on.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Database {
    /// The embedded default, a file in the server's data directory.
    #[default]
    Sqlite,
    /// A new database on the run's throwaway PostgreSQL cluster, which
    /// `cargo xtask test` starts and names in `TANDEM_TEST_PG_CLUSTER`.
    Postgres,
}

/// How to start a [`TestServer`] beyond the defaults.
#[derive(Debug, Default, Clone)]
pub struct ServerOptions {
    /// A fixed port (for IdP redirect URIs); a free one is chosen otherwise.
    pub port: Option<u16>,
    /// The contents of `tandem.toml`.
    pub config_toml: Option<String>,
    /// `RUST_LOG` of the server; [`DEFAULT_LOG_FILTER`] when `None`.
    pub log_filter: Option<String>,
    /// The database to run on.
    pub database: Database,
    /// A database URL of the test's own (e.g. a cluster it stops and
    /// starts); wins over `database`.
    pub database_url: Option<String>,
    /// Runs it in a site of a [`crate::network::TestNetwork`], listening
    /// on [`crate::network::SERVER_ADDRESS`].
    pub inside: Option<Inside>,
    /// The console to serve instead of the built one ([`dist_dir`]).
    pub dist_dir: Option<PathBuf>,
}

/// What the server logs in tests unless told otherwise.
pub const DEFAULT_LOG_FILTER: &str = "info,tower_http=debug";

impl TestServer {
    /// Starts `tandem-server` with the demo tenant seeded and waits until it
    /// prints the address it listens on.
    pub async fn start() -> Result<Self, HarnessError> {
        Self::start_with(ServerOptions::default()).await
    }

    /// [`TestServer::start`] with a fixed port and/or a config file.
    pub async fn start_with(options: ServerOptions) -> Result<Self, HarnessError> {
        let data_dir = tempfile::Builder::new().prefix("tandem-e2e-").tempdir()?;
        let config_path = data_dir.path().join("tandem.toml");
        std::fs::write(&config_path, options.config_toml.unwrap_or_default())?;
        let log_filter = options
            .log_filter
            .unwrap_or_else(|| DEFAULT_LOG_FILTER.to_owned());
        let database_url = match (options.database_url, options.database) {
            (Some(url), _) => Some(url),
            (None, Database::Sqlite) => None,
            (None, Database::Postgres) => Some(postgres_database()?),
        };
        let dist_dir = match options.dist_dir {
            Some(dir) => dir,
            None => dist_dir()?,
        };
        let (process, base_url) = spawn(
            data_dir.path(),
            &dist_dir,
            options.port.unwrap_or(0),
            &log_filter,
            database_url.as_deref(),
            options.inside.as_ref(),
        )
        .await?;
        Ok(Self {
            process,
            base_url,
            log_filter,
            database_url,
            inside: options.inside,
            dist_dir,
            data_dir,
        })
    }

    /// `kill -9` of the server (no graceful shutdown, nothing flushed), then
    /// a new one on the same port over the same database and log.
    pub async fn kill_9_and_restart(&mut self) -> Result<(), HarnessError> {
        self.kill_9();
        self.restart().await
    }

    /// `kill -9` of the server: no graceful shutdown, nothing flushed.
    pub fn kill_9(&mut self) {
        self.process.kill_now();
    }

    /// SIGTERM, then waits (at most `within`) for the drained server to
    /// exit; its exit status.
    pub async fn stop(
        &mut self,
        within: Duration,
    ) -> Result<std::process::ExitStatus, HarnessError> {
        let pid = i32::try_from(self.process.id()).unwrap_or_default();
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        );
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(status) = self.process.exited() {
                return Ok(status);
            }
            if tokio::time::Instant::now() > deadline {
                return Err(HarnessError::Timeout {
                    what: "the server to exit after SIGTERM".into(),
                    seconds: within.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A new server process on the same port over the same database and
    /// log (after [`Self::kill_9`] or [`Self::stop`]).
    pub async fn restart(&mut self) -> Result<(), HarnessError> {
        let port = self
            .base_url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let (process, base_url) = spawn(
            self.data_dir.path(),
            &self.dist_dir,
            port,
            &self.log_filter,
            self.database_url.as_deref(),
            self.inside.as_ref(),
        )
        .await?;
        self.process = process;
        self.base_url = base_url;
        Ok(())
    }

    /// Another replica over this server's PostgreSQL database, with its
    /// own port, data directory and log, and the same configuration.
    pub async fn start_replica(&self) -> Result<Self, HarnessError> {
        let data_dir = tempfile::Builder::new().prefix("tandem-e2e-").tempdir()?;
        std::fs::copy(
            self.data_dir.path().join("tandem.toml"),
            data_dir.path().join("tandem.toml"),
        )?;
        let Some(database_url) = self.database_url.clone() else {
            return Err(HarnessError::NoCluster(
                "replicas share a PostgreSQL database; this server runs on SQLite".into(),
            ));
        };
        let (process, base_url) = spawn(
            data_dir.path(),
            &self.dist_dir,
            0,
            &self.log_filter,
            Some(&database_url),
            self.inside.as_ref(),
        )
        .await?;
        Ok(Self {
            process,
            base_url,
            log_filter: self.log_filter.clone(),
            database_url: Some(database_url),
            inside: self.inside.clone(),
            dist_dir: self.dist_dir.clone(),
            data_dir,
        })
    }

    /// Where the database and the log live.
    pub fn data_dir(&self) -> &std::path::Path {
        self.data_dir.path()
    }
}

/// A new, empty database on the run's PostgreSQL cluster; its URL.
fn postgres_database() -> Result<String, HarnessError> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let cluster = std::env::var("TANDEM_TEST_PG_CLUSTER").map_err(|_| {
        HarnessError::NoCluster("TANDEM_TEST_PG_CLUSTER is not set; run cargo xtask test".into())
    })?;
    let name = format!(
        "e2e_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let created = Command::new("psql")
        .args([&cluster, "-v", "ON_ERROR_STOP=1", "-q", "-c"])
        .arg(format!("CREATE DATABASE {name}"))
        .stdin(Stdio::null())
        .output()
        .map_err(|source| HarnessError::Spawn {
            what: "psql",
            source,
        })?;
    if !created.status.success() {
        return Err(HarnessError::NoCluster(
            String::from_utf8_lossy(&created.stderr).into_owned(),
        ));
    }
    // The maintenance database `postgres` in the URL becomes ours.
    let (base, query) = cluster.split_once('?').unwrap_or((&cluster, ""));
    let server = base
        .rsplit_once('/')
        .map(|(server, _)| server)
        .ok_or_else(|| HarnessError::NoCluster(format!("not a database URL: {cluster}")))?;
    Ok(format!("{server}/{name}?{query}"))
}

/// Starts the server binary over `data_dir` (and `database_url`, when
/// set), serving the console in `dist_dir`, and waits for its address.
async fn spawn(
    data_dir: &std::path::Path,
    dist_dir: &std::path::Path,
    port: u16,
    log_filter: &str,
    database_url: Option<&str>,
    inside: Option<&Inside>,
) -> Result<(GroupChild, String), HarnessError> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.join("server.log"))?;
    let config_path = data_dir.join("tandem.toml");
    let host = match inside {
        Some(_) => crate::network::SERVER_ADDRESS,
        None => std::net::Ipv4Addr::LOCALHOST,
    };
    let bind = format!("{host}:{port}");
    let mut command = Command::new(server_binary()?);
    command
        .env("TANDEM_BIND", bind)
        .env("TANDEM_DATA_DIR", data_dir)
        .env("TANDEM_DIST_DIR", dist_dir)
        .env("TANDEM_SEED_DEMO", "true")
        .env("TANDEM_CONFIG", &config_path)
        .env("RUST_LOG", log_filter)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
    // The test run's own variables are not the server's configuration.
    command
        .env_remove("TANDEM_TEST_PG_CLUSTER")
        .env_remove("TANDEM_TEST_BACKEND");
    if let Some(url) = database_url {
        command.env("TANDEM_DATABASE_URL", url);
    }
    if let Some(inside) = inside {
        // The test network is the test's own: nobody else can reach the
        // demo accounts there.
        command.env("TANDEM_FORCE_DEMO_SEED", "true");
        inside.wrap(&mut command)?;
    }
    let mut process = GroupChild::spawn("tandem-server", command)?;
    let base_url = match process.stdout_line("listening on ", READY_TIMEOUT).await {
        Some(url) => url,
        None => {
            let log = std::fs::read_to_string(data_dir.join("server.log")).unwrap_or_default();
            return Err(HarnessError::NotReady {
                what: "tandem-server",
                seconds: READY_TIMEOUT.as_secs(),
                details: format!(" (exit: {:?}); log:\n{log}", process.exited()),
            });
        }
    };
    Ok((process, base_url))
}

impl TestServer {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.path().join("server.log")).unwrap_or_default()
    }

    /// The server's process id (to read its memory).
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// How the server process ended, once it has.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.process.exited()
    }

    /// Whether the server process is still running.
    pub fn is_running(&mut self) -> bool {
        self.process.exited().is_none()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- tandem-server log ({}) ---\n{}",
                self.base_url,
                self.log()
            );
        }
    }
}
