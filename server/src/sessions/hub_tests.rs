//! The hub's tests, and what only they need of it.

use super::*;
use tandem_protocol::session::Mode;

#[tokio::test]
async fn attach_detach_and_absence() {
    let hub = Hub::default();
    let id = SessionId::from("s");
    let active = State::Active { mode: Mode::View };
    let (tx, mut rx) = mpsc::channel(4);
    let first = hub.attach(&id, Party::Helper, tx.clone(), UnixMillis(0), &active);
    assert!(!first.returning);
    assert!(hub.connected(&id, Party::Helper));
    assert!(!hub.connected(&id, Party::Sharer));
    let ping = ServerMessage::Ping { nonce: 1 };
    assert_eq!(hub.send(&id, Party::Helper, &ping), 1);
    assert_eq!(rx.recv().await, Some(ping));
    // The sharer never came: absent since the room was made.
    assert_eq!(
        hub.absent_longer_than(1_000, UnixMillis(1_001)),
        vec![(id.clone(), Party::Sharer)]
    );
    assert!(hub.detach(&id, Party::Helper, first.conn, UnixMillis(2_000)));
    let again = hub.attach(&id, Party::Helper, tx, UnixMillis(2_500), &active);
    assert!(again.returning, "coming back after a drop is a reconnect");
}

#[tokio::test]
async fn a_stuck_connection_is_dropped_not_waited_for() {
    let hub = Hub::default();
    let id = SessionId::from("s");
    let (tx, _rx) = mpsc::channel(1);
    hub.attach(&id, Party::Sharer, tx, UnixMillis(0), &State::Redeemed);
    let ping = ServerMessage::Ping { nonce: 1 };
    assert_eq!(hub.send(&id, Party::Sharer, &ping), 1);
    assert_eq!(hub.send(&id, Party::Sharer, &ping), 0, "outbox full");
    assert!(!hub.connected(&id, Party::Sharer));
}

impl Hub {
    /// Drops a room if nobody is attached, remembering nothing (tests: a
    /// replica that never heard of the session).
    pub fn forget_if_idle(&self, id: &SessionId) {
        let mut rooms = self.rooms();
        if rooms.get(id).is_some_and(Room::is_idle) {
            rooms.remove(id);
        }
    }
}
