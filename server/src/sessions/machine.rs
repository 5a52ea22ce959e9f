//! The session state machine: created → code issued → redeemed → consent
//! pending → active (view | control) ⇄ paused → ended (reason).
//!
//! `transition` is pure: it checks that the event is allowed in the state
//! and from that actor, and returns the next state or why not. The sharer is
//! always in charge: only the sharer's Allow (or Resume) ever leads into
//! full control, and only where an agent can carry it out.

use serde::{Deserialize, Serialize};
use tandem_protocol::session::{EndReason, Mode, Party, Phase, StopCause};

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
        reason: String,
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

/// The next state after `event` by `actor` in `state`, in a session whose
/// screen comes from `media`.
pub fn transition(
    state: &State,
    media: MediaEnd,
    actor: Party,
    event: &Event,
) -> Result<State, TransitionError> {
    use Event::*;
    use State::*;
    if state.is_ended() {
        return Err(TransitionError::Ended);
    }
    if media == MediaEnd::Browser
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
        (CodeIssued | Redeemed, Refuse { reason }) => ended(EndReason::Refused {
            reason: reason.clone(),
        }),
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
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn event() -> impl Strategy<Value = Event> {
        prop_oneof![
            Just(Event::IssueCode),
            Just(Event::Redeem),
            Just(Event::Request { mode: Mode::View }),
            Just(Event::Request {
                mode: Mode::Control
            }),
            Just(Event::Reconnect),
            Just(Event::Allow),
            Just(Event::Decline),
            Just(Event::RevokeControl),
            Just(Event::Pause),
            Just(Event::Resume),
            Just(Event::Leave),
            Just(Event::Refuse {
                reason: "policy".into()
            }),
            Just(Event::Expire),
            Just(Event::Disconnect),
            Just(Event::Fail {
                error: "boom".into()
            }),
            Just(Event::StartUnattended),
            Just(Event::GrantUnattended),
            Just(Event::ElevationUsed),
            Just(Event::Stop {
                cause: StopCause::EndedByAdmin
            }),
        ]
    }

    fn media() -> impl Strategy<Value = MediaEnd> {
        prop_oneof![Just(MediaEnd::Browser), Just(MediaEnd::Agent)]
    }

    fn party() -> impl Strategy<Value = Party> {
        prop_oneof![
            Just(Party::Helper),
            Just(Party::Sharer),
            Just(Party::Agent),
            Just(Party::System)
        ]
    }

    proptest! {
        /// Full control is entered only by the sharer (Allow on a control
        /// request, or Resume of a paused control session), or by the
        /// system's unattended consent on a control request.
        #[test]
        fn only_the_sharer_grants_control(media in media(), steps in proptest::collection::vec((party(), event()), 0..40)) {
            let mut state = State::Created;
            for (actor, event) in steps {
                let Ok(next) = transition(&state, media, actor, &event) else { continue };
                if next == (State::Active { mode: Mode::Control }) && state != next {
                    let by_sharer = actor == Party::Sharer && matches!(
                        (&state, &event),
                        (State::ConsentPending { requested: Mode::Control, .. }, Event::Allow)
                            | (State::Paused { mode: Mode::Control }, Event::Resume)
                    );
                    let unattended = actor == Party::System && matches!(
                        (&state, &event),
                        (State::ConsentPending { requested: Mode::Control, .. }, Event::GrantUnattended)
                    );
                    prop_assert!(by_sharer || unattended, "{state:?} --{event:?}--> control");
                }
                state = next;
            }
        }

        /// A session whose screen comes from a browser tab never asks for,
        /// reaches or records full control or elevation: nothing there could
        /// carry it out.
        #[test]
        fn a_browser_session_never_reaches_control(steps in proptest::collection::vec((party(), event()), 0..40)) {
            let mut state = State::Created;
            for (actor, event) in steps {
                let Ok(next) = transition(&state, MediaEnd::Browser, actor, &event) else { continue };
                prop_assert!(!matches!(event, Event::ElevationUsed));
                let (_, mode, requested) = next.summary();
                prop_assert_ne!(mode, Some(Mode::Control));
                prop_assert_ne!(requested, Some(Mode::Control));
                let paused_in_control = matches!(next, State::Paused { mode: Mode::Control });
                prop_assert!(!paused_in_control);
                state = next;
            }
        }

        /// Elevation is recorded as used only in full control, and
        /// recording it changes nothing else.
        #[test]
        fn elevation_is_used_only_in_full_control(steps in proptest::collection::vec((party(), event()), 0..40)) {
            let mut state = State::Created;
            for (actor, event) in steps {
                let Ok(next) = transition(&state, MediaEnd::Agent, actor, &event) else { continue };
                if event == Event::ElevationUsed {
                    prop_assert_eq!(&state, &State::Active { mode: Mode::Control });
                    prop_assert_eq!(&next, &state);
                }
                state = next;
            }
        }

        /// An ended session stays ended, and refused events change nothing.
        #[test]
        fn ended_is_final_and_errors_are_pure(media in media(), steps in proptest::collection::vec((party(), event()), 0..40)) {
            let mut state = State::Created;
            for (actor, event) in steps {
                match transition(&state, media, actor, &event) {
                    Ok(next) => {
                        prop_assert!(!state.is_ended());
                        state = next;
                    }
                    Err(TransitionError::Ended) => prop_assert!(state.is_ended()),
                    Err(_) => prop_assert!(!state.is_ended()),
                }
            }
        }

        /// Every accepted event came from the party allowed to cause it.
        #[test]
        fn actors_are_enforced(media in media(), state_steps in proptest::collection::vec((party(), event()), 0..30)) {
            let mut state = State::Created;
            for (actor, event) in state_steps {
                if let Ok(next) = transition(&state, media, actor, &event) {
                    match actor_of(&event) {
                        Some(expected) => prop_assert_eq!(actor, expected),
                        None => prop_assert_ne!(actor, Party::System),
                    }
                    state = next;
                }
            }
        }
    }

    fn run(events: &[(Party, Event)]) -> Result<State, TransitionError> {
        run_with(MediaEnd::Agent, events)
    }

    fn run_with(media: MediaEnd, events: &[(Party, Event)]) -> Result<State, TransitionError> {
        events
            .iter()
            .try_fold(State::Created, |s, (a, e)| transition(&s, media, *a, e))
    }

    #[test]
    fn a_browser_sharer_is_refused_control_but_keeps_view() {
        use Event::*;
        use Party::*;
        let view = [
            (Helper, IssueCode),
            (Sharer, Redeem),
            (Helper, Request { mode: Mode::View }),
            (Sharer, Allow),
        ];
        assert_eq!(
            run_with(MediaEnd::Browser, &view),
            Ok(State::Active { mode: Mode::View })
        );
        let mut control = view.to_vec();
        control.push((
            Helper,
            Request {
                mode: Mode::Control,
            },
        ));
        assert_eq!(
            run_with(MediaEnd::Browser, &control),
            Err(TransitionError::ControlNeedsAgent)
        );
        assert!(run_with(MediaEnd::Agent, &control).is_ok());
    }

    #[test]
    fn a_stop_from_outside_ends_any_live_session_with_its_cause() {
        use Event::*;
        use Party::*;
        let stop = Stop {
            cause: StopCause::RemoteHelpTurnedOff,
        };
        for prefix in [
            &[(Helper, IssueCode)][..],
            &[(Helper, IssueCode), (Sharer, Redeem)][..],
            &[
                (Helper, IssueCode),
                (Sharer, Redeem),
                (Helper, Request { mode: Mode::View }),
                (Sharer, Allow),
                (Sharer, Pause),
            ][..],
        ] {
            let mut steps = prefix.to_vec();
            steps.push((System, stop.clone()));
            assert_eq!(
                run(&steps),
                Ok(State::Ended {
                    reason: EndReason::Stopped {
                        cause: StopCause::RemoteHelpTurnedOff
                    }
                })
            );
            let mut by_helper = prefix.to_vec();
            by_helper.push((Helper, stop.clone()));
            assert!(run(&by_helper).is_err(), "only the system stops a session");
        }
    }

    #[test]
    fn an_unattended_session_needs_no_sharer_but_only_the_system_consents() {
        use Event::*;
        use Party::*;
        let start = [
            (Helper, IssueCode),
            (System, StartUnattended),
            (
                Helper,
                Request {
                    mode: Mode::Control,
                },
            ),
        ];
        let mut granted = start.to_vec();
        granted.push((System, GrantUnattended));
        assert_eq!(
            run(&granted),
            Ok(State::Active {
                mode: Mode::Control
            })
        );
        let mut by_helper = start.to_vec();
        by_helper.push((Helper, GrantUnattended));
        assert_eq!(
            run(&by_helper),
            Err(TransitionError::WrongActor { expected: System })
        );
        assert!(run(&[(Helper, IssueCode), (Helper, StartUnattended)]).is_err());
        assert!(
            run(&[(System, StartUnattended)]).is_err(),
            "only from an issued code"
        );
    }

    #[test]
    fn the_happy_path_and_its_branches() {
        use Event::*;
        use Party::*;
        let start = [
            (Helper, IssueCode),
            (Sharer, Redeem),
            (Helper, Request { mode: Mode::View }),
            (Sharer, Allow),
        ];
        assert_eq!(run(&start), Ok(State::Active { mode: Mode::View }));
        let mut more = start.to_vec();
        more.extend([
            (
                Helper,
                Request {
                    mode: Mode::Control,
                },
            ),
            (Sharer, Decline),
        ]);
        assert_eq!(
            run(&more),
            Ok(State::Active { mode: Mode::View }),
            "declining control keeps view"
        );
        more.extend([
            (
                Helper,
                Request {
                    mode: Mode::Control,
                },
            ),
            (Sharer, Allow),
            (Sharer, Pause),
        ]);
        assert_eq!(
            run(&more),
            Ok(State::Paused {
                mode: Mode::Control
            })
        );
        more.extend([(Sharer, RevokeControl), (Sharer, Resume), (Helper, Leave)]);
        assert_eq!(
            run(&more),
            Ok(State::Ended {
                reason: EndReason::Completed { by: Helper }
            })
        );

        let declined = [
            (Helper, IssueCode),
            (Sharer, Redeem),
            (
                Helper,
                Request {
                    mode: Mode::Control,
                },
            ),
            (Sharer, Decline),
        ];
        assert_eq!(
            run(&declined),
            Ok(State::Ended {
                reason: EndReason::Declined
            })
        );
        assert_eq!(
            run(&[(Helper, IssueCode), (Sharer, Allow)]),
            Err(TransitionError::NotNow {
                state: "waiting for the sharer"
            })
        );
        assert_eq!(
            run(&[(Helper, IssueCode), (Helper, Redeem)]),
            Err(TransitionError::WrongActor { expected: Sharer })
        );
    }
}
