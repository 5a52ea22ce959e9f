//! The helper's side of the `tiles` channel (see `tandem_protocol::tiles`):
//! lossless tiles drawn on a canvas over the video, and removed from a
//! region once a newer video frame that changed it is on screen.
//!
//! The channel is unordered; [`TileOrder`] puts its messages in their
//! numbered order and says what to paint. A tile is decoded (QOI,
//! synchronously) and painted as it arrives; a video message is applied
//! when the video shows its frame (`requestVideoFrameCallback` names the
//! frame's RTP timestamp) or, if the video stalls, after
//! `order::STALE_CLEAR_MS`.

use std::cell::RefCell;
use std::rc::Rc;
use tandem_protocol::tiles::order::{Paint, TileOrder};
use tandem_protocol::tiles::{self, TileMessage, TileRect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, ImageData};

#[derive(Default)]
struct State {
    canvas: Option<(HtmlCanvasElement, CanvasRenderingContext2d)>,
    order: TileOrder<ImageData>,
    /// Milliseconds spent decoding and drawing, summed over the tiles.
    draw_ms: f64,
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Puts the part of `tile` (an image of `rect`) inside `within` on the
/// canvas.
fn put(context: &CanvasRenderingContext2d, rect: &TileRect, tile: &ImageData, within: &TileRect) {
    let Some(part) = rect.intersection(within) else {
        return;
    };
    let _ = context.put_image_data_with_dirty_x_and_dirty_y_and_dirty_width_and_dirty_height(
        tile,
        f64::from(rect.x),
        f64::from(rect.y),
        f64::from(part.x - rect.x),
        f64::from(part.y - rect.y),
        f64::from(part.width),
        f64::from(part.height),
    );
}

impl State {
    fn paint(&self, paints: Vec<Paint<ImageData>>) {
        let Some((canvas, context)) = &self.canvas else {
            return;
        };
        for paint in paints {
            match paint {
                Paint::Resize((width, height)) => {
                    canvas.set_width(u32::from(width));
                    canvas.set_height(u32::from(height));
                }
                Paint::Put {
                    rect,
                    image,
                    within,
                } => put(context, &rect, &image, &within),
                Paint::Clear(rect) => context.clear_rect(
                    f64::from(rect.x),
                    f64::from(rect.y),
                    f64::from(rect.width),
                    f64::from(rect.height),
                ),
            }
        }
        self.note_counts();
    }

    fn note_counts(&self) {
        if let Some((canvas, _)) = &self.canvas {
            let counts = self.order.counts();
            let _ = canvas.set_attribute("data-tiles", &counts.drawn.to_string());
            let _ = canvas.set_attribute("data-cleared", &counts.cleared.to_string());
            let _ = canvas.set_attribute("data-late", &counts.late.to_string());
            let _ = canvas.set_attribute("data-dropped", &counts.dropped.to_string());
            if counts.drawn > 0 {
                let mean = self.draw_ms / counts.drawn as f64;
                let _ = canvas.set_attribute("data-draw-ms", &format!("{mean:.2}"));
            }
        }
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
            let screen = state.order.screen();
            if screen.0 > 0 {
                canvas.set_width(u32::from(screen.0));
                canvas.set_height(u32::from(screen.1));
            }
            state.canvas = Some((canvas, context));
            // What was painted before is gone with the old canvas.
            state.order.canvas_replaced();
        }
        follow_frames(Rc::downgrade(&self.state), video.clone());
    }

    /// The video shows the frame with RTP timestamp `rtp` now.
    pub fn frame_shown(&self, rtp: u32) {
        let mut state = self.state.borrow_mut();
        let paints = state.order.shown(rtp, now_ms());
        state.paint(paints);
    }

    /// Forgets a replaced connection's tiles (its numbers start again).
    pub fn reset(&self) {
        let mut state = self.state.borrow_mut();
        let paints = state.order.reset();
        state.paint(paints);
    }

    /// Takes one message from the channel: a tile is decoded and painted
    /// where its number says; a malformed one is dropped.
    pub fn receive(&self, bytes: &[u8]) {
        let started = now_ms();
        let Some(seq) = tiles::sequence(bytes) else {
            leptos::logging::warn!("tile message dropped: it has no number");
            return;
        };
        let mut state = self.state.borrow_mut();
        let message = match TileMessage::parse(bytes) {
            Ok(message) => message,
            Err(error) => {
                leptos::logging::warn!("tile message dropped: {error}");
                state.order.skip(seq);
                return;
            }
        };
        let paints = match message {
            TileMessage::Tile { screen, rect, .. } => {
                let Some(rgba) = message.rgba() else {
                    leptos::logging::warn!("tile dropped: its pixels do not decode");
                    state.order.skip(seq);
                    return;
                };
                // A copy in JavaScript's memory: an ImageData made from a
                // slice would view the wasm memory, which is reused once
                // `rgba` is gone, and a held tile would be painted again
                // as garbage.
                let Ok(image) = ImageData::new_with_js_u8_clamped_array_and_sh(
                    &js_sys::Uint8ClampedArray::from(rgba.as_slice()),
                    u32::from(rect.width),
                    u32::from(rect.height),
                ) else {
                    state.order.skip(seq);
                    return;
                };
                let paints = state
                    .order
                    .tile(seq, screen, rect, image, rgba.len(), started);
                state.paint(paints);
                state.draw_ms += now_ms() - started;
                state.note_counts();
                return;
            }
            TileMessage::Video {
                screen,
                rtp_timestamp,
                rects,
            } => state
                .order
                .video(seq, screen, rtp_timestamp, rects, started),
        };
        state.paint(paints);
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
                let paints = state.order.shown(rtp as u32, now_ms());
                state.paint(paints);
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
