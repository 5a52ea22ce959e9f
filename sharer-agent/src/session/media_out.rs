//! What leaves for the helper's console from the capture loop: encoded
//! frames as RTP on the video track, each named on the tiles channel with
//! the regions it changed, and tiles. Both are checked against the gate
//! once more here, so nothing encoded just before a pause or revoke of
//! media leaves.

use super::Session;
use crate::media::peer::TileSent;
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tandem_protocol::tiles::{TileMessage, TileRect};
use webrtc::media_stream::track_local::TrackLocal;

impl Session {
    pub(super) async fn on_frame(
        &mut self,
        allowed: bool,
        access_unit: Bytes,
        captured_at: Instant,
        encode_ms: f32,
        changed: Option<((u16, u16), Vec<TileRect>)>,
    ) {
        let Some(live) = &mut self.live else { return };
        let Some(packetizer) = &mut live.packetizer else {
            return;
        };
        if !allowed {
            self.counters.dropped += 1;
            return;
        }
        self.counters.frames += 1;
        self.counters.encode_ms += encode_ms;
        self.counters.bytes += access_unit.len() as u64;
        if let Some((screen, rects)) = changed {
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
        if !self.switches.tiles.load(Ordering::Acquire)
            && live.tiles_open
            && live.peer.tiles_keep_up().await
        {
            self.switches
                .tiles
                .store(crate::media::tiles::enabled_from_env(), Ordering::Release);
        }
    }

    /// Sends tiles: a pass's small changes (`resend` false, counted as a
    /// frame), or a lossless re-send of a settled region.
    pub(super) async fn on_tiles(
        &mut self,
        allowed: bool,
        messages: Vec<Vec<u8>>,
        encode_ms: f32,
        resend: bool,
    ) {
        let Some(live) = &self.live else { return };
        if !allowed || live.packetizer.is_none() {
            self.counters.dropped += 1;
            return;
        }
        if !resend {
            self.counters.frames += 1;
            self.counters.encode_ms += encode_ms;
        }
        for message in &messages {
            self.counters.bytes += message.len() as u64;
            if live.peer.send_tile(message).await == TileSent::Dropped {
                // The rest would leave a hole: the video repaints it all.
                self.switches.tiles.store(false, Ordering::Release);
                self.switches.repaint.store(true, Ordering::Release);
                break;
            }
        }
    }
}
