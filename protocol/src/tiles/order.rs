//! The console's side of the tiles channel, without the canvas: it takes
//! messages in whatever order the unordered channel delivers them and
//! says what to paint, so that the canvas always shows, for every pixel,
//! the newest of the tiles received and the video frames applied.
//!
//! Every change overwrites its pixels (a tile puts them, an applied video
//! message clears them to the video beneath), so a change that arrives
//! late is painted and then the newer changes over it are painted again,
//! clipped to it ("replayed"). A video message is applied once the video
//! shows its frame, or [`STALE_CLEAR_MS`] after it arrived.
//!
//! What is kept is bounded: changes are held only while a late message or
//! a video message still waiting could need them ([`MAX_HELD`],
//! [`MAX_HELD_BYTES`]); a gap that stays open past those bounds is given
//! up, and its message, if it ever comes, is dropped and counted.

use super::TileRect;
use std::collections::{BTreeSet, VecDeque};
use std::num::NonZeroU32;

/// A video message whose frame has not been shown after this long is
/// applied anyway (the frame was dropped, or the tab is hidden).
pub const STALE_CLEAR_MS: f64 = 1000.0;
/// Video messages waiting for their frame; past that the oldest is
/// applied at once.
pub const MAX_ARMED: usize = 256;
/// Changes held for late messages and waiting video messages.
pub const MAX_HELD: usize = 2048;
/// Decoded tile bytes held at most.
pub const MAX_HELD_BYTES: usize = 64 << 20;
/// Messages received beyond a gap; past that the gap is given up.
pub const MAX_AHEAD: usize = 8192;
/// The side of the blocks whose tile coverage is tracked: a region with
/// no tile in it is not cleared, so the canvas stays untouched while only
/// the video changes (each touch makes the browser composite it again).
pub const COVER_BLOCK: u16 = 32;

/// One thing to do to the canvas, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paint<I> {
    /// Size the canvas to a new screen, which clears it.
    Resize((u16, u16)),
    /// Put the part inside `within` of `image`, the pixels of `rect`.
    Put {
        rect: TileRect,
        image: I,
        within: TileRect,
    },
    /// Clear to the video beneath.
    Clear(TileRect),
}

/// What to paint, in order.
type Paints<I> = Vec<Paint<I>>;

/// What the order did, for the console's counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Tiles painted as they arrived.
    pub drawn: u64,
    /// Regions cleared to the video.
    pub cleared: u64,
    /// Messages that arrived after a newer one.
    pub late: u64,
    /// Messages dropped: repeated, from an earlier screen, or behind a gap
    /// that was given up.
    pub dropped: u64,
}

enum Change<I> {
    Tile {
        rect: TileRect,
        image: I,
        bytes: usize,
    },
    Video {
        rects: Vec<TileRect>,
        rtp: u32,
        at: f64,
        applied: bool,
    },
}

struct Held<I> {
    seq: u64,
    change: Change<I>,
}

/// Which [`COVER_BLOCK`] blocks may hold a tile's pixels.
#[derive(Default)]
struct Coverage {
    screen: (u16, u16),
    covered: Vec<bool>,
}

impl Coverage {
    fn new(screen: (u16, u16)) -> Self {
        let (columns, rows) = Self::grid(screen);
        Self {
            screen,
            covered: vec![false; columns * rows],
        }
    }

    fn grid(screen: (u16, u16)) -> (usize, usize) {
        (
            usize::from(screen.0.div_ceil(COVER_BLOCK)),
            usize::from(screen.1.div_ceil(COVER_BLOCK)),
        )
    }

    /// The blocks `rect` touches (`whole`: only those it covers entirely).
    fn blocks(&self, rect: &TileRect, whole: bool) -> Vec<usize> {
        let (columns, rows) = Self::grid(self.screen);
        let end = |start: u16, len: u16| u32::from(start) + u32::from(len);
        let block = u32::from(COVER_BLOCK);
        let (x1, y1) = (end(rect.x, rect.width), end(rect.y, rect.height));
        let span = |from: u32, to: u32, limit: usize, edge: u32| {
            let (first, last) = if whole {
                // A block at the screen's edge is whole up to the edge.
                let to = if to >= edge {
                    to.next_multiple_of(block)
                } else {
                    to
                };
                (from.div_ceil(block), to / block)
            } else {
                (from / block, to.div_ceil(block))
            };
            first as usize..(last as usize).min(limit)
        };
        let xs = span(u32::from(rect.x), x1, columns, u32::from(self.screen.0));
        let ys = span(u32::from(rect.y), y1, rows, u32::from(self.screen.1));
        ys.flat_map(|y| xs.clone().map(move |x| y * columns + x))
            .collect()
    }

    fn any(&self, rect: &TileRect) -> bool {
        self.blocks(rect, false)
            .into_iter()
            .any(|i| self.covered.get(i) == Some(&true))
    }

    fn set(&mut self, rect: &TileRect, whole: bool, to: bool) {
        for i in self.blocks(rect, whole) {
            if let Some(c) = self.covered.get_mut(i) {
                *c = to;
            }
        }
    }

    /// Notes a paint: a put may cover the blocks it touches; a clear
    /// empties the blocks it covers whole.
    fn follow<I>(&mut self, paint: &Paint<I>) {
        match paint {
            Paint::Resize(screen) => *self = Self::new(*screen),
            Paint::Put { within, .. } => self.set(within, false, true),
            Paint::Clear(rect) => self.set(rect, true, false),
        }
    }
}

/// Whether RTP timestamp `shown` is at or after `rtp` (they wrap).
pub fn shown_at_or_after(shown: u32, rtp: u32) -> bool {
    (shown.wrapping_sub(rtp) as i32) >= 0
}

/// The tiles channel of one connection, put in order.
pub struct TileOrder<I> {
    screen: (u16, u16),
    /// The newest message received before the current screen size: a
    /// message up to it belongs to an earlier screen and is dropped.
    screen_floor: u64,
    /// The lowest number received of the current screen size.
    screen_from: u64,
    /// The highest sequence number received.
    highest: u64,
    /// Every number up to this one was received (or given up).
    contiguous: u64,
    /// Numbers received above `contiguous`.
    ahead: BTreeSet<u64>,
    /// Numbers up to this one are dropped when they come.
    floor: u64,
    /// Changes that a late message or a waiting video message may need
    /// painted again, by sequence number.
    held: VecDeque<Held<I>>,
    held_bytes: usize,
    /// Video messages waiting for their frame, by sequence number.
    armed: BTreeSet<u64>,
    shown_rtp: Option<u32>,
    coverage: Coverage,
    counts: Counts,
}

impl<I> Default for TileOrder<I> {
    fn default() -> Self {
        Self {
            screen: (0, 0),
            screen_floor: 0,
            screen_from: 0,
            highest: 0,
            contiguous: 0,
            ahead: BTreeSet::new(),
            floor: 0,
            held: VecDeque::new(),
            held_bytes: 0,
            armed: BTreeSet::new(),
            shown_rtp: None,
            coverage: Coverage::default(),
            counts: Counts::default(),
        }
    }
}

impl<I: Clone> TileOrder<I> {
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// The screen size of the messages being painted.
    pub fn screen(&self) -> (u16, u16) {
        self.screen
    }

    /// A new connection, whose numbers start again: everything is
    /// forgotten and the canvas cleared (its size is kept).
    pub fn reset(&mut self) -> Vec<Paint<I>> {
        let screen = self.screen;
        let counts = self.counts;
        *self = Self {
            screen,
            // Set by the first message of this size that comes.
            screen_from: u64::MAX,
            coverage: Coverage::new(screen),
            counts,
            ..Self::default()
        };
        if screen.0 == 0 || screen.1 == 0 {
            return Vec::new();
        }
        vec![Paint::Clear(TileRect {
            x: 0,
            y: 0,
            width: screen.0,
            height: screen.1,
        })]
    }

    /// The canvas was replaced by an empty one (the view was built
    /// again): what it showed is forgotten, and so is every message older
    /// than the newest received (what held them is gone, so they could not
    /// be put in order; the region shows the video until its next change).
    pub fn canvas_replaced(&mut self) {
        self.floor = self.highest;
        self.contiguous = self.highest;
        self.ahead.clear();
        self.held.clear();
        self.held_bytes = 0;
        self.armed.clear();
        self.coverage = Coverage::new(self.screen);
    }

    /// Message `seq` came but cannot be painted (malformed): its number
    /// is taken, so no change waits for it.
    pub fn skip(&mut self, seq: NonZeroU32) {
        let seq = self.unwrap_seq(seq);
        if seq > self.floor.max(self.contiguous) {
            self.highest = self.highest.max(seq);
            self.received(seq);
        }
        self.counts.dropped += 1;
    }

    /// A tile numbered `seq` of a `screen`-sized screen: `image` holds
    /// `rect`'s pixels, `bytes` of them.
    pub fn tile(
        &mut self,
        seq: NonZeroU32,
        screen: (u16, u16),
        rect: TileRect,
        image: I,
        bytes: usize,
        now: f64,
    ) -> Vec<Paint<I>> {
        let (seq, mut paints) = match self.admit(seq, screen) {
            Ok(admitted) => admitted,
            Err(paints) => return paints,
        };
        self.counts.drawn += 1;
        self.paint(
            &mut paints,
            Paint::Put {
                rect,
                image: image.clone(),
                within: rect,
            },
        );
        self.replay(seq, &rect, &mut paints);
        self.hold(Held {
            seq,
            change: Change::Tile { rect, image, bytes },
        });
        self.held_bytes += bytes;
        self.pump(now, &mut paints);
        paints
    }

    /// A video message numbered `seq`: the frame `rtp` changed `rects`.
    pub fn video(
        &mut self,
        seq: NonZeroU32,
        screen: (u16, u16),
        rtp: u32,
        rects: Vec<TileRect>,
        now: f64,
    ) -> Vec<Paint<I>> {
        let (seq, mut paints) = match self.admit(seq, screen) {
            Ok(admitted) => admitted,
            Err(paints) => return paints,
        };
        self.hold(Held {
            seq,
            change: Change::Video {
                rects,
                rtp,
                at: now,
                applied: false,
            },
        });
        self.armed.insert(seq);
        self.pump(now, &mut paints);
        paints
    }

    /// The video shows the frame with RTP timestamp `rtp` now.
    pub fn shown(&mut self, rtp: u32, now: f64) -> Vec<Paint<I>> {
        self.shown_rtp = Some(rtp);
        let mut paints = Vec::new();
        self.pump(now, &mut paints);
        paints
    }

    /// The full number of a 32-bit one, taken as the nearest to the
    /// highest received (numbers wrap after 2³² messages).
    fn unwrap_seq(&self, seq: NonZeroU32) -> u64 {
        // Reinterpreting the wrapped difference as signed is the point.
        let delta = i64::from(seq.get().wrapping_sub(self.highest as u32) as i32);
        u64::try_from(i64::try_from(self.highest).unwrap_or(i64::MAX) + delta).unwrap_or(0)
    }

    /// Takes message `seq` in (its full number, and what to paint first),
    /// or drops it (`Err`: what to paint all the same).
    fn admit(
        &mut self,
        seq: NonZeroU32,
        screen: (u16, u16),
    ) -> Result<(u64, Paints<I>), Paints<I>> {
        let seq = self.unwrap_seq(seq);
        if seq <= self.floor.max(self.contiguous) || self.ahead.contains(&seq) {
            self.counts.dropped += 1;
            return Err(Vec::new());
        }
        let before = self.highest;
        if seq < before {
            self.counts.late += 1;
        }
        self.highest = before.max(seq);
        self.received(seq);
        let mut paints = Vec::new();
        if screen != self.screen {
            // Screen sizes change in number order: a new size is newer
            // than everything received so far, and a message of another
            // size that is not is from an earlier screen.
            if seq < before {
                self.counts.dropped += 1;
                if seq < self.screen_from {
                    return Err(Vec::new());
                }
                // Numbered among messages of the current size: the screen
                // changed size and back while this one was late, and what
                // is numbered before it belongs to the screen that went.
                return Err(self.start_over_after(seq));
            }
            self.screen = screen;
            self.screen_floor = before;
            self.screen_from = seq;
            self.held.clear();
            self.held_bytes = 0;
            self.armed.clear();
            self.paint(&mut paints, Paint::Resize(screen));
        } else if seq <= self.screen_floor {
            self.counts.dropped += 1;
            return Err(Vec::new());
        } else {
            self.screen_from = self.screen_from.min(seq);
        }
        Ok((seq, paints))
    }

    /// Forgets everything numbered up to `seq` (a screen since gone):
    /// clears the canvas and paints again what came after.
    fn start_over_after(&mut self, seq: u64) -> Vec<Paint<I>> {
        self.screen_floor = seq;
        self.screen_from = seq + 1;
        self.held.retain(|h| h.seq > seq);
        self.held_bytes = self
            .held
            .iter()
            .map(|h| match h.change {
                Change::Tile { bytes, .. } => bytes,
                Change::Video { .. } => 0,
            })
            .sum();
        self.armed.retain(|&armed| armed > seq);
        let whole = TileRect {
            x: 0,
            y: 0,
            width: self.screen.0,
            height: self.screen.1,
        };
        let mut paints = Vec::new();
        self.paint(&mut paints, Paint::Clear(whole));
        self.replay(seq, &whole, &mut paints);
        paints
    }

    fn received(&mut self, seq: u64) {
        self.ahead.insert(seq);
        if self.ahead.len() > MAX_AHEAD {
            // The gap is given up: what fills it will be dropped.
            if let Some(&first) = self.ahead.first() {
                self.floor = self.floor.max(first - 1);
                self.contiguous = first - 1;
            }
        }
        self.advance();
    }

    /// Moves `contiguous` over the numbers received after it. Number 0 is
    /// never sent (numbers go from 2³² − 1 to 1), so it is skipped.
    fn advance(&mut self) {
        loop {
            let next = self.contiguous + 1;
            if next as u32 == 0 {
                self.contiguous = next;
            } else if self.ahead.first() == Some(&next) {
                self.ahead.pop_first();
                self.contiguous = next;
            } else {
                return;
            }
        }
    }

    fn hold(&mut self, change: Held<I>) {
        let at = self.held.partition_point(|h| h.seq < change.seq);
        self.held.insert(at, change);
    }

    fn paint(&mut self, paints: &mut Vec<Paint<I>>, paint: Paint<I>) {
        self.coverage.follow(&paint);
        if matches!(paint, Paint::Clear(_)) {
            self.counts.cleared += 1;
        }
        paints.push(paint);
    }

    /// Paints again, inside `within`, every change newer than `after`
    /// (tiles put, applied video messages cleared), oldest first.
    fn replay(&mut self, after: u64, within: &TileRect, paints: &mut Vec<Paint<I>>) {
        let start = self.held.partition_point(|h| h.seq <= after);
        let mut again = Vec::new();
        for held in self.held.range(start..) {
            match &held.change {
                Change::Tile { rect, image, .. } => {
                    if let Some(part) = rect.intersection(within) {
                        again.push(Paint::Put {
                            rect: *rect,
                            image: image.clone(),
                            within: part,
                        });
                    }
                }
                Change::Video {
                    rects,
                    applied: true,
                    ..
                } => again.extend(
                    rects
                        .iter()
                        .filter_map(|r| r.intersection(within))
                        .map(Paint::Clear),
                ),
                Change::Video { .. } => {}
            }
        }
        for paint in again {
            self.paint(paints, paint);
        }
    }

    /// Applies the video messages whose frames are on screen (or overdue),
    /// then lets go of what no message can need any more.
    fn pump(&mut self, now: f64, paints: &mut Vec<Paint<I>>) {
        let mut due = Vec::new();
        for held in &self.held {
            if let Change::Video {
                rtp,
                at,
                applied: false,
                ..
            } = held.change
            {
                let shown = self
                    .shown_rtp
                    .is_some_and(|shown| shown_at_or_after(shown, rtp));
                if shown || now - at >= STALE_CLEAR_MS {
                    due.push(held.seq);
                }
            }
        }
        let waiting = self.armed.len().saturating_sub(due.len());
        let oldest: Vec<u64> = self
            .armed
            .iter()
            .filter(|seq| !due.contains(seq))
            .take(waiting.saturating_sub(MAX_ARMED))
            .copied()
            .collect();
        due.extend(oldest);
        due.sort_unstable();
        for seq in due {
            self.apply(seq, paints);
        }
        self.let_go(paints);
    }

    /// Clears the regions of video message `seq` (where a tile may be) and
    /// paints again there the changes newer than it.
    fn apply(&mut self, seq: u64, paints: &mut Vec<Paint<I>>) {
        self.armed.remove(&seq);
        let Ok(at) = self.held.binary_search_by_key(&seq, |h| h.seq) else {
            return;
        };
        let rects = match &mut self.held[at].change {
            Change::Video { rects, applied, .. } if !*applied => {
                *applied = true;
                rects.clone()
            }
            _ => return,
        };
        for rect in rects {
            // Every tile put marked its blocks: none there, nothing to
            // clear or paint again.
            if !self.coverage.any(&rect) {
                continue;
            }
            self.paint(paints, Paint::Clear(rect));
            self.replay(seq, &rect, paints);
        }
    }

    /// Forgets changes no message can need: every number up to them came,
    /// and no waiting video message is older. Past the bounds the oldest
    /// go anyway.
    fn let_go(&mut self, paints: &mut Vec<Paint<I>>) {
        loop {
            let Some(front) = self.held.front() else {
                return;
            };
            let needed = front.seq > self.contiguous
                || self.armed.first().is_some_and(|&armed| armed <= front.seq);
            let over = self.held.len() > MAX_HELD || self.held_bytes > MAX_HELD_BYTES;
            if needed && !over {
                return;
            }
            let seq = front.seq;
            if self.armed.contains(&seq) {
                self.apply(seq, paints);
            }
            if let Some(Held {
                change: Change::Tile { bytes, .. },
                ..
            }) = self.held.pop_front()
            {
                self.held_bytes -= bytes;
            }
            if over && seq > self.contiguous {
                // Numbers below it that never came are given up.
                self.floor = self.floor.max(seq);
                self.contiguous = seq;
                self.ahead.retain(|&s| s > seq);
                self.advance();
            }
        }
    }
}

#[cfg(test)]
mod tests;
