//! File transfer as the server sees it: never a byte of a file. The device's
//! agent tells the sharer's page about each transfer (name, size, how far;
//! a [`FileNotice`] passed on and never stored), the sharer's Accept,
//! Decline or Cancel goes back to the agent, and the agent reports each
//! file moved whole, which the record counts with its size. A transfer
//! starts and moves only in full control through the agent, when the
//! tenant allows file transfer; how it ended is told and counted even once
//! control has ended.

use super::error::SessionResult;
use super::service::Sessions;
use super::signaling::Joined;
use crate::auth::TenantScope;
use crate::domain::machine::State;
use tandem_protocol::SessionId;
use tandem_protocol::files::FileStage;
use tandem_protocol::problem::{Problem, ProblemKind};
use tandem_protocol::session::{Mode, Party};
use tandem_protocol::signal::{ClientMessage, ServerMessage};

fn refused(kind: ProblemKind, detail: &str) -> Option<ServerMessage> {
    Some(ServerMessage::Error {
        problem: Problem::new(kind, Some(detail.to_owned())),
    })
}

/// What the server knows of file transfer in a session now.
struct FileGate {
    /// Through the device's agent.
    via_agent: bool,
    /// In full control with the tenant's file transfer on: a transfer may
    /// start or go on.
    live: bool,
    /// The tenant's limit in bytes.
    limit: u64,
}

impl Sessions {
    async fn file_gate(&self, scope: &TenantScope, id: &SessionId) -> SessionResult<FileGate> {
        let record = self.existing(scope, id).await?;
        let control = record.state
            == State::Active {
                mode: Mode::Control,
            };
        let settings = self.store().settings(scope).await?;
        Ok(FileGate {
            via_agent: record.via_agent,
            live: control && record.via_agent && settings.file_transfer_enabled,
            limit: settings.file_max_bytes(),
        })
    }
}

/// `FileNotice`, `FileAnswer` and `FileMoved` on a signaling connection.
/// A transfer starts and moves only while live; how one ended is still
/// told to the sharer and counted when control has just ended (the agent
/// stopped it because of that), so her page never shows a transfer that
/// is over as under way.
pub(super) async fn on_message(
    sessions: &Sessions,
    joined: &Joined,
    message: ClientMessage,
) -> Option<ServerMessage> {
    let gate = match sessions.file_gate(&joined.scope, &joined.session).await {
        Ok(gate) => gate,
        Err(error) => {
            tracing::warn!(%error, session = %joined.session, "checking file transfer failed");
            return refused(
                ProblemKind::Internal,
                "The file transfer could not be checked.",
            );
        }
    };
    let not_now = || {
        refused(
            ProblemKind::NotNow,
            "Files move only in full control through the agent, when the organization allows it.",
        )
    };
    if !gate.via_agent {
        return not_now();
    }
    let (to, forward) = match (joined.party, message) {
        (Party::Agent, ClientMessage::FileNotice { notice }) => {
            let over = matches!(notice.stage, FileStage::Done | FileStage::Stopped);
            if !gate.live && !over {
                return not_now();
            }
            if !notice.is_valid() || notice.size > gate.limit {
                return refused(
                    ProblemKind::BadMessage,
                    "That file notice is out of bounds.",
                );
            }
            (Party::Sharer, ServerMessage::FileNotice { notice })
        }
        (Party::Sharer, ClientMessage::FileAnswer { id, answer }) => {
            if !gate.live {
                return not_now();
            }
            (Party::Agent, ServerMessage::FileAnswer { id, answer })
        }
        (Party::Agent, ClientMessage::FileMoved { direction, bytes }) => {
            if bytes > gate.limit {
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
