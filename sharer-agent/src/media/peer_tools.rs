//! The in-session tools' channels of the connection to the helper:
//! clipboard text, the device's word on annotation, and files (JSON
//! messages and binary chunks, with what waits to leave).

use super::peer::AgentPeer;
use bytes::BytesMut;
use tandem_protocol::annotation::AnnotationMessage;
use tandem_protocol::clipboard::ClipboardMessage;
use tandem_protocol::files::FileMessage;

impl AgentPeer {
    /// Sends a clipboard message; false if it could not be.
    pub async fn send_clipboard(&self, message: &ClipboardMessage) -> bool {
        let Ok(text) = serde_json::to_string(message) else {
            return false;
        };
        match self.clipboard.send_text(&text).await {
            Ok(()) => true,
            Err(error) => {
                tracing::debug!(%error, "clipboard message not sent");
                false
            }
        }
    }

    /// Sends an annotation message (to the helper: whether the device
    /// draws); dropped (and logged) if the channel is not open.
    pub async fn send_annotation(&self, message: &AnnotationMessage) {
        let Ok(text) = serde_json::to_string(message) else {
            return;
        };
        if let Err(error) = self.annotation.send_text(&text).await {
            tracing::debug!(%error, "annotation message not sent");
        }
    }

    /// Sends a files message; dropped (and logged) if the channel is not
    /// open (the transfer then waits for the helper to resume it).
    pub async fn send_file_message(&self, message: &FileMessage) {
        let Ok(text) = serde_json::to_string(message) else {
            return;
        };
        if let Err(error) = self.files.send_text(&text).await {
            tracing::debug!(%error, "files message not sent");
        }
    }

    /// Sends a chunk of a file (binary).
    pub async fn send_file_chunk(&self, chunk: Vec<u8>) {
        if let Err(error) = self.files.send(BytesMut::from(&chunk[..])).await {
            tracing::debug!(%error, "a file chunk was not sent");
        }
    }

    /// File bytes waiting to leave (a full buffer, if the channel is gone).
    pub async fn files_backlog(&self) -> usize {
        self.files.outstanding_bytes().await.unwrap_or(usize::MAX)
    }
}
