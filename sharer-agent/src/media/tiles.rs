//! Small changes as lossless tiles, beside the video (see
//! `tandem_protocol::tiles` for the wire and the console's side).
//!
//! [`TilePlanner`] decides, pass by pass and without I/O, where a change
//! goes: a small one as PNG tiles (a typed character, a ticking clock:
//! exact, and encoded in well under a millisecond), a large one (scrolling,
//! a video playing) into the H.264 stream. It remembers which regions the
//! video left lossy, and hands them back for a lossless re-send once they
//! have been quiet for [`SETTLE`]. [`encode_tiles`] turns a region into
//! PNG tile messages within the channel's message limit.

use crate::capture::{Frame, Rect};
use std::time::{Duration, Instant};
use tandem_protocol::tiles::{MAX_TILE_MESSAGE_BYTES, MAX_VIDEO_RECTS, TileMessage, TileRect};

/// A pass whose changes cover at most 1/`TILE_SHARE` of the screen goes as
/// tiles (at 1080p: 129 600 pixels, e.g. a 640×200 area).
pub const TILE_SHARE: u64 = 16;
/// A pass with more changed rectangles than this goes to the video.
pub const MAX_TILE_RECTS: usize = 64;
/// A region the video left lossy is re-sent as tiles after this long
/// without a change (KasmVNC waits about 80 ms plus two frames).
pub const SETTLE: Duration = Duration::from_millis(100);
/// At most 1/`SETTLE_SHARE` of the screen is re-sent in one pass, so a
/// large re-send spreads over a few frames instead of stalling one.
pub const SETTLE_SHARE: u64 = 4;
/// Lossy regions remembered; beyond that the nearest ones merge.
const MAX_LOSSY: usize = 16;
/// A re-send band that compresses worse than this many bytes per pixel is
/// a photograph, not text: it stays with the video (and its sharp
/// top-off) instead of costing megabytes.
const MAX_SETTLE_BYTES_PER_PIXEL: f64 = 1.5;

/// Tiles are on unless `TANDEM_AGENT_TILES=0` (the bench's "video only"
/// system measures the difference).
pub fn enabled_from_env() -> bool {
    std::env::var("TANDEM_AGENT_TILES").map_or(true, |v| v != "0")
}

/// Where one pass's changes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Tiles,
    Video,
}

fn area(rect: &Rect) -> u64 {
    u64::from(rect.width) * u64::from(rect.height)
}

fn intersects(a: &Rect, b: &Rect) -> bool {
    a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
}

/// The smallest rectangle around both.
pub fn union(a: &Rect, b: &Rect) -> Rect {
    let (x, y) = (a.x.min(b.x), a.y.min(b.y));
    Rect {
        x,
        y,
        width: (a.x + a.width).max(b.x + b.width) - x,
        height: (a.y + a.height).max(b.y + b.height) - y,
    }
}

/// Merges `rects` until at most `max` remain, always joining the pair
/// whose union adds the least area.
pub fn merge_to(mut rects: Vec<Rect>, max: usize) -> Vec<Rect> {
    rects.retain(|r| r.width > 0 && r.height > 0);
    while rects.len() > max.max(1) {
        let mut best = (0, 1, u64::MAX);
        for i in 0..rects.len() {
            for j in i + 1..rects.len() {
                let joined = union(&rects[i], &rects[j]);
                let cost = area(&joined).saturating_sub(area(&rects[i]) + area(&rects[j]));
                if cost < best.2 {
                    best = (i, j, cost);
                }
            }
        }
        let second = rects.swap_remove(best.1);
        rects[best.0] = union(&rects[best.0], &second);
    }
    rects
}

/// The rectangle on the wire; `None` past 65 535 pixels.
pub fn wire_rect(rect: &Rect) -> Option<TileRect> {
    Some(TileRect {
        x: u16::try_from(rect.x).ok()?,
        y: u16::try_from(rect.y).ok()?,
        width: u16::try_from(rect.width).ok()?,
        height: u16::try_from(rect.height).ok()?,
    })
}

/// Decides where changes go, and what to re-send losslessly. Pure: times
/// are passed in.
#[derive(Debug, Default)]
pub struct TilePlanner {
    /// Regions last sent through the video, and when they last changed.
    lossy: Vec<(Rect, Instant)>,
}

impl TilePlanner {
    /// Where a pass that changed `damage` on a `screen` goes.
    pub fn route(&self, damage: &[Rect], screen: (u32, u32)) -> Route {
        let total: u64 = damage.iter().map(area).sum();
        let screen_area = u64::from(screen.0) * u64::from(screen.1);
        if damage.is_empty()
            || damage.len() > MAX_TILE_RECTS
            || total.saturating_mul(TILE_SHARE) > screen_area
        {
            Route::Video
        } else {
            Route::Tiles
        }
    }

    /// Notes a pass's changes, whatever their route: a lossy region that
    /// keeps changing is not settled yet.
    pub fn changed(&mut self, damage: &[Rect], now: Instant) {
        for (region, changed_at) in &mut self.lossy {
            if damage.iter().any(|d| intersects(d, region)) {
                *changed_at = now;
            }
        }
    }

    /// Notes changes the video carried: lossy until re-sent. Answers the
    /// regions to name for that frame (at most [`MAX_VIDEO_RECTS`]).
    pub fn sent_as_video(&mut self, damage: &[Rect], now: Instant) -> Vec<Rect> {
        self.changed(damage, now);
        self.lossy
            .extend(damage.iter().filter(|r| area(r) > 0).map(|r| (*r, now)));
        if self.lossy.len() > MAX_LOSSY {
            let newest = self.lossy.iter().map(|l| l.1).max().unwrap_or(now);
            let merged = merge_to(self.lossy.iter().map(|l| l.0).collect(), MAX_LOSSY);
            // A merged region is as unsettled as its newest part.
            self.lossy = merged.into_iter().map(|r| (r, newest)).collect();
        }
        merge_to(damage.to_vec(), MAX_VIDEO_RECTS)
    }

    /// The whole screen became lossy (a keyframe, a new display).
    pub fn all_lossy(&mut self, screen: (u32, u32), now: Instant) {
        self.lossy = vec![(
            Rect {
                x: 0,
                y: 0,
                width: screen.0,
                height: screen.1,
            },
            now,
        )];
    }

    /// Regions quiet for [`SETTLE`], to re-send now: at most
    /// 1/[`SETTLE_SHARE`] of the screen; the rows of a larger region past
    /// that wait for the next pass.
    pub fn settled(&mut self, screen: (u32, u32), now: Instant) -> Vec<Rect> {
        let mut budget = (u64::from(screen.0) * u64::from(screen.1) / SETTLE_SHARE).max(1);
        let mut out = Vec::new();
        let mut kept = Vec::new();
        for (region, changed_at) in std::mem::take(&mut self.lossy) {
            let quiet = now.saturating_duration_since(changed_at) >= SETTLE;
            if !quiet || budget == 0 {
                kept.push((region, changed_at));
                continue;
            }
            let rows = u32::try_from(budget / u64::from(region.width.max(1)))
                .unwrap_or(u32::MAX)
                .min(region.height);
            if rows == 0 {
                kept.push((region, changed_at));
                budget = 0;
                continue;
            }
            out.push(Rect {
                height: rows,
                ..region
            });
            budget = budget.saturating_sub(u64::from(rows) * u64::from(region.width));
            if rows < region.height {
                kept.push((
                    Rect {
                        y: region.y + rows,
                        height: region.height - rows,
                        ..region
                    },
                    changed_at,
                ));
            }
        }
        self.lossy = kept;
        out
    }

    /// Whether some region still waits for its lossless re-send.
    pub fn has_lossy(&self) -> bool {
        !self.lossy.is_empty()
    }
}

/// The frame's pixels in `rect` as 8-bit RGB rows.
fn rgb_rows(frame: &Frame, rect: &Rect) -> Vec<u8> {
    let mut out = Vec::with_capacity(area(rect) as usize * 3);
    let stride = frame.width as usize * 4;
    for y in rect.y..rect.y + rect.height {
        let start = y as usize * stride + rect.x as usize * 4;
        let Some(row) = frame.bgrx.get(start..start + rect.width as usize * 4) else {
            break;
        };
        for px in row.chunks_exact(4) {
            out.extend_from_slice(&[px[2], px[1], px[0]]);
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum TileError {
    #[error("PNG encoding failed: {0}")]
    Png(#[from] png::EncodingError),
    #[error("a tile lies outside the screen")]
    Outside,
}

fn png_of(frame: &Frame, rect: &Rect) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, rect.width, rect.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        encoder.set_filter(png::Filter::Sub);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&rgb_rows(frame, rect))?;
        writer.finish()?;
    }
    Ok(out)
}

/// Tile messages for `rect` of `frame`, each within the channel's limit: a
/// region whose PNG is too large is split into row bands (and a band
/// narrower than one row into columns). With `photo_limit`, a region
/// that compresses like a photograph is left out (`Ok(None)`).
pub fn encode_tiles(
    frame: &Frame,
    rect: &Rect,
    photo_limit: bool,
) -> Result<Option<Vec<Vec<u8>>>, TileError> {
    let screen = (
        u16::try_from(frame.width).map_err(|_| TileError::Outside)?,
        u16::try_from(frame.height).map_err(|_| TileError::Outside)?,
    );
    if rect.x + rect.width > frame.width || rect.y + rect.height > frame.height {
        return Err(TileError::Outside);
    }
    let mut messages = Vec::new();
    let mut bytes = 0usize;
    let mut todo = vec![*rect];
    while let Some(part) = todo.pop() {
        if area(&part) == 0 {
            continue;
        }
        let png = png_of(frame, &part)?;
        if TileMessage::tile_bytes(png.len()) > MAX_TILE_MESSAGE_BYTES {
            // Split along the longer side; the halves go back on the stack
            // (second half first, so the first is sent first).
            let (a, b) = if part.height > 1 {
                let half = part.height / 2;
                (
                    Rect {
                        height: half,
                        ..part
                    },
                    Rect {
                        y: part.y + half,
                        height: part.height - half,
                        ..part
                    },
                )
            } else {
                let half = part.width / 2;
                (
                    Rect {
                        width: half,
                        ..part
                    },
                    Rect {
                        x: part.x + half,
                        width: part.width - half,
                        ..part
                    },
                )
            };
            todo.push(b);
            todo.push(a);
            continue;
        }
        bytes += png.len();
        let wire = wire_rect(&part).ok_or(TileError::Outside)?;
        messages.push(
            TileMessage::Tile {
                screen,
                rect: wire,
                png,
            }
            .encode(),
        );
    }
    if photo_limit && bytes as f64 > area(rect) as f64 * MAX_SETTLE_BYTES_PER_PIXEL {
        return Ok(None);
    }
    Ok(Some(messages))
}

#[cfg(test)]
mod tests;
