//! File transfer between the helper and this device. `FileDesk` decides:
//! it takes the helper's messages (JSON and binary chunks), the sharer's
//! answers from their page, the channel reopening and the clock, and says
//! what to send where ([`Effect`]). It touches files only through a
//! [`FileStore`]. One transfer at a time, only while the gate allows input
//! (full control) and the tenant allows file transfer (its limit comes in
//! the session view), each one only after the sharer accepted it. Anything
//! else is dropped and counted. The `Session` part carries the effects out.

use super::Session;
use crate::files::{FileStore, Incoming, Outgoing};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use tandem_protocol::files::{
    CHUNK_BYTES, Chunk, FileAnswer, FileDirection, FileMessage, FileNotice, FileOutcome, FileStage,
    hex, safe_file_name,
};
use tandem_protocol::signal::ClientMessage;

/// How long a transfer waits for the helper after its channel dropped.
pub const RESUME_WITHIN: Duration = Duration::from_secs(60);
/// How often the helper and the sharer hear how far a transfer is.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// File bytes waiting in the channel's buffer, at most, from the device.
pub const SEND_BACKLOG: usize = 1024 * 1024;

/// What to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Effect {
    /// A message to the helper on the files channel.
    Send(FileMessage),
    /// A chunk message to the helper.
    Chunk(Vec<u8>),
    /// A message for the server: a notice for the sharer's page, or a file
    /// moved whole (counted in the record).
    Server(ClientMessage),
}

enum Body {
    /// To the device: the part file, once the sharer accepted.
    Incoming(Option<Box<dyn Incoming>>),
    /// From the device.
    Outgoing(Box<dyn Outgoing>),
}

struct Transfer {
    id: u32,
    direction: FileDirection,
    /// As the sharer and the helper see it.
    name: String,
    size: u64,
    stage: FileStage,
    /// Written (to the device) or sent (from it) so far, all hashed.
    bytes: u64,
    hasher: Sha256,
    body: Body,
    /// From the device: every byte and the hash were sent.
    ended: bool,
    /// When the channel dropped under it.
    cut_at: Option<Instant>,
    told_at: Option<Instant>,
    told_bytes: u64,
}

#[derive(Default)]
pub struct FileDesk {
    /// The tenant's limit, while it allows file transfer.
    limit: Option<u64>,
    transfer: Option<Transfer>,
    /// Messages dropped: malformed, the wrong way, out of order, stale.
    pub dropped: u64,
}

impl std::fmt::Debug for FileDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileDesk")
            .field("limit", &self.limit)
            .field("busy", &self.transfer.as_ref().map(|t| t.id))
            .field("dropped", &self.dropped)
            .finish()
    }
}

fn done(id: u32, outcome: FileOutcome) -> Effect {
    Effect::Send(FileMessage::Done { id, outcome })
}

impl Transfer {
    fn notice(&self, stage: FileStage, outcome: Option<FileOutcome>) -> Effect {
        Effect::Server(ClientMessage::FileNotice {
            notice: FileNotice {
                id: self.id,
                direction: self.direction,
                name: self.name.clone(),
                size: self.size,
                bytes: self.bytes.min(self.size),
                stage,
                outcome,
            },
        })
    }
}

impl FileDesk {
    pub fn set_limit(&mut self, limit: Option<u64>) {
        self.limit = limit;
    }

    /// A transfer is asked about or under way (the clock matters).
    pub fn active(&self) -> bool {
        self.transfer.is_some()
    }

    /// Bytes the device is sending and the channel may take now.
    pub fn sending(&self) -> bool {
        self.transfer.as_ref().is_some_and(|t| {
            t.stage == FileStage::Moving && matches!(t.body, Body::Outgoing(_)) && !t.ended
        })
    }

    /// Ends the transfer with `outcome`: the helper and the sharer hear it,
    /// and a part file goes.
    fn stop(&mut self, outcome: FileOutcome) -> Vec<Effect> {
        let Some(transfer) = self.transfer.take() else {
            return Vec::new();
        };
        vec![
            done(transfer.id, outcome.clone()),
            transfer.notice(FileStage::Stopped, Some(outcome)),
        ]
    }

    /// A message on the files channel; `allowed`: the gate allows input.
    pub fn on_message(
        &mut self,
        bytes: &[u8],
        allowed: bool,
        store: &mut dyn FileStore,
    ) -> Vec<Effect> {
        if let Ok(chunk) = Chunk::parse(bytes) {
            return self.on_chunk(chunk, allowed);
        }
        let Ok(message) = FileMessage::parse(bytes) else {
            self.dropped += 1;
            return Vec::new();
        };
        let limit = self.limit.filter(|_| allowed);
        let busy = self.transfer.as_ref().map(|t| t.id);
        match message {
            FileMessage::Offer { id, name, size } => {
                let Some(limit) = limit.filter(|_| busy.is_none()) else {
                    return vec![done(id, FileOutcome::NotAllowed)];
                };
                if size > limit {
                    return vec![done(id, FileOutcome::TooLarge { limit })];
                }
                self.ask(
                    id,
                    FileDirection::ToDevice,
                    safe_file_name(&name),
                    size,
                    Body::Incoming(None),
                )
            }
            FileMessage::Request { id, path } => {
                let Some(limit) = limit.filter(|_| busy.is_none()) else {
                    return vec![done(id, FileOutcome::NotAllowed)];
                };
                let opened = match store.open(&path) {
                    Ok(opened) => opened,
                    Err(crate::files::FileError::NotFound) => {
                        return vec![done(id, FileOutcome::NotFound)];
                    }
                    Err(error) => {
                        tracing::warn!(%error, "a requested file could not be opened");
                        return vec![done(id, FileOutcome::Failed)];
                    }
                };
                if opened.size > limit {
                    return vec![done(id, FileOutcome::TooLarge { limit })];
                }
                let name = safe_file_name(&opened.name);
                self.ask(
                    id,
                    FileDirection::FromDevice,
                    name,
                    opened.size,
                    Body::Outgoing(opened.file),
                )
            }
            FileMessage::End { id, sha256 } if busy == Some(id) => self.on_end(sha256),
            FileMessage::Received { id } if busy == Some(id) => {
                let whole = self.transfer.as_ref().is_some_and(|t| {
                    t.ended && t.bytes == t.size && matches!(t.body, Body::Outgoing(_))
                });
                if !whole {
                    self.dropped += 1;
                    return Vec::new();
                }
                self.finish(FileOutcome::Sent)
            }
            FileMessage::Cancel { id } if busy == Some(id) => {
                self.stop(FileOutcome::CancelledByHelper)
            }
            FileMessage::Resume { id, offset } if busy == Some(id) => self.resume(offset),
            // The device's to send, or about another transfer.
            _ => {
                self.dropped += 1;
                Vec::new()
            }
        }
    }

    fn ask(
        &mut self,
        id: u32,
        direction: FileDirection,
        name: String,
        size: u64,
        body: Body,
    ) -> Vec<Effect> {
        let transfer = Transfer {
            id,
            direction,
            name: name.clone(),
            size,
            stage: FileStage::Asking,
            bytes: 0,
            hasher: Sha256::new(),
            body,
            ended: false,
            cut_at: None,
            told_at: None,
            told_bytes: 0,
        };
        let notice = transfer.notice(FileStage::Asking, None);
        self.transfer = Some(transfer);
        vec![Effect::Send(FileMessage::Asking { id, name, size }), notice]
    }

    /// The sharer's word from their page.
    pub fn on_answer(
        &mut self,
        id: u32,
        answer: FileAnswer,
        allowed: bool,
        store: &mut dyn FileStore,
    ) -> Vec<Effect> {
        let Some(transfer) = self.transfer.as_mut().filter(|t| t.id == id) else {
            self.dropped += 1;
            return Vec::new();
        };
        match (answer, transfer.stage) {
            (FileAnswer::Accept, FileStage::Asking) if allowed && self.limit.is_some() => {
                if let Body::Incoming(part) = &mut transfer.body {
                    match store.receive(&transfer.name) {
                        Ok(file) => *part = Some(file),
                        Err(error) => {
                            tracing::warn!(%error, "the received file could not be created");
                            return self.stop(FileOutcome::Failed);
                        }
                    }
                }
                transfer.stage = FileStage::Moving;
                vec![
                    Effect::Send(FileMessage::Go { id, offset: 0 }),
                    transfer.notice(FileStage::Moving, None),
                ]
            }
            (FileAnswer::Accept, FileStage::Asking) => self.stop(FileOutcome::NotAllowed),
            (FileAnswer::Decline, FileStage::Asking) => self.stop(FileOutcome::Declined),
            (FileAnswer::Cancel, FileStage::Asking | FileStage::Moving) => {
                self.stop(FileOutcome::CancelledBySharer)
            }
            _ => {
                self.dropped += 1;
                Vec::new()
            }
        }
    }

    fn on_chunk(&mut self, chunk: Chunk<'_>, allowed: bool) -> Vec<Effect> {
        let Some(transfer) = self.transfer.as_mut().filter(|t| t.id == chunk.id) else {
            self.dropped += 1;
            return Vec::new();
        };
        let Body::Incoming(Some(part)) = &mut transfer.body else {
            self.dropped += 1;
            return Vec::new();
        };
        if !allowed || self.limit.is_none() {
            return self.stop(FileOutcome::NotAllowed);
        }
        let len = chunk.data.len() as u64;
        if transfer.stage != FileStage::Moving
            || transfer.cut_at.is_some()
            || chunk.offset != transfer.bytes
            || transfer.bytes + len > transfer.size
        {
            self.dropped += 1;
            return Vec::new();
        }
        if let Err(error) = part.append(chunk.data) {
            tracing::warn!(%error, "writing a received file failed");
            return self.stop(FileOutcome::Failed);
        }
        transfer.hasher.update(chunk.data);
        transfer.bytes += len;
        Vec::new()
    }

    fn on_end(&mut self, sha256: String) -> Vec<Effect> {
        let Some(transfer) = self.transfer.as_mut() else {
            return Vec::new();
        };
        if transfer.stage != FileStage::Moving || !matches!(transfer.body, Body::Incoming(Some(_)))
        {
            self.dropped += 1;
            return Vec::new();
        }
        let hash = hex(&std::mem::take(&mut transfer.hasher).finalize());
        if transfer.bytes != transfer.size || hash != sha256 {
            return self.stop(FileOutcome::Corrupted);
        }
        let Body::Incoming(part) = &mut transfer.body else {
            return Vec::new();
        };
        let kept = part.take().map(|part| part.keep());
        match kept {
            Some(Ok(name)) => self.finish(FileOutcome::Saved { name }),
            Some(Err(error)) => {
                tracing::warn!(%error, "a received file could not be kept");
                self.stop(FileOutcome::Failed)
            }
            None => self.stop(FileOutcome::Failed),
        }
    }

    /// The file moved whole: everyone hears it, the record counts it.
    fn finish(&mut self, outcome: FileOutcome) -> Vec<Effect> {
        let Some(transfer) = self.transfer.take() else {
            return Vec::new();
        };
        vec![
            done(transfer.id, outcome.clone()),
            transfer.notice(FileStage::Done, Some(outcome)),
            Effect::Server(ClientMessage::FileMoved {
                direction: transfer.direction,
                bytes: transfer.size,
            }),
        ]
    }

    /// The files channel opened (a new connection): a transfer under way
    /// waits for the helper to resume it.
    pub fn channel_opened(&mut self, now: Instant) -> Vec<Effect> {
        let Some(transfer) = self.transfer.as_mut() else {
            return Vec::new();
        };
        if transfer.cut_at.is_some() {
            return Vec::new();
        }
        transfer.cut_at = Some(now);
        if transfer.stage == FileStage::Moving {
            vec![transfer.notice(FileStage::Waiting, None)]
        } else {
            Vec::new()
        }
    }

    fn resume(&mut self, offset: u64) -> Vec<Effect> {
        let Some(transfer) = self.transfer.as_mut() else {
            return Vec::new();
        };
        transfer.cut_at = None;
        let id = transfer.id;
        match (&mut transfer.body, transfer.stage) {
            (_, FileStage::Asking) => vec![Effect::Send(FileMessage::Asking {
                id,
                name: transfer.name.clone(),
                size: transfer.size,
            })],
            (Body::Incoming(_), _) => vec![
                Effect::Send(FileMessage::Go {
                    id,
                    offset: transfer.bytes,
                }),
                transfer.notice(FileStage::Moving, None),
            ],
            (Body::Outgoing(file), _) if offset <= transfer.bytes => {
                // The hash covers what the helper holds: read again up to it.
                let mut hasher = Sha256::new();
                let mut buf = vec![0u8; 64 * 1024];
                let mut at = 0u64;
                while at < offset {
                    let want = usize::try_from(offset - at)
                        .unwrap_or(usize::MAX)
                        .min(buf.len());
                    match file.read_at(at, &mut buf[..want]) {
                        Ok(0) | Err(_) => return self.stop(FileOutcome::Failed),
                        Ok(n) => {
                            hasher.update(&buf[..n]);
                            at += n as u64;
                        }
                    }
                }
                transfer.hasher = hasher;
                transfer.bytes = offset;
                transfer.ended = false;
                vec![
                    Effect::Send(FileMessage::Go { id, offset }),
                    transfer.notice(FileStage::Moving, None),
                ]
            }
            _ => {
                self.dropped += 1;
                Vec::new()
            }
        }
    }

    /// The clock: a transfer whose helper did not come back expires, one
    /// that may no longer move stops, and both sides hear how far it is.
    pub fn tick(&mut self, now: Instant, allowed: bool) -> Vec<Effect> {
        let Some(transfer) = self.transfer.as_mut() else {
            return Vec::new();
        };
        if transfer
            .cut_at
            .is_some_and(|at| now.saturating_duration_since(at) >= RESUME_WITHIN)
        {
            return self.stop(FileOutcome::Expired);
        }
        if !allowed || self.limit.is_none() {
            return self.stop(FileOutcome::NotAllowed);
        }
        let due = transfer
            .told_at
            .is_none_or(|at| now.saturating_duration_since(at) >= PROGRESS_EVERY);
        if transfer.stage != FileStage::Moving
            || transfer.cut_at.is_some()
            || !due
            || transfer.bytes == transfer.told_bytes
        {
            return Vec::new();
        }
        transfer.told_at = Some(now);
        transfer.told_bytes = transfer.bytes;
        let mut effects = vec![transfer.notice(FileStage::Moving, None)];
        if matches!(transfer.body, Body::Incoming(_)) {
            effects.push(Effect::Send(FileMessage::Progress {
                id: transfer.id,
                bytes: transfer.bytes,
            }));
        }
        effects
    }

    /// Chunks of the file the device sends, as many as `backlog` (bytes
    /// already waiting in the channel) leaves room for; the end and the
    /// hash after the last.
    pub fn pump(&mut self, backlog: usize) -> Vec<Effect> {
        if !self.sending() {
            return Vec::new();
        }
        let Some(transfer) = self.transfer.as_mut() else {
            return Vec::new();
        };
        let Body::Outgoing(file) = &mut transfer.body else {
            return Vec::new();
        };
        if transfer.cut_at.is_some() {
            return Vec::new();
        }
        let mut effects = Vec::new();
        let mut room = SEND_BACKLOG.saturating_sub(backlog);
        let mut buf = vec![0u8; CHUNK_BYTES];
        while room >= CHUNK_BYTES && transfer.bytes < transfer.size {
            let want = usize::try_from(transfer.size - transfer.bytes)
                .unwrap_or(usize::MAX)
                .min(CHUNK_BYTES);
            let n = match file.read_at(transfer.bytes, &mut buf[..want]) {
                Ok(0) => {
                    // The file shrank since the sharer saw its size.
                    return self.stop(FileOutcome::Failed);
                }
                Ok(n) => n,
                Err(error) => {
                    tracing::warn!(%error, "reading a requested file failed");
                    return self.stop(FileOutcome::Failed);
                }
            };
            let data = &buf[..n];
            transfer.hasher.update(data);
            effects.push(Effect::Chunk(
                Chunk {
                    id: transfer.id,
                    offset: transfer.bytes,
                    data,
                }
                .encode(),
            ));
            transfer.bytes += n as u64;
            room -= n.min(room);
        }
        if transfer.bytes == transfer.size {
            transfer.ended = true;
            let sha256 = hex(&transfer.hasher.clone().finalize());
            effects.push(Effect::Send(FileMessage::End {
                id: transfer.id,
                sha256,
            }));
        }
        effects
    }
}

impl Session {
    /// A message on the files channel.
    pub(super) async fn on_files(&mut self, bytes: &[u8]) {
        let allowed = self.gate.input_allowed(crate::client::now());
        let mut store = self.file_store();
        let effects = self.files.on_message(bytes, allowed, store.as_mut());
        self.file_store = Some(store);
        self.apply_files(effects).await;
    }

    /// The sharer's Accept, Decline or Cancel.
    pub(super) async fn on_file_answer(&mut self, id: u32, answer: FileAnswer) {
        let allowed = self.gate.input_allowed(crate::client::now());
        let mut store = self.file_store();
        let effects = self.files.on_answer(id, answer, allowed, store.as_mut());
        self.file_store = Some(store);
        self.apply_files(effects).await;
    }

    /// The files clock: progress, expiry, and the next chunks to send.
    pub(super) async fn keep_files(&mut self) {
        let allowed = self.gate.input_allowed(crate::client::now());
        let mut effects = self.files.tick(Instant::now(), allowed);
        if self.files.sending() {
            let backlog = match &self.live {
                Some(live) => live.peer.files_backlog().await,
                None => SEND_BACKLOG,
            };
            effects.extend(self.files.pump(backlog));
        }
        self.apply_files(effects).await;
    }

    /// The store, made on first use (taken out while the desk uses it).
    fn file_store(&mut self) -> Box<dyn FileStore> {
        self.file_store
            .take()
            .unwrap_or_else(|| match crate::files::Downloads::of_user() {
                Ok(store) => Box::new(store),
                Err(error) => {
                    tracing::warn!(%error, "files cannot be received here");
                    Box::new(crate::files::Nowhere)
                }
            })
    }

    pub(super) async fn apply_files(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Send(message) => {
                    if let FileMessage::Done { outcome, .. } = &message {
                        println!("tandem-agent: file transfer: {}", outcome.message());
                    }
                    if let Some(live) = &self.live {
                        live.peer.send_file_message(&message).await;
                    }
                }
                Effect::Chunk(bytes) => {
                    if let Some(live) = &self.live {
                        live.peer.send_file_chunk(bytes).await;
                    }
                }
                Effect::Server(message) => self.files_unreported.push(message),
            }
        }
    }
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
