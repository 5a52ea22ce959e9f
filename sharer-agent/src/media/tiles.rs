//! Small changes as lossless tiles, beside the video (see
//! `tandem_protocol::tiles` for the wire and the console's side).
//!
//! [`split`] decides, pass by pass and without I/O, where each changed
//! area goes: a small one as tiles (a typed character, a ticking clock:
//! exact, and encoded in well under a millisecond), a large one (scrolling,
//! a video playing) into the H.264 stream. [`TilePlanner`] remembers
//! which regions the video left lossy, and hands them back for a lossless
//! re-send once they have been quiet for [`SETTLE`]. [`encode_tiles`] turns a region into
//! tile messages (QOI-coded, see `tandem_protocol::qoi`) within the
//! channel's message and tile size limits.

use crate::capture::{Frame, Rect};
use std::time::{Duration, Instant};
use tandem_protocol::tiles::{
    MAX_TILE_MESSAGE_BYTES, MAX_TILE_PIXELS, MAX_VIDEO_RECTS, TileMessage, TileRect,
};

/// The tiles of one pass cover at most 1/`TILE_SHARE` of the screen (at
/// 1080p: 129 600 pixels, e.g. a 640×200 area).
pub const TILE_SHARE: u64 = 16;
/// The tiles of one pass come from at most this many changed rectangles.
pub const MAX_TILE_RECTS: usize = 64;
/// A region the video left lossy is re-sent as tiles after this long
/// without a change (KasmVNC waits about 80 ms plus two frames).
pub const SETTLE: Duration = Duration::from_millis(100);
/// At most 1/`SETTLE_SHARE` of the screen is re-sent in one pass, so a
/// large re-send spreads over a few frames instead of stalling one.
pub const SETTLE_SHARE: u64 = 8;
/// Settled regions are re-sent only while less than this waits to leave
/// on the tiles channel: a re-send never crowds out a live change.
pub const SETTLE_BACKLOG: usize = 256 * 1024;
/// Small changes go as tiles only while less than this waits to leave;
/// past it the video carries them (it adapts to the link).
pub const ROUTE_BACKLOG: usize = 1024 * 1024;
/// A re-send band that compresses worse than this many bytes per pixel is
/// a photograph, not text: it stays with the video (and its sharp
/// top-off) instead of costing megabytes.
const MAX_SETTLE_BYTES_PER_PIXEL: f64 = 1.5;

/// Tiles are on unless `TANDEM_AGENT_TILES=0` (the bench's "video only"
/// system measures the difference).
pub fn enabled_from_env() -> bool {
    std::env::var("TANDEM_AGENT_TILES").map_or(true, |v| v != "0")
}

pub(crate) fn area(rect: &Rect) -> u64 {
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
pub fn merge_to(rects: Vec<Rect>, max: usize) -> Vec<Rect> {
    merge_avoiding(rects, max, &[])
}

/// [`merge_to`], joining a pair whose union reaches into `avoid` only when
/// no other pair is left.
pub fn merge_avoiding(mut rects: Vec<Rect>, max: usize, avoid: &[Rect]) -> Vec<Rect> {
    rects.retain(|r| r.width > 0 && r.height > 0);
    while rects.len() > max.max(1) {
        let mut best = (0, 1, u64::MAX);
        for i in 0..rects.len() {
            for j in i + 1..rects.len() {
                let joined = union(&rects[i], &rects[j]);
                let mut cost = area(&joined).saturating_sub(area(&rects[i]) + area(&rects[j]));
                if avoid.iter().any(|a| intersects(a, &joined)) {
                    cost = cost.saturating_add(u64::MAX / 2);
                }
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

/// `rects` as they are, or when there are so many that merging them pair
/// by pair would take long (a checkerboard of changes), one rectangle per
/// [`SETTLE_BLOCK`] row around that row's rectangles.
fn rows_if_many(rects: &[Rect]) -> Vec<Rect> {
    if rects.len() <= 4 * MAX_VIDEO_RECTS {
        return rects.to_vec();
    }
    let mut rows: std::collections::BTreeMap<u32, Rect> = std::collections::BTreeMap::new();
    for rect in rects.iter().filter(|r| r.width > 0 && r.height > 0) {
        rows.entry(rect.y / SETTLE_BLOCK)
            .and_modify(|r| *r = union(r, rect))
            .or_insert(*rect);
    }
    rows.into_values().collect()
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

/// The side of the blocks whose lossiness and last change are tracked.
pub const SETTLE_BLOCK: u32 = 32;

/// Decides where changes go, and what to re-send losslessly. Pure: times
/// are passed in. Lossiness and quiet are tracked per
/// [`SETTLE_BLOCK`]-pixel block, so a ticking clock keeps only its own
/// blocks unsettled, not the page around it.
#[derive(Debug, Default)]
pub struct TilePlanner {
    /// The grid's size in blocks.
    columns: u32,
    rows: u32,
    /// Per block: sent only through the video since it last changed.
    lossy: Vec<bool>,
    /// Per block: when it last changed.
    changed_at: Vec<Option<Instant>>,
}

impl TilePlanner {
    /// Sizes the grid for `screen`; a new size forgets everything.
    fn fit(&mut self, screen: (u32, u32)) {
        let columns = screen.0.div_ceil(SETTLE_BLOCK);
        let rows = screen.1.div_ceil(SETTLE_BLOCK);
        if (columns, rows) != (self.columns, self.rows) {
            let blocks = columns as usize * rows as usize;
            *self = Self {
                columns,
                rows,
                lossy: vec![false; blocks],
                changed_at: vec![None; blocks],
            };
        }
    }

    /// The indices of the blocks `rect` touches.
    fn blocks(&self, rect: &Rect) -> impl Iterator<Item = usize> + '_ {
        let x0 = (rect.x / SETTLE_BLOCK).min(self.columns);
        let y0 = (rect.y / SETTLE_BLOCK).min(self.rows);
        let x1 = (rect.x + rect.width)
            .div_ceil(SETTLE_BLOCK)
            .min(self.columns);
        let y1 = (rect.y + rect.height).div_ceil(SETTLE_BLOCK).min(self.rows);
        let columns = self.columns as usize;
        (y0..y1).flat_map(move |y| (x0..x1).map(move |x| y as usize * columns + x as usize))
    }

    /// Notes a pass's changes, whatever their route: a block that keeps
    /// changing is not settled yet.
    pub fn changed(&mut self, damage: &[Rect], screen: (u32, u32), now: Instant) {
        self.fit(screen);
        for rect in damage {
            let touched: Vec<usize> = self.blocks(rect).collect();
            for i in touched {
                self.changed_at[i] = Some(now);
            }
        }
    }

    /// Notes changes the video carried: lossy until re-sent. Answers the
    /// regions to name for that frame (at most [`MAX_VIDEO_RECTS`]), which
    /// reach into the same pass's `tiles` only when they must. Everything
    /// named is lossy afterwards: the console removes the tiles there.
    pub fn sent_as_video(
        &mut self,
        damage: &[Rect],
        tiles: &[Rect],
        screen: (u32, u32),
        now: Instant,
    ) -> Vec<Rect> {
        self.changed(damage, screen, now);
        let named = merge_avoiding(rows_if_many(damage), MAX_VIDEO_RECTS, tiles);
        for rect in &named {
            let touched: Vec<usize> = self.blocks(rect).collect();
            for i in touched {
                self.lossy[i] = true;
            }
        }
        named
    }

    /// The whole screen became lossy (a keyframe, a new display).
    pub fn all_lossy(&mut self, screen: (u32, u32), now: Instant) {
        self.fit(screen);
        self.lossy.fill(true);
        self.changed_at.fill(Some(now));
    }

    /// Lossy blocks quiet for [`SETTLE`], to re-send now, joined into
    /// rectangles along each block row and clipped to the `screen`: at most
    /// 1/[`SETTLE_SHARE`] of the screen (but always one block); the rest
    /// wait for the next pass.
    pub fn settled(&mut self, screen: (u32, u32), now: Instant) -> Vec<Rect> {
        self.fit(screen);
        let budget = u64::from(screen.0) * u64::from(screen.1) / SETTLE_SHARE;
        let mut spent = 0u64;
        let mut out: Vec<Rect> = Vec::new();
        for row in 0..self.rows {
            let mut run: Option<Rect> = None;
            for column in 0..self.columns {
                let i = (row * self.columns + column) as usize;
                let due = self.lossy[i]
                    && self.changed_at[i]
                        .is_none_or(|t| now.saturating_duration_since(t) >= SETTLE);
                let block = Rect {
                    x: column * SETTLE_BLOCK,
                    y: row * SETTLE_BLOCK,
                    width: SETTLE_BLOCK.min(screen.0 - column * SETTLE_BLOCK),
                    height: SETTLE_BLOCK.min(screen.1 - row * SETTLE_BLOCK),
                };
                let affordable = spent == 0 || spent + area(&block) <= budget;
                if due && affordable {
                    self.lossy[i] = false;
                    spent += area(&block);
                    run = Some(match run {
                        Some(r) => union(&r, &block),
                        None => block,
                    });
                } else if let Some(r) = run.take() {
                    out.push(r);
                }
            }
            out.extend(run);
        }
        out
    }

    /// Whether some block still waits for its lossless re-send.
    pub fn has_lossy(&self) -> bool {
        self.lossy.contains(&true)
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
    #[error("a tile lies outside the screen")]
    Outside,
}

/// Tile messages for `rect` of `frame`, each within the channel's limits: a
/// region too large, or whose coded pixels are, is split into row bands
/// (and a band of one row into columns). With `photo_limit`, a region
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
        let wire = wire_rect(&part).ok_or(TileError::Outside)?;
        let message = (area(&part) <= MAX_TILE_PIXELS)
            .then(|| TileMessage::tile(screen, wire, &rgb_rows(frame, &part)).encode())
            .filter(|m| m.len() <= MAX_TILE_MESSAGE_BYTES);
        let Some(message) = message else {
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
        };
        bytes += message.len();
        messages.push(message);
    }
    if photo_limit && bytes as f64 > area(rect) as f64 * MAX_SETTLE_BYTES_PER_PIXEL {
        return Ok(None);
    }
    Ok(Some(messages))
}

mod split;
#[cfg(test)]
mod tests;

pub use split::{Split, split};
