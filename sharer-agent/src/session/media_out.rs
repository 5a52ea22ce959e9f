//! What leaves for the helper's console from the capture loop: encoded
//! frames as RTP on the video track, each named on the tiles channel with
//! the regions it changed, and tiles. Both are checked against the gate
//! once more here, so nothing encoded just before a pause or revoke of
//! media leaves.

use super::Session;
use crate::media::peer::TileSent;
use crate::media::stream::PassTiming;
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tandem_protocol::tiles::{TileMessage, TileRect};
use webrtc::media_stream::track_local::TrackLocal;

impl Session {
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
        }
        if !self.switches.tiles.load(Ordering::Acquire)
            && live.tiles_open
            && live.peer.tiles_keep_up().await
        {
            self.switches
                .tiles
                .store(crate::media::tiles::enabled_from_env(), Ordering::Release);
        }
    }

    /// Sends tiles: a pass's small changes (`pass`: its encode time and
    /// timing, counted as an update), or a lossless re-send of a settled
    /// region (`None`).
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
