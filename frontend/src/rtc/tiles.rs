//! The helper's side of the `tiles` channel (see `tandem_protocol::tiles`):
//! lossless tiles drawn on a canvas over the video, and removed from a
//! region once a newer video frame that changed it is on screen.
//!
//! Messages are handled strictly in arrival order. A tile is decoded
//! (QOI, synchronously) and drawn as it arrives. A video message is
//! "armed", and applied when the video shows its frame
//! (`requestVideoFrameCallback` names the frame's RTP timestamp) or, if
//! the video stalls, after [`STALE_CLEAR_MS`]. Applying it clears its
//! regions and draws again, inside them, the tiles that came after it:
//! those are newer than the frame.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use tandem_protocol::tiles::{TileMessage, TileRect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, ImageData};

/// A video message whose frame has not been shown after this long is
/// applied anyway (the frame was dropped, or the tab is hidden).
pub const STALE_CLEAR_MS: f64 = 1000.0;
/// Video messages waiting for their frame; past that the oldest is
/// applied at once.
const MAX_ARMED: usize = 256;
/// Tiles kept to draw again after a clear.
const MAX_RETAINED: usize = 1024;
/// The side of the blocks whose tile coverage is tracked: a region with
/// no tile in it is not cleared, so the canvas stays untouched while only
/// the video changes (each touch makes the browser composite it again).
const COVER_BLOCK: u16 = 32;

struct Armed {
    seq: u64,
    rtp: u32,
    rects: Vec<TileRect>,
    at: f64,
}

#[derive(Default)]
struct State {
    canvas: Option<(HtmlCanvasElement, CanvasRenderingContext2d)>,
    screen: (u16, u16),
    seq: u64,
    armed: VecDeque<Armed>,
    retained: VecDeque<(u64, TileRect, ImageData)>,
    /// Per [`COVER_BLOCK`] block: a tile may be drawn there.
    covered: Vec<bool>,
    shown_rtp: Option<u32>,
    drawn: u64,
    cleared: u64,
    /// Milliseconds spent decoding and drawing, summed over the tiles.
    draw_ms: f64,
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Whether RTP timestamp `shown` is at or after `rtp` (they wrap).
pub fn shown_at_or_after(shown: u32, rtp: u32) -> bool {
    (shown.wrapping_sub(rtp) as i32) >= 0
}

/// Puts the part of `tile` (an image of `rect`) inside `within` on the
/// canvas.
fn put(context: &CanvasRenderingContext2d, rect: &TileRect, tile: &ImageData, within: &TileRect) {
    let (x0, y0) = (rect.x.max(within.x), rect.y.max(within.y));
    let x1 = (u32::from(rect.x) + u32::from(rect.width))
        .min(u32::from(within.x) + u32::from(within.width));
    let y1 = (u32::from(rect.y) + u32::from(rect.height))
        .min(u32::from(within.y) + u32::from(within.height));
    if x1 <= u32::from(x0) || y1 <= u32::from(y0) {
        return;
    }
    let _ = context.put_image_data_with_dirty_x_and_dirty_y_and_dirty_width_and_dirty_height(
        tile,
        f64::from(rect.x),
        f64::from(rect.y),
        f64::from(x0 - rect.x),
        f64::from(y0 - rect.y),
        f64::from(x1 - u32::from(x0)),
        f64::from(y1 - u32::from(y0)),
    );
}

impl State {
    fn forget(&mut self) {
        self.retained.clear();
        self.armed.clear();
    }

    /// Starts over for a screen of a new size (a new display, a new
    /// connection): the canvas is resized, which clears it.
    fn resize(&mut self, screen: (u16, u16)) {
        self.forget();
        self.screen = screen;
        let (columns, rows) = self.grid();
        self.covered = vec![false; columns * rows];
        if let Some((canvas, _)) = &self.canvas {
            canvas.set_width(u32::from(screen.0));
            canvas.set_height(u32::from(screen.1));
        }
    }

    /// The coverage grid's columns and rows.
    fn grid(&self) -> (usize, usize) {
        (
            usize::from(self.screen.0.div_ceil(COVER_BLOCK)),
            usize::from(self.screen.1.div_ceil(COVER_BLOCK)),
        )
    }

    /// The blocks `rect` touches (`whole`: only those it covers entirely).
    fn blocks(&self, rect: &TileRect, whole: bool) -> Vec<usize> {
        let (columns, rows) = self.grid();
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

    fn cover(&mut self, rect: &TileRect) {
        for i in self.blocks(rect, false) {
            if let Some(c) = self.covered.get_mut(i) {
                *c = true;
            }
        }
    }

    fn note_counts(&self) {
        if let Some((canvas, _)) = &self.canvas {
            let _ = canvas.set_attribute("data-tiles", &self.drawn.to_string());
            let _ = canvas.set_attribute("data-cleared", &self.cleared.to_string());
            if self.drawn > 0 {
                let mean = self.draw_ms / self.drawn as f64;
                let _ = canvas.set_attribute("data-draw-ms", &format!("{mean:.2}"));
            }
        }
    }

    fn draw(&mut self, seq: u64, rect: TileRect, rgba: &[u8]) {
        let Some((_, context)) = &self.canvas else {
            return;
        };
        // A copy in JavaScript's memory: an ImageData made from a slice
        // would view the wasm memory, which is reused once `rgba` is gone,
        // and a retained tile would be drawn again as garbage.
        let Ok(image) = ImageData::new_with_js_u8_clamped_array_and_sh(
            &js_sys::Uint8ClampedArray::from(rgba),
            u32::from(rect.width),
            u32::from(rect.height),
        ) else {
            return;
        };
        let _ = context.put_image_data(&image, f64::from(rect.x), f64::from(rect.y));
        self.drawn += 1;
        self.cover(&rect);
        if !self.armed.is_empty() {
            self.retained.push_back((seq, rect, image));
            if self.retained.len() > MAX_RETAINED {
                self.retained.pop_front();
            }
        }
    }

    /// Applies the video messages whose frames are on screen (or overdue).
    fn pump(&mut self) {
        let Some((_, context)) = self.canvas.clone() else {
            return;
        };
        let now = now_ms();
        while let Some(armed) = self.armed.front() {
            let shown = self
                .shown_rtp
                .is_some_and(|rtp| shown_at_or_after(rtp, armed.rtp));
            let overdue = now - armed.at >= STALE_CLEAR_MS || self.armed.len() > MAX_ARMED;
            if !shown && !overdue {
                break;
            }
            let Some(armed) = self.armed.pop_front() else {
                break;
            };
            for rect in &armed.rects {
                // Every tile drawn marked its blocks: none there, nothing
                // to clear or draw again.
                let touched = self.blocks(rect, false);
                if !touched.iter().any(|&i| self.covered.get(i) == Some(&true)) {
                    continue;
                }
                context.clear_rect(
                    f64::from(rect.x),
                    f64::from(rect.y),
                    f64::from(rect.width),
                    f64::from(rect.height),
                );
                self.cleared += 1;
                for i in self.blocks(rect, true) {
                    if let Some(c) = self.covered.get_mut(i) {
                        *c = false;
                    }
                }
                let mut again = Vec::new();
                for (_, tile, image) in self.retained.iter().filter(|t| t.0 > armed.seq) {
                    if tile.intersects(rect) {
                        put(&context, tile, image, rect);
                        again.push(*tile);
                    }
                }
                for tile in &again {
                    self.cover(tile);
                }
            }
            // Tiles older than every armed message are never drawn again.
            let oldest = self.armed.front().map_or(u64::MAX, |a| a.seq);
            while self.retained.front().is_some_and(|t| t.0 < oldest) {
                self.retained.pop_front();
            }
        }
        self.note_counts();
    }
}

/// The tile canvas of the current connection.
#[derive(Clone, Default)]
pub struct TileLayer {
    state: Rc<RefCell<State>>,
}

impl TileLayer {
    /// Draws into `canvas`, over `video`, whose shown frames it follows.
    pub fn attach(&self, canvas: HtmlCanvasElement, video: &HtmlVideoElement) {
        let Ok(Some(context)) = canvas.get_context("2d") else {
            return;
        };
        let Ok(context) = context.dyn_into::<CanvasRenderingContext2d>() else {
            return;
        };
        {
            let mut state = self.state.borrow_mut();
            let screen = state.screen;
            state.canvas = Some((canvas, context));
            if screen.0 > 0 {
                state.resize(screen);
            }
        }
        follow_frames(Rc::downgrade(&self.state), video.clone());
    }

    /// The video shows the frame with RTP timestamp `rtp` now.
    pub fn frame_shown(&self, rtp: u32) {
        let mut state = self.state.borrow_mut();
        state.shown_rtp = Some(rtp);
        state.pump();
    }

    /// Forgets a replaced connection's tiles.
    pub fn reset(&self) {
        let mut state = self.state.borrow_mut();
        state.forget();
        state.shown_rtp = None;
        if let Some((canvas, context)) = &state.canvas {
            context.clear_rect(
                0.0,
                0.0,
                f64::from(canvas.width()),
                f64::from(canvas.height()),
            );
        }
    }

    /// Takes one message from the channel: a tile is decoded and drawn at
    /// once; a malformed one is dropped.
    pub fn receive(&self, bytes: &[u8]) {
        let started = now_ms();
        let message = match TileMessage::parse(bytes) {
            Ok(message) => message,
            Err(error) => {
                leptos::logging::warn!("tile message dropped: {error}");
                return;
            }
        };
        let mut state = self.state.borrow_mut();
        let screen = match &message {
            TileMessage::Tile { screen, .. } | TileMessage::Video { screen, .. } => *screen,
        };
        if screen != state.screen {
            state.resize(screen);
        }
        state.seq += 1;
        let seq = state.seq;
        match message {
            TileMessage::Tile { rect, .. } => {
                let Some(rgba) = message.rgba() else {
                    leptos::logging::warn!("tile dropped: its pixels do not decode");
                    return;
                };
                state.draw(seq, rect, &rgba);
                state.draw_ms += now_ms() - started;
                state.note_counts();
            }
            TileMessage::Video {
                rtp_timestamp,
                rects,
                ..
            } => {
                state.armed.push_back(Armed {
                    seq,
                    rtp: rtp_timestamp,
                    rects,
                    at: started,
                });
                state.pump();
            }
        }
    }
}

/// Notes the RTP timestamp of every frame the video shows, for as long as
/// the layer lives.
fn follow_frames(state: std::rc::Weak<RefCell<State>>, video: HtmlVideoElement) {
    let Ok(request) = js_sys::Reflect::get(&video, &JsValue::from_str("requestVideoFrameCallback"))
    else {
        return;
    };
    let Some(request) = request.dyn_ref::<js_sys::Function>().cloned() else {
        // Without it, video messages apply after STALE_CLEAR_MS.
        return;
    };
    type FrameCallback = Closure<dyn FnMut(JsValue, JsValue)>;
    let slot: Rc<RefCell<Option<FrameCallback>>> = Rc::new(RefCell::new(None));
    let again = slot.clone();
    let target = video.clone();
    let callback =
        Closure::<dyn FnMut(JsValue, JsValue)>::new(move |_now: JsValue, meta: JsValue| {
            let Some(state) = state.upgrade() else {
                // The layer is gone: no further frames are asked for.
                return;
            };
            let rtp = js_sys::Reflect::get(&meta, &JsValue::from_str("rtpTimestamp"))
                .ok()
                .and_then(|v| v.as_f64());
            if let Some(rtp) = rtp {
                let mut state = state.borrow_mut();
                state.shown_rtp = Some(rtp as u32);
                state.pump();
            }
            if let Some(callback) = again.borrow().as_ref() {
                let _ = request.call1(&target, callback.as_ref());
            }
        });
    let Ok(first) = js_sys::Reflect::get(&video, &JsValue::from_str("requestVideoFrameCallback"))
    else {
        return;
    };
    if let Some(first) = first.dyn_ref::<js_sys::Function>() {
        let _ = first.call1(&video, callback.as_ref());
    }
    *slot.borrow_mut() = Some(callback);
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn rtp_timestamps_compare_across_the_wrap() {
        assert!(shown_at_or_after(10, 10));
        assert!(shown_at_or_after(11, 10));
        assert!(!shown_at_or_after(9, 10));
        assert!(shown_at_or_after(5, u32::MAX - 5));
        assert!(!shown_at_or_after(u32::MAX - 5, 5));
    }
}
