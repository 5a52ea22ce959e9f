//! The helper's strokes on this device's screen. `AnnotationDesk` is
//! pure: it takes the helper's messages while media flows (view only or
//! full control, not paused), the tenant allows annotation and the sharer
//! has not switched it off, within a rate; anything else is dropped and
//! counted. The `Session` part draws the strokes with the overlay and
//! reports the first use to the server.

use super::Session;
use tandem_protocol::annotation::{AnnotationMessage, SharerDrawing, Sketch};

/// Messages allowed at once, and then per second.
const BURST: u32 = 240;
const PER_SECOND: u32 = 120;

#[derive(Debug, Default)]
pub struct AnnotationDesk {
    /// The tenant allows annotation (from the session view).
    allowed_by_tenant: bool,
    /// The sharer switched annotation off for this session.
    sharer_off: bool,
    sketch: Sketch,
    tokens: u32,
    refilled_at: u64,
    /// Annotation was used and the server not yet told.
    pub unreported: bool,
    /// The strokes went without the helper clearing them (the sharer, a
    /// pause): the console is not yet told.
    pub cleared_untold: bool,
    reported: bool,
    /// Messages dropped: malformed, refused, too fast, the wrong way.
    pub dropped: u64,
}

impl AnnotationDesk {
    /// True if it changed.
    pub fn set_allowed(&mut self, allowed: bool) -> bool {
        let changed = self.allowed_by_tenant != allowed;
        self.allowed_by_tenant = allowed;
        changed
    }

    /// The tenant allows annotation and the sharer has not switched it off.
    pub fn allowed(&self) -> bool {
        self.allowed_by_tenant && !self.sharer_off
    }

    /// The sharer's word: the strokes go (all three), and none come while
    /// it is off. True if the strokes changed.
    /// Whether the sharer switched drawing off.
    pub fn sharer_off(&self) -> bool {
        self.sharer_off
    }

    pub fn sharer(&mut self, action: SharerDrawing) -> bool {
        match action {
            SharerDrawing::Off => self.sharer_off = true,
            SharerDrawing::On => self.sharer_off = false,
            SharerDrawing::Clear => {}
        }
        let went = action != SharerDrawing::On && self.stop();
        self.cleared_untold |= went;
        went
    }

    pub fn sketch(&self) -> &Sketch {
        &self.sketch
    }

    fn take_token(&mut self, now: u64) -> bool {
        if self.refilled_at == 0 && self.tokens == 0 {
            self.tokens = BURST;
            self.refilled_at = now;
        }
        let elapsed = now.saturating_sub(self.refilled_at);
        let earned = u32::try_from(elapsed * u64::from(PER_SECOND) / 1000).unwrap_or(u32::MAX);
        if earned > 0 {
            self.tokens = self.tokens.saturating_add(earned).min(BURST);
            self.refilled_at = now;
        }
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }

    /// A message from the helper at `now` ms; `media`: the gate lets media
    /// flow now; `size`: the shared display's. True if the strokes changed.
    pub fn on_message(&mut self, bytes: &[u8], media: bool, size: (u32, u32), now: u64) -> bool {
        if !self.take_token(now) {
            self.dropped += 1;
            return false;
        }
        let Ok(message) = AnnotationMessage::parse(bytes) else {
            self.dropped += 1;
            return false;
        };
        if !media || !self.allowed() {
            self.dropped += 1;
            return false;
        }
        let changed = match message {
            AnnotationMessage::Stroke { id, tool, points } => {
                self.sketch.add(id, tool, &points, size, now)
            }
            AnnotationMessage::Clear => {
                let had = !self.sketch.is_empty();
                self.sketch.clear();
                had
            }
            AnnotationMessage::Available { .. } | AnnotationMessage::Cleared => {
                self.dropped += 1;
                false
            }
        };
        if changed && !self.reported {
            self.reported = true;
            self.unreported = true;
        }
        changed
    }

    /// Media stopped (pause, end, a revoked grant): the strokes go. True
    /// if there were any.
    pub fn stop(&mut self) -> bool {
        let had = !self.sketch.is_empty();
        self.sketch.clear();
        had
    }

    /// The laser's fading at `now` ms; true if the strokes changed.
    pub fn fade(&mut self, now: u64) -> bool {
        self.sketch.fade(now)
    }

    pub fn fading(&self) -> bool {
        self.sketch.fading()
    }
}

impl Session {
    /// Tells the console that the strokes went here, if it is not told yet.
    pub(super) async fn tell_cleared(&mut self) {
        if !std::mem::take(&mut self.annotation.cleared_untold) {
            return;
        }
        if let Some(live) = &self.live {
            live.peer.send_annotation(&AnnotationMessage::Cleared).await;
        }
    }

    /// Tells the console whether this device draws strokes now.
    pub(super) async fn announce_annotation(&mut self) {
        let available = self.overlay.is_some() && self.annotation.allowed();
        if !available && self.annotation.stop() {
            self.draw_annotation();
        }
        if let Some(live) = &self.live {
            live.peer
                .send_annotation(&AnnotationMessage::Available { available })
                .await;
        }
    }

    /// The sharer cleared the drawings, or switched annotation off or on,
    /// from their page.
    pub(super) async fn on_sharer_drawing(&mut self, action: SharerDrawing) {
        println!(
            "tandem-agent: {}",
            match action {
                SharerDrawing::Clear => "the sharer cleared the helper's drawings",
                SharerDrawing::Off => "the sharer switched the helper's drawing off",
                SharerDrawing::On => "the sharer let the helper draw again",
            }
        );
        if self.annotation.sharer(action) {
            self.draw_annotation();
        }
        self.tell_cleared().await;
        if action != SharerDrawing::Clear {
            self.announce_annotation().await;
            self.tell_drawing_state();
        }
    }

    /// Tells the sharer's page whether she switched drawing off.
    pub(super) fn tell_drawing_state(&mut self) {
        let off = self.annotation.sharer_off();
        self.for_server
            .push(tandem_protocol::signal::ClientMessage::DrawingState { off });
    }

    /// A message on the annotation channel.
    pub(super) fn on_annotation(&mut self, bytes: &[u8]) {
        // Nothing is drawn without an overlay (the console was told).
        if self.overlay.is_none() {
            self.annotation.dropped += 1;
            return;
        }
        let now = crate::client::now();
        let media = self.gate.media_allowed(now) && !self.gate.paused();
        let size = self
            .shown_display()
            .map(|d| (d.width, d.height))
            .unwrap_or((0, 0));
        let ms = u64::try_from(now.0).unwrap_or(0);
        if self.annotation.on_message(bytes, media, size, ms) {
            self.draw_annotation();
        }
    }

    /// Draws the strokes as they are now on the shared display.
    pub(super) fn draw_annotation(&mut self) {
        let Some(display) = self.shown_display().cloned() else {
            return;
        };
        let Some(overlay) = &mut self.overlay else {
            return;
        };
        if let Err(error) = overlay.show(self.annotation.sketch().strokes(), &display) {
            tracing::warn!(%error, "the annotation overlay failed");
        }
    }

    /// Every tick while a laser fades, and whenever the gate may have
    /// changed: strokes go when media stops.
    pub(super) fn keep_annotation(&mut self) {
        let now = crate::client::now();
        let media = self.gate.media_allowed(now) && !self.gate.paused();
        let changed = if media {
            self.annotation.fade(u64::try_from(now.0).unwrap_or(0))
        } else {
            let went = self.annotation.stop();
            self.annotation.cleared_untold |= went;
            went
        };
        if changed {
            self.draw_annotation();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tandem_protocol::annotation::Tool;

    fn stroke(id: u32, points: Vec<(u32, u32)>) -> Vec<u8> {
        serde_json::to_vec(&AnnotationMessage::Stroke {
            id,
            tool: Tool::Pen,
            points,
        })
        .unwrap()
    }

    #[test]
    fn strokes_count_only_while_media_flows_and_the_tenant_allows() {
        let mut desk = AnnotationDesk::default();
        let size = (100, 100);
        assert!(
            !desk.on_message(&stroke(1, vec![(1, 1)]), true, size, 1),
            "tenant off"
        );
        desk.set_allowed(true);
        assert!(
            !desk.on_message(&stroke(1, vec![(1, 1)]), false, size, 2),
            "paused"
        );
        assert_eq!(desk.dropped, 2);
        assert!(!desk.unreported);
        assert!(desk.on_message(&stroke(1, vec![(1, 1), (5, 5)]), true, size, 3));
        assert!(desk.unreported, "the first use is reported");
        desk.unreported = false;
        assert!(desk.on_message(&stroke(2, vec![(9, 9)]), true, size, 4));
        assert!(!desk.unreported, "once");
        assert_eq!(desk.sketch().strokes().len(), 2);
        let clear = serde_json::to_vec(&AnnotationMessage::Clear).unwrap();
        assert!(desk.on_message(&clear, true, size, 5));
        assert!(desk.sketch().is_empty());
        assert!(desk.on_message(&stroke(3, vec![(1, 1)]), true, size, 6));
        assert!(desk.stop(), "media stopped: the strokes go");
    }

    #[test]
    fn the_sharer_clears_and_switches_drawing_off_and_on() {
        let mut desk = AnnotationDesk::default();
        desk.set_allowed(true);
        let size = (100, 100);
        assert!(desk.on_message(&stroke(1, vec![(1, 1)]), true, size, 1));
        assert!(desk.sharer(SharerDrawing::Clear), "the strokes went");
        assert!(desk.cleared_untold, "and the console is to be told");
        assert!(desk.allowed());
        assert!(desk.on_message(&stroke(2, vec![(1, 1)]), true, size, 2));
        assert!(desk.sharer(SharerDrawing::Off));
        assert!(!desk.allowed());
        assert!(
            !desk.on_message(&stroke(3, vec![(1, 1)]), true, size, 3),
            "off"
        );
        assert!(!desk.sharer(SharerDrawing::On));
        assert!(
            desk.on_message(&stroke(4, vec![(1, 1)]), true, size, 4),
            "on again"
        );
    }

    #[test]
    fn a_flood_garbage_and_the_sharer_s_messages_are_dropped_and_counted() {
        let mut desk = AnnotationDesk::default();
        desk.set_allowed(true);
        let size = (100, 100);
        let mut taken = 0;
        for i in 0..1000 {
            if desk.on_message(&stroke(i, vec![(1, 1)]), true, size, 1000) {
                taken += 1;
            }
        }
        assert_eq!(taken, BURST);
        // A second later the rate allows more.
        assert!(desk.on_message(&stroke(5000, vec![(2, 2)]), true, size, 2000));
        let before = desk.dropped;
        let sharer = serde_json::to_vec(&AnnotationMessage::Available { available: true }).unwrap();
        for bad in [b"{".to_vec(), sharer, vec![b' '; 100_000]] {
            assert!(!desk.on_message(&bad, true, size, 2001));
        }
        assert_eq!(desk.dropped, before + 3);
    }
}
