//! Data-channel messages between the helper's console and the sharer agent.
//!
//! Two channels carry input from the helper, because pointer motion and
//! keys want different delivery:
//! - [`POINTER_CHANNEL`]: unordered, no retransmits; only [`Input::Move`].
//!   A lost move is replaced by the next one.
//! - [`INPUT_CHANNEL`]: ordered and reliable; keys, buttons, wheel, text.
//!   Buttons carry their position so a click lands where it was meant even
//!   if a move was lost.
//!
//! [`CONTROL_CHANNEL`] carries [`Control`] both ways: the agent's mode and
//! pause state, cursor shape and position, display list and stats; the
//! helper's display choice.
//!
//! Coordinates are pixels of the shared display, whatever the scale the
//! helper views it at. Every message is JSON with a size limit; the agent
//! drops (and counts) anything malformed or oversized.

use crate::session::Mode;
use serde::{Deserialize, Serialize};

pub const INPUT_CHANNEL: &str = "input";
pub const POINTER_CHANNEL: &str = "pointer";
pub const CONTROL_CHANNEL: &str = "control";

/// The largest input message accepted.
pub const MAX_INPUT_BYTES: usize = 2048;
/// The longest [`Input::Text`].
pub const MAX_TEXT_CHARS: usize = 256;
/// The longest text the console's "Type text" action takes at once; it
/// goes in [`Input::Text`] pieces of [`MAX_TEXT_CHARS`].
pub const MAX_TYPED_CHARS: usize = 4096;
/// The largest control message accepted (a cursor image fits).
pub const MAX_CONTROL_BYTES: usize = 96 * 1024;
/// The largest cursor image side.
pub const MAX_CURSOR_SIDE: u32 = 128;

/// A mouse button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Button {
    Left,
    Middle,
    Right,
    Back,
    Forward,
}

impl Button {
    /// From `MouseEvent.button`.
    pub fn from_dom(button: i16) -> Option<Self> {
        match button {
            0 => Some(Button::Left),
            1 => Some(Button::Middle),
            2 => Some(Button::Right),
            3 => Some(Button::Back),
            4 => Some(Button::Forward),
            _ => None,
        }
    }
}

/// Key combinations a browser tab cannot send by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecialKeys {
    CtrlAltDel,
    /// The Windows / Super key, pressed and released.
    Windows,
    AltTab,
}

impl SpecialKeys {
    pub const ALL: [SpecialKeys; 3] = [
        SpecialKeys::CtrlAltDel,
        SpecialKeys::Windows,
        SpecialKeys::AltTab,
    ];

    /// The combinations that mean something on a device running `os` (as
    /// the agent registered it): Ctrl+Alt+Del and the Windows key are
    /// Windows's; elsewhere they would type into whatever has the focus.
    pub fn for_os(os: &str) -> &'static [SpecialKeys] {
        if os.to_ascii_lowercase().contains("windows") {
            &Self::ALL
        } else {
            &[SpecialKeys::AltTab]
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SpecialKeys::CtrlAltDel => "Ctrl+Alt+Del",
            SpecialKeys::Windows => "Windows key",
            SpecialKeys::AltTab => "Alt+Tab",
        }
    }

    /// The physical keys, pressed in order and released in reverse.
    pub fn codes(self) -> &'static [&'static str] {
        match self {
            SpecialKeys::CtrlAltDel => &["ControlLeft", "AltLeft", "Delete"],
            SpecialKeys::Windows => &["MetaLeft"],
            SpecialKeys::AltTab => &["AltLeft", "Tab"],
        }
    }
}

/// One input event from the helper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// Tagged on the wire; on wasm32 read and written through crate::tagged.
#[cfg_attr(not(target_arch = "wasm32"), serde(tag = "type"))]
pub enum Input {
    Move {
        x: u32,
        y: u32,
    },
    Button {
        button: Button,
        down: bool,
        x: u32,
        y: u32,
    },
    /// Wheel notches; positive `dy` scrolls down, positive `dx` right.
    Wheel {
        dx: i32,
        dy: i32,
        x: u32,
        y: u32,
    },
    /// A physical key by its `KeyboardEvent.code`, e.g. `KeyA`.
    Key {
        code: String,
        down: bool,
    },
    /// Characters to type that the sharer's layout may not have.
    Text {
        text: String,
    },
    Special {
        keys: SpecialKeys,
    },
    /// Release every key and button held (the helper's tab lost focus).
    ReleaseAll,
    /// Keys or buttons are still held down: sent every
    /// [`HELD_KEEP_ALIVE_MILLIS`] while any is. The agent releases what is
    /// held when neither this nor any other input arrives within
    /// [`HELD_INPUT_TIMEOUT_MILLIS`], so a lost key-up (or a helper gone
    /// mid-press) never leaves a key down on the device.
    Held,
}

impl crate::tagged::Tagged for Input {
    const TAG: &'static str = "type";
}

/// Keys and buttons a run of inputs leaves held down: the console keeps
/// them alive with [`Input::Held`], the agent releases them when that
/// stops.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HeldDown {
    keys: std::collections::BTreeSet<String>,
    buttons: std::collections::BTreeSet<Button>,
}

impl HeldDown {
    /// Notes an input that was sent (console) or carried out (agent).
    pub fn note(&mut self, input: &Input) {
        match input {
            Input::Key { code, down: true } => {
                self.keys.insert(code.clone());
            }
            Input::Key { code, down: false } => {
                self.keys.remove(code);
            }
            Input::Button { button, down, .. } => {
                if *down {
                    self.buttons.insert(*button);
                } else {
                    self.buttons.remove(button);
                }
            }
            Input::ReleaseAll => self.clear(),
            // Pressed and released in one go, or nothing pressed.
            Input::Move { .. }
            | Input::Wheel { .. }
            | Input::Text { .. }
            | Input::Special { .. }
            | Input::Held => {}
        }
    }

    /// Whether the key `code` is held down.
    pub fn holds_key(&self, code: &str) -> bool {
        self.keys.contains(code)
    }

    /// Whether `button` is held down.
    pub fn holds_button(&self, button: Button) -> bool {
        self.buttons.contains(&button)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.buttons.is_empty()
    }

    pub fn clear(&mut self) {
        self.keys.clear();
        self.buttons.clear();
    }

    /// Whether `button` is held.
    pub fn holds(&self, button: Button) -> bool {
        self.buttons.contains(&button)
    }
}

/// How often the console says keys or buttons are still held.
pub const HELD_KEEP_ALIVE_MILLIS: u32 = 250;
/// Silence after which the agent releases what is held: six keep-alives
/// missed in a row.
pub const HELD_INPUT_TIMEOUT_MILLIS: i64 = 1500;

/// Why an input or control message was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageError {
    TooLarge { bytes: usize },
    Malformed(String),
    OutOfRange(&'static str),
}

impl std::fmt::Display for MessageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MessageError::TooLarge { bytes } => write!(f, "message of {bytes} bytes is too large"),
            MessageError::Malformed(why) => write!(f, "malformed message: {why}"),
            MessageError::OutOfRange(what) => write!(f, "{what} is out of range"),
        }
    }
}

impl std::error::Error for MessageError {}

impl Input {
    /// Parses one input message, refusing oversized, malformed or
    /// out-of-range ones.
    pub fn parse(bytes: &[u8]) -> Result<Self, MessageError> {
        if bytes.len() > MAX_INPUT_BYTES {
            return Err(MessageError::TooLarge { bytes: bytes.len() });
        }
        let input: Input =
            crate::tagged::from_json(bytes).map_err(|e| MessageError::Malformed(e.to_string()))?;
        match &input {
            Input::Key { code, .. } if code.is_empty() || code.len() > 32 => {
                Err(MessageError::OutOfRange("key code"))
            }
            Input::Text { text }
                if text.is_empty()
                    || text.chars().count() > MAX_TEXT_CHARS
                    || text
                        .chars()
                        .any(|c| c.is_control() && !matches!(c, '\n' | '\t')) =>
            {
                Err(MessageError::OutOfRange("text"))
            }
            Input::Wheel { dx, dy, .. } if dx.abs() > 100 || dy.abs() > 100 => {
                Err(MessageError::OutOfRange("wheel"))
            }
            _ => Ok(input),
        }
    }

    /// Whether this belongs on the unordered, unreliable pointer channel:
    /// the pointer's position, and the keep-alive for held keys (a lost
    /// one must not hold back the next behind a retransmission).
    pub fn is_motion(&self) -> bool {
        matches!(self, Input::Move { .. } | Input::Held)
    }
}

/// `text` as the [`Input::Text`] messages that type it: line ends as
/// `\n`, other control characters left out (they type nothing a person
/// means), in pieces of at most [`MAX_TEXT_CHARS`], and nothing past
/// [`MAX_TYPED_CHARS`]. Also the number of characters kept.
pub fn typed(text: &str) -> (Vec<Input>, usize) {
    let kept: Vec<char> = text
        .replace("\r\n", "\n")
        .chars()
        .map(|c| if c == '\r' { '\n' } else { c })
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .take(MAX_TYPED_CHARS)
        .collect();
    let pieces = kept
        .chunks(MAX_TEXT_CHARS)
        .map(|piece| Input::Text {
            text: piece.iter().collect(),
        })
        .collect();
    (pieces, kept.len())
}

/// A display the agent can share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Display {
    pub id: u32,
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub primary: bool,
    /// The display's top-left corner on the device's virtual desktop
    /// (negative left of or above the primary display).
    #[serde(default)]
    pub x: i32,
    #[serde(default)]
    pub y: i32,
}

/// A cursor image: straight RGBA, base64 (standard, padded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CursorShape {
    /// Changes whenever the image does; lets the console cache images.
    pub serial: u32,
    pub width: u32,
    pub height: u32,
    pub hot_x: u32,
    pub hot_y: u32,
    pub rgba: String,
}

/// Sender-side figures, about once a second.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentStats {
    pub captured_fps: f32,
    pub encode_ms: f32,
    pub sent_kbps: f32,
    pub dropped_frames: u64,
    pub refused_input: u64,
    /// Input dropped because it fell outside the one window shared (a
    /// pointer event outside it, keys while it lacks the keyboard).
    #[serde(default)]
    pub outside_window: u64,
    /// Malformed, oversized or out-of-range messages dropped so far.
    #[serde(default)]
    pub malformed_messages: u64,
    /// Of the updates, how many went as lossless tiles (the rest as video).
    #[serde(default)]
    pub tile_updates: f32,
    /// Where an update's time goes on the device, means in ms: from the
    /// change being noticed to the capture starting, reading the screen,
    /// and handing the result to WebRTC (packetizing and sending).
    #[serde(default)]
    pub wait_ms: f32,
    #[serde(default)]
    pub capture_ms: f32,
    #[serde(default)]
    pub send_ms: f32,
    /// What the device exchanged with TURN servers over TCP, kbit/s: above
    /// zero, its side of the connection is relayed over TCP (a network
    /// without UDP).
    #[serde(default)]
    pub turn_tcp_kbps: f32,
}

/// Control-channel messages, both ways.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// Tagged on the wire; on wasm32 read and written through crate::tagged.
#[cfg_attr(not(target_arch = "wasm32"), serde(tag = "type"))]
pub enum Control {
    /// Agent → helper: what the agent enforces now.
    Status { mode: Option<Mode>, paused: bool },
    /// Agent → helper.
    Displays {
        displays: Vec<Display>,
        current: u32,
    },
    /// Agent → helper.
    CursorShape { shape: CursorShape },
    /// Agent → helper: the whole screen, or the one window the sharer
    /// picked (all else black, input outside it dropped).
    Shared {
        #[cfg_attr(target_arch = "wasm32", serde(with = "crate::tagged::field"))]
        shared: crate::sharing::Shared,
    },
    /// Agent → helper: position in display pixels.
    Cursor { x: i32, y: i32, visible: bool },
    /// Agent → helper.
    Stats { stats: AgentStats },
    /// Helper → agent: share another display.
    SelectDisplay { id: u32 },
    /// Agent → helper: a secure desktop (a UAC prompt, the sign-in
    /// screen) has the device's input. `visible` says whether the helper
    /// sees and may act on it (Elevation, full control and the agent's
    /// service); otherwise the sharer must answer it.
    SecureDesktop { active: bool, visible: bool },
    /// Agent → helper: the device could not do what the helper asked,
    /// e.g. Ctrl+Alt+Del without the agent's service.
    Refused { reason: String },
}

impl crate::tagged::Tagged for Control {
    const TAG: &'static str = "type";
}

impl Control {
    /// Parses one control message within its size limit.
    pub fn parse(bytes: &[u8]) -> Result<Self, MessageError> {
        if bytes.len() > MAX_CONTROL_BYTES {
            return Err(MessageError::TooLarge { bytes: bytes.len() });
        }
        let control: Control =
            crate::tagged::from_json(bytes).map_err(|e| MessageError::Malformed(e.to_string()))?;
        match &control {
            Control::CursorShape { shape }
                if shape.width > MAX_CURSOR_SIDE || shape.height > MAX_CURSOR_SIDE =>
            {
                Err(MessageError::OutOfRange("cursor size"))
            }
            // JSON numbers past f32's range decode as infinity, which the
            // console would show and which encodes as `null` (found by the
            // data_channel fuzz target).
            Control::Stats { stats }
                if ![
                    stats.captured_fps,
                    stats.encode_ms,
                    stats.sent_kbps,
                    stats.tile_updates,
                    stats.wait_ms,
                    stats.capture_ms,
                    stats.send_ms,
                ]
                .iter()
                .all(|v| v.is_finite()) =>
            {
                Err(MessageError::OutOfRange("stats"))
            }
            Control::Shared { shared } if !shared.is_valid() => {
                Err(MessageError::OutOfRange("window title"))
            }
            _ => Ok(control),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_past_the_range_of_f32_are_refused() {
        // A crash the data_channel fuzz target found: 1.9e62 decoded as
        // infinity and could not be encoded again.
        let huge = br#"{"type":"stats","stats":{"captured_fps":29.5,"encode_ms":8.25,"sent_kbps":1.9e62,"dropped_frames":0,"refused_input":0}}"#;
        assert_eq!(Control::parse(huge), Err(MessageError::OutOfRange("stats")));
        let fine = br#"{"type":"stats","stats":{"captured_fps":29.5,"encode_ms":8.25,"sent_kbps":1700.0,"dropped_frames":0,"refused_input":0}}"#;
        assert!(Control::parse(fine).is_ok());
        assert!(matches!(
            Control::parse(&vec![b' '; MAX_CONTROL_BYTES + 1]),
            Err(MessageError::TooLarge { .. })
        ));
    }

    #[test]
    fn special_keys_follow_the_device_os() {
        assert_eq!(SpecialKeys::for_os("Windows").len(), 3);
        assert_eq!(SpecialKeys::for_os("Linux"), &[SpecialKeys::AltTab]);
        assert!(!SpecialKeys::for_os("Debian GNU/Linux").contains(&SpecialKeys::CtrlAltDel));
    }

    fn round_trip(input: Input) {
        let bytes = serde_json::to_vec(&input).unwrap_or_default();
        assert_eq!(Input::parse(&bytes), Ok(input));
    }

    #[test]
    fn every_input_round_trips() {
        round_trip(Input::Move { x: 1, y: 2 });
        round_trip(Input::Button {
            button: Button::Right,
            down: true,
            x: 3,
            y: 4,
        });
        round_trip(Input::Wheel {
            dx: 0,
            dy: -3,
            x: 5,
            y: 6,
        });
        round_trip(Input::Key {
            code: "KeyA".into(),
            down: false,
        });
        round_trip(Input::Text {
            text: "é€".into()
        });
        round_trip(Input::Special {
            keys: SpecialKeys::CtrlAltDel,
        });
        round_trip(Input::ReleaseAll);
        round_trip(Input::Held);
    }

    #[test]
    fn bad_input_is_refused_not_panicked_on() {
        assert!(matches!(
            Input::parse(&vec![b' '; MAX_INPUT_BYTES + 1]),
            Err(MessageError::TooLarge { .. })
        ));
        for bad in [
            &b"not json"[..],
            br#"{"type":"move","x":-1,"y":0}"#,
            br#"{"type":"launch_missiles"}"#,
            br#"{"type":"key","code":"","down":true}"#,
            br#"{"type":"text","text":""}"#,
            br#"{"type":"text","text":"a\u0007b"}"#,
            br#"{"type":"text","text":"\u001b[2J"}"#,
            br#"{"type":"wheel","dx":0,"dy":1000,"x":0,"y":0}"#,
            &[0xff, 0xfe, 0x00],
        ] {
            assert!(
                Input::parse(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = format!(r#"{{"type":"text","text":"{}"}}"#, "a".repeat(300));
        assert_eq!(
            Input::parse(long.as_bytes()),
            Err(MessageError::OutOfRange("text"))
        );
    }

    #[test]
    fn typed_text_goes_in_pieces_that_each_pass_the_agent_s_checks() {
        let text = format!(
            "{}\r\nline\rtwo\t\u{7}é€{}",
            "x".repeat(300),
            "y".repeat(5000)
        );
        let (pieces, kept) = typed(&text);
        assert_eq!(kept, MAX_TYPED_CHARS);
        let joined: String = pieces
            .iter()
            .map(|p| {
                let bytes = serde_json::to_vec(p).unwrap_or_default();
                match Input::parse(&bytes) {
                    Ok(Input::Text { text }) => text,
                    other => panic!("{other:?}"),
                }
            })
            .collect();
        assert_eq!(pieces.len(), MAX_TYPED_CHARS.div_ceil(MAX_TEXT_CHARS));
        let expected = format!("{}\nline\ntwo\té€", "x".repeat(300));
        assert!(joined.starts_with(&expected), "{:?}", &joined[..320]);
        assert_eq!(joined.chars().count(), MAX_TYPED_CHARS);
        assert_eq!(typed(""), (vec![], 0));
        assert_eq!(typed("\u{1b}"), (vec![], 0));
    }

    #[test]
    fn control_messages_are_limited() {
        let shape = Control::CursorShape {
            shape: CursorShape {
                serial: 1,
                width: 500,
                height: 2,
                hot_x: 0,
                hot_y: 0,
                rgba: String::new(),
            },
        };
        let bytes = serde_json::to_vec(&shape).unwrap_or_default();
        assert_eq!(
            Control::parse(&bytes),
            Err(MessageError::OutOfRange("cursor size"))
        );
        let ok = Control::Status {
            mode: Some(Mode::View),
            paused: false,
        };
        let bytes = serde_json::to_vec(&ok).unwrap_or_default();
        assert_eq!(Control::parse(&bytes), Ok(ok));
    }

    #[test]
    fn buttons_map_from_the_dom() {
        assert_eq!(Button::from_dom(0), Some(Button::Left));
        assert_eq!(Button::from_dom(2), Some(Button::Right));
        assert_eq!(Button::from_dom(9), None);
    }
}
