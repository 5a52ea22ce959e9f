//! What leaves for the helper's console from the capture loop: encoded
//! frames as RTP on the video track, each named on the tiles channel with
//! the regions it changed, tiles, the cursor, displays and desktop, and
//! once a second the figures for the stats overlay. Frames and tiles are
//! checked against the gate once more here, so nothing encoded just
//! before a pause or revoke of media leaves.

use super::Session;
use crate::capture::Desktop;
use crate::client;
use crate::media::peer::{TILES_BACKLOG_MAX, TileSent};
use crate::media::stream::{NO_DISPLAY, PassTiming, StreamEvent, TileCause};
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tandem_protocol::input::{AgentStats, Control};
use tandem_protocol::tiles::{TileMessage, TileRect};
use webrtc::media_stream::track_local::TrackLocal;

/// Counters for the stats overlay, reset every second.
#[derive(Default)]
pub(super) struct Counters {
    frames: u32,
    tiles: u32,
    bytes: u64,
    encode_ms: f32,
    wait_ms: f32,
    capture_ms: f32,
    send_ms: f32,
    dropped: u64,
}

impl Session {
    /// Handles what the capture loop reports.
    pub(super) async fn on_stream(&mut self, event: StreamEvent) {
        let allowed = self.gate.media_allowed(client::now());
        match event {
            StreamEvent::Frame {
                access_unit,
                captured_at,
                encode_ms,
                timing,
                changed,
            } => {
                let pass = (encode_ms, timing);
                self.on_frame(allowed, access_unit, captured_at, pass, changed)
                    .await;
            }
            StreamEvent::Tiles {
                messages,
                encode_ms,
                timing,
                cause,
            } => {
                let pass = (cause == TileCause::Change).then_some((encode_ms, timing));
                self.on_tiles(allowed, messages, pass).await;
            }
            StreamEvent::Cursor { x, y, visible } if allowed => {
                self.control(&Control::Cursor { x, y, visible }).await;
            }
            StreamEvent::Cursor { .. } => {}
            StreamEvent::CursorShape(shape) => {
                self.cursor_shape = Some(shape.clone());
                if allowed {
                    self.control(&Control::CursorShape { shape }).await;
                }
            }
            StreamEvent::Displays { displays, current } => {
                if let (Some(injector), Some(shown)) = (
                    &mut self.injector,
                    displays.iter().find(|d| d.id == current),
                ) {
                    injector.set_display(shown);
                }
                if self.switches.display.load(Ordering::Acquire) == NO_DISPLAY {
                    self.switches.display.store(current, Ordering::Release);
                }
                self.displays = displays.clone();
                self.current_display = current;
                self.control(&Control::Displays { displays, current }).await;
            }
            StreamEvent::Desktop(desktop) => {
                self.desktop = desktop;
                let (active, visible) = match desktop {
                    Desktop::Normal => (false, true),
                    Desktop::Secure { followed } => (true, followed),
                };
                if active {
                    println!(
                        "tandem-agent: a secure desktop (UAC prompt) is up{}",
                        if visible {
                            "; the helper sees it"
                        } else {
                            "; the helper waits for you to answer it"
                        }
                    );
                }
                self.control(&Control::SecureDesktop { active, visible })
                    .await;
            }
            StreamEvent::Failed(why) => {
                println!("tandem-agent: screen sharing failed: {why}");
                tracing::warn!(%why, "the capture loop stopped");
                self.capture = None;
            }
        }
    }

    /// Checks the injector and sends the stats overlay its figures.
    pub(super) async fn every_second(&mut self) {
        if let Some(injector) = &mut self.injector {
            injector.check(&self.gate, client::now());
        }
        let counters = std::mem::take(&mut self.counters);
        let mean = |sum: f32| {
            if counters.frames > 0 {
                sum / counters.frames as f32
            } else {
                0.0
            }
        };
        let stats = AgentStats {
            captured_fps: counters.frames as f32,
            encode_ms: mean(counters.encode_ms),
            tile_updates: counters.tiles as f32,
            wait_ms: mean(counters.wait_ms),
            capture_ms: mean(counters.capture_ms),
            send_ms: mean(counters.send_ms),
            turn_tcp_kbps: self
                .live
                .as_ref()
                .map_or(0.0, |l| (l.peer.take_tcp_turn_bytes() * 8) as f32 / 1000.0),
            sent_kbps: (counters.bytes * 8) as f32 / 1000.0,
            dropped_frames: counters.dropped,
            refused_input: self.injector.as_ref().map_or(0, |i| i.counts().refused),
            outside_window: self
                .injector
                .as_ref()
                .map_or(0, |i| i.counts().outside_window),
            malformed_messages: self.malformed + self.clipboard.dropped + self.annotation.dropped,
        };
        // Also while paused: the helper sees that nothing is captured and
        // what was refused (figures only, never screen content).
        if !self.gate.is_ended() {
            self.control(&Control::Stats { stats }).await;
        }
    }

    /// Counts one update (a video frame or a pass's tiles) for the stats.
    fn count_pass(&mut self, (encode_ms, timing): (f32, PassTiming)) {
        self.counters.frames += 1;
        self.counters.encode_ms += encode_ms;
        self.counters.wait_ms += timing.wait.as_secs_f32() * 1000.0;
        self.counters.capture_ms += timing.capture.as_secs_f32() * 1000.0;
    }

    pub(super) async fn on_frame(
        &mut self,
        allowed: bool,
        access_unit: Bytes,
        captured_at: Instant,
        pass: (f32, PassTiming),
        changed: Option<((u16, u16), Vec<TileRect>)>,
    ) {
        if self.live.as_ref().is_none_or(|l| l.packetizer.is_none()) {
            return;
        }
        if !allowed {
            self.counters.dropped += 1;
            return;
        }
        let sending = Instant::now();
        self.count_pass(pass);
        self.counters.bytes += access_unit.len() as u64;
        let Some(live) = &mut self.live else { return };
        let Some(packetizer) = &mut live.packetizer else {
            return;
        };
        // Before the tiles channel is open the console holds no tile, so
        // there is nothing to name (and a failed send must not make every
        // frame a repaint).
        if let Some((screen, rects)) = changed.filter(|_| live.tiles_open) {
            // Named before the frame leaves: the console removes older
            // tiles from these regions once it shows this frame.
            let named = TileMessage::Video {
                screen,
                rtp_timestamp: packetizer.timestamp(captured_at),
                rects,
            };
            if live.peer.send_tile(&named.encode()).await == TileSent::Dropped {
                // Without it, an older tile could stay over newer video:
                // repaint everything once the channel keeps up again.
                self.switches.tiles.store(false, Ordering::Release);
                self.switches.repaint.store(true, Ordering::Release);
            }
        }
        match packetizer.packetize(&access_unit, captured_at) {
            Ok(packets) => {
                for packet in packets {
                    if let Err(error) = live.peer.track().write_rtp(packet).await {
                        tracing::debug!(%error, "an RTP packet was not sent");
                        break;
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "a frame was not sent"),
        }
        self.counters.send_ms += sending.elapsed().as_secs_f32() * 1000.0;
        if live.tiles_open {
            let backlog = live.peer.tiles_backlog().await;
            self.switches
                .tiles_backlog
                .store(backlog, Ordering::Release);
            // Tiles stopped for a backlog come back once half of it left.
            if backlog <= TILES_BACKLOG_MAX / 2 && !self.switches.tiles.load(Ordering::Acquire) {
                self.switches
                    .tiles
                    .store(self.tiles_enabled, Ordering::Release);
            }
        }
    }

    /// Sends tiles: a pass's changes (`pass`: its encode time and timing,
    /// counted as an update), or (`None`) the small areas beside a video
    /// frame or a lossless re-send of a settled region.
    pub(super) async fn on_tiles(
        &mut self,
        allowed: bool,
        messages: Vec<Vec<u8>>,
        pass: Option<(f32, PassTiming)>,
    ) {
        let Some(live) = &self.live else { return };
        if !allowed || live.packetizer.is_none() {
            self.counters.dropped += 1;
            return;
        }
        let sending = Instant::now();
        if let Some(pass) = pass {
            self.count_pass(pass);
            self.counters.tiles += 1;
        }
        let Some(live) = &self.live else { return };
        for message in &messages {
            self.counters.bytes += message.len() as u64;
            if live.peer.send_tile(message).await == TileSent::Dropped {
                // The rest would leave a hole: the video repaints it all.
                self.switches.tiles.store(false, Ordering::Release);
                self.switches.repaint.store(true, Ordering::Release);
                break;
            }
        }
        if pass.is_some() {
            self.counters.send_ms += sending.elapsed().as_secs_f32() * 1000.0;
        }
        let backlog = live.peer.tiles_backlog().await;
        self.switches
            .tiles_backlog
            .store(backlog, Ordering::Release);
    }
}
