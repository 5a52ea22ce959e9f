//! Ended sessions whose room the hub dropped, with the version they ended
//! at: a message of an older state that arrives late (another replica's
//! `Changed`, sent before the end but heard after it) must not bring the
//! room back, live, for housekeeping to act on forever. Bounded: past
//! [`ENDED_KEPT`] the oldest go first (a late message arrives within
//! seconds; this many ends take far longer).

use std::collections::{HashMap, VecDeque};
use tandem_protocol::SessionId;

/// Ended sessions remembered at most.
pub const ENDED_KEPT: usize = 10_000;

#[derive(Debug, Default)]
pub(super) struct EndedRooms {
    versions: HashMap<SessionId, i64>,
    order: VecDeque<SessionId>,
}

impl EndedRooms {
    /// Remembers that `id` ended at `version` and its room was dropped.
    pub(super) fn remember(&mut self, id: &SessionId, version: i64) {
        if self.versions.insert(id.clone(), version).is_none() {
            self.order.push_back(id.clone());
        }
        while self.order.len() > ENDED_KEPT {
            if let Some(oldest) = self.order.pop_front() {
                self.versions.remove(&oldest);
            }
        }
    }

    /// Whether a state of `id` at `version` is one from before its end.
    pub(super) fn is_from_before_the_end(&self, id: &SessionId, version: i64) -> bool {
        self.versions.get(id).is_some_and(|ended| version <= *ended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_end_is_remembered_within_the_bound() {
        let mut ended = EndedRooms::default();
        let first = SessionId::from("first");
        ended.remember(&first, 5);
        assert!(ended.is_from_before_the_end(&first, 4));
        assert!(ended.is_from_before_the_end(&first, 5));
        assert!(!ended.is_from_before_the_end(&first, 6));
        assert!(!ended.is_from_before_the_end(&SessionId::from("other"), 1));
        for n in 0..ENDED_KEPT {
            ended.remember(&SessionId::from(format!("s{n}").as_str()), 1);
        }
        assert_eq!(ended.versions.len(), ENDED_KEPT);
        assert_eq!(ended.order.len(), ENDED_KEPT);
        assert!(
            !ended.is_from_before_the_end(&first, 4),
            "the oldest went first"
        );
    }
}
