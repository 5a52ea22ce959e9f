//! The one error of the platform layer's own steps (signing out, opening
//! a link, the service, the state folder). Capture, injection, the
//! indicator and the device log have the errors of their traits.

/// Why an OS step failed.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// This OS has no such thing (the service on Linux).
    #[error("{0}")]
    Unsupported(&'static str),
    /// An OS call or a program failed: which one, and what it said.
    #[error("{call}: {detail}")]
    Call { call: String, detail: String },
}

impl PlatformError {
    pub fn call(call: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Self::Call {
            call: call.into(),
            detail: detail.to_string(),
        }
    }
}

/// For `map_err`: the failure of `call`, with the error's own words.
pub fn failed<E: std::fmt::Display>(call: impl Into<String>) -> impl FnOnce(E) -> PlatformError {
    let call = call.into();
    move |error| PlatformError::call(call, error)
}
