//! A transition resolves the helper's permissions once, however many
//! views and grants it sends; housekeeping reads only the sessions due.

use super::Action;
use super::test_world::{slow, world};
use crate::domain::machine::State;
use tandem_protocol::session::EndReason;
use tandem_protocol::session::{Mode, Phase};
use tandem_protocol::signal::{ClientMessage, ServerMessage};

/// Before, a helper's request resolved them three times: the request's
/// check, the helper's pushed view, and the view returned to the caller.
#[tokio::test]
async fn a_transition_resolves_the_helpers_permissions_once() {
    let w = world().await;
    let id = w.redeemed().await;
    let mut helper = w.connect("megan@contoso.test", slow()).await;
    let mut sharer = w.connect("lynne@contoso.test", slow()).await;
    for client in [&mut helper, &mut sharer] {
        client
            .send(&ClientMessage::Join {
                session: id.clone(),
            })
            .await;
        client
            .expect("joined", |m| {
                matches!(m, ServerMessage::Joined { .. }).then_some(())
            })
            .await;
    }
    let before = w.sessions.permission_resolutions();
    w.act("megan@contoso.test", &id, Action::Request(Mode::View))
        .await;
    // Both sides were sent the new state: the views were built.
    for client in [&mut helper, &mut sharer] {
        client
            .expect("the request", |m| match m {
                ServerMessage::State { session } => (session.phase == Phase::WaitingForConsent
                    && session.requested == Some(Mode::View))
                .then_some(()),
                _ => None,
            })
            .await;
    }
    assert_eq!(w.sessions.permission_resolutions() - before, 1);
}

/// Housekeeping reads from the store only the sessions that are due
/// (before, it read every live session every second).
#[tokio::test]
async fn housekeeping_reads_only_the_sessions_that_are_due() {
    let w = world().await;
    let (megan, scope) = w.user("megan@contoso.test").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(w.sessions.issue(&megan, &scope).await.unwrap().session.id);
    }
    let redeemed = w.redeemed().await;
    for _ in 0..5 {
        w.sessions.sweep().await.unwrap();
    }
    assert_eq!(w.sessions.housekeeping_reads(), 0, "nothing was due");
    // Past every code's life, and past the reconnect window of the
    // redeemed session, whose participants never connected.
    w.clock.advance_millis(11 * 60_000);
    w.sessions.sweep().await.unwrap();
    assert_eq!(w.sessions.housekeeping_reads(), 4);
    let ended = |reason| State::Ended { reason };
    for id in &ids {
        let record = w.store.session(&scope, id).await.unwrap().unwrap();
        assert_eq!(record.state, ended(EndReason::Expired));
    }
    let record = w.store.session(&scope, &redeemed).await.unwrap().unwrap();
    assert_eq!(record.state, ended(EndReason::Disconnected));
    w.sessions.sweep().await.unwrap();
    assert_eq!(
        w.sessions.housekeeping_reads(),
        4,
        "ended sessions are not read again"
    );
}
