//! In-session tools the device's agent reports using: the clipboard and
//! annotation. Their content never passes the server. For the clipboard
//! it hears the fact and its direction, counts it in the record and shows
//! the sharer (their view carries the counts, so each use is a notice on
//! their page); for annotation, that it was used (the sharer sees the
//! strokes on their own screen).

use super::error::{SessionError, SessionResult};
use super::service::Sessions;
use super::signaling::Joined;
use crate::auth::TenantScope;
use crate::domain::machine::State;
use tandem_protocol::SessionId;
use tandem_protocol::clipboard::ClipboardDirection;
use tandem_protocol::problem::{Problem, ProblemKind};
use tandem_protocol::session::{Mode, Party};
use tandem_protocol::signal::ServerMessage;

/// Whether a use of the clipboard was counted, or why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ToolUse {
    Counted,
    /// Not in full control through the agent, or the tenant turned the
    /// clipboard off.
    NotAllowed,
}

impl Sessions {
    /// The session's record, which must exist.
    pub(super) async fn existing(
        &self,
        scope: &TenantScope,
        id: &SessionId,
    ) -> SessionResult<crate::store::SessionRecord> {
        self.store()
            .session(scope, id)
            .await?
            .ok_or(SessionError::NotFound)
    }

    /// The device's agent set or read its clipboard for the helper:
    /// counted, and everyone's view published, only when it can be true
    /// (full control through the agent, the tenant allowing the clipboard).
    pub(super) async fn clipboard_used(
        &self,
        scope: &TenantScope,
        id: &SessionId,
        direction: ClipboardDirection,
    ) -> SessionResult<ToolUse> {
        let record = self.existing(scope, id).await?;
        let control = record.state
            == State::Active {
                mode: Mode::Control,
            };
        if !control || !record.via_agent || !self.store().settings(scope).await?.clipboard_enabled {
            return Ok(ToolUse::NotAllowed);
        }
        let (to, from) = self.store().count_clipboard(&record.id, direction).await?;
        tracing::info!(session = %record.id, ?direction, to, from, "clipboard used");
        self.publish(&record).await;
        Ok(ToolUse::Counted)
    }

    /// The helper's strokes were drawn where the screen is shared (by the
    /// device's agent, or by the sharer's page for a browser tab): recorded
    /// once, only from that party, while shared, the tenant allowing it.
    pub(super) async fn annotation_used(
        &self,
        scope: &TenantScope,
        id: &SessionId,
        party: Party,
    ) -> SessionResult<ToolUse> {
        let record = self.existing(scope, id).await?;
        let live = matches!(record.state, State::Active { .. });
        if !live
            || party != super::media_party(record.via_agent)
            || !self.store().settings(scope).await?.annotation_enabled
        {
            return Ok(ToolUse::NotAllowed);
        }
        self.store().mark_annotation_used(&record.id).await?;
        Ok(ToolUse::Counted)
    }
}

/// `AnnotationUsed` on a signaling connection: only the side that shows
/// the screen (the device's agent, or the sharer's browser) says it.
pub(super) async fn annotation_used(sessions: &Sessions, joined: &Joined) -> Option<ServerMessage> {
    if joined.party == Party::Helper {
        return refused(
            ProblemKind::WrongParty,
            "Only the side that shows the screen reports annotation.",
        );
    }
    match sessions
        .annotation_used(&joined.scope, &joined.session, joined.party)
        .await
    {
        Ok(ToolUse::Counted) => None,
        Ok(ToolUse::NotAllowed) => refused(
            ProblemKind::NotNow,
            "Annotation is recorded only while the screen is shared, when the organization allows it.",
        ),
        Err(error) => {
            tracing::warn!(%error, session = %joined.session, "recording annotation failed");
            refused(ProblemKind::Internal, "Annotation could not be recorded.")
        }
    }
}

fn refused(kind: ProblemKind, detail: &str) -> Option<ServerMessage> {
    Some(ServerMessage::Error {
        problem: Problem::new(kind, Some(detail.to_owned())),
    })
}

/// `ClipboardUsed` on a signaling connection: only the device's agent
/// says it.
pub(super) async fn clipboard_used(
    sessions: &Sessions,
    joined: &Joined,
    direction: ClipboardDirection,
) -> Option<ServerMessage> {
    let refuse = refused;
    if joined.party != Party::Agent {
        return refuse(
            ProblemKind::WrongParty,
            "Only the device's agent reports clipboard use.",
        );
    }
    match sessions
        .clipboard_used(&joined.scope, &joined.session, direction)
        .await
    {
        Ok(ToolUse::Counted) => None,
        Ok(ToolUse::NotAllowed) => refuse(
            ProblemKind::NotNow,
            "The clipboard is used only in full control, when the organization allows it.",
        ),
        Err(error) => {
            tracing::warn!(%error, session = %joined.session, "recording clipboard use failed");
            refuse(
                ProblemKind::Internal,
                "Clipboard use could not be recorded.",
            )
        }
    }
}
