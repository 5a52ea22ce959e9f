//! Remote-help sessions: modes, who acts, and how a session ends.

use serde::{Deserialize, Serialize};

/// What the helper may do in a session.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Screen sharing: view only.
    View,
    /// Full control: keyboard and mouse (the sharer allowed it).
    Control,
}

/// Who caused a transition.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Helper,
    Sharer,
    /// The server itself: policy, expiry, failures.
    System,
}

/// Why a session ended.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum EndReason {
    /// Someone clicked Leave.
    Completed { by: Party },
    /// The sharer declined the helper's first request.
    Declined,
    /// A policy check refused it (the reason is shown to both sides).
    Refused { reason: String },
    /// The code expired before it was used.
    Expired,
    /// A participant dropped and did not come back in time.
    Disconnected,
    /// Something broke.
    Failed { error: String },
}
