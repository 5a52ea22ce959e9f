//! The pure core that decides, pass by pass, whether and how the video
//! is encoded: real-time quality for changes, one sharp top-off once the
//! screen is still (unless lossless tiles re-send settled regions), and a
//! rare keep-alive.

use crate::encode::Quality;
use std::time::{Duration, Instant};

/// A still screen is re-sent this often, so the browser knows it is alive.
pub const KEEP_ALIVE: Duration = Duration::from_secs(1);
/// A screen still for this long gets one sharp frame.
pub const TOP_OFF_AFTER: Duration = Duration::from_millis(300);

/// Decides, pass by pass, whether and how to encode. Pure: time is passed
/// in.
#[derive(Debug, Default)]
pub struct Pacer {
    last_sent: Option<Instant>,
    last_change: Option<Instant>,
    /// Changes were sent in real-time quality since the last top-off.
    soft: bool,
    /// Lossless tiles re-send settled regions: no sharp video frame needed.
    tiles_sharpen: bool,
}

impl Pacer {
    /// Whether settled regions are re-sent as lossless tiles (then the
    /// sharp top-off frame, a whole-screen keyframe, would be wasted).
    pub fn tiles_sharpen(&mut self, on: bool) {
        self.tiles_sharpen = on;
    }

    pub fn decide(&mut self, changed: bool, keyframe: bool, now: Instant) -> Option<Quality> {
        if changed {
            self.last_change = Some(now);
        }
        let quality = if changed || keyframe || self.last_sent.is_none() {
            self.soft = true;
            Some(Quality::Realtime)
        } else if self.soft
            && !self.tiles_sharpen
            && self
                .last_change
                .is_none_or(|t| now.duration_since(t) >= TOP_OFF_AFTER)
        {
            self.soft = false;
            Some(Quality::TopOff)
        } else if self
            .last_sent
            .is_some_and(|t| now.duration_since(t) >= KEEP_ALIVE)
        {
            // Same encoder as the last frame: a tiny all-skip frame.
            Some(if self.soft {
                Quality::Realtime
            } else {
                Quality::TopOff
            })
        } else {
            None
        };
        if quality.is_some() {
            self.last_sent = Some(now);
        }
        quality
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pacer_sends_changes_then_one_sharp_frame_then_rare_keep_alives() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut pacer = Pacer::default();
        assert_eq!(pacer.decide(false, false, at(0)), Some(Quality::Realtime));
        assert_eq!(pacer.decide(true, false, at(33)), Some(Quality::Realtime));
        assert_eq!(pacer.decide(false, false, at(66)), None);
        assert_eq!(pacer.decide(false, false, at(300)), None);
        assert_eq!(pacer.decide(false, false, at(333)), Some(Quality::TopOff));
        for ms in (366..1333).step_by(33) {
            assert_eq!(pacer.decide(false, false, at(ms)), None, "{ms} ms");
        }
        assert_eq!(pacer.decide(false, false, at(1340)), Some(Quality::TopOff));
        assert_eq!(pacer.decide(false, true, at(1373)), Some(Quality::Realtime));
        // With tiles re-sending settled regions, no sharp frame follows;
        // keep-alives stay on the real-time encoder.
        pacer.tiles_sharpen(true);
        assert_eq!(pacer.decide(false, false, at(1800)), None);
        assert_eq!(
            pacer.decide(false, false, at(2400)),
            Some(Quality::Realtime)
        );
    }
}
