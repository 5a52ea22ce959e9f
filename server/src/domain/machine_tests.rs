//! Tests of `machine.rs`.
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
            reason: Refusal::OutOfScope
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

fn kind() -> impl Strategy<Value = SessionKind> {
    prop_oneof![
        Just(SessionKind::attended(MediaEnd::Browser)),
        Just(SessionKind::attended(MediaEnd::Agent)),
        Just(SessionKind::unattended()),
    ]
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
    /// request, or Resume of a paused control session), or, in a session
    /// nobody attends, by the system's unattended consent on a control
    /// request.
    #[test]
    fn only_the_sharer_grants_control(kind in kind(), steps in proptest::collection::vec((party(), event()), 0..40)) {
        let mut state = State::Created;
        for (actor, event) in steps {
            let Ok(next) = transition(&state, kind, actor, &event) else { continue };
            if next == (State::Active { mode: Mode::Control }) && state != next {
                let by_sharer = actor == Party::Sharer && matches!(
                    (&state, &event),
                    (State::ConsentPending { requested: Mode::Control, .. }, Event::Allow)
                        | (State::Paused { mode: Mode::Control }, Event::Resume)
                );
                let unattended = kind.consent() == Consent::Unattended && actor == Party::System && matches!(
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
            let Ok(next) = transition(&state, SessionKind::attended(MediaEnd::Browser), actor, &event) else { continue };
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
            let Ok(next) = transition(&state, SessionKind::attended(MediaEnd::Agent), actor, &event) else { continue };
            if event == Event::ElevationUsed {
                prop_assert_eq!(&state, &State::Active { mode: Mode::Control });
                prop_assert_eq!(&next, &state);
            }
            state = next;
        }
    }

    /// An ended session stays ended, and refused events change nothing.
    #[test]
    fn ended_is_final_and_errors_are_pure(kind in kind(), steps in proptest::collection::vec((party(), event()), 0..40)) {
        let mut state = State::Created;
        for (actor, event) in steps {
            match transition(&state, kind, actor, &event) {
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
    fn actors_are_enforced(kind in kind(), state_steps in proptest::collection::vec((party(), event()), 0..30)) {
        let mut state = State::Created;
        for (actor, event) in state_steps {
            if let Ok(next) = transition(&state, kind, actor, &event) {
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
    run_in(SessionKind::attended(media), events)
}

fn run_in(kind: SessionKind, events: &[(Party, Event)]) -> Result<State, TransitionError> {
    events
        .iter()
        .try_fold(State::Created, |s, (a, e)| transition(&s, kind, *a, e))
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
    let unattended = SessionKind::unattended();
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
        run_in(unattended, &granted),
        Ok(State::Active {
            mode: Mode::Control
        })
    );
    let mut by_helper = start.to_vec();
    by_helper.push((Helper, GrantUnattended));
    assert_eq!(
        run_in(unattended, &by_helper),
        Err(TransitionError::WrongActor { expected: System })
    );
    assert!(
        run_in(
            unattended,
            &[(Helper, IssueCode), (Helper, StartUnattended)]
        )
        .is_err()
    );
    assert!(
        run_in(unattended, &[(System, StartUnattended)]).is_err(),
        "only from an issued code"
    );
}

/// The setting never answers for a sharer who is there. Before the
/// session kind was known, `GrantUnattended` put any consent-pending
/// session into full control.
#[test]
fn where_a_sharer_consents_the_system_never_does() {
    use Event::*;
    use Party::*;
    let asked = [
        (Helper, IssueCode),
        (Sharer, Redeem),
        (
            Helper,
            Request {
                mode: Mode::Control,
            },
        ),
    ];
    let mut granted = asked.to_vec();
    granted.push((System, GrantUnattended));
    assert_eq!(run(&granted), Err(TransitionError::SharerConsents));
    assert_eq!(
        run(&[(Helper, IssueCode), (System, StartUnattended)]),
        Err(TransitionError::SharerConsents)
    );
    // The sharer's own Allow still does.
    let mut allowed = asked.to_vec();
    allowed.push((Sharer, Allow));
    assert_eq!(
        run(&allowed),
        Ok(State::Active {
            mode: Mode::Control
        })
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
