//! File transfer as the server sees it: never a byte of a file. The device's
//! agent tells the sharer's page about each transfer (name, size, how far;
//! a [`FileNotice`] passed on and never stored), the sharer's Accept,
//! Decline or Cancel goes back to the agent, and the agent reports each
//! file moved whole, which the record counts with its size. All of it only
//! in full control through the agent, when the tenant allows file transfer.

use super::error::{SessionError, SessionResult};
use super::service::Sessions;
use super::signaling::Joined;
use crate::auth::TenantScope;
use crate::domain::machine::State;
use tandem_protocol::SessionId;
use tandem_protocol::problem::{Problem, ProblemKind};
use tandem_protocol::session::{Mode, Party};
use tandem_protocol::signal::{ClientMessage, ServerMessage};

fn refused(kind: ProblemKind, detail: &str) -> Option<ServerMessage> {
    Some(ServerMessage::Error {
        problem: Problem::new(kind, Some(detail.to_owned())),
    })
}

impl Sessions {
    /// The tenant's file limit in bytes when a file may move now: full
    /// control through the agent, the tenant allowing file transfer.
    async fn file_limit(&self, scope: &TenantScope, id: &SessionId) -> SessionResult<Option<u64>> {
        let record = self
            .store()
            .session(scope, id)
            .await?
            .ok_or(SessionError::NotFound)?;
        let control = record.state
            == State::Active {
                mode: Mode::Control,
            };
        let settings = self.store().settings(scope).await?;
        Ok(
            (control && record.via_agent && settings.file_transfer_enabled)
                .then(|| settings.file_max_bytes()),
        )
    }
}

/// `FileNotice`, `FileAnswer` and `FileMoved` on a signaling connection.
pub(super) async fn on_message(
    sessions: &Sessions,
    joined: &Joined,
    message: ClientMessage,
) -> Option<ServerMessage> {
    let limit = match sessions.file_limit(&joined.scope, &joined.session).await {
        Ok(limit) => limit,
        Err(error) => {
            tracing::warn!(%error, session = %joined.session, "checking file transfer failed");
            return refused(
                ProblemKind::Internal,
                "The file transfer could not be checked.",
            );
        }
    };
    let Some(limit) = limit else {
        return refused(
            ProblemKind::NotNow,
            "Files move only in full control through the agent, when the organization allows it.",
        );
    };
    let (to, forward) = match (joined.party, message) {
        (Party::Agent, ClientMessage::FileNotice { notice }) => {
            if !notice.is_valid() || notice.size > limit {
                return refused(
                    ProblemKind::BadMessage,
                    "That file notice is out of bounds.",
                );
            }
            (Party::Sharer, ServerMessage::FileNotice { notice })
        }
        (Party::Sharer, ClientMessage::FileAnswer { id, answer }) => {
            (Party::Agent, ServerMessage::FileAnswer { id, answer })
        }
        (Party::Agent, ClientMessage::FileMoved { direction, bytes }) => {
            if bytes > limit {
                return refused(
                    ProblemKind::BadMessage,
                    "That file is over the organization's limit.",
                );
            }
            return match sessions
                .store()
                .count_file(&joined.session, direction, bytes)
                .await
            {
                Ok(()) => {
                    tracing::info!(session = %joined.session, ?direction, bytes, "file moved");
                    None
                }
                Err(error) => {
                    tracing::warn!(%error, session = %joined.session, "counting a file failed");
                    refused(ProblemKind::Internal, "The file could not be recorded.")
                }
            };
        }
        (party, _) => {
            return refused(
                ProblemKind::WrongParty,
                &format!("The {party:?} cannot send that file message."),
            );
        }
    };
    if sessions.hub().send(&joined.session, to, &forward) == 0 {
        return refused(
            ProblemKind::PeerAbsent,
            "The other participant is not connected right now.",
        );
    }
    None
}
