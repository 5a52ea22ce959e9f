//! The signaling connection driven through channels: joining, relaying only
//! within a consented session, size limits, dead peers, reconnects and a
//! restart of the service over the same store.

use super::Action;
use super::signaling::Heartbeat;
use super::test_world::{World, error_kind, slow, start, state_of, world};
use crate::clock::Clock;
use std::time::Duration;
use tandem_protocol::session::{Mode, Party, Phase};
use tandem_protocol::signal::{ClientMessage, ServerMessage};
use tokio::time::timeout;

#[tokio::test]
async fn sdp_flows_only_between_the_parties_and_only_after_consent() {
    let w = world().await;
    let id = w.redeemed().await;
    let mut helper = w.connect("megan@contoso.test", slow()).await;
    let mut sharer = w.connect("lynne@contoso.test", slow()).await;
    helper
        .send(&ClientMessage::Join {
            session: id.clone(),
        })
        .await;
    sharer
        .send(&ClientMessage::Join {
            session: id.clone(),
        })
        .await;
    let you = helper
        .expect("joined", |m| match m {
            ServerMessage::Joined { you, .. } => Some(*you),
            _ => None,
        })
        .await;
    assert_eq!(you, Party::Helper);

    // Before consent, SDP is refused.
    sharer
        .send(&ClientMessage::Offer {
            sdp: "v=0 early".into(),
        })
        .await;
    assert_eq!(
        sharer.expect("refusal", error_kind).await,
        "/problems/no-consent"
    );

    w.act("megan@contoso.test", &id, Action::Request(Mode::View))
        .await;
    w.act("lynne@contoso.test", &id, Action::Consent { allow: true })
        .await;
    let state = helper
        .expect("active state", |m| {
            state_of(m).filter(|p| p.0 == Phase::Active)
        })
        .await;
    assert_eq!(state.1, Some(Mode::View));
    // The sharer's side gets a signed grant for the mode it allowed.
    let grant = sharer
        .expect("grant", |m| match m {
            ServerMessage::Grant { grant } => Some(grant.clone()),
            _ => None,
        })
        .await;
    let key = w.sessions.keys().public().verifying_key().unwrap();
    let grant = grant.verify(&key, &id, w.clock.now()).unwrap();
    assert_eq!((grant.mode, grant.elevation), (Mode::View, false));

    sharer
        .send(&ClientMessage::Offer {
            sdp: "v=0 offer".into(),
        })
        .await;
    let offer = helper
        .expect("offer", |m| match m {
            ServerMessage::Offer { sdp } => Some(sdp.clone()),
            _ => None,
        })
        .await;
    assert_eq!(offer, "v=0 offer");
    helper
        .send(&ClientMessage::Answer {
            sdp: "v=0 answer".into(),
        })
        .await;
    sharer
        .expect("answer", |m| {
            matches!(m, ServerMessage::Answer { sdp } if sdp == "v=0 answer").then_some(())
        })
        .await;
    // The helper asks for a fresh offer, or for an ICE restart; both reach
    // the media side as asked.
    for (ask, expected) in [
        (ClientMessage::Renegotiate, ServerMessage::Renegotiate),
        (ClientMessage::RestartIce, ServerMessage::RestartIce),
    ] {
        helper.send(&ask).await;
        sharer
            .expect("the helper's ask", |m| (*m == expected).then_some(()))
            .await;
    }
    // The helper cannot send an offer, nor the sharer an answer, nor ask
    // the helper for an ICE restart.
    helper.send(&ClientMessage::Offer { sdp: "x".into() }).await;
    assert_eq!(
        helper.expect("refusal", error_kind).await,
        "/problems/wrong-party"
    );
    sharer.send(&ClientMessage::RestartIce).await;
    assert_eq!(
        sharer.expect("refusal", error_kind).await,
        "/problems/wrong-party"
    );

    // A stranger cannot join, and learns nothing.
    let mut diego = w.connect("diego@contoso.test", slow()).await;
    diego
        .send(&ClientMessage::Join {
            session: id.clone(),
        })
        .await;
    assert_eq!(
        diego.expect("refusal", error_kind).await,
        "/problems/not-found"
    );
    diego.closed().await;
}

#[tokio::test]
async fn bad_frames_are_refused_and_the_connection_stays_up() {
    let w = world().await;
    let id = w.redeemed().await;
    let mut helper = w.connect("megan@contoso.test", slow()).await;
    helper.send_text("{not json".into()).await;
    assert_eq!(
        helper.expect("refusal", error_kind).await,
        "/problems/bad-message"
    );
    let huge = format!(r#"{{"type":"offer","sdp":"{}"}}"#, "a".repeat(70_000));
    helper.send_text(huge).await;
    assert_eq!(
        helper.expect("refusal", error_kind).await,
        "/problems/bad-message"
    );
    helper.send(&ClientMessage::Offer { sdp: "x".into() }).await;
    assert_eq!(
        helper.expect("refusal", error_kind).await,
        "/problems/not-joined"
    );
    helper.send(&ClientMessage::Join { session: id }).await;
    helper
        .expect("joined", |m| {
            matches!(m, ServerMessage::Joined { .. }).then_some(())
        })
        .await;
}

#[tokio::test]
async fn a_silent_peer_is_given_up_and_the_other_side_is_told() {
    let w = world().await;
    let id = w.redeemed().await;
    let mut helper = w.connect("megan@contoso.test", slow()).await;
    helper
        .send(&ClientMessage::Join {
            session: id.clone(),
        })
        .await;
    // The sharer joins after the helper is in the room, so that the helper
    // is told of it (on a database server the join takes a while).
    helper
        .expect("joined", |m| {
            matches!(m, ServerMessage::Joined { .. }).then_some(())
        })
        .await;
    // Long enough for the join's transactions on a database server (a
    // first connection there takes tens of milliseconds), short enough for
    // the test.
    let quick = Heartbeat {
        ping_every: Duration::from_millis(100),
        dead_after: Duration::from_millis(1000),
    };
    let sharer = w.connect("lynne@contoso.test", quick).await;
    sharer
        .send(&ClientMessage::Join {
            session: id.clone(),
        })
        .await;
    helper
        .expect("sharer connected", |m| {
            matches!(
                m,
                ServerMessage::Peer {
                    party: Party::Sharer,
                    connected: true
                }
            )
            .then_some(())
        })
        .await;
    // The sharer's side says nothing more (no pongs): it is dropped.
    helper
        .expect("sharer gone", |m| {
            matches!(
                m,
                ServerMessage::Peer {
                    party: Party::Sharer,
                    connected: false
                }
            )
            .then_some(())
        })
        .await;
    // Not ended yet: the reconnect window runs.
    let (megan, scope) = w.user("megan@contoso.test").await;
    let view = w.sessions.view(&megan, &scope, &id).await.unwrap();
    assert_eq!(
        (view.phase, view.sharer_connected),
        (Phase::SharerJoined, false)
    );
    w.clock.advance_millis(120_001);
    w.sessions.sweep().await.unwrap();
    let view = w.sessions.view(&megan, &scope, &id).await.unwrap();
    assert_eq!(
        view.ended,
        Some(tandem_protocol::session::EndReason::Disconnected)
    );
}

#[tokio::test]
async fn a_helper_who_drops_comes_back_without_a_new_approval() {
    let w = world().await;
    let id = w.redeemed().await;
    // A browser sharer: view only is all it can consent to.
    w.act("megan@contoso.test", &id, Action::Request(Mode::View))
        .await;
    w.act("lynne@contoso.test", &id, Action::Consent { allow: true })
        .await;
    let mut sharer = w.connect("lynne@contoso.test", slow()).await;
    sharer
        .send(&ClientMessage::Join {
            session: id.clone(),
        })
        .await;
    let mut helper = w.connect("megan@contoso.test", slow()).await;
    helper
        .send(&ClientMessage::Join {
            session: id.clone(),
        })
        .await;
    // Joined for sure before the drop: a socket closed while its join is
    // still being read never took part, and coming back is no reconnect.
    helper
        .expect("joined", |m| {
            matches!(m, ServerMessage::Joined { .. }).then_some(())
        })
        .await;
    let present = |m: &ServerMessage| match m {
        ServerMessage::State { session } if session.helper_connected => {
            Some((session.reconnect_left_ms, session.reconnects))
        }
        _ => None,
    };
    assert_eq!(sharer.expect("the helper here", present).await, (None, 0));
    helper.closed().await;
    // The sharer learns the helper is away, and how long they have left.
    let left_of = |m: &ServerMessage| match m {
        ServerMessage::State { session } if !session.helper_connected => {
            Some(session.reconnect_left_ms)
        }
        _ => None,
    };
    let left = sharer.expect("the helper away", left_of).await;
    assert_eq!(left, Some(120_000));
    w.clock.advance_millis(60_000);
    w.sessions.sweep().await.unwrap();
    let (_, scope) = w.user("megan@contoso.test").await;
    let record = w.store.session(&scope, &id).await.unwrap().unwrap();
    let later = w.sessions.view_for(&record, Party::Sharer).await.unwrap();
    assert_eq!(later.reconnect_left_ms, Some(60_000));
    let mut again = w.connect("megan@contoso.test", slow()).await;
    again
        .send(&ClientMessage::Join {
            session: id.clone(),
        })
        .await;
    let (phase, mode, reconnects) = again.expect("state", state_of).await;
    assert_eq!(
        (phase, mode, reconnects),
        (Phase::Active, Some(Mode::View), 1)
    );
    // Back: nobody is counted away any more.
    let back = sharer.expect("the helper back", present).await;
    assert_eq!(back, (None, 1));
    let log = w.store.session_events(&scope, &id).await.unwrap();
    assert!(
        log.iter().any(
            |e| e.event == crate::domain::machine::Event::Reconnect && e.actor == Party::Helper
        )
    );
}

#[tokio::test]
async fn a_restart_keeps_the_session_and_participants_reattach() {
    let w = world().await;
    let id = w.redeemed().await;
    w.act("megan@contoso.test", &id, Action::Request(Mode::View))
        .await;
    w.act("lynne@contoso.test", &id, Action::Consent { allow: true })
        .await;
    w.sessions.close_all();
    w.sessions.cluster().leave().await;
    // A new service over the same store: the server after a restart.
    let restarted = start(&w.store, &w.clock).await;
    let w = World {
        sessions: restarted,
        ..w
    };
    w.clock.advance_millis(30_000);
    let mut helper = w.connect("megan@contoso.test", slow()).await;
    helper
        .send(&ClientMessage::Join {
            session: id.clone(),
        })
        .await;
    let (phase, mode, reconnects) = helper.expect("state", state_of).await;
    assert_eq!(
        (phase, mode, reconnects),
        (Phase::Active, Some(Mode::View), 1)
    );
    // The sharer never comes back: the window ends the session.
    w.clock.advance_millis(120_001);
    w.sessions.sweep().await.unwrap();
    let ended = helper
        .expect("ended", |m| state_of(m).filter(|p| p.0 == Phase::Ended))
        .await;
    assert_eq!(ended.0, Phase::Ended);
}

fn chat_of(message: &ServerMessage) -> Option<(Party, String)> {
    match message {
        ServerMessage::Chat { from, text, .. } => Some((*from, text.clone())),
        _ => None,
    }
}

#[tokio::test]
async fn chat_goes_between_the_two_people_and_only_its_use_is_recorded() {
    let w = world().await;
    let id = w.redeemed().await;
    let mut helper = w.connect("megan@contoso.test", slow()).await;
    let mut sharer = w.connect("lynne@contoso.test", slow()).await;
    for client in [&helper, &sharer] {
        client
            .send(&ClientMessage::Join {
                session: id.clone(),
            })
            .await;
    }
    // Both joined before anyone writes: a line sent while the other's
    // join is still being read has no one to go to.
    for client in [&mut helper, &mut sharer] {
        client
            .expect("joined", |m| {
                matches!(m, ServerMessage::Joined { .. }).then_some(())
            })
            .await;
    }
    helper
        .send(&ClientMessage::Chat {
            text: "Can you open Outlook?".into(),
        })
        .await;
    assert_eq!(
        sharer.expect("chat", chat_of).await,
        (Party::Helper, "Can you open Outlook?".into())
    );
    sharer
        .send(&ClientMessage::Chat {
            text: "Done".into(),
        })
        .await;
    assert_eq!(
        helper.expect("chat", chat_of).await,
        (Party::Sharer, "Done".into())
    );
    let (megan, scope) = w.user("megan@contoso.test").await;
    let reader = crate::auth::ReportReader::for_tests(scope.clone(), Some(megan.id.clone()));
    let settings = w.store.settings(&scope).await.unwrap();
    let ctx = crate::store::ReportContext {
        now: w.clock.now(),
        settings: &settings,
    };
    let (report, _) = w
        .store
        .report_detail(&reader, &id, ctx)
        .await
        .unwrap()
        .unwrap();
    assert!(report.chat_used);
    // Neither the text nor anything else of it is in the store.
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT event || state FROM session_events UNION ALL \
         SELECT COALESCE(outcome_detail, '') || COALESCE(ticket, '') FROM session_reports",
    )
    .fetch_all(w.store.pool())
    .await
    .unwrap();
    assert!(!stored.is_empty());
    assert!(stored.iter().all(|s| !s.contains("Outlook")), "{stored:?}");

    // The organization turns chat off: refused, nothing delivered.
    let admin = crate::auth::Authorized::<crate::auth::ManageSettings>::system(
        scope.tenant_id().clone(),
        "test",
    );
    let off = tandem_protocol::settings::TenantSettings {
        chat_enabled: false,
        ..settings
    };
    w.store
        .update_settings(&admin, &off, w.clock.now())
        .await
        .unwrap();
    helper
        .send(&ClientMessage::Chat {
            text: "still there?".into(),
        })
        .await;
    assert_eq!(
        helper.expect("refusal", error_kind).await,
        "/problems/chat-disabled"
    );
    // After the session ended there is nobody to chat with.
    w.act("lynne@contoso.test", &id, Action::Leave).await;
    sharer
        .send(&ClientMessage::Chat { text: "bye".into() })
        .await;
    assert_eq!(
        sharer.expect("refusal", error_kind).await,
        "/problems/not-now"
    );
}

#[tokio::test]
async fn a_client_that_floods_is_warned_once_then_closed() {
    let w = world().await;
    let mut helper = w.connect("megan@contoso.test", slow()).await;
    // Pongs are never answered: what comes back is only the limit.
    let pong = serde_json::to_string(&ClientMessage::Pong { nonce: 1 }).unwrap();
    let tx = helper.tx.clone().unwrap();
    let flood = tokio::spawn(async move {
        let mut sent = 0u32;
        while sent < 20_000 && tx.send(Ok(pong.clone())).await.is_ok() {
            sent += 1;
        }
        sent
    });
    let mut warnings = 0;
    let mut last = None;
    while let Ok(Some(message)) = timeout(Duration::from_secs(5), helper.rx.recv()).await {
        if error_kind(&message).as_deref() == Some("/problems/too-fast") {
            warnings += 1;
        }
        last = Some(message);
    }
    let sent = flood.await.unwrap();
    assert!(
        warnings >= 2,
        "a warning, then the closing notice ({warnings})"
    );
    assert_eq!(
        last.as_ref().and_then(error_kind).as_deref(),
        Some("/problems/too-fast")
    );
    // The connection ended long before the flood did.
    assert!(
        sent < 20_000,
        "the server kept reading a flood of {sent} frames"
    );
    timeout(Duration::from_secs(5), helper.task)
        .await
        .expect("the connection ends")
        .unwrap();
}
