//! One transition resolves the helper's permissions once, however many
//! views and grants it sends.

use super::Action;
use super::signaling_tests::{slow, world};
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
