//! The agent's own error: what stops it from starting or from installing
//! its service. Each layer below has its own (the CLI, the client, the
//! device key, the platform); this one only says which.

use crate::cli::CliError;
use crate::client::ClientError;
use crate::identity::IdentityError;
use crate::platform::PlatformError;

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(transparent)]
    Cli(#[from] CliError),
    #[error("the device key: {0}")]
    Identity(#[from] IdentityError),
    #[error("registration failed: {0}")]
    Registration(#[from] ClientError),
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error("cannot start: {0}")]
    Runtime(std::io::Error),
    #[error("cannot copy the CA file {path} into the service's folder: {source}")]
    CopyCa {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}
