//! The helper's side of the agent's data channels: input out (keys and
//! clicks on the ordered `input` channel, motion on the unordered
//! `pointer` channel) and the agent's control messages in (what it
//! enforces, its cursor, its statistics), clipboard text both ways, and
//! the files channel (handed to [`super::files::Files`]).

use super::tiles::TileLayer;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use tandem_protocol::annotation::{ANNOTATION_CHANNEL, AnnotationMessage};
use tandem_protocol::clipboard::{CLIPBOARD_CHANNEL, ClipboardMessage};
use tandem_protocol::files::FILES_CHANNEL;
use tandem_protocol::input::{
    AgentStats, CONTROL_CHANNEL, Control, INPUT_CHANNEL, Input, POINTER_CHANNEL,
};
use tandem_protocol::session::Mode;
use tandem_protocol::tagged;
use tandem_protocol::tiles::TILES_CHANNEL;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{MessageEvent, RtcDataChannel, RtcDataChannelState, RtcDataChannelType};

/// What the agent last said about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentView {
    /// What the agent enforces now (`None`: nothing flows).
    pub mode: Option<Mode>,
    pub paused: bool,
    pub cursor: Option<(i32, i32)>,
    /// The cursor's picture as a data URL, and its hot spot.
    pub cursor_image: Option<(String, u32, u32)>,
    pub stats: Option<AgentStats>,
    /// A secure desktop (UAC prompt) is up: `Some(true)` when the helper
    /// sees it, `Some(false)` when the sharer must answer it.
    pub secure_desktop: Option<bool>,
    /// The device's last refusal (e.g. Ctrl+Alt+Del without the service).
    pub refused: Option<String>,
    /// The device's displays and the one shared.
    pub displays: Vec<tandem_protocol::input::Display>,
    pub current_display: u32,
    /// The whole screen, or the one window the sharer picked.
    pub shared: tandem_protocol::sharing::Shared,
}

/// Turns the agent's RGBA cursor into a PNG data URL.
fn cursor_url(shape: &tandem_protocol::input::CursorShape) -> Option<String> {
    let window = web_sys::window()?;
    let binary = window.atob(&shape.rgba).ok()?;
    let bytes: Vec<u8> = binary.chars().map(|c| c as u32 as u8).collect();
    if bytes.len() != (shape.width * shape.height * 4) as usize {
        return None;
    }
    let image = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
        wasm_bindgen::Clamped(&bytes[..]),
        shape.width,
        shape.height,
    )
    .ok()?;
    let canvas: web_sys::HtmlCanvasElement = window
        .document()?
        .create_element("canvas")
        .ok()?
        .dyn_into()
        .ok()?;
    canvas.set_width(shape.width);
    canvas.set_height(shape.height);
    let context: web_sys::CanvasRenderingContext2d =
        canvas.get_context("2d").ok()??.dyn_into().ok()?;
    context.put_image_data(&image, 0.0, 0.0).ok()?;
    canvas.to_data_url().ok()
}

type MessageCallback = Closure<dyn FnMut(MessageEvent)>;
type ClipboardListener = Rc<dyn Fn(ClipboardMessage)>;
type AnnotationListener = Rc<dyn Fn(AnnotationMessage)>;

/// The channels of the current connection.
#[derive(Clone, Default)]
pub struct Remote {
    channels: Rc<RefCell<HashMap<String, RtcDataChannel>>>,
    callbacks: Rc<RefCell<Vec<MessageCallback>>>,
    tiles: TileLayer,
    /// Who hears the device's clipboard messages (the clipboard tool).
    clipboard: Rc<RefCell<Option<ClipboardListener>>>,
    /// Who hears the device's annotation messages (the annotation tools).
    annotation: Rc<RefCell<Option<AnnotationListener>>>,
    /// The file transfer, kept across connections.
    files: super::files::Files,
}

impl Remote {
    /// Forgets the channels of a replaced connection.
    pub fn reset(&self) {
        for channel in self.channels.borrow_mut().drain() {
            channel.1.set_onmessage(None);
        }
        self.callbacks.borrow_mut().clear();
        self.tiles.reset();
    }

    /// The canvas layer that shows the agent's tiles over the video.
    pub fn tiles(&self) -> &TileLayer {
        &self.tiles
    }

    /// Takes a channel the agent opened; control messages go to `on_control`.
    pub fn adopt(&self, channel: RtcDataChannel, on_control: Rc<dyn Fn(Control)>) {
        let label = channel.label();
        if label == CONTROL_CHANNEL {
            let callback = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let Some(text) = event.data().as_string() else {
                    return;
                };
                match Control::parse(text.as_bytes()) {
                    Ok(control) => on_control(control),
                    Err(error) => leptos::logging::warn!("control message dropped: {error}"),
                }
            });
            channel.set_onmessage(Some(callback.as_ref().unchecked_ref()));
            self.callbacks.borrow_mut().push(callback);
        } else if label == CLIPBOARD_CHANNEL {
            let listener = self.clipboard.clone();
            let callback = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let Some(text) = event.data().as_string() else {
                    return;
                };
                match ClipboardMessage::parse(text.as_bytes()) {
                    Ok(message) => {
                        let listener = listener.borrow().clone();
                        if let Some(listener) = listener {
                            listener(message);
                        }
                    }
                    Err(error) => leptos::logging::warn!("clipboard message dropped: {error}"),
                }
            });
            channel.set_onmessage(Some(callback.as_ref().unchecked_ref()));
            self.callbacks.borrow_mut().push(callback);
        } else if label == ANNOTATION_CHANNEL {
            let listener = self.annotation.clone();
            let callback = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let Some(text) = event.data().as_string() else {
                    return;
                };
                match AnnotationMessage::parse(text.as_bytes()) {
                    Ok(message) => {
                        let listener = listener.borrow().clone();
                        if let Some(listener) = listener {
                            listener(message);
                        }
                    }
                    Err(error) => leptos::logging::warn!("annotation message dropped: {error}"),
                }
            });
            channel.set_onmessage(Some(callback.as_ref().unchecked_ref()));
            self.callbacks.borrow_mut().push(callback);
        } else if label == FILES_CHANNEL {
            let files = self.files.clone();
            let callback = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                files.receive(&event.data());
            });
            channel.set_onmessage(Some(callback.as_ref().unchecked_ref()));
            self.callbacks.borrow_mut().push(callback);
            self.files.adopt(channel.clone());
        } else if label == TILES_CHANNEL {
            channel.set_binary_type(RtcDataChannelType::Arraybuffer);
            let tiles = self.tiles.clone();
            let callback = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let bytes = js_sys::Uint8Array::new(&event.data()).to_vec();
                tiles.receive(&bytes);
            });
            channel.set_onmessage(Some(callback.as_ref().unchecked_ref()));
            self.callbacks.borrow_mut().push(callback);
        }
        self.channels.borrow_mut().insert(label, channel);
    }

    /// Sends one input event on its channel; false if it is not open.
    pub fn send(&self, input: &Input) -> bool {
        let label = if input.is_motion() {
            POINTER_CHANNEL
        } else {
            INPUT_CHANNEL
        };
        tagged::to_json(input)
            .ok()
            .is_some_and(|text| self.send_text(label, &text))
    }

    /// Sends a control message (e.g. the display to share); false if the
    /// control channel is not open.
    pub fn send_control(&self, control: &Control) -> bool {
        tagged::to_json(control)
            .ok()
            .is_some_and(|text| self.send_text(CONTROL_CHANNEL, &text))
    }

    /// Sends a clipboard message; false if the channel is not open.
    pub fn send_clipboard(&self, message: &ClipboardMessage) -> bool {
        tagged::to_json(message)
            .ok()
            .is_some_and(|text| self.send_text(CLIPBOARD_CHANNEL, &text))
    }

    /// Sends an annotation message; false if the channel is not open.
    pub fn send_annotation(&self, message: &AnnotationMessage) -> bool {
        tagged::to_json(message)
            .ok()
            .is_some_and(|text| self.send_text(ANNOTATION_CHANNEL, &text))
    }

    /// `listener` hears the device's annotation messages from now on.
    pub fn on_annotation(&self, listener: AnnotationListener) {
        *self.annotation.borrow_mut() = Some(listener);
    }

    /// The session's file transfer.
    pub fn files(&self) -> &super::files::Files {
        &self.files
    }

    /// `listener` hears the device's clipboard messages from now on.
    pub fn on_clipboard(&self, listener: ClipboardListener) {
        *self.clipboard.borrow_mut() = Some(listener);
    }

    fn send_text(&self, label: &str, text: &str) -> bool {
        let Some(channel) = self.channels.borrow().get(label).cloned() else {
            return false;
        };
        channel.ready_state() == RtcDataChannelState::Open && channel.send_with_str(text).is_ok()
    }
}

/// Applies one control message to the view.
pub fn apply(view: &mut AgentView, control: Control) {
    match control {
        Control::Status { mode, paused } => {
            view.mode = mode;
            view.paused = paused;
        }
        Control::Cursor { x, y, visible } => view.cursor = visible.then_some((x, y)),
        Control::Stats { stats } => view.stats = Some(stats),
        Control::CursorShape { shape } => {
            view.cursor_image = cursor_url(&shape).map(|url| (url, shape.hot_x, shape.hot_y));
        }
        Control::Displays { displays, current } => {
            view.displays = displays;
            view.current_display = current;
        }
        Control::SecureDesktop { active, visible } => {
            view.secure_desktop = active.then_some(visible);
        }
        Control::Refused { reason } => view.refused = Some(reason),
        Control::Shared { shared } => view.shared = shared,
        Control::SelectDisplay { .. } => {}
    }
}
