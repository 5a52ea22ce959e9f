//! H.264 access units → RTP packets, stamped from the capture clock
//! (90 kHz). The running sum of frame durations drifts when the encoder
//! falls behind, and Chromium's jitter buffer then grows; the capture
//! instant does not drift.
//!
//! When the browser accepted the playout-delay extension, every packet
//! asks for a delay of at least 0 and at most 0 ms. Chromium then shows
//! each frame as soon as it is decoded, with no smoothing buffer and no
//! render-ahead. A remote screen is read, not watched: a late frame is
//! better shown at once than evenly.

use super::peer::Negotiated;
use bytes::Bytes;
use rtc::rtp::codec::h264::H264Payloader;
use rtc::rtp::packetizer::Payloader;
use rtc::rtp::{Header, Packet};
use std::time::Instant;

/// Payload bytes per packet: fits any path MTU after SRTP and headers.
pub const RTP_MTU: usize = 1200;
const VIDEO_CLOCK_HZ: u128 = 90_000;
/// The playout-delay extension's payload: min and max, two 12-bit fields
/// of 10 ms units (so at most 40 950 ms each).
pub fn playout_delay(min_ms: u32, max_ms: u32) -> [u8; 3] {
    let units = |ms: u32| (ms / 10).min(0xFFF);
    let (min, max) = (units(min_ms), units(max_ms).max(units(min_ms)));
    [
        (min >> 4) as u8,
        (((min & 0xF) << 4) | (max >> 8)) as u8,
        (max & 0xFF) as u8,
    ]
}

/// The maximum playout delay asked for: `TANDEM_AGENT_PLAYOUT_MAX_MS`
/// (for measuring, see BENCHMARKS.md), else 0: show each frame at once.
pub fn playout_max_ms_from_env() -> u32 {
    std::env::var("TANDEM_AGENT_PLAYOUT_MAX_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[derive(Debug, thiserror::Error)]
#[error("the frame could not be packetized: {0}")]
pub struct PacketizeError(String);

/// Packetizes one video stream.
#[derive(Debug)]
pub struct Packetizer {
    payloader: H264Payloader,
    ssrc: u32,
    payload_type: u8,
    playout_delay_id: Option<u8>,
    /// The extension's payload (min 0, max as configured).
    playout_delay: [u8; 3],
    sequence: u16,
    epoch: Instant,
    timestamp_offset: u32,
}

impl Packetizer {
    /// `epoch` is the capture clock's zero; the first sequence number and
    /// timestamp offset are random (RFC 3550).
    pub fn new(ssrc: u32, negotiated: Negotiated, epoch: Instant, random: u32) -> Self {
        Self {
            payloader: H264Payloader::default(),
            ssrc,
            payload_type: negotiated.payload_type,
            // The one-byte header form (RFC 8285) has ids 1 to 14 only.
            playout_delay_id: negotiated
                .playout_delay_id
                .filter(|id| (1..=14).contains(id)),
            playout_delay: playout_delay(0, 0),
            sequence: (random >> 16) as u16,
            epoch,
            timestamp_offset: random.rotate_left(7),
        }
    }

    /// Asks for a playout delay of at most `max_ms` (0: none).
    pub fn with_playout_max_ms(mut self, max_ms: u32) -> Self {
        self.playout_delay = playout_delay(0, max_ms);
        self
    }

    /// The RTP timestamp of a frame captured at `captured_at`.
    pub fn timestamp(&self, captured_at: Instant) -> u32 {
        let micros = captured_at
            .saturating_duration_since(self.epoch)
            .as_micros();
        let ticks = (micros * VIDEO_CLOCK_HZ / 1_000_000) as u32;
        ticks.wrapping_add(self.timestamp_offset)
    }

    /// The packets of one Annex B access unit; the last one has the marker.
    pub fn packetize(
        &mut self,
        access_unit: &Bytes,
        captured_at: Instant,
    ) -> Result<Vec<Packet>, PacketizeError> {
        let payloads = self
            .payloader
            .payload(RTP_MTU, access_unit)
            .map_err(|e| PacketizeError(e.to_string()))?;
        let timestamp = self.timestamp(captured_at);
        let last = payloads.len().saturating_sub(1);
        payloads
            .into_iter()
            .enumerate()
            .map(|(i, payload)| {
                let sequence_number = self.sequence;
                self.sequence = self.sequence.wrapping_add(1);
                let mut header = Header {
                    version: 2,
                    marker: i == last,
                    payload_type: self.payload_type,
                    sequence_number,
                    timestamp,
                    ssrc: self.ssrc,
                    ..Default::default()
                };
                if let Some(id) = self.playout_delay_id {
                    header
                        .set_extension(id, Bytes::copy_from_slice(&self.playout_delay))
                        .map_err(|e| PacketizeError(e.to_string()))?;
                }
                Ok(Packet { header, payload })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playout_delays_pack_into_two_twelve_bit_fields_of_10_ms() {
        assert_eq!(playout_delay(0, 0), [0, 0, 0]);
        assert_eq!(playout_delay(0, 100), [0, 0, 10]);
        assert_eq!(playout_delay(20, 50), [0, 0x20, 5]);
        assert_eq!(playout_delay(0, 10_000), [0, 0x03, 0xE8]);
        // Clamped to 12 bits, and max is never below min.
        assert_eq!(playout_delay(0, 1_000_000), [0, 0x0F, 0xFF]);
        assert_eq!(playout_delay(50, 0), [0, 0x50, 5]);
    }
    use crate::capture::Frame;
    use crate::encode::{Encoder, H264Encoder, H264Settings, Quality};
    use std::time::Duration;

    #[test]
    fn timestamps_follow_the_capture_clock_and_packets_fit_the_mtu() {
        let epoch = Instant::now();
        let negotiated = Negotiated {
            payload_type: 108,
            playout_delay_id: None,
        };
        let mut packetizer = Packetizer::new(7, negotiated, epoch, 0x1234_5678);
        let mut encoder = H264Encoder::new(H264Settings::default());
        let mut frame = Frame::new(640, 360);
        for (i, px) in frame.bgrx.iter_mut().enumerate() {
            *px = (i % 251) as u8;
        }
        let first = encoder
            .encode(&frame, Quality::Realtime)
            .map(Bytes::from)
            .unwrap_or_default();
        assert!(!first.is_empty());
        let packets = packetizer
            .packetize(&first, epoch + Duration::from_millis(10))
            .unwrap_or_default();
        assert!(packets.len() > 1, "a noisy keyframe spans packets");
        assert!(packets.iter().all(|p| p.payload.len() <= RTP_MTU));
        let markers: Vec<bool> = packets.iter().map(|p| p.header.marker).collect();
        assert_eq!(markers.iter().filter(|m| **m).count(), 1);
        assert_eq!(markers.last(), Some(&true));
        let sequence: Vec<u16> = packets.iter().map(|p| p.header.sequence_number).collect();
        assert!(sequence.windows(2).all(|w| w[1] == w[0].wrapping_add(1)));
        assert!(packets.iter().all(|p| p.header.payload_type == 108));
        assert!(packets.iter().all(|p| !p.header.extension));

        // A frame captured 2 s later is stamped 2 s later, however late it
        // is packetized: 180 000 ticks of 90 kHz.
        let t0 = packets[0].header.timestamp;
        frame.bgrx[0] ^= 0xff;
        let second = encoder
            .encode(&frame, Quality::Realtime)
            .map(Bytes::from)
            .unwrap_or_default();
        let later = packetizer
            .packetize(&second, epoch + Duration::from_millis(2010))
            .unwrap_or_default();
        assert_eq!(later[0].header.timestamp.wrapping_sub(t0), 180_000);
        assert_eq!(
            later[0].header.sequence_number,
            sequence[sequence.len() - 1].wrapping_add(1)
        );
    }

    #[test]
    fn every_packet_asks_to_be_shown_at_once_when_the_browser_agreed() {
        let epoch = Instant::now();
        let negotiated = Negotiated {
            payload_type: 102,
            playout_delay_id: Some(9),
        };
        let mut packetizer = Packetizer::new(1, negotiated, epoch, 42);
        let mut encoder = H264Encoder::new(H264Settings::default());
        let mut frame = Frame::new(640, 360);
        for (i, px) in frame.bgrx.iter_mut().enumerate() {
            *px = (i % 241) as u8;
        }
        let access_unit = encoder
            .encode(&frame, Quality::Realtime)
            .map(Bytes::from)
            .unwrap_or_default();
        let packets = packetizer
            .packetize(&access_unit, epoch)
            .unwrap_or_default();
        assert!(packets.len() > 1);
        for packet in &packets {
            // On the wire: min 0 and max 0 under the negotiated id, and
            // the packet still fits the MTU budget.
            let delay = packet.header.get_extension(9).unwrap_or_default();
            assert_eq!(&delay[..], &[0, 0, 0]);
            assert_eq!(packet.header.get_extension(1), None);
            assert!(packet.payload.len() <= RTP_MTU);
        }
        // An id outside the one-byte range is left out, not sent garbled.
        let mut odd = Packetizer::new(
            1,
            Negotiated {
                payload_type: 102,
                playout_delay_id: Some(15),
            },
            epoch,
            42,
        );
        let packets = odd.packetize(&access_unit, epoch).unwrap_or_default();
        assert!(!packets.is_empty());
        assert!(packets.iter().all(|p| !p.header.extension));
    }
}
