//! Two replicas of the session service on one PostgreSQL database, in one
//! process: the helper on one, the sharer on the other. On SQLite, which is
//! one server per file, a second replica is refused.

use super::Action;
use super::SessionError;
use super::test_world::{World, slow, start, state_of, world};
use crate::auth::throttle::ClientAddress;
use crate::clock::Clock;
use crate::store::StoreError;
use std::time::Duration;
use tandem_protocol::session::{Mode, Party, Phase};
use tandem_protocol::signal::ClientMessage;
use tandem_protocol::signal::ServerMessage;

/// Picks the message that `party` arrived (`connected`) or left.
fn peer(party: Party, connected: bool) -> impl Fn(&ServerMessage) -> Option<()> {
    move |m| {
        matches!(m, ServerMessage::Peer { party: p, connected: c } if *p == party && *c == connected)
            .then_some(())
    }
}

/// Waits until `done` holds (at most 5 s).
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Replica A is `world()`; B runs on a second handle on its database.
async fn two_replicas() -> Option<(World, World)> {
    let a = world().await;
    let store = match a.store.open_again().await {
        Ok(store) => store,
        Err(StoreError::SingleServer) => return None,
        Err(error) => panic!("opening the database again failed: {error}"),
    };
    let sessions = start(&store, &a.clock).await;
    let b = World {
        store,
        clock: a.clock.clone(),
        sessions,
    };
    Some((a, b))
}

#[tokio::test]
async fn a_helper_on_one_replica_works_with_a_sharer_on_another() {
    let Some((a, b)) = two_replicas().await else {
        let w = world().await;
        assert!(
            matches!(w.store.open_again().await, Err(StoreError::SingleServer)),
            "SQLite serves one server: a second replica is refused"
        );
        assert!(w.sessions.cluster().is_leader());
        return;
    };
    assert!(
        a.sessions.cluster().is_leader() != b.sessions.cluster().is_leader(),
        "exactly one replica runs the housekeeping"
    );
    let id = a.redeemed().await;
    let mut helper = a.connect("megan@contoso.test", slow()).await;
    helper
        .send(&ClientMessage::Join {
            session: id.clone(),
        })
        .await;
    helper
        .expect("joined", |m| {
            matches!(m, ServerMessage::Joined { .. }).then_some(())
        })
        .await;
    until("B knows the helper is on A", || {
        b.sessions.hub().connected(&id, Party::Helper)
    })
    .await;

    let mut sharer = b.connect("lynne@contoso.test", slow()).await;
    sharer
        .send(&ClientMessage::Join {
            session: id.clone(),
        })
        .await;
    helper
        .expect("the sharer's arrival, from B", peer(Party::Sharer, true))
        .await;

    // The request goes through A, the consent through B: each side sees
    // the other's change.
    a.act("megan@contoso.test", &id, Action::Request(Mode::View))
        .await;
    sharer
        .expect("the request, published by A", |m| {
            state_of(m).filter(|(phase, _, _)| *phase == Phase::WaitingForConsent)
        })
        .await;
    b.act("lynne@contoso.test", &id, Action::Consent { allow: true })
        .await;
    helper
        .expect("the consent, published by B", |m| {
            state_of(m)
                .filter(|(phase, mode, _)| *phase == Phase::Active && *mode == Some(Mode::View))
        })
        .await;

    // SDP crosses the replicas both ways; a large one goes through the
    // payload table.
    until("A knows the session is active", || {
        a.sessions
            .hub()
            .state(&id)
            .is_some_and(|s| s.summary().1.is_some())
    })
    .await;
    until("B knows the session is active", || {
        b.sessions
            .hub()
            .state(&id)
            .is_some_and(|s| s.summary().1.is_some())
    })
    .await;
    let big = format!("v=0\r\n{}", "a=x-filler\r\n".repeat(2_000));
    sharer
        .send(&ClientMessage::Offer { sdp: big.clone() })
        .await;
    let offered = helper
        .expect("the offer, relayed from B", |m| match m {
            ServerMessage::Offer { sdp } => Some(sdp.clone()),
            _ => None,
        })
        .await;
    assert_eq!(offered, big);
    helper
        .send(&ClientMessage::Answer {
            sdp: "v=0 answer".into(),
        })
        .await;
    sharer
        .expect("the answer, relayed from A", |m| {
            matches!(m, ServerMessage::Answer { sdp } if sdp == "v=0 answer").then_some(())
        })
        .await;

    // The sharer leaves B's socket: A sees them gone, and their return
    // (on A this time) is one reconnect.
    sharer.closed().await;
    until("A knows the sharer left", || {
        !a.sessions.hub().connected(&id, Party::Sharer)
    })
    .await;
    let mut back = a.connect("lynne@contoso.test", slow()).await;
    back.send(&ClientMessage::Join {
        session: id.clone(),
    })
    .await;
    back.expect("one reconnect recorded", |m| {
        state_of(m).filter(|(_, _, reconnects)| *reconnects == 1)
    })
    .await;
}

#[tokio::test]
async fn wrong_codes_and_pairing_links_count_across_replicas() {
    let Some((a, b)) = two_replicas().await else {
        // SQLite: one server; the limits themselves are tested in redeem.
        let w = world().await;
        assert!(!w.store.shared_by_replicas());
        return;
    };
    let (lynne, _) = a.user("lynne@contoso.test").await;
    let address = ClientAddress("127.0.0.1".into());
    // Five wrong codes in total, spread over both replicas.
    for (i, replica) in [&a, &b, &a, &b, &a].into_iter().enumerate() {
        let refused = replica
            .sessions
            .redeem(&lynne, "WRONGCD1", None, &address)
            .await
            .unwrap_err();
        assert!(
            matches!(refused, SessionError::WrongCode),
            "{i}: {refused:?}"
        );
    }
    for replica in [&a, &b] {
        let refused = replica
            .sessions
            .redeem(&lynne, "WRONGCD1", None, &address)
            .await
            .unwrap_err();
        assert!(
            matches!(refused, SessionError::CodeLocked(_)),
            "{refused:?}"
        );
    }

    // A pairing link made on one replica is seen and used once on the
    // other.
    let device = tandem_protocol::DeviceId("dev-1".into());
    let (path, _) = a.sessions.pairing_link(&device, None).await.unwrap();
    let nonce = path.trim_start_matches("/share?pair=");
    let hash = crate::auth::device::hash_token(nonce);
    let now = a.clock.now();
    assert!(b.store.take_pairing(&hash, now).await.unwrap().is_some());
    assert!(
        a.store.take_pairing(&hash, now).await.unwrap().is_none(),
        "used"
    );
}

#[tokio::test]
async fn joins_at_once_on_two_replicas_and_the_monitor_feed_reach_both() {
    let Some((a, b)) = two_replicas().await else {
        let w = world().await;
        assert!(!w.store.shared_by_replicas());
        return;
    };
    // The monitor on B wakes when a session changes on A.
    let mut feed = b.sessions.live_feed().subscribe();
    let id = a.redeemed().await;
    let woken = tokio::time::timeout(Duration::from_secs(5), feed.recv())
        .await
        .expect("B's monitor feed wakes")
        .unwrap();
    assert_eq!(Some(woken), a.sessions.hub().tenant_of(&id));

    // Both join at the same moment, each on its own replica, maybe before
    // either replica heard of the other's join: each still learns the
    // other is there (from the view its replica sends on the join, or
    // from the other replica's news of the other join).
    let mut helper = a.connect("megan@contoso.test", slow()).await;
    let mut sharer = b.connect("lynne@contoso.test", slow()).await;
    let join = ClientMessage::Join {
        session: id.clone(),
    };
    tokio::join!(helper.send(&join), sharer.send(&join));
    helper
        .expect("a view with the sharer there", |m| match m {
            ServerMessage::State { session } if session.sharer_connected => Some(()),
            _ => None,
        })
        .await;
    sharer
        .expect("a view with the helper there", |m| match m {
            ServerMessage::State { session } if session.helper_connected => Some(()),
            _ => None,
        })
        .await;
    // And each hears when the other leaves.
    sharer.closed().await;
    helper
        .expect("the sharer's departure", peer(Party::Sharer, false))
        .await;
}

/// A change another replica announces carries what the hub keeps of the
/// session, so this replica tracks it without reading it: shown with a
/// session the database does not have, which a read would not find. Two
/// replicas' messages may arrive in either order: an older state never
/// replaces a newer one, and neither does a join's. A message of the
/// version before (no facts) is still read from the store.
#[tokio::test]
async fn a_change_from_another_replica_is_tracked_from_its_message() {
    use super::cluster::{BusMessage, Envelope, Tracked};
    use crate::domain::machine::State;
    use tandem_protocol::session::EndReason;
    use tandem_protocol::{SessionId, TenantId};

    let w = world().await;
    let hub = w.sessions.hub();
    let tenant = TenantId("t-elsewhere".into());
    let changed = |session: &SessionId, tracked: Option<(State, i64)>| {
        let body = BusMessage::Changed {
            tenant: w
                .sessions
                .hub()
                .tenant_of(session)
                .unwrap_or(tenant.clone()),
            session: session.clone(),
            tracked: tracked.map(|(state, version)| Tracked {
                tenant: tenant.clone(),
                state,
                code_expires_at: None,
                via_agent: false,
                version,
            }),
        };
        serde_json::to_string(&Envelope {
            from: "another-replica".into(),
            body,
        })
        .unwrap()
    };
    let receive = |text: String| {
        let sessions = w.sessions.clone();
        async move { super::cluster_pg::receive(&sessions, &text).await }
    };
    let active = State::Active { mode: Mode::View };

    let ghost = SessionId::from("not-in-the-database");
    receive(changed(&ghost, Some((State::Redeemed, 2)))).await;
    assert_eq!(hub.state(&ghost), Some(State::Redeemed));
    assert_eq!(hub.tenant_of(&ghost), Some(tenant.clone()));
    receive(changed(&ghost, Some((active.clone(), 4)))).await;
    receive(changed(&ghost, Some((State::Redeemed, 3)))).await;
    assert_eq!(hub.state(&ghost), Some(active.clone()), "the late one lost");
    let (outbox, _inbox) = tokio::sync::mpsc::channel(1);
    hub.attach(
        &ghost,
        Party::Helper,
        outbox,
        w.clock.now(),
        &State::Redeemed,
    );
    assert_eq!(hub.state(&ghost), Some(active), "a join keeps the newer");

    // Ended, with nobody here: forgotten.
    let gone = SessionId::from("ended-elsewhere");
    let ended = State::Ended {
        reason: EndReason::Completed { by: Party::Sharer },
    };
    receive(changed(&gone, Some((State::Redeemed, 2)))).await;
    assert!(hub.knows(&gone));
    receive(changed(&gone, Some((ended, 3)))).await;
    assert!(!hub.knows(&gone));
    // A message sent before the end but heard after it: still gone.
    receive(changed(&gone, Some((State::Redeemed, 2)))).await;
    assert!(
        !hub.knows(&gone),
        "a late older state does not bring it back"
    );

    // The store's truth is kept over a bus message of the same version (a
    // replica of an older version may change the state without moving
    // the count).
    let same = SessionId::from("same-version");
    let facts = |state: State| Tracked {
        tenant: tenant.clone(),
        state,
        code_expires_at: None,
        via_agent: false,
        version: 7,
    };
    let read = facts(State::Active { mode: Mode::View });
    let now = (w.clock.now(), false);
    assert!(hub.track_facts(&same, &read, now, super::hub::Learnt::Store));
    receive(changed(&same, Some((State::Redeemed, 7)))).await;
    assert_eq!(hub.state(&same), Some(read.state.clone()));
    assert!(hub.track_facts(
        &same,
        &facts(State::Redeemed),
        now,
        super::hub::Learnt::Store
    ));

    // Without facts, the session is read.
    let id = w.redeemed().await;
    let message = changed(&id, None);
    hub.forget_if_idle(&id);
    assert!(!hub.knows(&id));
    receive(message).await;
    assert_eq!(hub.state(&id), Some(State::Redeemed));
}

/// Housekeeping follows what it reads: a room whose session ended behind
/// its back (a `Changed` lost, or heard out of order) is dropped at the
/// first read, and not read again every second.
#[tokio::test]
async fn housekeeping_drops_a_room_whose_session_ended_elsewhere() {
    use crate::domain::machine::{Event, State};
    use tandem_protocol::session::EndReason;

    let w = world().await;
    let id = w.redeemed().await;
    let (megan, scope) = w.user("megan@contoso.test").await;
    let record = w.store.session(&scope, &id).await.unwrap().unwrap();
    // Ended in the database only, as another replica would.
    let ended = State::Ended {
        reason: EndReason::Completed { by: Party::Helper },
    };
    let change = crate::store::Change {
        actor: Party::Helper,
        actor_id: Some(&megan.id),
        event: &Event::Leave,
        next: &ended,
        sharer: None,
        device: None,
        elevation_held: false,
        elevation_used: false,
        at: w.clock.now(),
    };
    w.store
        .apply_session_change(&record, &change)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(w.sessions.hub().state(&id), Some(State::Redeemed));
    // Nobody came: due for a disconnect once the window is over.
    w.clock
        .advance_millis(w.sessions.timing().reconnect_millis + 1_000);
    let reads = w.sessions.housekeeping_reads();
    w.sessions.sweep().await.unwrap();
    assert_eq!(w.sessions.housekeeping_reads(), reads + 1);
    assert!(
        !w.sessions.hub().knows(&id),
        "the ended session's room went"
    );
    w.sessions.sweep().await.unwrap();
    assert_eq!(w.sessions.housekeeping_reads(), reads + 1, "not read again");
}
