//! The helper's side of the `tiles` channel (see `tandem_protocol::tiles`):
//! lossless tiles drawn on a canvas over the video, and removed from a
//! region once a newer video frame that changed it is on screen.
//!
//! Messages are handled strictly in arrival order. A tile is drawn as soon
//! as it and every tile before it are decoded. A video message is "armed"
//! once everything before it is drawn, and applied when the video shows
//! its frame (`requestVideoFrameCallback` names the frame's RTP timestamp)
//! or, if the video stalls, after [`STALE_CLEAR_MS`]. Applying it clears
//! its regions and draws again, inside them, the tiles that came after it:
//! those are newer than the frame.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use tandem_protocol::tiles::{TileMessage, TileRect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, ImageBitmap};

/// A video message whose frame has not been shown after this long is
/// applied anyway (the frame was dropped, or the tab is hidden).
pub const STALE_CLEAR_MS: f64 = 1000.0;
/// Messages waiting for their tiles to decode; past that the layer starts
/// over (clear, and the video shows through).
const MAX_QUEUED: usize = 2048;
/// Tiles kept to draw again after a clear.
const MAX_RETAINED: usize = 1024;

enum Queued {
    Tile {
        seq: u64,
        rect: TileRect,
        /// `None` while decoding; `Some(None)` if it could not be decoded.
        bitmap: Option<Option<ImageBitmap>>,
    },
    Video(Armed),
}

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
    queue: VecDeque<Queued>,
    armed: VecDeque<Armed>,
    retained: VecDeque<(u64, TileRect, ImageBitmap)>,
    shown_rtp: Option<u32>,
    drawn: u64,
    cleared: u64,
    /// Bumped by [`TileLayer::reset`]: decodes of an older connection
    /// finish into nothing.
    generation: u64,
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

fn draw(context: &CanvasRenderingContext2d, rect: &TileRect, bitmap: &ImageBitmap) {
    let _ = context.draw_image_with_image_bitmap(bitmap, f64::from(rect.x), f64::from(rect.y));
}

fn clear(context: &CanvasRenderingContext2d, rect: &TileRect) {
    context.clear_rect(
        f64::from(rect.x),
        f64::from(rect.y),
        f64::from(rect.width),
        f64::from(rect.height),
    );
}

impl State {
    fn forget(&mut self) {
        for (_, _, bitmap) in self.retained.drain(..) {
            bitmap.close();
        }
        for queued in self.queue.drain(..) {
            if let Queued::Tile {
                bitmap: Some(Some(bitmap)),
                ..
            } = queued
            {
                bitmap.close();
            }
        }
        self.armed.clear();
    }

    /// Starts over for a screen of a new size (a new display, a new
    /// connection): the canvas is resized, which clears it.
    fn resize(&mut self, screen: (u16, u16)) {
        self.forget();
        self.screen = screen;
        if let Some((canvas, _)) = &self.canvas {
            canvas.set_width(u32::from(screen.0));
            canvas.set_height(u32::from(screen.1));
        }
    }

    fn note_counts(&self) {
        if let Some((canvas, _)) = &self.canvas {
            let _ = canvas.set_attribute("data-tiles", &self.drawn.to_string());
            let _ = canvas.set_attribute("data-cleared", &self.cleared.to_string());
        }
    }

    /// Draws what is ready, in order, and applies the video messages
    /// whose frames are on screen.
    fn pump(&mut self) {
        let Some((_, context)) = self.canvas.clone() else {
            return;
        };
        while let Some(front) = self.queue.front() {
            match front {
                Queued::Tile { bitmap: None, .. } => break,
                Queued::Tile { .. } => {
                    let Some(Queued::Tile {
                        seq, rect, bitmap, ..
                    }) = self.queue.pop_front()
                    else {
                        break;
                    };
                    if let Some(Some(bitmap)) = bitmap {
                        draw(&context, &rect, &bitmap);
                        self.drawn += 1;
                        if self.armed.is_empty() {
                            bitmap.close();
                        } else {
                            self.retained.push_back((seq, rect, bitmap));
                            if self.retained.len() > MAX_RETAINED
                                && let Some((_, _, old)) = self.retained.pop_front()
                            {
                                old.close();
                            }
                        }
                    }
                }
                Queued::Video(_) => {
                    if let Some(Queued::Video(armed)) = self.queue.pop_front() {
                        self.armed.push_back(armed);
                    }
                }
            }
        }
        let now = now_ms();
        while let Some(armed) = self.armed.front() {
            let shown = self
                .shown_rtp
                .is_some_and(|rtp| shown_at_or_after(rtp, armed.rtp));
            if !shown && now - armed.at < STALE_CLEAR_MS {
                break;
            }
            let Some(armed) = self.armed.pop_front() else {
                break;
            };
            for rect in &armed.rects {
                clear(&context, rect);
                self.cleared += 1;
                for (_, tile, bitmap) in self.retained.iter().filter(|t| t.0 > armed.seq) {
                    if tile.intersects(rect) {
                        context.save();
                        context.begin_path();
                        context.rect(
                            f64::from(rect.x),
                            f64::from(rect.y),
                            f64::from(rect.width),
                            f64::from(rect.height),
                        );
                        context.clip();
                        draw(&context, tile, bitmap);
                        context.restore();
                    }
                }
            }
            // Tiles older than every armed message are never drawn again.
            let oldest = self.armed.front().map_or(u64::MAX, |a| a.seq);
            while self.retained.front().is_some_and(|t| t.0 < oldest) {
                if let Some((_, _, bitmap)) = self.retained.pop_front() {
                    bitmap.close();
                }
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
        state.generation += 1;
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

    /// Takes one message from the channel; a malformed one is dropped.
    pub fn receive(&self, bytes: &[u8]) {
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
        if state.queue.len() >= MAX_QUEUED {
            leptos::logging::warn!("tiles fall behind: starting over");
            self.drop_state(&mut state);
        }
        state.seq += 1;
        let seq = state.seq;
        match message {
            TileMessage::Tile { rect, png, .. } => {
                state.queue.push_back(Queued::Tile {
                    seq,
                    rect,
                    bitmap: None,
                });
                let generation = state.generation;
                drop(state);
                self.decode(seq, generation, png);
            }
            TileMessage::Video {
                rtp_timestamp,
                rects,
                ..
            } => {
                state.queue.push_back(Queued::Video(Armed {
                    seq,
                    rtp: rtp_timestamp,
                    rects,
                    at: now_ms(),
                }));
                state.pump();
            }
        }
    }

    fn drop_state(&self, state: &mut State) {
        state.generation += 1;
        let screen = state.screen;
        state.resize(screen);
    }

    fn decode(&self, seq: u64, generation: u64, png: Vec<u8>) {
        let weak = Rc::downgrade(&self.state);
        wasm_bindgen_futures::spawn_local(async move {
            let bitmap = decode_png(&png).await;
            let Some(state) = weak.upgrade() else {
                if let Some(bitmap) = bitmap {
                    bitmap.close();
                }
                return;
            };
            let mut state = state.borrow_mut();
            if state.generation != generation {
                if let Some(bitmap) = bitmap {
                    bitmap.close();
                }
                return;
            }
            let slot = state.queue.iter_mut().find_map(|q| match q {
                Queued::Tile {
                    seq: s, bitmap: b, ..
                } if *s == seq => Some(b),
                _ => None,
            });
            if let Some(slot) = slot {
                *slot = Some(bitmap);
            }
            state.pump();
        });
    }
}

async fn decode_png(png: &[u8]) -> Option<ImageBitmap> {
    let window = web_sys::window()?;
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(png));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("image/png");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()?;
    let promise = window.create_image_bitmap_with_blob(&blob).ok()?;
    JsFuture::from(promise).await.ok()?.dyn_into().ok()
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
