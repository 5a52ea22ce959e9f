//! The helper's side of the agent's data channels: input out (keys and
//! clicks on the ordered `input` channel, motion on the unordered
//! `pointer` channel) and the agent's control messages in (what it
//! enforces, its cursor, its statistics).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use tandem_protocol::input::{
    AgentStats, CONTROL_CHANNEL, Control, INPUT_CHANNEL, Input, POINTER_CHANNEL,
};
use tandem_protocol::session::Mode;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{MessageEvent, RtcDataChannel, RtcDataChannelState};

/// What the agent last said about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentView {
    /// What the agent enforces now (`None`: nothing flows).
    pub mode: Option<Mode>,
    pub paused: bool,
    pub cursor: Option<(i32, i32)>,
    pub stats: Option<AgentStats>,
}

type MessageCallback = Closure<dyn FnMut(MessageEvent)>;

/// The channels of the current connection.
#[derive(Clone, Default)]
pub struct Remote {
    channels: Rc<RefCell<HashMap<String, RtcDataChannel>>>,
    callbacks: Rc<RefCell<Vec<MessageCallback>>>,
}

impl Remote {
    /// Forgets the channels of a replaced connection.
    pub fn reset(&self) {
        for channel in self.channels.borrow_mut().drain() {
            channel.1.set_onmessage(None);
        }
        self.callbacks.borrow_mut().clear();
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
        let Some(channel) = self.channels.borrow().get(label).cloned() else {
            return false;
        };
        if channel.ready_state() != RtcDataChannelState::Open {
            return false;
        }
        serde_json::to_string(input)
            .ok()
            .is_some_and(|text| channel.send_with_str(&text).is_ok())
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
        Control::Displays { .. } | Control::CursorShape { .. } | Control::SelectDisplay { .. } => {}
    }
}
