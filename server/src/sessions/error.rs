//! Why a session operation was refused. The HTTP layer maps each variant to
//! one status and problem type (the HTTP layer's `ApiError`); the texts are what both
//! participants read.

use crate::domain::machine::TransitionError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("That code is not valid. Check it with your helper and try again.")]
    WrongCode,
    #[error("This code has expired. Ask your helper for a new one.")]
    CodeExpired,
    #[error("This code has already been used. Ask your helper for a new one.")]
    CodeUsed,
    #[error("An administrator withdrew this code. Ask your helper for a new one.")]
    CodeWithdrawn,
    #[error("You entered your own code. The person you help enters it on their device.")]
    OwnCode,
    #[error("Too many wrong codes. Try again in {} minute(s).", .0.div_ceil(60))]
    CodeLocked(u64),
    #[error("Remote help is turned off for your organization. An administrator can turn it on.")]
    RemoteHelpDisabled,
    #[error("You do not hold View screen for anyone, so you cannot start a session.")]
    NoViewScreen,
    #[error("You do not hold Take full control for this sharer.")]
    NoFullControl,
    /// A redemption check refused the session; it is recorded as refused.
    #[error("{0}")]
    Refused(tandem_protocol::session::Refusal),
    #[error("{0}")]
    NotNow(#[from] TransitionError),
    #[error("someone else changed the session at the same time; try again")]
    Raced,
    #[error("no such session")]
    NotFound,
    #[error("Only the session's helper can do that.")]
    HelperOnly,
    #[error("{0}")]
    Invalid(String),
    #[error("This pairing link is not valid any more. Restart the agent to get a new one.")]
    PairingExpired,
    #[error("This device belongs to another organization.")]
    ForeignDevice,
    #[error("The device's agent is offline. The sharer must start the Tandem agent first.")]
    AgentOffline,
    #[error("You do not hold Offer remote assistance for this device.")]
    NoOfferAssistance,
    /// The server is shutting down; the client retries later.
    #[error("This server is shutting down. Try again in a moment.")]
    Draining,
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

pub type SessionResult<T> = Result<T, SessionError>;
