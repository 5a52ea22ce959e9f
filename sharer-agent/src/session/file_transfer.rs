//! One file transfer as the desk (`file_desk.rs`) keeps it: which file,
//! which way, how far, its running hash and its file on the device, and
//! the notice the sharer's page gets about it.

use super::file_desk::Effect;
use crate::files::{Incoming, Outgoing};
use sha2::Sha256;
use std::time::Instant;
use tandem_protocol::files::{FileDirection, FileNotice, FileOutcome, FileStage};
use tandem_protocol::signal::ClientMessage;

pub(super) enum Body {
    /// To the device: the part file, once the sharer accepted.
    Incoming(Option<Box<dyn Incoming>>),
    /// From the device.
    Outgoing(Box<dyn Outgoing>),
}

pub(super) struct Transfer {
    pub(super) id: u32,
    /// The question's number on the sharer's page: the agent's, never the
    /// helper's, so an answer meant for one question never answers another.
    pub(super) ask_id: u32,
    pub(super) direction: FileDirection,
    /// As the sharer and the helper see it.
    pub(super) name: String,
    pub(super) size: u64,
    pub(super) stage: FileStage,
    /// Written (to the device) or sent (from it) so far, all hashed.
    pub(super) bytes: u64,
    pub(super) hasher: Sha256,
    pub(super) body: Body,
    /// From the device: every byte and the hash were sent.
    pub(super) ended: bool,
    /// From the device: the path asked for, as the sharer reads it.
    pub(super) path: Option<String>,
    /// When the sharer was first seen being asked.
    pub(super) asked_at: Option<Instant>,
    /// Since when the byte count stood still, and at what.
    pub(super) idle_since: Option<(Instant, u64)>,
    /// From the device: the running hash every [`SNAPSHOT_EVERY`] bytes.
    pub(super) snapshots: Vec<(u64, Sha256)>,
    /// When the channel dropped under it.
    pub(super) cut_at: Option<Instant>,
    pub(super) told_at: Option<Instant>,
    pub(super) told_bytes: u64,
}

impl Transfer {
    pub(super) fn notice(&self, stage: FileStage, outcome: Option<FileOutcome>) -> Effect {
        Effect::Server(ClientMessage::FileNotice {
            notice: FileNotice {
                id: self.ask_id,
                direction: self.direction,
                name: self.name.clone(),
                size: self.size,
                bytes: self.bytes.min(self.size),
                stage,
                outcome,
                path: self.path.clone(),
            },
        })
    }
}
