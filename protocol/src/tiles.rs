//! The `tiles` data channel, agent → console: small screen changes as
//! lossless tiles, drawn on a canvas over the video.
//!
//! H.264 carries the screen, but a 1080p encoder pass for a few changed
//! characters costs ~10 ms, and a real-time frame blurs text. So the agent
//! sends a small change (a typed character, a ticking clock) as a tile:
//! lossless (coded with [`crate::qoi`]), encoded in well under a
//! millisecond, decoded and drawn by the console at once, without a video
//! round trip. Regions that came through the video are re-sent as tiles
//! once they have been quiet for a moment, so settled text is exact
//! whatever else keeps moving (KasmVNC's "video mode" does the same).
//!
//! The console must never show an old tile over newer video, nor an old
//! tile over a newer one. The agent numbers every message (a sequence
//! number, from 1 on each connection) and tells the console, for every
//! video frame, which regions that frame changed ([`TileMessage::Video`],
//! keyed by the frame's RTP timestamp). Once the console shows that frame,
//! it removes the tiles numbered before that message from those regions;
//! tiles numbered after it are newer than the frame and stay.
//!
//! The channel is reliable but unordered. On an ordered channel one lost
//! packet holds back every message behind it until the SCTP retransmission
//! timer fires (webrtc-rs waits at least 1 s, doubling), and the picture
//! stands still. Unordered, only the lost message is late, and the numbers
//! let the console put it where it belongs ([`order::TileOrder`]).
//!
//! Binary, big-endian, one message per data-channel message, each opening
//! with its kind (u8) and sequence number (u32):
//! - `1`, sequence, screen width and height (u16 each), x, y, width,
//!   height (u16 each), then the tile's pixels coded with [`crate::qoi`]:
//!   a [`TileMessage::Tile`] of at most [`MAX_TILE_PIXELS`];
//! - `2`, sequence, screen width and height, the RTP timestamp (u32), a
//!   count (u8, at most [`MAX_VIDEO_RECTS`]) and that many rectangles (x,
//!   y, width, height): a [`TileMessage::Video`].
//!
//! [`TileMessage::encode`] writes sequence number 0; the sender numbers
//! each message with [`stamp`] as it leaves, so the numbers follow the
//! order messages really left in.

use crate::input::MessageError;
use crate::qoi;

pub const TILES_CHANNEL: &str = "tiles";
/// The largest tile message, pixels included: well inside the 64 KiB that
/// every SCTP stack accepts in one message.
pub const MAX_TILE_MESSAGE_BYTES: usize = 60 * 1024;
/// The most regions one video frame names; the agent merges beyond that.
pub const MAX_VIDEO_RECTS: usize = 32;
/// The largest tile (a run-length coded region can be large in few
/// bytes): 1 MiB of RGBA once decoded.
pub const MAX_TILE_PIXELS: u64 = 256 * 1024;

const TILE: u8 = 1;
const VIDEO: u8 = 2;
const TILE_HEADER: usize = 17;
/// Where a message's sequence number is.
const SEQUENCE: std::ops::Range<usize> = 1..5;
/// Where the screen size is, after kind and sequence number.
const SCREEN_AT: usize = 5;
/// The fixed part of a video message, before its rectangles.
const VIDEO_HEADER: usize = 14;

/// A rectangle of the shared screen, in its pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileRect {
    pub x: u16,
    pub y: u16,
    pub width: u16,
    pub height: u16,
}

impl TileRect {
    pub fn area(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// Whether the two share a pixel.
    pub fn intersects(&self, other: &TileRect) -> bool {
        let (ax, ay) = (u32::from(self.x), u32::from(self.y));
        let (bx, by) = (u32::from(other.x), u32::from(other.y));
        ax < bx + u32::from(other.width)
            && bx < ax + u32::from(self.width)
            && ay < by + u32::from(other.height)
            && by < ay + u32::from(self.height)
    }

    /// The pixels the two share, if any.
    pub fn intersection(&self, other: &TileRect) -> Option<TileRect> {
        let x = self.x.max(other.x);
        let y = self.y.max(other.y);
        let end = |start: u16, len: u16| u32::from(start) + u32::from(len);
        let x1 = end(self.x, self.width).min(end(other.x, other.width));
        let y1 = end(self.y, self.height).min(end(other.y, other.height));
        let width = u16::try_from(x1.checked_sub(u32::from(x))?).ok()?;
        let height = u16::try_from(y1.checked_sub(u32::from(y))?).ok()?;
        (width > 0 && height > 0).then_some(TileRect {
            x,
            y,
            width,
            height,
        })
    }

    /// Non-empty and inside a `screen` of (width, height).
    fn fits(&self, screen: (u16, u16)) -> bool {
        self.width > 0
            && self.height > 0
            && u32::from(self.x) + u32::from(self.width) <= u32::from(screen.0)
            && u32::from(self.y) + u32::from(self.height) <= u32::from(screen.1)
    }
}

/// One message on [`TILES_CHANNEL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TileMessage {
    /// The pixels of `rect` as they are now: newer than every video frame
    /// named before this message.
    Tile {
        screen: (u16, u16),
        rect: TileRect,
        /// The pixels, coded with [`crate::qoi`].
        pixels: Vec<u8>,
    },
    /// The video frame with RTP timestamp `rtp_timestamp` changed `rects`:
    /// tiles received before this message are stale there once that frame
    /// is shown.
    Video {
        screen: (u16, u16),
        rtp_timestamp: u32,
        rects: Vec<TileRect>,
    },
}

fn be16(bytes: &[u8], at: usize) -> Result<u16, MessageError> {
    bytes
        .get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(|| MessageError::Malformed("tile message cut short".into()))
}

fn rect_at(bytes: &[u8], at: usize) -> Result<TileRect, MessageError> {
    Ok(TileRect {
        x: be16(bytes, at)?,
        y: be16(bytes, at + 2)?,
        width: be16(bytes, at + 4)?,
        height: be16(bytes, at + 6)?,
    })
}

fn push_rect(out: &mut Vec<u8>, rect: &TileRect) {
    for v in [rect.x, rect.y, rect.width, rect.height] {
        out.extend_from_slice(&v.to_be_bytes());
    }
}

impl TileMessage {
    /// The size of a tile message around `coded` bytes of pixels.
    pub const fn tile_bytes(coded: usize) -> usize {
        TILE_HEADER + coded
    }

    /// A tile of `rect` from RGB rows (`rgb`: width × height × 3 bytes).
    pub fn tile(screen: (u16, u16), rect: TileRect, rgb: &[u8]) -> Self {
        TileMessage::Tile {
            screen,
            rect,
            pixels: qoi::encode(rgb),
        }
    }

    /// A tile's pixels as RGBA rows; `None` for a video message or pixels
    /// that do not decode to exactly its size.
    pub fn rgba(&self) -> Option<Vec<u8>> {
        match self {
            TileMessage::Tile { rect, pixels, .. } => {
                qoi::decode_rgba(pixels, usize::try_from(rect.area()).ok()?)
            }
            TileMessage::Video { .. } => None,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        match self {
            TileMessage::Tile {
                screen,
                rect,
                pixels,
            } => {
                let mut out = Vec::with_capacity(TILE_HEADER + pixels.len());
                out.push(TILE);
                out.extend_from_slice(&0u32.to_be_bytes());
                out.extend_from_slice(&screen.0.to_be_bytes());
                out.extend_from_slice(&screen.1.to_be_bytes());
                push_rect(&mut out, rect);
                out.extend_from_slice(pixels);
                out
            }
            TileMessage::Video {
                screen,
                rtp_timestamp,
                rects,
            } => {
                let mut out = Vec::with_capacity(VIDEO_HEADER + rects.len() * 8);
                out.push(VIDEO);
                out.extend_from_slice(&0u32.to_be_bytes());
                out.extend_from_slice(&screen.0.to_be_bytes());
                out.extend_from_slice(&screen.1.to_be_bytes());
                out.extend_from_slice(&rtp_timestamp.to_be_bytes());
                out.push(u8::try_from(rects.len()).unwrap_or(u8::MAX));
                for rect in rects {
                    push_rect(&mut out, rect);
                }
                out
            }
        }
    }

    /// Parses one message, refusing oversized, malformed or out-of-range
    /// ones (a rectangle outside the screen or too large, a tile without
    /// pixels). A tile's pixels are checked when decoded ([`Self::rgba`]).
    pub fn parse(bytes: &[u8]) -> Result<Self, MessageError> {
        if bytes.len() > MAX_TILE_MESSAGE_BYTES {
            return Err(MessageError::TooLarge { bytes: bytes.len() });
        }
        let screen = (be16(bytes, SCREEN_AT)?, be16(bytes, SCREEN_AT + 2)?);
        if screen.0 == 0 || screen.1 == 0 {
            return Err(MessageError::OutOfRange("screen size"));
        }
        match bytes.first() {
            Some(&TILE) => {
                let rect = rect_at(bytes, SCREEN_AT + 4)?;
                if !rect.fits(screen) || rect.area() > MAX_TILE_PIXELS {
                    return Err(MessageError::OutOfRange("tile rectangle"));
                }
                let pixels = bytes.get(TILE_HEADER..).unwrap_or_default();
                if pixels.is_empty() {
                    return Err(MessageError::Malformed("a tile without pixels".into()));
                }
                Ok(TileMessage::Tile {
                    screen,
                    rect,
                    pixels: pixels.to_vec(),
                })
            }
            Some(&VIDEO) => {
                let rtp = bytes
                    .get(SCREEN_AT + 4..SCREEN_AT + 8)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                    .ok_or_else(|| MessageError::Malformed("tile message cut short".into()))?;
                let count = usize::from(*bytes.get(VIDEO_HEADER - 1).unwrap_or(&0));
                if count > MAX_VIDEO_RECTS {
                    return Err(MessageError::OutOfRange("video rectangles"));
                }
                if bytes.len() != VIDEO_HEADER + count * 8 {
                    return Err(MessageError::Malformed("video message length".into()));
                }
                let rects = (0..count)
                    .map(|i| rect_at(bytes, VIDEO_HEADER + i * 8))
                    .collect::<Result<Vec<_>, _>>()?;
                if !rects.iter().all(|r| r.fits(screen)) {
                    return Err(MessageError::OutOfRange("video rectangle"));
                }
                Ok(TileMessage::Video {
                    screen,
                    rtp_timestamp: rtp,
                    rects,
                })
            }
            _ => Err(MessageError::Malformed("unknown tile message".into())),
        }
    }
}

/// Numbers an encoded message `seq` (the sender's count of messages it
/// has sent on this connection, from 1). A message too short to carry a
/// number is left alone; the receiver refuses it anyway.
pub fn stamp(message: &mut [u8], seq: u32) {
    if let Some(at) = message.get_mut(SEQUENCE) {
        at.copy_from_slice(&seq.to_be_bytes());
    }
}

/// An encoded message's sequence number; `None` when it has none (0, or
/// cut short).
pub fn sequence(message: &[u8]) -> Option<std::num::NonZeroU32> {
    let at = message.get(SEQUENCE)?;
    std::num::NonZeroU32::new(u32::from_be_bytes([at[0], at[1], at[2], at[3]]))
}

pub mod order;

#[cfg(test)]
mod tests {
    use super::*;

    fn coded() -> Vec<u8> {
        qoi::encode(&[9, 9, 9])
    }

    #[test]
    fn messages_round_trip() {
        let tile = TileMessage::Tile {
            screen: (1920, 1080),
            rect: TileRect {
                x: 1900,
                y: 0,
                width: 20,
                height: 1080,
            },
            pixels: qoi::encode(&vec![3; 20 * 1080 * 3]),
        };
        assert_eq!(TileMessage::parse(&tile.encode()), Ok(tile.clone()));
        assert_eq!(tile.rgba().map(|p| p.len()), Some(20 * 1080 * 4));
        let video = TileMessage::Video {
            screen: (1920, 1080),
            rtp_timestamp: u32::MAX,
            rects: vec![
                TileRect {
                    x: 0,
                    y: 0,
                    width: 1920,
                    height: 1080,
                };
                MAX_VIDEO_RECTS
            ],
        };
        assert_eq!(TileMessage::parse(&video.encode()), Ok(video.clone()));
        // The sender numbers each message; the number does not change it.
        let mut sent = video.encode();
        assert_eq!(sequence(&sent), None);
        stamp(&mut sent, 70_000);
        assert_eq!(sequence(&sent).map(|n| n.get()), Some(70_000));
        assert_eq!(TileMessage::parse(&sent), Ok(video));
        let mut short = vec![TILE, 0];
        stamp(&mut short, 5);
        assert_eq!((short, sequence(&[TILE, 0])), (vec![TILE, 0], None));
    }

    #[test]
    fn bad_messages_are_refused_with_a_reason() {
        let rect = TileRect {
            x: 10,
            y: 10,
            width: 10,
            height: 10,
        };
        let tile = |screen, rect, pixels| {
            TileMessage::Tile {
                screen,
                rect,
                pixels,
            }
            .encode()
        };
        assert_eq!(
            TileMessage::parse(&tile((15, 100), rect, coded())),
            Err(MessageError::OutOfRange("tile rectangle"))
        );
        let empty = TileRect { width: 0, ..rect };
        assert_eq!(
            TileMessage::parse(&tile((100, 100), empty, coded())),
            Err(MessageError::OutOfRange("tile rectangle"))
        );
        assert!(matches!(
            TileMessage::parse(&tile((100, 100), rect, Vec::new())),
            Err(MessageError::Malformed(_))
        ));
        // Pixels that do not fill the tile are refused when decoded.
        let Ok(short) = TileMessage::parse(&tile((100, 100), rect, coded())) else {
            panic!("a tile with pixels parses");
        };
        assert_eq!(short.rgba(), None);
        let huge = TileRect {
            x: 0,
            y: 0,
            width: 1024,
            height: 257,
        };
        assert_eq!(
            TileMessage::parse(&tile((2000, 2000), huge, coded())),
            Err(MessageError::OutOfRange("tile rectangle"))
        );
        assert_eq!(
            TileMessage::parse(&tile((0, 100), rect, coded())),
            Err(MessageError::OutOfRange("screen size"))
        );
        let mut big = coded();
        big.resize(MAX_TILE_MESSAGE_BYTES, 0);
        assert!(matches!(
            TileMessage::parse(&tile((100, 100), rect, big)),
            Err(MessageError::TooLarge { .. })
        ));
        let mut video = TileMessage::Video {
            screen: (100, 100),
            rtp_timestamp: 7,
            rects: vec![rect],
        }
        .encode();
        video.push(0);
        assert!(matches!(
            TileMessage::parse(&video),
            Err(MessageError::Malformed(_))
        ));
        let mut many = vec![VIDEO, 0, 0, 0, 1, 0, 100, 0, 100, 0, 0, 0, 7, 33];
        many.extend(std::iter::repeat_n(0, 33 * 8));
        assert_eq!(
            TileMessage::parse(&many),
            Err(MessageError::OutOfRange("video rectangles"))
        );
        for cut in [
            &[][..],
            &[TILE],
            &[TILE, 0, 0, 0, 1, 0, 100, 0, 100, 0],
            &[9, 0, 0, 0, 1, 0, 1, 0, 1],
        ] {
            assert!(TileMessage::parse(cut).is_err(), "{cut:?}");
        }
    }

    #[test]
    fn rectangles_intersect_only_when_they_share_a_pixel() {
        let a = TileRect {
            x: 0,
            y: 0,
            width: 10,
            height: 10,
        };
        let touching = TileRect { x: 10, ..a };
        let overlapping = TileRect { x: 9, y: 9, ..a };
        assert!(!a.intersects(&touching));
        assert!(a.intersects(&overlapping) && overlapping.intersects(&a));
    }
}
