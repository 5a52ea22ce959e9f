//! File transfer between the helper's console and the device, on its own
//! data channel ([`FILES_CHANNEL`]: ordered and reliable). Bytes go peer to
//! peer, never through the server's storage.
//!
//! - Helper → device: [`FileMessage::Offer`] names a file and its size. The
//!   agent asks the sharer (their page shows the name and size, through the
//!   server as a [`FileNotice`] that is relayed, never stored). Once they
//!   accept, [`FileMessage::Go`] says from which byte to send; the helper
//!   sends [`Chunk`]s (binary messages) and then [`FileMessage::End`] with
//!   the SHA-256 of the whole file. The agent writes into a hidden part
//!   file in the sharer's Downloads folder and keeps it under a fresh,
//!   sanitized name ([`safe_file_name`]) only if the hash matches.
//! - Device → helper: [`FileMessage::Request`] names a path on the device.
//!   The sharer sees the file's name and size and decides; the agent then
//!   sends chunks and `End`, and the helper answers
//!   [`FileMessage::Received`] once the hash matched.
//! - Either side may cancel; after a short drop the helper sends
//!   [`FileMessage::Resume`] on the new channel and the transfer goes on
//!   from what arrived. [`FileMessage::Done`] ends every transfer.

use crate::input::MessageError;
use serde::{Deserialize, Serialize};

pub const FILES_CHANNEL: &str = "files";

/// The most file bytes in one chunk message.
pub const CHUNK_BYTES: usize = 16 * 1024;
/// A chunk message: a tag byte, the transfer's id and the chunk's offset.
pub const CHUNK_HEADER_BYTES: usize = 1 + 4 + 8;
const CHUNK_TAG: u8 = 0xF1;
/// The largest JSON message on the channel (a request carries a path).
pub const MAX_FILE_MESSAGE_BYTES: usize = 8 * 1024;
/// The longest path a helper may ask for, in bytes.
pub const MAX_PATH_BYTES: usize = 4096;
/// The longest path shown to the sharer, in characters.
pub const MAX_SHOWN_PATH_CHARS: usize = 300;
/// The longest name a received file gets, in bytes (UTF-8).
pub const MAX_NAME_BYTES: usize = 200;
/// The size limits a tenant may set, and its default.
pub const MIN_FILE_LIMIT: u64 = 1024 * 1024;
pub const MAX_FILE_LIMIT: u64 = 2 * 1024 * 1024 * 1024;
pub const DEFAULT_FILE_LIMIT: u64 = 100 * 1024 * 1024;

/// Which way a file went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FileDirection {
    /// From the helper's computer into the sharer's Downloads folder.
    ToDevice,
    /// From the device to the helper's browser.
    FromDevice,
}

/// How a transfer ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// Tagged on the wire; on wasm32 read and written through crate::tagged.
#[cfg_attr(not(target_arch = "wasm32"), serde(tag = "kind"))]
pub enum FileOutcome {
    /// Saved in the sharer's Downloads folder as `name`.
    Saved { name: String },
    /// The helper has the whole file, its hash checked.
    Sent,
    /// The sharer said no.
    Declined,
    /// The sharer cancelled it.
    CancelledBySharer,
    /// The helper cancelled it.
    CancelledByHelper,
    /// Over the organization's limit (bytes).
    TooLarge { limit: u64 },
    /// Not now: no full control, the organization turned file transfer
    /// off, or another transfer is under way.
    NotAllowed,
    /// No readable file at that path on the device.
    NotFound,
    /// The bytes did not add up to the file that was announced (size or
    /// SHA-256); nothing was kept.
    Corrupted,
    /// Nothing moved for too long (the connection stayed down, or the
    /// sender stopped).
    Expired,
    /// The sharer did not answer in time.
    NoAnswer,
    /// The device could not read or write the file.
    Failed,
}

impl crate::tagged::Tagged for FileOutcome {
    const TAG: &'static str = "kind";
}

impl FileOutcome {
    /// What the helper is told.
    pub fn message(&self) -> String {
        match self {
            FileOutcome::Saved { name } => {
                format!("Saved in the sharer's Downloads folder as \u{201c}{name}\u{201d}.")
            }
            FileOutcome::Sent => "The file arrived; its SHA-256 matches.".into(),
            FileOutcome::Declined => "The sharer declined the transfer.".into(),
            FileOutcome::CancelledBySharer => "The sharer cancelled the transfer.".into(),
            FileOutcome::CancelledByHelper => "You cancelled the transfer.".into(),
            FileOutcome::TooLarge { limit } => format!(
                "Over your organization's file limit of {}; nothing was sent.",
                size_text(*limit)
            ),
            FileOutcome::NotAllowed => "File transfer is available only in full control, \
                 one file at a time, when your organization allows it."
                .into(),
            FileOutcome::NotFound => "There is no readable file at that path on the device.".into(),
            FileOutcome::Corrupted => {
                "The file did not arrive intact (size or SHA-256); nothing was kept.".into()
            }
            FileOutcome::Expired => {
                "Nothing moved for too long (the connection was down); nothing was kept.".into()
            }
            FileOutcome::NoAnswer => "The sharer did not answer in time.".into(),
            FileOutcome::Failed => "The device could not read or write the file.".into(),
        }
    }
}

/// One JSON message on the files channel. Chunks are binary ([`Chunk`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// Tagged on the wire; on wasm32 read and written through crate::tagged.
#[cfg_attr(not(target_arch = "wasm32"), serde(tag = "type"))]
pub enum FileMessage {
    /// Helper → device: a file to save on the device.
    Offer { id: u32, name: String, size: u64 },
    /// Helper → device: send the file at `path`.
    Request { id: u32, path: String },
    /// Device → helper: the sharer is being asked about this file (its
    /// name as the sharer sees it, and its size).
    Asking { id: u32, name: String, size: u64 },
    /// Device → helper: go on from byte `offset` (to the device: the
    /// helper sends from there; from the device: chunks follow from there).
    Go { id: u32, offset: u64 },
    /// Helper → device, on a new channel after a drop: go on with `id`;
    /// `offset` is what the helper holds of a file from the device.
    Resume { id: u32, offset: u64 },
    /// Device → helper: bytes of a file to the device written so far.
    Progress { id: u32, bytes: u64 },
    /// Sender → receiver: every byte was sent; the whole file's SHA-256
    /// (64 lower-case hex digits).
    End { id: u32, sha256: String },
    /// Helper → device: the file from the device arrived whole.
    Received { id: u32 },
    /// Helper → device: stop this transfer.
    Cancel { id: u32 },
    /// Device → helper: the transfer ended so.
    Done {
        id: u32,
        #[cfg_attr(target_arch = "wasm32", serde(with = "crate::tagged::field"))]
        outcome: FileOutcome,
    },
}

impl crate::tagged::Tagged for FileMessage {
    const TAG: &'static str = "type";
}

impl FileMessage {
    /// Parses one message, refusing oversized, malformed or out-of-range
    /// ones.
    pub fn parse(bytes: &[u8]) -> Result<Self, MessageError> {
        if bytes.len() > MAX_FILE_MESSAGE_BYTES {
            return Err(MessageError::TooLarge { bytes: bytes.len() });
        }
        let message: FileMessage =
            crate::tagged::from_json(bytes).map_err(|e| MessageError::Malformed(e.to_string()))?;
        let fits = match &message {
            FileMessage::Offer { name, size, .. } | FileMessage::Asking { name, size, .. } => {
                *size <= MAX_FILE_LIMIT && name.len() <= MAX_PATH_BYTES
            }
            FileMessage::Request { path, .. } => {
                !path.is_empty() && path.len() <= MAX_PATH_BYTES && !path.contains('\0')
            }
            FileMessage::Go { offset, .. } | FileMessage::Resume { offset, .. } => {
                *offset <= MAX_FILE_LIMIT
            }
            FileMessage::Progress { bytes, .. } => *bytes <= MAX_FILE_LIMIT,
            FileMessage::End { sha256, .. } => is_sha256_hex(sha256),
            FileMessage::Done {
                outcome: FileOutcome::Saved { name },
                ..
            } => name.len() <= MAX_NAME_BYTES,
            FileMessage::Received { .. }
            | FileMessage::Cancel { .. }
            | FileMessage::Done { .. } => true,
        };
        if fits {
            Ok(message)
        } else {
            Err(MessageError::OutOfRange("file message"))
        }
    }

    pub fn id(&self) -> u32 {
        match self {
            FileMessage::Offer { id, .. }
            | FileMessage::Request { id, .. }
            | FileMessage::Asking { id, .. }
            | FileMessage::Go { id, .. }
            | FileMessage::Resume { id, .. }
            | FileMessage::Progress { id, .. }
            | FileMessage::End { id, .. }
            | FileMessage::Received { id }
            | FileMessage::Cancel { id }
            | FileMessage::Done { id, .. } => *id,
        }
    }
}

/// 64 lower-case hex digits.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Bytes as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One binary message: `data` of transfer `id`, starting at byte `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    pub id: u32,
    pub offset: u64,
    pub data: &'a [u8],
}

impl<'a> Chunk<'a> {
    /// The message's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(CHUNK_HEADER_BYTES + self.data.len());
        out.push(CHUNK_TAG);
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&self.offset.to_be_bytes());
        out.extend_from_slice(self.data);
        out
    }

    /// Reads a chunk message: its tag, a header, and 1 to [`CHUNK_BYTES`]
    /// bytes of data.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, MessageError> {
        if bytes.len() > CHUNK_HEADER_BYTES + CHUNK_BYTES {
            return Err(MessageError::TooLarge { bytes: bytes.len() });
        }
        let (header, data) = bytes
            .split_at_checked(CHUNK_HEADER_BYTES)
            .ok_or(MessageError::OutOfRange("file chunk"))?;
        let mut id = [0u8; 4];
        let mut offset = [0u8; 8];
        id.copy_from_slice(&header[1..5]);
        offset.copy_from_slice(&header[5..]);
        let offset = u64::from_be_bytes(offset);
        if header[0] != CHUNK_TAG || data.is_empty() || offset >= MAX_FILE_LIMIT {
            return Err(MessageError::OutOfRange("file chunk"));
        }
        Ok(Self {
            id: u32::from_be_bytes(id),
            offset,
            data,
        })
    }
}

/// What the sharer decides about a transfer, or does to one under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileAnswer {
    Accept,
    Decline,
    Cancel,
}

/// Where a transfer is, as the sharer's page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStage {
    /// Waiting for the sharer's Accept or Decline.
    Asking,
    /// Bytes are moving.
    Moving,
    /// The connection dropped; it goes on if the helper is back soon.
    Waiting,
    /// Saved (to the device) or sent (from it), whole.
    Done,
    /// Declined, cancelled, or failed: nothing was kept.
    Stopped,
}

/// Agent → (server) → sharer's page: a transfer the sharer decides on or
/// watches. The server passes it on and keeps nothing of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileNotice {
    pub id: u32,
    pub direction: FileDirection,
    /// The file's name: sanitized as it will be saved, or as it is on the
    /// device (the last part of the path).
    pub name: String,
    pub size: u64,
    /// Bytes moved so far.
    pub bytes: u64,
    pub stage: FileStage,
    /// From the device: the whole path asked for, as the sharer reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Why it stopped, or where it was saved.
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", serde(with = "crate::tagged::optional_field"))]
    pub outcome: Option<FileOutcome>,
}

impl FileNotice {
    /// Whether the fields are within bounds (checked where it is relayed).
    pub fn is_valid(&self) -> bool {
        self.size <= MAX_FILE_LIMIT
            && self.bytes <= self.size
            && !self.name.is_empty()
            && self.name.len() <= MAX_NAME_BYTES
            && !self.name.chars().any(crate::text::is_hidden)
            && self.path.as_ref().is_none_or(|p| {
                p.chars().count() <= MAX_SHOWN_PATH_CHARS && !p.chars().any(crate::text::is_hidden)
            })
    }
}

/// A path as the sharer reads it: one line, nothing hidden, at most
/// [`MAX_SHOWN_PATH_CHARS`] characters (the end kept: it names the file).
pub fn shown_path(path: &str) -> String {
    let clean = crate::text::sanitize(path, usize::MAX);
    let count = clean.chars().count();
    if count <= MAX_SHOWN_PATH_CHARS {
        return clean;
    }
    let tail: String = clean
        .chars()
        .skip(count - (MAX_SHOWN_PATH_CHARS - 1))
        .collect();
    format!("\u{2026}{tail}")
}

/// Whether `path` names a file on another machine or a device (`\\host\\…`,
/// `//host/…`, `\\?\\…`): never opened, so asking cannot reach the network.
pub fn is_remote_path(path: &str) -> bool {
    let mut chars = path.chars();
    matches!(
        (chars.next(), chars.next()),
        (Some('\\' | '/'), Some('\\' | '/'))
    )
}

/// `bytes` as people read them: "812 B", "20.0 MB", "100 MB", "1.50 GB".
pub fn size_text(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.2} {}", UNITS[unit])
    } else if value < 100.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// Names Windows keeps for devices, with or without an extension.
const RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// A name a received file may safely get, whatever the sender claimed:
/// only its last path part (no `/`, `\`, `..`: the zip-slip class), no
/// control, invisible or Windows-forbidden characters, no leading dot
/// (hidden) or trailing dot or space, not a device name (`CON`,
/// `lpt1.txt`), at most [`MAX_NAME_BYTES`] bytes with the extension kept,
/// and never empty. Sanitizing a safe name changes nothing.
pub fn safe_file_name(claimed: &str) -> String {
    let last = claimed
        .rsplit(['/', '\\'])
        .find(|part| !part.trim().is_empty())
        .unwrap_or_default();
    let mut name: String = last
        .chars()
        .map(|c| {
            if crate::text::is_hidden(c) || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') {
                '_'
            } else {
                c
            }
        })
        .collect();
    name = name
        .trim_matches(|c: char| c.is_whitespace() || c == '.')
        .to_owned();
    if name.is_empty() {
        return "file".to_owned();
    }
    if name.len() > MAX_NAME_BYTES {
        name = shorten(&name);
    }
    // After the cut, which may leave a reserved stem ("LPT4   …x.txt" is
    // "LPT4.txt" once cut); the `_` then makes the stem harmless, and a
    // second cut keeps it.
    let stem = name.split('.').next().unwrap_or_default().trim_end();
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        name.insert(0, '_');
        if name.len() > MAX_NAME_BYTES {
            name = shorten(&name);
        }
    }
    name
}

/// `name` cut to [`MAX_NAME_BYTES`] on a character boundary, keeping a
/// short extension.
fn shorten(name: &str) -> String {
    let extension = name
        .rfind('.')
        .map(|at| &name[at..])
        .filter(|e| e.len() <= 16)
        .unwrap_or_default();
    let mut stem_end = MAX_NAME_BYTES - extension.len();
    while !name.is_char_boundary(stem_end) {
        stem_end -= 1;
    }
    let stem = name[..stem_end].trim_end_matches(|c: char| c.is_whitespace() || c == '.');
    let joined = format!("{stem}{extension}");
    if stem.is_empty() {
        "file".to_owned()
    } else {
        joined
    }
}

/// The `n`th name to try when `name` is taken: "report (2).pdf".
pub fn numbered_name(name: &str, n: u32) -> String {
    let (stem, extension) = match name.rfind('.') {
        Some(at) if at > 0 && name.len() - at <= 16 => name.split_at(at),
        _ => (name, ""),
    };
    let suffix = format!(" ({n})");
    let mut stem_end = stem
        .len()
        .min(MAX_NAME_BYTES - suffix.len() - extension.len());
    while !stem.is_char_boundary(stem_end) {
        stem_end -= 1;
    }
    format!("{}{suffix}{extension}", &stem[..stem_end])
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
