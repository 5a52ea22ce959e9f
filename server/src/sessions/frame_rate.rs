//! How fast one WebSocket may send frames: a token bucket per connection,
//! pure (the caller passes the time), so that a client cannot make the
//! server parse, answer and relay without bound.
//!
//! A frame over the budget is dropped. The first of a run of dropped
//! frames is answered once ("too fast"); a connection that keeps sending
//! that fast is closed once `close_after` frames in a row were dropped.

/// A connection's frame budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameBudget {
    /// Frames allowed at once (a burst, e.g. the ICE candidates of a
    /// renegotiation).
    pub burst: u32,
    /// Frames per second over time.
    pub per_second: u32,
    /// Dropped frames in a row after which the connection is closed.
    pub close_after: u32,
}

impl FrameBudget {
    /// Browsers and agents on the signaling socket: SDP, trickled ICE,
    /// chat and pongs need a few frames a second; a renegotiation sends a
    /// few dozen candidates at once.
    pub const SIGNALING: FrameBudget = FrameBudget {
        burst: 200,
        per_second: 50,
        close_after: 400,
    };
    /// An agent's control socket: pongs, pairing requests and the sharer's
    /// buttons on the device.
    pub const AGENT_CONTROL: FrameBudget = FrameBudget {
        burst: 30,
        per_second: 5,
        close_after: 100,
    };
}

/// What to do with one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the budget: handle it.
    Admit,
    /// Over the budget, the first of a run: drop it and say so once.
    DropAndWarn,
    /// Over the budget: drop it silently.
    Drop,
    /// Over the budget for too long: close the connection.
    Close,
}

/// The bucket of one connection. Tokens are kept in thousandths of a frame
/// so that refilling by the millisecond stays exact in integers.
#[derive(Debug, Clone)]
pub struct FrameRate {
    budget: FrameBudget,
    milli_tokens: u64,
    last_millis: u64,
    dropped_in_a_row: u32,
}

impl FrameRate {
    /// A full bucket at `now_millis` (any monotonic count of milliseconds).
    pub fn new(budget: FrameBudget, now_millis: u64) -> Self {
        Self {
            budget,
            milli_tokens: u64::from(budget.burst) * 1000,
            last_millis: now_millis,
            dropped_in_a_row: 0,
        }
    }

    /// Judges one frame arriving at `now_millis`.
    pub fn admit(&mut self, now_millis: u64) -> Verdict {
        let elapsed = now_millis.saturating_sub(self.last_millis);
        self.last_millis = self.last_millis.max(now_millis);
        let full = u64::from(self.budget.burst) * 1000;
        self.milli_tokens = self
            .milli_tokens
            .saturating_add(elapsed.saturating_mul(u64::from(self.budget.per_second)))
            .min(full);
        if self.milli_tokens >= 1000 {
            self.milli_tokens -= 1000;
            self.dropped_in_a_row = 0;
            return Verdict::Admit;
        }
        self.dropped_in_a_row = self.dropped_in_a_row.saturating_add(1);
        match self.dropped_in_a_row {
            1 => Verdict::DropAndWarn,
            n if n >= self.budget.close_after => Verdict::Close,
            _ => Verdict::Drop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BUDGET: FrameBudget = FrameBudget {
        burst: 10,
        per_second: 5,
        close_after: 20,
    };

    #[test]
    fn a_burst_passes_then_frames_are_dropped_warned_once_and_the_socket_closed() {
        let mut rate = FrameRate::new(BUDGET, 0);
        let verdicts: Vec<Verdict> = (0..30).map(|_| rate.admit(0)).collect();
        assert!(verdicts[..10].iter().all(|v| *v == Verdict::Admit));
        assert_eq!(verdicts[10], Verdict::DropAndWarn);
        assert!(verdicts[11..29].iter().all(|v| *v == Verdict::Drop));
        assert_eq!(verdicts[29], Verdict::Close);
    }

    #[test]
    fn the_bucket_refills_at_the_rate() {
        let mut rate = FrameRate::new(BUDGET, 0);
        for _ in 0..10 {
            assert_eq!(rate.admit(0), Verdict::Admit);
        }
        assert_eq!(rate.admit(199), Verdict::DropAndWarn);
        // 200 ms at 5 frames a second is one frame.
        assert_eq!(rate.admit(200), Verdict::Admit);
        assert_eq!(rate.admit(200), Verdict::DropAndWarn);
    }

    proptest! {
        /// Over any run of frames, what is admitted never exceeds the
        /// burst plus the rate times the time taken.
        #[test]
        fn admitted_frames_stay_within_the_budget(gaps in proptest::collection::vec(0u64..400, 1..400)) {
            let mut rate = FrameRate::new(BUDGET, 0);
            let mut now = 0;
            let mut admitted = 0u64;
            for gap in gaps {
                now += gap;
                if rate.admit(now) == Verdict::Admit {
                    admitted += 1;
                }
                let bound = u64::from(BUDGET.burst) + now * u64::from(BUDGET.per_second) / 1000;
                prop_assert!(admitted <= bound, "{admitted} admitted by {now} ms (bound {bound})");
            }
        }

        /// A client that keeps to the rate is never dropped, however long.
        #[test]
        fn a_client_within_the_rate_is_never_dropped(start in 0u64..1_000_000, frames in 1usize..2000) {
            let mut rate = FrameRate::new(BUDGET, start);
            let spacing = 1000 / u64::from(BUDGET.per_second);
            for i in 0..frames {
                let at = start + spacing * u64::try_from(i).unwrap_or(0);
                prop_assert_eq!(rate.admit(at), Verdict::Admit);
            }
        }
    }
}
