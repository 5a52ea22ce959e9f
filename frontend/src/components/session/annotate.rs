//! Annotation: the helper picks pen, highlighter, arrow or laser and
//! draws over the picture. The strokes are drawn here at once (not after
//! a video round trip) on a canvas over the video, in pixels of the
//! sharer's screen, so they follow their content at any scale, and go to
//! the device's overlay on the `annotation` channel. While a tool is
//! picked the pointer draws instead of controlling the device.

use crate::rtc::remote::Remote;
use leptos::html::{Canvas, Video};
use leptos::prelude::*;
use std::rc::Rc;
use tandem_protocol::annotation::{AnnotationMessage, MAX_POINTS_PER_MESSAGE, Sketch, Tool};
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, MouseEvent};

/// The least time between two stroke messages, in milliseconds.
const SEND_EVERY_MS: u64 = 40;

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// What the annotation tools share: the tool picked (none: the pointer
/// controls the device as usual), the strokes, and whether the device
/// draws them (it says so when the channel opens).
#[derive(Clone, Copy)]
pub struct Annotation {
    pub tool: RwSignal<Option<Tool>>,
    sketch: StoredValue<Sketch, LocalStorage>,
    /// Bumped when the strokes change, to draw them again.
    drawn: RwSignal<u32>,
    /// The stroke being drawn.
    stroke: StoredValue<Option<u32>>,
    next_id: StoredValue<u32>,
    /// The device draws strokes (it has an overlay, and the organization
    /// allows annotation).
    pub available: RwSignal<bool>,
}

impl Annotation {
    pub fn new(remote: StoredValue<Remote, LocalStorage>) -> Self {
        let this = Self {
            tool: RwSignal::new(None),
            sketch: StoredValue::new_local(Sketch::default()),
            drawn: RwSignal::new(0),
            stroke: StoredValue::new(None),
            // Random, so a stroke after a reload never extends one the
            // device still shows from before.
            next_id: StoredValue::new(
                (js_sys::Math::random() * f64::from(u32::MAX / 2)) as u32 + 1,
            ),
            available: RwSignal::new(false),
        };
        let listener = Rc::new(move |message: AnnotationMessage| {
            match message {
                AnnotationMessage::Available { available } => {
                    this.available.set(available);
                    if !available {
                        this.sketch.update_value(Sketch::clear);
                        this.drawn.update(|n| *n += 1);
                        this.tool.set(None);
                    }
                }
                // The strokes went on the device (the sharer cleared them,
                // the sharing paused): here too, so both show the same.
                AnnotationMessage::Cleared => {
                    this.sketch.update_value(Sketch::clear);
                    this.drawn.update(|n| *n += 1);
                }
                AnnotationMessage::Stroke { .. } | AnnotationMessage::Clear => {}
            }
        });
        remote.with_value(|r| r.on_annotation(listener));
        this
    }

    fn clear(self, remote: StoredValue<Remote, LocalStorage>) {
        self.sketch.update_value(Sketch::clear);
        self.drawn.update(|n| *n += 1);
        remote.with_value(|r| r.send_annotation(&AnnotationMessage::Clear));
    }
}

/// The tool buttons: one per tool, pressed while picked, and Clear.
#[component]
pub fn AnnotateTools(
    annotation: Annotation,
    remote: StoredValue<Remote, LocalStorage>,
) -> impl IntoView {
    let tools = Tool::ALL
        .into_iter()
        .map(|tool| {
            let id = format!(
                "annotate-{}",
                tool.label().split(' ').next().unwrap_or("x").to_lowercase()
            );
            view! {
                <button type="button" id=id class="annotate-tool"
                    aria-pressed=move || (annotation.tool.get() == Some(tool)).to_string()
                    on:click=move |_| annotation.tool.update(|t| {
                        *t = if *t == Some(tool) { None } else { Some(tool) };
                    })>
                    {tool.label()}
                </button>
            }
        })
        .collect_view();
    view! {
        <span class="annotate-tools" role="group" aria-label="Annotate">
            {tools}
            <button type="button" id="annotate-clear" on:click=move |_| annotation.clear(remote)>"Clear drawings"</button>
        </span>
    }
}

/// The canvas over the video: shows the strokes and, while a tool is
/// picked, takes the pointer to draw.
#[component]
pub fn AnnotationLayer(
    annotation: Annotation,
    remote: StoredValue<Remote, LocalStorage>,
    video: NodeRef<Video>,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    // Where on the sharer's screen a mouse event is.
    let at = move |event: &MouseEvent| -> Option<(u32, u32)> {
        let element = video.get_untracked()?;
        let rect = element.get_bounding_client_rect();
        super::video::map_point(
            (rect.left(), rect.top(), rect.width(), rect.height()),
            (element.video_width(), element.video_height()),
            (f64::from(event.client_x()), f64::from(event.client_y())),
        )
    };
    let screen = move || {
        video
            .get_untracked()
            .map(|v| (v.video_width(), v.video_height()))
            .unwrap_or((0, 0))
    };
    // Points drawn here but not yet sent: they go together at most every
    // SEND_EVERY_MS, when the stroke ends and before another starts, so
    // a fast pointer never outruns the device's rate.
    let pending = StoredValue::new(None::<(u32, Tool, Vec<(u32, u32)>)>);
    let sent_at = StoredValue::new(0u64);
    let flush = move || {
        let mut taken = None;
        pending.update_value(|p| taken = p.take());
        sent_at.set_value(now_ms());
        let Some((id, tool, points)) = taken else {
            return;
        };
        for piece in points.chunks(MAX_POINTS_PER_MESSAGE) {
            remote.with_value(|r| {
                r.send_annotation(&AnnotationMessage::Stroke {
                    id,
                    tool,
                    points: piece.to_vec(),
                })
            });
        }
    };
    let add = move |id: u32, tool: Tool, point: (u32, u32)| {
        let changed = annotation
            .sketch
            .try_update_value(|s| s.add(id, tool, &[point], screen(), now_ms()))
            .unwrap_or(false);
        if !changed {
            return;
        }
        annotation.drawn.update(|n| *n += 1);
        if pending.with_value(|p| p.as_ref().is_some_and(|(p_id, _, _)| *p_id != id)) {
            flush();
        }
        pending.update_value(|p| {
            p.get_or_insert_with(|| (id, tool, Vec::new()))
                .2
                .push(point)
        });
        if now_ms().saturating_sub(sent_at.get_value()) >= SEND_EVERY_MS {
            flush();
        }
    };
    let on_down = move |event: MouseEvent| {
        let Some(tool) = annotation.tool.get_untracked() else {
            return;
        };
        event.prevent_default();
        event.stop_propagation();
        let id = annotation.next_id.get_value();
        annotation.next_id.set_value(id.wrapping_add(1).max(1));
        annotation.stroke.set_value(Some(id));
        if let Some(point) = at(&event) {
            add(id, tool, point);
        }
    };
    let on_move = move |event: MouseEvent| {
        let (Some(tool), Some(id)) = (
            annotation.tool.get_untracked(),
            annotation.stroke.get_value(),
        ) else {
            return;
        };
        event.stop_propagation();
        let long = annotation.sketch.with_value(|s| {
            s.strokes()
                .iter()
                .any(|st| st.id == id && st.points.len() >= 4 * MAX_POINTS_PER_MESSAGE)
        });
        if let (Some(point), false) = (at(&event), long) {
            add(id, tool, point);
        }
    };
    let on_up = move |event: MouseEvent| {
        if annotation.tool.get_untracked().is_some() {
            event.stop_propagation();
        }
        annotation.stroke.set_value(None);
        flush();
    };
    // Draws the strokes, and again while a laser fades.
    Effect::new(move |_| {
        annotation.drawn.track();
        draw(canvas, annotation, screen());
    });
    if let Ok(handle) = set_interval_with_handle(
        move || {
            flush();
            let fading = annotation.sketch.with_value(Sketch::fading);
            if fading {
                annotation.sketch.update_value(|s| {
                    s.fade(now_ms());
                });
                annotation.drawn.update(|n| *n += 1);
            }
        },
        std::time::Duration::from_millis(100),
    ) {
        on_cleanup(move || handle.clear());
    }
    view! {
        <canvas node_ref=canvas id="annotation-layer"
            class=move || if annotation.tool.get().is_some() { "annotation-layer drawing" } else { "annotation-layer" }
            aria-hidden="true"
            on:mousedown=on_down
            on:mousemove=on_move
            on:mouseup=on_up
            on:mouseleave=move |_| {
                annotation.stroke.set_value(None);
                flush();
            }></canvas>
    }
}

fn css(rgb: u32, alpha: f64) -> String {
    format!(
        "rgba({}, {}, {}, {alpha})",
        (rgb >> 16) & 0xff,
        (rgb >> 8) & 0xff,
        rgb & 0xff
    )
}

fn draw(canvas: NodeRef<Canvas>, annotation: Annotation, size: (u32, u32)) {
    let Some(canvas) = canvas.get_untracked() else {
        return;
    };
    annotation
        .sketch
        .with_value(|sketch| draw_sketch(&canvas, sketch, size));
}

/// Draws `sketch` on `canvas`, whose pixels are made the screen's
/// (`width`×`height`), so strokes land on the pixels they name.
pub fn draw_sketch(canvas: &HtmlCanvasElement, sketch: &Sketch, (width, height): (u32, u32)) {
    if width == 0 || height == 0 {
        return;
    }
    if canvas.width() != width || canvas.height() != height {
        canvas.set_width(width);
        canvas.set_height(height);
    }
    let Some(context) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    context.clear_rect(0.0, 0.0, f64::from(width), f64::from(height));
    context.set_line_cap("round");
    context.set_line_join("round");
    for stroke in sketch.strokes() {
        context.set_stroke_style_str(&css(stroke.tool.rgb(), 1.0));
        context.set_line_width(f64::from(stroke.tool.width()));
        context.begin_path();
        for ((x1, y1), (x2, y2)) in Sketch::segments(stroke) {
            context.move_to(f64::from(x1), f64::from(y1));
            context.line_to(f64::from(x2), f64::from(y2));
        }
        context.stroke();
    }
}
