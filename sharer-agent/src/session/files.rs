//! File transfer between the helper and this device, as the session
//! carries it out: the desk (`file_desk.rs`) decides, this sends its
//! messages and chunks on the `files` channel and its notices and counts
//! to the server, and holds the sharer's Downloads folder.

use super::Session;
use super::file_desk::{Effect, SEND_BACKLOG};
use crate::files::FileStore;
use std::time::Instant;
use tandem_protocol::files::{FileAnswer, FileMessage};

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
        self.file_store.take().unwrap_or_else(|| {
            match crate::files::Downloads::of_user(self.agent_dirs.clone()) {
                Ok(store) => Box::new(store),
                Err(error) => {
                    tracing::warn!(%error, "files cannot be received here");
                    Box::new(crate::files::Nowhere)
                }
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
                Effect::Server(message) => self.for_server.push(message),
            }
        }
    }
}
