//! When the WebRTC connection restarts ICE, and when a restart must wait:
//! only when the path is down or the device lost an address (a rejoin
//! after a server restart leaves a working path alone), and never while
//! an offer still waits for its answer (the answer to the first would be
//! taken for the second, and the two ends would disagree on credentials).
//! Pure: time is passed in.

use std::time::{Duration, Instant};

/// An offer unanswered for this long is taken as lost: a restart goes
/// ahead without waiting for it.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
pub struct Restarts {
    /// When the offer still waiting for its answer went.
    offer_sent_at: Option<Instant>,
    /// A restart was asked while an offer waited: made once it is answered.
    wanted: bool,
    /// The connection is connected.
    up: bool,
    /// An address of the device went: the next join restarts ICE.
    address_lost: bool,
    /// The server was joined again; its `Joined` (fresh ICE servers) is
    /// next.
    rejoined: bool,
}

impl Restarts {
    /// An offer went out at `now`.
    pub fn offered(&mut self, now: Instant) {
        self.offer_sent_at = Some(now);
        self.wanted = false;
    }

    /// Whether a restart may go at `now`; if not, it is made once the
    /// waiting offer is answered ([`Self::answered`]).
    pub fn may_restart(&mut self, now: Instant) -> bool {
        let waiting = self
            .offer_sent_at
            .is_some_and(|at| now.saturating_duration_since(at) < ANSWER_WITHIN);
        self.wanted |= waiting;
        !waiting
    }

    /// The waiting offer was answered; whether a restart is due now.
    pub fn answered(&mut self) -> bool {
        self.offer_sent_at = None;
        std::mem::take(&mut self.wanted)
    }

    /// The connection's state: connected or not.
    pub fn connection(&mut self, up: bool) {
        self.up = up;
    }

    pub fn address_lost(&mut self) {
        self.address_lost = true;
    }

    /// Whether a new address calls for a restart (only a path that is
    /// down does).
    pub fn address_gained(&self) -> bool {
        !self.up
    }

    pub fn rejoined(&mut self) {
        self.rejoined = true;
    }

    /// The server's `Joined` arrived: whether ICE restarts now (after a
    /// rejoin, with the path down or an address gone).
    pub fn joined(&mut self) -> bool {
        if !std::mem::take(&mut self.rejoined) {
            return false;
        }
        !self.up || std::mem::take(&mut self.address_lost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restart_waits_for_the_answer_to_the_offer_before_it() {
        let start = Instant::now();
        let mut restarts = Restarts::default();
        restarts.offered(start);
        assert!(!restarts.may_restart(start + Duration::from_secs(1)));
        // Made once the offer is answered, and only once.
        assert!(restarts.answered());
        assert!(!restarts.answered());
        assert!(restarts.may_restart(start + Duration::from_secs(2)));
        // An offer never answered does not hold restarts back for ever.
        restarts.offered(start);
        assert!(restarts.may_restart(start + ANSWER_WITHIN));
    }

    #[test]
    fn only_a_path_that_is_down_or_a_lost_address_restarts_after_a_rejoin() {
        let mut restarts = Restarts::default();
        restarts.connection(true);
        // A server restart: the path works, nothing to restart.
        restarts.rejoined();
        assert!(!restarts.joined());
        // A `Joined` without a rejoin (the first) restarts nothing.
        assert!(!restarts.joined());
        // The device's address went: restart, once.
        restarts.address_lost();
        restarts.rejoined();
        assert!(restarts.joined());
        restarts.rejoined();
        assert!(!restarts.joined());
        // The path is down.
        restarts.connection(false);
        restarts.rejoined();
        assert!(restarts.joined());
        assert!(restarts.address_gained());
        restarts.connection(true);
        assert!(!restarts.address_gained());
    }
}
