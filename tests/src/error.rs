/// Why the harness could not set up or drive a test.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("{what} is missing at {path}: {hint}")]
    Missing {
        what: &'static str,
        path: std::path::PathBuf,
        hint: &'static str,
    },
    #[error("cannot start {what}: {source}")]
    Spawn {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("{what} did not become ready within {seconds} s{details}")]
    NotReady {
        what: &'static str,
        seconds: u64,
        details: String,
    },
    #[error("webdriver session: {0}")]
    Session(#[from] fantoccini::error::NewSessionError),
    #[error("webdriver command: {0}")]
    Command(#[from] fantoccini::error::CmdError),
    #[error("timed out after {seconds} s waiting for {what}")]
    Timeout { what: String, seconds: u64 },
    #[error("no PostgreSQL test cluster: {0}")]
    NoCluster(String),
    #[error("X display: {0}")]
    X(String),
    #[error("test network: {0}")]
    Network(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}
