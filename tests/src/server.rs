//! A Tandem server on a free port with a temporary database.

use crate::HarnessError;
use crate::paths::{dist_dir, server_binary};
use crate::process::GroupChild;
use std::process::{Command, Stdio};
use std::time::Duration;
use tempfile::TempDir;

const READY_TIMEOUT: Duration = Duration::from_secs(60);

pub struct TestServer {
    // Field order matters: the process stops before its data dir goes.
    process: GroupChild,
    base_url: String,
    data_dir: TempDir,
}

/// How to start a [`TestServer`] beyond the defaults.
#[derive(Debug, Default, Clone)]
pub struct ServerOptions {
    /// A fixed port (for IdP redirect URIs); a free one is chosen otherwise.
    pub port: Option<u16>,
    /// The contents of `tandem.toml`.
    pub config_toml: Option<String>,
}

impl TestServer {
    /// Starts `tandem-server` with the demo tenant seeded and waits until it
    /// prints the address it listens on.
    pub async fn start() -> Result<Self, HarnessError> {
        Self::start_with(ServerOptions::default()).await
    }

    /// [`TestServer::start`] with a fixed port and/or a config file.
    pub async fn start_with(options: ServerOptions) -> Result<Self, HarnessError> {
        let data_dir = tempfile::Builder::new().prefix("tandem-e2e-").tempdir()?;
        let log = std::fs::File::create(data_dir.path().join("server.log"))?;
        let config_path = data_dir.path().join("tandem.toml");
        std::fs::write(&config_path, options.config_toml.unwrap_or_default())?;
        let bind = format!("127.0.0.1:{}", options.port.unwrap_or(0));
        let mut command = Command::new(server_binary()?);
        command
            .env("TANDEM_BIND", bind)
            .env("TANDEM_DATA_DIR", data_dir.path())
            .env("TANDEM_DIST_DIR", dist_dir()?)
            .env("TANDEM_SEED_DEMO", "true")
            .env("TANDEM_CONFIG", &config_path)
            .env("RUST_LOG", "info,tower_http=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log);
        let mut process = GroupChild::spawn("tandem-server", command)?;
        let base_url = match process.stdout_line("listening on ", READY_TIMEOUT).await {
            Some(url) => url,
            None => {
                let log =
                    std::fs::read_to_string(data_dir.path().join("server.log")).unwrap_or_default();
                return Err(HarnessError::NotReady {
                    what: "tandem-server",
                    seconds: READY_TIMEOUT.as_secs(),
                    details: format!(" (exit: {:?}); log:\n{log}", process.exited()),
                });
            }
        };
        Ok(Self {
            process,
            base_url,
            data_dir,
        })
    }

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
