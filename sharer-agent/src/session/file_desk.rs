//! The pure core of file transfer on the device: `FileDesk` takes the
//! helper's messages (JSON and binary chunks), the sharer's answers from
//! her page, the channel reopening and the clock, and says what to send
//! where ([`Effect`]). It touches files only through a [`FileStore`]. One
//! transfer at a time, only while the gate allows input (full control)
//! and the tenant allows file transfer (its limit comes in the session
//! view), each one only after the sharer accepted it. Anything else is
//! dropped and counted. `files.rs` carries the effects out.

use super::file_transfer::{Body, Transfer};
use crate::files::{FileError, FileStore};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use tandem_protocol::files::{
    CHUNK_BYTES, Chunk, FileAnswer, FileDirection, FileMessage, FileNotice, FileOutcome, FileStage,
    hex, safe_file_name, shown_path,
};
use tandem_protocol::signal::ClientMessage;

/// How long a transfer waits for the helper after its channel dropped,
/// or for a byte while it moves.
pub const RESUME_WITHIN: Duration = Duration::from_secs(60);
/// How long the sharer has to answer.
pub const ASK_WITHIN: Duration = Duration::from_secs(120);
/// How often the running hash of a file from the device is kept, so a
/// resume hashes again at most this much.
pub const SNAPSHOT_EVERY: u64 = 8 * 1024 * 1024;
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

#[derive(Default)]
pub struct FileDesk {
    /// The tenant's limit, while it allows file transfer.
    limit: Option<u64>,
    transfer: Option<Transfer>,
    /// The last question's number.
    asked: u32,
    /// How the last transfer ended, told again if the helper's copy of it
    /// was lost in a drop.
    finished: Option<(u32, FileOutcome)>,
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

impl FileDesk {
    pub fn set_limit(&mut self, limit: Option<u64>) {
        self.limit = limit;
    }

    /// A transfer is asked about or under way (the clock matters).
    pub fn active(&self) -> bool {
        self.transfer.is_some()
    }

    /// The sharer is being asked: the helper's input waits, so that they
    /// cannot answer for her on her own screen.
    pub fn asking(&self) -> bool {
        self.transfer
            .as_ref()
            .is_some_and(|t| t.stage == FileStage::Asking)
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
        self.finished = Some((transfer.id, outcome.clone()));
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
                // Every request is the sharer's to see, even one for a
                // file that is not there: asking is never a quiet probe.
                let shown = shown_path(&path);
                let opened = match store.open(&path) {
                    Ok(opened) if opened.size > limit => {
                        return self.refuse_request(id, &path, FileOutcome::TooLarge { limit });
                    }
                    Ok(opened) => opened,
                    Err(FileError::NotFound) => {
                        return self.refuse_request(id, &path, FileOutcome::NotFound);
                    }
                    Err(FileError::Forbidden) => {
                        return self.refuse_request(id, &path, FileOutcome::NotAllowed);
                    }
                    Err(error) => {
                        tracing::warn!(%error, "a requested file could not be opened");
                        return self.refuse_request(id, &path, FileOutcome::Failed);
                    }
                };
                let name = safe_file_name(&opened.name);
                let body = Body::Outgoing(opened.file);
                let mut asked = self.ask(id, FileDirection::FromDevice, name, opened.size, body);
                if let Some(transfer) = self.transfer.as_mut() {
                    // The sharer's notice names the whole path.
                    transfer.path = Some(shown);
                    asked.pop();
                    asked.push(transfer.notice(FileStage::Asking, None));
                }
                asked
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
            // Over already: the helper missed how it ended.
            FileMessage::Resume { id, .. }
                if self.finished.as_ref().is_some_and(|(f, _)| *f == id) =>
            {
                self.finished
                    .iter()
                    .map(|(id, outcome)| done(*id, outcome.clone()))
                    .collect()
            }
            // The device's to send, or about another transfer.
            _ => {
                self.dropped += 1;
                Vec::new()
            }
        }
    }

    /// A request that goes no further: the helper hears why, the sharer
    /// sees that it was made.
    fn refuse_request(&mut self, id: u32, path: &str, outcome: FileOutcome) -> Vec<Effect> {
        self.asked = self.asked.wrapping_add(1);
        self.finished = Some((id, outcome.clone()));
        vec![
            done(id, outcome.clone()),
            Effect::Server(ClientMessage::FileNotice {
                notice: FileNotice {
                    id: self.asked,
                    direction: FileDirection::FromDevice,
                    name: safe_file_name(path),
                    size: 0,
                    bytes: 0,
                    stage: FileStage::Stopped,
                    outcome: Some(outcome),
                    path: Some(shown_path(path)),
                },
            }),
        ]
    }

    fn ask(
        &mut self,
        id: u32,
        direction: FileDirection,
        name: String,
        size: u64,
        body: Body,
    ) -> Vec<Effect> {
        self.asked = self.asked.wrapping_add(1);
        let transfer = Transfer {
            id,
            ask_id: self.asked,
            direction,
            name: name.clone(),
            size,
            stage: FileStage::Asking,
            bytes: 0,
            hasher: Sha256::new(),
            body,
            ended: false,
            path: None,
            asked_at: None,
            idle_since: None,
            snapshots: Vec::new(),
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
        let Some(transfer) = self.transfer.as_mut().filter(|t| t.ask_id == id) else {
            self.dropped += 1;
            return Vec::new();
        };
        let id = transfer.id;
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
        self.finished = Some((transfer.id, outcome.clone()));
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
                // The hash covers what the helper holds: from the last
                // snapshot at or before it, read again up to it.
                let (mut at, mut hasher) = transfer
                    .snapshots
                    .iter()
                    .rev()
                    .find(|(at, _)| *at <= offset)
                    .cloned()
                    .unwrap_or_else(|| (0, Sha256::new()));
                let mut buf = vec![0u8; 64 * 1024];
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
        if transfer.stage == FileStage::Asking {
            let asked_at = *transfer.asked_at.get_or_insert(now);
            if now.saturating_duration_since(asked_at) >= ASK_WITHIN {
                return self.stop(FileOutcome::NoAnswer);
            }
        } else if transfer.cut_at.is_none() {
            match transfer.idle_since {
                Some((since, bytes)) if bytes == transfer.bytes => {
                    if now.saturating_duration_since(since) >= RESUME_WITHIN {
                        return self.stop(FileOutcome::Expired);
                    }
                }
                _ => transfer.idle_since = Some((now, transfer.bytes)),
            }
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
            let kept = transfer.snapshots.last().map_or(0, |(at, _)| *at);
            if transfer.bytes - kept >= SNAPSHOT_EVERY {
                transfer
                    .snapshots
                    .push((transfer.bytes, transfer.hasher.clone()));
            }
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

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
