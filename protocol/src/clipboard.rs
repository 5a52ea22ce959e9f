//! Clipboard text between the helper's console and the device, on its own
//! data channel ([`CLIPBOARD_CHANNEL`]: ordered and reliable).
//!
//! Each direction is one explicit act of the helper's, in full control
//! only, when the tenant allows it:
//! - [`ClipboardMessage::Put`]: text for the device's clipboard, in
//!   pieces; the last one sets it.
//! - [`ClipboardMessage::Get`]: the device's clipboard text, once; the
//!   agent answers with [`ClipboardMessage::Content`] pieces.
//!
//! Either ends with [`ClipboardMessage::Done`]. Nothing is kept: not by the
//! agent once the piece is handed on, never by the server, which only
//! hears that the clipboard was used (and the sharer is shown so).

use crate::input::MessageError;
use serde::{Deserialize, Serialize};

pub const CLIPBOARD_CHANNEL: &str = "clipboard";

/// The most text a tenant may allow through the clipboard at once.
pub const MAX_CLIPBOARD_BYTES: u32 = 1024 * 1024;
/// The least a tenant may set.
pub const MIN_CLIPBOARD_BYTES: u32 = 1024;
/// The most characters in one piece.
pub const PIECE_CHARS: usize = 8 * 1024;
/// The largest clipboard message accepted: a piece of [`PIECE_CHARS`]
/// characters, each escaped as JSON at worst (`\u001f`).
pub const MAX_CLIPBOARD_MESSAGE_BYTES: usize = PIECE_CHARS * 6 + 256;

/// Which way clipboard text went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ClipboardDirection {
    /// The helper's text was put on the device's clipboard.
    ToDevice,
    /// The device's clipboard was read for the helper.
    FromDevice,
}

/// How a clipboard request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipboardOutcome {
    /// The text is on the device's clipboard.
    Set,
    /// All of the device's clipboard text was sent.
    Sent,
    /// The device's clipboard holds no text.
    Empty,
    /// Over the organization's limit (in bytes); nothing was set or sent.
    TooLarge { limit: u32 },
    /// Not now: no full control, the organization turned the clipboard
    /// off, or another request is under way.
    NotAllowed,
    /// The device's clipboard could not be read or set.
    Failed,
}

impl ClipboardOutcome {
    /// What the helper is told.
    pub fn message(self) -> String {
        match self {
            ClipboardOutcome::Set => "The text is on the device's clipboard.".into(),
            ClipboardOutcome::Sent => "The device's clipboard text arrived.".into(),
            ClipboardOutcome::Empty => "The device's clipboard holds no text.".into(),
            ClipboardOutcome::TooLarge { limit } => format!(
                "Over your organization's clipboard limit of {} KiB; nothing was copied.",
                limit / 1024
            ),
            ClipboardOutcome::NotAllowed => {
                "The clipboard is available only in full control, when your organization allows it."
                    .into()
            }
            ClipboardOutcome::Failed => "The device's clipboard could not be used.".into(),
        }
    }
}

/// One message on the clipboard channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// Tagged on the wire; on wasm32 read and written through crate::tagged.
#[cfg_attr(not(target_arch = "wasm32"), serde(tag = "type"))]
pub enum ClipboardMessage {
    /// Helper → device: a piece of text for the clipboard, `total` bytes
    /// in all; the `last` piece sets it.
    Put {
        id: u32,
        total: u32,
        text: String,
        last: bool,
    },
    /// Helper → device: send the clipboard's text.
    Get { id: u32 },
    /// Device → helper: a piece of the clipboard's text.
    Content {
        id: u32,
        total: u32,
        text: String,
        last: bool,
    },
    /// Either way: request `id` ended so.
    Done { id: u32, outcome: ClipboardOutcome },
}

impl crate::tagged::Tagged for ClipboardMessage {
    const TAG: &'static str = "type";
}

impl ClipboardMessage {
    /// Parses one message, refusing oversized, malformed or out-of-range
    /// ones.
    pub fn parse(bytes: &[u8]) -> Result<Self, MessageError> {
        if bytes.len() > MAX_CLIPBOARD_MESSAGE_BYTES {
            return Err(MessageError::TooLarge { bytes: bytes.len() });
        }
        let message: ClipboardMessage =
            crate::tagged::from_json(bytes).map_err(|e| MessageError::Malformed(e.to_string()))?;
        match &message {
            ClipboardMessage::Put { total, text, .. }
            | ClipboardMessage::Content { total, text, .. }
                if *total > MAX_CLIPBOARD_BYTES
                    || text.len() > *total as usize
                    || text.chars().count() > PIECE_CHARS
                    || text.contains('\0') =>
            {
                Err(MessageError::OutOfRange("clipboard text"))
            }
            _ => Ok(message),
        }
    }
}

/// `text` in pieces of at most [`PIECE_CHARS`] characters, each with
/// whether it is the last. An empty text is one empty piece.
pub fn pieces(text: &str) -> Vec<(String, bool)> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![(String::new(), true)];
    }
    let count = chars.len().div_ceil(PIECE_CHARS);
    chars
        .chunks(PIECE_CHARS)
        .enumerate()
        .map(|(i, piece)| (piece.iter().collect(), i + 1 == count))
        .collect()
}

/// Why pieces of a text were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssemblyError {
    /// Over the limit, said or seen.
    TooLarge,
    /// A piece of another request, or more than the first piece said.
    OutOfOrder,
}

/// Puts the pieces of one text back together, within a limit: the first
/// piece's `total` must fit, and the pieces may not add up to more.
#[derive(Debug)]
pub struct Assembly {
    id: u32,
    total: u32,
    text: String,
}

impl Assembly {
    /// Takes the first piece of request `id`.
    pub fn start(id: u32, total: u32, limit: u32) -> Result<Self, AssemblyError> {
        if total > limit.min(MAX_CLIPBOARD_BYTES) {
            return Err(AssemblyError::TooLarge);
        }
        Ok(Self {
            id,
            total,
            text: String::new(),
        })
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    /// Adds a piece; the whole text once `last`.
    pub fn push(
        &mut self,
        id: u32,
        total: u32,
        text: &str,
        last: bool,
    ) -> Result<Option<String>, AssemblyError> {
        if id != self.id || total != self.total {
            return Err(AssemblyError::OutOfOrder);
        }
        if self.text.len() + text.len() > self.total as usize {
            return Err(AssemblyError::TooLarge);
        }
        self.text.push_str(text);
        if !last {
            return Ok(None);
        }
        if self.text.len() != self.total as usize {
            return Err(AssemblyError::OutOfOrder);
        }
        Ok(Some(std::mem::take(&mut self.text)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn round_trip(text: &str, limit: u32) -> Result<String, AssemblyError> {
        let total = u32::try_from(text.len()).unwrap_or(u32::MAX);
        let mut assembly = Assembly::start(7, total, limit)?;
        let mut whole = None;
        for (piece, last) in pieces(text) {
            let message = ClipboardMessage::Put {
                id: 7,
                total,
                text: piece,
                last,
            };
            let bytes = serde_json::to_vec(&message).unwrap();
            assert!(bytes.len() <= MAX_CLIPBOARD_MESSAGE_BYTES);
            let ClipboardMessage::Put {
                id,
                total,
                text,
                last,
            } = ClipboardMessage::parse(&bytes).unwrap()
            else {
                unreachable!()
            };
            whole = assembly.push(id, total, &text, last)?;
        }
        Ok(whole.unwrap())
    }

    #[test]
    fn text_goes_in_pieces_and_comes_back_whole() {
        for text in [
            String::new(),
            "é€ line\r\nnext\ttab".to_owned(),
            "ß".repeat(PIECE_CHARS * 2 + 3),
            "\u{1f}".repeat(PIECE_CHARS),
        ] {
            assert_eq!(round_trip(&text, MAX_CLIPBOARD_BYTES), Ok(text.clone()));
        }
        assert_eq!(pieces("").len(), 1);
        assert_eq!(pieces(&"a".repeat(PIECE_CHARS + 1)).len(), 2);
    }

    #[test]
    fn the_limit_holds_whatever_the_pieces_say() {
        assert_eq!(
            round_trip(&"a".repeat(2048), 1024),
            Err(AssemblyError::TooLarge)
        );
        assert!(Assembly::start(1, MAX_CLIPBOARD_BYTES + 1, u32::MAX).is_err());
        // A first piece that under-states the total cannot bring more.
        let mut assembly = Assembly::start(1, 4, 1024).unwrap();
        assert_eq!(assembly.push(1, 4, "abc", false), Ok(None));
        assert_eq!(
            assembly.push(1, 4, "de", true),
            Err(AssemblyError::TooLarge)
        );
        // Nor can another request's pieces mix in, or a short text end.
        let mut assembly = Assembly::start(1, 4, 1024).unwrap();
        assert_eq!(
            assembly.push(2, 4, "ab", false),
            Err(AssemblyError::OutOfOrder)
        );
        assert_eq!(
            assembly.push(1, 4, "ab", true),
            Err(AssemblyError::OutOfOrder)
        );
    }

    #[test]
    fn bad_messages_are_refused() {
        let long = format!(
            r#"{{"type":"put","id":1,"total":99999,"text":"{}","last":true}}"#,
            "a".repeat(PIECE_CHARS + 1)
        );
        let over = format!(
            r#"{{"type":"put","id":1,"total":{},"text":"a","last":true}}"#,
            MAX_CLIPBOARD_BYTES + 1
        );
        for bad in [
            &b"{}"[..],
            br#"{"type":"get"}"#,
            br#"{"type":"put","id":1,"total":1,"text":"ab","last":true}"#,
            br#"{"type":"content","id":1,"total":3,"text":"a\u0000b","last":true}"#,
            br#"{"type":"done","id":1,"outcome":"exploded"}"#,
            long.as_bytes(),
            over.as_bytes(),
            &vec![b' '; MAX_CLIPBOARD_MESSAGE_BYTES + 1],
        ] {
            assert!(
                ClipboardMessage::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(&bad[..bad.len().min(80)])
            );
        }
        let done = ClipboardMessage::Done {
            id: 3,
            outcome: ClipboardOutcome::TooLarge { limit: 2048 },
        };
        let bytes = serde_json::to_vec(&done).unwrap();
        assert_eq!(ClipboardMessage::parse(&bytes), Ok(done));
        assert!(
            ClipboardOutcome::TooLarge { limit: 2048 }
                .message()
                .contains("2 KiB")
        );
    }
}
