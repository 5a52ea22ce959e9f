//! The session state machine: created → code issued → redeemed → consent
//! pending → active (view | control) ⇄ paused → ended (reason).
//!
//! `transition` is pure: it checks that the event is allowed in the state
//! and from that actor, and returns the next state or why not. The sharer is
//! always in charge: only the sharer's Allow (or Resume) ever leads into
//! full control, and only where an agent can carry it out.

use serde::{Deserialize, Serialize};
use tandem_protocol::session::{EndReason, Mode, Party, Phase, Refusal, StopCause};

/// What sends the sharer's screen, which decides what the session can do:
/// a browser tab shares its screen but cannot take keyboard and mouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaEnd {
    /// The sharer's browser tab (view only).
    Browser,
    /// The device's agent (view and full control).
    Agent,
}

impl MediaEnd {
    pub fn of(via_agent: bool) -> Self {
        if via_agent {
            MediaEnd::Agent
        } else {
            MediaEnd::Browser
        }
    }
}

/// Where a session is. Stored as JSON in the session's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    Created,
    CodeIssued,
    Redeemed,
    /// The helper asked for `requested`; `current` is the mode in force
    /// while the sharer decides (`None` before the first consent).
    ConsentPending {
        requested: Mode,
        current: Option<Mode>,
    },
    Active {
        mode: Mode,
    },
    Paused {
        mode: Mode,
    },
    Ended {
        reason: EndReason,
    },
}

/// Something that happens to a session. Stored as JSON in its event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    IssueCode,
    Redeem,
    Request {
        mode: Mode,
    },
    Allow,
    Decline,
    RevokeControl,
    Pause,
    Resume,
    Leave,
    Refuse {
        reason: Refusal,
    },
    Expire,
    Disconnect,
    Fail {
        error: String,
    },
    /// A participant came back within the reconnect window; nothing changes.
    Reconnect,
    /// A device-page session on a device nobody is signed in to, in a
    /// tenant that allows unattended access: ready for the helper's request
    /// without a sharer.
    StartUnattended,
    /// The tenant's unattended-access setting consents in place of the
    /// absent sharer (only for a session that started unattended).
    GrantUnattended,
    /// The agent followed a UAC or secure-desktop prompt for the helper in
    /// full control: elevation was used. Nothing else changes.
    ElevationUsed,
    /// Stopped from outside: an administrator ended the session or turned
    /// remote help off.
    Stop {
        cause: StopCause,
    },
}

/// Who answers the helper's requests in a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// The sharer, on their screen or on the agent's indicator.
    Sharer,
    /// Nobody is signed in on the device: the tenant's unattended-access
    /// setting answers in the sharer's place.
    Unattended,
}

/// What kind of session a transition happens in: what sends the screen,
/// and who consents. (An unattended session is always shared by an
/// agent: nobody could share a browser tab there.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionKind {
    media: MediaEnd,
    consent: Consent,
}

impl SessionKind {
    /// A session whose sharer answers for themselves.
    pub fn attended(media: MediaEnd) -> Self {
        Self {
            media,
            consent: Consent::Sharer,
        }
    }

    /// A session on a device nobody is signed in to: shared by its agent.
    pub fn unattended() -> Self {
        Self {
            media: MediaEnd::Agent,
            consent: Consent::Unattended,
        }
    }

    pub fn media(&self) -> MediaEnd {
        self.media
    }

    pub fn consent(&self) -> Consent {
        self.consent
    }
}

/// Why an event was refused; the state stays as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the session has ended")]
    Ended,
    #[error("only the {expected:?} can do that")]
    WrongActor { expected: Party },
    #[error("not possible while the session is {state}")]
    NotNow { state: &'static str },
    #[error("full control needs the agent on the sharer's device")]
    ControlNeedsAgent,
    #[error("the sharer answers for this session")]
    SharerConsents,
}

impl State {
    /// A short name for messages.
    pub fn name(&self) -> &'static str {
        match self {
            State::Created => "created",
            State::CodeIssued => "waiting for the sharer",
            State::Redeemed => "waiting for the helper's request",
            State::ConsentPending { .. } => "waiting for the sharer's consent",
            State::Active { .. } => "active",
            State::Paused { .. } => "paused",
            State::Ended { .. } => "ended",
        }
    }

    pub fn is_ended(&self) -> bool {
        matches!(self, State::Ended { .. })
    }

    /// The phase, the mode in force and the mode asked for, as the wire
    /// shows them.
    pub fn summary(&self) -> (Phase, Option<Mode>, Option<Mode>) {
        match self {
            State::Created | State::CodeIssued => (Phase::WaitingForSharer, None, None),
            State::Redeemed => (Phase::SharerJoined, None, None),
            State::ConsentPending { requested, current } => {
                (Phase::WaitingForConsent, *current, Some(*requested))
            }
            State::Active { mode } => (Phase::Active, Some(*mode), None),
            State::Paused { mode } => (Phase::Paused, Some(*mode), None),
            State::Ended { .. } => (Phase::Ended, None, None),
        }
    }

    /// Whether both participants are attached and the reconnect rule
    /// applies (the sharer has joined, the session has not ended).
    pub fn has_participants(&self) -> bool {
        matches!(
            self,
            State::Redeemed
                | State::ConsentPending { .. }
                | State::Active { .. }
                | State::Paused { .. }
        )
    }
}

/// Who may cause `event`.
fn actor_of(event: &Event) -> Option<Party> {
    use Event::*;
    match event {
        IssueCode | Request { .. } => Some(Party::Helper),
        Redeem | Allow | Decline | RevokeControl | Pause | Resume => Some(Party::Sharer),
        Refuse { .. }
        | Expire
        | Disconnect
        | Fail { .. }
        | StartUnattended
        | GrantUnattended
        | Stop { .. } => Some(Party::System),
        ElevationUsed => Some(Party::Agent),
        // Either participant may leave.
        Leave | Reconnect => None,
    }
}

/// The next state after `event` by `actor` in `state`, in a session of
/// `kind`.
pub fn transition(
    state: &State,
    kind: SessionKind,
    actor: Party,
    event: &Event,
) -> Result<State, TransitionError> {
    use Event::*;
    use State::*;
    if state.is_ended() {
        return Err(TransitionError::Ended);
    }
    // Only a session nobody attends starts or is consented to without a
    // sharer: where a sharer answers, the setting never answers for them.
    if kind.consent == Consent::Sharer && matches!(event, StartUnattended | GrantUnattended) {
        return Err(TransitionError::SharerConsents);
    }
    if kind.media == MediaEnd::Browser
        && (matches!(
            event,
            Request {
                mode: Mode::Control
            } | ElevationUsed
        ))
    {
        return Err(TransitionError::ControlNeedsAgent);
    }
    match actor_of(event) {
        Some(expected) if expected != actor => {
            return Err(TransitionError::WrongActor { expected });
        }
        None if actor == Party::System => {
            return Err(TransitionError::WrongActor {
                expected: Party::Helper,
            });
        }
        _ => {}
    }
    let ended = |reason| Ok(Ended { reason });
    match (state, event) {
        (_, Leave) => ended(EndReason::Completed { by: actor }),
        (_, Fail { error }) => ended(EndReason::Failed {
            error: error.clone(),
        }),
        (_, Stop { cause }) => ended(EndReason::Stopped { cause: *cause }),
        (
            Active {
                mode: Mode::Control,
            },
            ElevationUsed,
        ) => Ok(state.clone()),
        (Created, IssueCode) => Ok(CodeIssued),
        (CodeIssued, Redeem) => Ok(Redeemed),
        (CodeIssued, StartUnattended) => Ok(Redeemed),
        (ConsentPending { requested, .. }, GrantUnattended) => Ok(Active { mode: *requested }),
        (CodeIssued, Expire) => ended(EndReason::Expired),
        (CodeIssued | Redeemed, Refuse { reason }) => ended(EndReason::Refused { reason: *reason }),
        (Redeemed, Request { mode }) => Ok(ConsentPending {
            requested: *mode,
            current: None,
        }),
        (
            Active { mode: Mode::View },
            Request {
                mode: Mode::Control,
            },
        ) => Ok(ConsentPending {
            requested: Mode::Control,
            current: Some(Mode::View),
        }),
        (ConsentPending { requested, .. }, Allow) => Ok(Active { mode: *requested }),
        (
            ConsentPending {
                current: Some(mode),
                ..
            },
            Decline,
        ) => Ok(Active { mode: *mode }),
        (ConsentPending { current: None, .. }, Decline) => ended(EndReason::Declined),
        (
            Active {
                mode: Mode::Control,
            },
            RevokeControl,
        ) => Ok(Active { mode: Mode::View }),
        (
            Paused {
                mode: Mode::Control,
            },
            RevokeControl,
        ) => Ok(Paused { mode: Mode::View }),
        (Active { mode }, Pause) => Ok(Paused { mode: *mode }),
        (Paused { mode }, Resume) => Ok(Active { mode: *mode }),
        (Redeemed | Active { .. } | Paused { .. } | ConsentPending { .. }, Disconnect) => {
            ended(EndReason::Disconnected)
        }
        (state, Reconnect) if state.has_participants() => Ok(state.clone()),
        (state, _) => Err(TransitionError::NotNow {
            state: state.name(),
        }),
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
