//! Remote-help sessions: modes, who acts, and how a session ends.

pub use crate::refusal::Refusal;
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
    /// The sharer's agent: the media end of a session bound to a device.
    Agent,
    /// The server itself: policy, expiry, failures.
    System,
}

/// Why a session ended.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// Tagged on the wire; on wasm32 read and written through crate::tagged.
#[cfg_attr(not(target_arch = "wasm32"), serde(tag = "outcome"))]
pub enum EndReason {
    /// Someone clicked Leave.
    Completed { by: Party },
    /// The sharer declined the helper's first request.
    Declined,
    /// A policy check refused it (the reason is shown to both sides).
    Refused { reason: Refusal },
    /// The code expired before it was used.
    Expired,
    /// A participant dropped and did not come back in time.
    Disconnected,
    /// Something broke.
    Failed { error: String },
    /// Stopped from outside the session: an administrator ended it, or
    /// turned remote help off for the organization.
    Stopped { cause: StopCause },
}

impl crate::tagged::Tagged for EndReason {
    const TAG: &'static str = "outcome";
}

/// Why a session was stopped from outside.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopCause {
    /// An administrator ended this session from the monitor.
    EndedByAdmin,
    /// An administrator turned remote help off for the organization.
    RemoteHelpTurnedOff,
}

/// Why the helper cannot ask for full control in a session.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlUnavailable {
    /// The helper's roles do not give Take full control for this sharer.
    NoPermission,
    /// The sharer shares from a browser tab: keyboard and mouse need the
    /// sharer agent on the device.
    NeedsAgent,
}

impl ControlUnavailable {
    /// One sentence for the helper.
    pub fn message(self) -> &'static str {
        match self {
            ControlUnavailable::NoPermission => {
                "Your roles do not allow full control of this person's device."
            }
            ControlUnavailable::NeedsAgent => {
                "Full control needs the Tandem agent on the sharer's device; a browser tab \
                 only shares its screen."
            }
        }
    }
}

impl Mode {
    /// How the console names the mode.
    pub fn label(self) -> &'static str {
        match self {
            Mode::View => "view only",
            Mode::Control => "full control",
        }
    }
}

impl EndReason {
    /// One sentence for both sides of the session.
    pub fn message(&self) -> String {
        match self {
            EndReason::Completed { by: Party::Helper } => "The helper left the session.".into(),
            EndReason::Completed { by: Party::Sharer } => "The sharer left the session.".into(),
            EndReason::Completed { by: Party::Agent } => {
                "The sharer stopped sharing on their device.".into()
            }
            EndReason::Completed { by: Party::System } => "The session was ended.".into(),
            EndReason::Declined => "The sharer declined the request.".into(),
            EndReason::Refused { reason } => format!("Refused: {reason}"),
            EndReason::Expired => "The security code expired before it was used.".into(),
            EndReason::Disconnected => {
                "The connection was lost and did not come back in time.".into()
            }
            EndReason::Failed { error } => format!("The session failed: {error}"),
            EndReason::Stopped {
                cause: StopCause::EndedByAdmin,
            } => "An administrator ended the session.".into(),
            EndReason::Stopped {
                cause: StopCause::RemoteHelpTurnedOff,
            } => {
                "Remote help was turned off for your organization, which ended the session.".into()
            }
        }
    }
}

/// Where a session is, as both participants see it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The helper has a code; no sharer yet.
    WaitingForSharer,
    /// The sharer entered the code; the helper picks a mode.
    SharerJoined,
    /// The helper asked; the sharer decides.
    WaitingForConsent,
    Active,
    Paused,
    Ended,
}

/// A participant's identity card. The sharer may see the helper's
/// abbreviated per the tenant setting: then only `display_name` ("Megan B.")
/// and `verified_domain` are filled.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityCard {
    pub display_name: String,
    pub email: Option<String>,
    pub job_title: Option<String>,
    pub company: Option<String>,
    /// The domain the identity provider vouched for.
    pub verified_domain: Option<String>,
    pub photo_url: Option<String>,
    pub abbreviated: bool,
}

/// A session as one participant sees it (`you`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: crate::SessionId,
    pub you: Party,
    pub phase: Phase,
    /// The mode in force (consented), if any.
    pub mode: Option<Mode>,
    /// The mode the helper asked for while the sharer decides.
    pub requested: Option<Mode>,
    pub helper: IdentityCard,
    pub sharer: Option<IdentityCard>,
    /// The device being helped, when the session is bound to one.
    pub device: Option<crate::devices::DeviceSummary>,
    /// When the security code stops working (helper only, before redemption).
    pub code_expires_at: Option<crate::UnixMillis>,
    /// Whether the helper may ask for full control of this sharer (helper only).
    pub may_request_control: bool,
    /// Why not, when the helper may not (helper only, once the sharer joined).
    #[serde(default)]
    pub control_unavailable: Option<ControlUnavailable>,
    pub helper_connected: bool,
    pub sharer_connected: bool,
    /// Whether the device's agent (not the sharer's browser) shares the screen.
    #[serde(default)]
    pub via_agent: bool,
    #[serde(default)]
    pub agent_connected: bool,
    /// While the one this viewer waits for is away (for the helper, the
    /// device's agent or the sharer's browser; for them, the helper), once
    /// they had been there: the milliseconds they have left to come back,
    /// as of this view, before the session ends. Clients count down from
    /// when the view arrived (their clocks may differ from the server's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconnect_left_ms: Option<u64>,
    pub reconnects: u32,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(default, with = "crate::tagged::optional_field")
    )]
    pub ended: Option<EndReason>,
    pub created_at: crate::UnixMillis,
    /// Whether the tenant allows chat in sessions.
    #[serde(default)]
    pub chat_enabled: bool,
    /// The clipboard's limit in bytes, when the tenant allows clipboard
    /// text and a device's agent shares the screen (helper and agent
    /// only; it still takes full control).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clipboard_max_bytes: Option<u32>,
    /// How often the helper's text was put on the device's clipboard, and
    /// the device's clipboard read for the helper, in this session: the
    /// sharer is shown each.
    #[serde(default)]
    pub clipboard_to_device: u32,
    #[serde(default)]
    pub clipboard_from_device: u32,
    /// The largest file one transfer may carry, in bytes, when the tenant
    /// allows file transfer and a device's agent shares the screen (helper
    /// and agent only; it still takes full control and the sharer's
    /// consent for each file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_max_bytes: Option<u64>,
    /// Whether the tenant allows annotation: the helper draws, the device's
    /// agent (or the sharer's page, for a screen shared from a browser tab)
    /// shows it, the sharer may clear it or switch it off.
    #[serde(default)]
    pub annotation_enabled: bool,
    /// The helper's ticket reference (helper only).
    #[serde(default)]
    pub ticket: Option<String>,
    /// Whether the agent signs the sharer out after a session that used
    /// elevation with full control (the tenant's setting; agent only).
    #[serde(default)]
    pub sign_out_after_elevation: bool,
}

impl SessionView {
    /// The other participant's connection.
    pub fn peer_connected(&self) -> bool {
        match self.you {
            Party::Sharer => self.helper_connected,
            _ => self.sharer_connected,
        }
    }

    /// Whether media may flow: a mode was consented and the session is live.
    pub fn media_allowed(&self) -> bool {
        self.mode.is_some() && matches!(self.phase, Phase::Active | Phase::WaitingForConsent)
    }
}

/// Answer of "Assist someone": the code, shown once, and the session.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCode {
    /// Eight characters to read to the sharer; never stored in clear.
    pub code: String,
    pub session: SessionView,
}

/// What the sharer typed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedeemRequest {
    pub code: String,
    /// The device this browser was paired with: its agent shares the screen.
    #[serde(default)]
    pub device: Option<crate::DeviceId>,
}

/// The helper's request: Screen sharing or Request full control.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeRequest {
    pub mode: Mode,
}

/// The sharer's answer to a request.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentAnswer {
    pub allow: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_reasons_read_as_sentences_and_round_trip() {
        let reasons = [
            EndReason::Completed { by: Party::Sharer },
            EndReason::Declined,
            EndReason::Refused {
                reason: Refusal::RemoteHelpOff,
            },
            EndReason::Expired,
            EndReason::Disconnected,
            EndReason::Failed { error: "x".into() },
            EndReason::Stopped {
                cause: StopCause::EndedByAdmin,
            },
            EndReason::Stopped {
                cause: StopCause::RemoteHelpTurnedOff,
            },
        ];
        for reason in reasons {
            assert!(reason.message().ends_with('.') || reason.message().contains(':'));
            let json = serde_json::to_string(&reason).unwrap_or_default();
            assert_eq!(serde_json::from_str::<EndReason>(&json).ok(), Some(reason));
        }
    }
}
