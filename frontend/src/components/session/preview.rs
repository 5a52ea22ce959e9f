//! A screen shared from a browser tab: the sharer's own preview of what
//! they share, with the helper's strokes drawn over it. The page opens the
//! `annotation` data channel on its connection (the helper's console
//! adopts it like an agent's), says whether the helper may draw (the
//! organization allowing it and the sharer not having stopped it), and
//! draws what comes: the same `Sketch`, bounded, as on a device.

use super::annotate::draw_sketch;
use leptos::html::{Canvas, Video};
use leptos::prelude::*;
use std::rc::Rc;
use tandem_protocol::annotation::{ANNOTATION_CHANNEL, AnnotationMessage, SharerDrawing, Sketch};
use tandem_protocol::tagged;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{MediaStream, MessageEvent, RtcDataChannel, RtcPeerConnection};

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

type Callback = Closure<dyn FnMut(MessageEvent)>;

/// The helper's strokes on this page, and the channel they come on.
#[derive(Clone, Copy)]
pub struct SharerSketch {
    sketch: StoredValue<Sketch, LocalStorage>,
    /// Bumped when the strokes change, to draw them again.
    drawn: RwSignal<u32>,
    /// The organization allows annotation (from the session view).
    allowed: RwSignal<bool>,
    /// The sharer stopped the helper drawing.
    off: RwSignal<bool>,
    /// The shared picture's size, from the preview.
    size: StoredValue<(u32, u32)>,
    channel: StoredValue<Option<RtcDataChannel>, LocalStorage>,
    callbacks: StoredValue<Vec<Callback>, LocalStorage>,
    /// Messages dropped: malformed, or while drawing is not allowed.
    pub dropped: StoredValue<u64>,
}

impl Default for SharerSketch {
    fn default() -> Self {
        Self {
            sketch: StoredValue::new_local(Sketch::default()),
            drawn: RwSignal::new(0),
            allowed: RwSignal::new(false),
            off: RwSignal::new(false),
            size: StoredValue::new((0, 0)),
            channel: StoredValue::new_local(None),
            callbacks: StoredValue::new_local(Vec::new()),
            dropped: StoredValue::new(0),
        }
    }
}

impl SharerSketch {
    /// Opens the channel on a new connection (before its offer); `used`
    /// runs at the first stroke of each connection.
    pub fn open_on(self, pc: &RtcPeerConnection, used: Rc<dyn Fn()>) {
        let channel = pc.create_data_channel(ANNOTATION_CHANNEL);
        let opened =
            Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| self.announce());
        channel.set_onopen(Some(opened.as_ref().unchecked_ref()));
        let mut told = false;
        let message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else {
                self.dropped.update_value(|n| *n += 1);
                return;
            };
            let may = self.allowed.get_untracked() && !self.off.get_untracked();
            let changed = match AnnotationMessage::parse(text.as_bytes()) {
                Ok(AnnotationMessage::Stroke { id, tool, points }) if may => {
                    let size = self.size.get_value();
                    self.sketch
                        .try_update_value(|s| s.add(id, tool, &points, size, now_ms()))
                        .unwrap_or(false)
                }
                Ok(AnnotationMessage::Clear) if may => {
                    self.sketch.update_value(Sketch::clear);
                    true
                }
                _ => {
                    self.dropped.update_value(|n| *n += 1);
                    false
                }
            };
            if changed {
                self.drawn.update(|n| *n += 1);
                if !told {
                    told = true;
                    used();
                }
            }
        });
        channel.set_onmessage(Some(message.as_ref().unchecked_ref()));
        self.callbacks.set_value(vec![opened, message]);
        self.channel.set_value(Some(channel));
    }

    /// Tells the helper's console whether it may draw now.
    fn announce(self) {
        let available = self.allowed.get_untracked() && !self.off.get_untracked();
        let message = AnnotationMessage::Available { available };
        if let (Some(channel), Ok(text)) = (self.channel.get_value(), tagged::to_json(&message))
            && channel.ready_state() == web_sys::RtcDataChannelState::Open
        {
            let _ = channel.send_with_str(&text);
        }
    }

    /// The organization's setting, from each view.
    pub fn set_allowed(self, allowed: bool) {
        if self.allowed.get_untracked() != allowed {
            self.allowed.set(allowed);
            if !allowed {
                self.clear();
            }
            self.announce();
        }
    }

    /// The sharer's word: clear, or stop the helper drawing, or let them.
    pub fn act(self, action: SharerDrawing) {
        match action {
            SharerDrawing::Clear => self.clear(),
            SharerDrawing::Off => {
                self.off.set(true);
                self.clear();
                self.announce();
            }
            SharerDrawing::On => {
                self.off.set(false);
                self.announce();
            }
        }
    }

    /// The strokes go, here and on the helper's console.
    fn clear(self) {
        self.sketch.update_value(Sketch::clear);
        self.drawn.update(|n| *n += 1);
        if let (Some(channel), Ok(text)) = (
            self.channel.get_value(),
            tagged::to_json(&AnnotationMessage::Cleared),
        ) && channel.ready_state() == web_sys::RtcDataChannelState::Open
        {
            let _ = channel.send_with_str(&text);
        }
    }
}

/// The preview of `stream` with the helper's strokes over it.
#[component]
pub fn SharePreview(stream: MediaStream, sketch: SharerSketch) -> impl IntoView {
    let video = NodeRef::<Video>::new();
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        if let Some(element) = video.get() {
            element.set_muted(true);
            element.set_src_object(Some(&stream));
            let _ = element.play();
        }
    });
    let measure = move || {
        if let Some(element) = video.get_untracked() {
            sketch
                .size
                .set_value((element.video_width(), element.video_height()));
            sketch.drawn.update(|n| *n += 1);
        }
    };
    Effect::new(move |_| {
        sketch.drawn.track();
        if let Some(canvas) = canvas.get() {
            sketch
                .sketch
                .with_value(|s| draw_sketch(&canvas, s, sketch.size.get_value()));
        }
    });
    if let Ok(handle) = set_interval_with_handle(
        move || {
            if sketch.sketch.with_value(Sketch::fading) {
                sketch.sketch.update_value(|s| {
                    s.fade(now_ms());
                });
                sketch.drawn.update(|n| *n += 1);
            }
        },
        std::time::Duration::from_millis(100),
    ) {
        on_cleanup(move || handle.clear());
    }
    view! {
        <figure class="share-preview">
            <div class="share-preview-stage">
                <video node_ref=video id="share-preview" autoplay=true muted=true playsinline=true
                    aria-label="What you share"
                    on:loadedmetadata=move |_| measure()
                    on:resize=move |_| measure()></video>
                <canvas node_ref=canvas id="share-annotation" class="annotation-layer" aria-hidden="true"></canvas>
            </div>
            <figcaption class="muted">"What you share. The helper's drawings show here."</figcaption>
        </figure>
    }
}
