//! The session record's writes. A transition's write of the record is part
//! of the transition's own write (`session_writes.rs`), so a record and its
//! session never disagree, and an acknowledged transition is on disk with
//! its record.

use super::{Store, StoreError, StoreResult};
use crate::auth::TenantScope;
use crate::domain::machine::State;
use sqlx::{Any, Row};
use tandem_protocol::clipboard::ClipboardDirection;
use tandem_protocol::files::FileDirection;
use tandem_protocol::reports::Outcome;
use tandem_protocol::session::{EndReason, Mode, Party, StopCause};
use tandem_protocol::{SessionId, TenantId, UnixMillis, UserId};

/// Which clock of the record runs in `state`: the mode in force, or pause.
pub fn segment_of(state: &State) -> Option<&'static str> {
    let mode = match state {
        State::Active { mode } => *mode,
        State::ConsentPending {
            current: Some(mode),
            ..
        } => *mode,
        State::Paused { .. } => return Some("paused"),
        _ => return None,
    };
    Some(match mode {
        Mode::View => "view",
        Mode::Control => "control",
    })
}

/// The outcome a state stands for, with the policy's reason or the error.
pub fn outcome_of(state: &State) -> (Outcome, Option<String>) {
    match state {
        State::Ended { reason } => match reason {
            EndReason::Completed { .. } => (Outcome::Completed, None),
            EndReason::Declined => (Outcome::Declined, None),
            EndReason::Refused { reason } => (Outcome::Refused, Some(reason.text().to_owned())),
            EndReason::Failed { error } => (Outcome::Failed, Some(error.clone())),
            EndReason::Disconnected => (Outcome::Disconnected, None),
            EndReason::Expired => (Outcome::Expired, None),
            EndReason::Stopped {
                cause: StopCause::EndedByAdmin,
            } => (
                Outcome::Completed,
                Some("ended by an administrator".to_owned()),
            ),
            EndReason::Stopped {
                cause: StopCause::RemoteHelpTurnedOff,
            } => (
                Outcome::Refused,
                Some("remote help was turned off".to_owned()),
            ),
        },
        _ => (Outcome::Active, None),
    }
}

/// What one transition changes in the record, besides what the session's
/// own parameters say (`session_writes.rs`).
#[derive(Debug)]
pub(super) struct RecordChange<'a> {
    pub next: &'a State,
    pub actor: Party,
    pub paused: bool,
    pub elevation_held: bool,
    pub elevation_used: bool,
}

/// The record's parameters of a transition, `$12` to `$19` of its
/// numbering: the segment now running, whether the session ended (0/1),
/// the outcome and its detail, who ended it, and the pause and elevation
/// flags (0/1).
#[derive(Debug)]
pub(super) struct RecordArgs {
    segment: Option<&'static str>,
    ended: i64,
    outcome: &'static str,
    detail: Option<String>,
    ended_by: Option<&'static str>,
    paused: i64,
    elevation_held: i64,
    elevation_used: i64,
}

impl RecordArgs {
    pub(super) fn of(change: &RecordChange<'_>) -> Self {
        let (outcome, detail) = outcome_of(change.next);
        let ended = change.next.is_ended();
        RecordArgs {
            segment: segment_of(change.next),
            ended: i64::from(ended),
            outcome: outcome.as_str(),
            detail,
            ended_by: ended.then(|| super::party_column::party_name(change.actor)),
            paused: i64::from(change.paused),
            elevation_held: i64::from(change.elevation_held),
            elevation_used: i64::from(change.elevation_used),
        }
    }

    pub(super) fn bind<'q>(
        &self,
        query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
        query
            .bind(self.segment)
            .bind(self.ended)
            .bind(self.outcome)
            .bind(self.detail.clone())
            .bind(self.ended_by)
            .bind(self.paused)
            .bind(self.elevation_held)
            .bind(self.elevation_used)
    }
}

/// One transition's write of the record, in the transition's numbering
/// (`session_writes.rs`; `$2` the time, `$4` the sharer, `$5` reconnect,
/// `$6` the session, `$8` the device, `$10` the actor's id, then
/// [`RecordArgs`]): closes the running clock at the time, starts the next
/// one, and records the end, the sharer, the device and the flags.
pub(super) const RECORD_UPDATE: &str = "UPDATE session_reports SET \
     view_ms = view_ms + CASE WHEN segment = 'view' THEN $2 - segment_since ELSE 0 END, \
     control_ms = control_ms + CASE WHEN segment = 'control' THEN $2 - segment_since ELSE 0 END, \
     paused_ms = paused_ms + CASE WHEN segment = 'paused' THEN $2 - segment_since ELSE 0 END, \
     segment = $12, \
     segment_since = CASE WHEN $12 IS NULL THEN NULL ELSE $2 END, \
     ended_at = CASE WHEN $13 = 1 THEN $2 ELSE ended_at END, \
     outcome = $14, \
     outcome_detail = COALESCE($15, outcome_detail), \
     ended_by = CASE WHEN $13 = 1 THEN $16 ELSE ended_by END, \
     ended_by_id = CASE WHEN $13 = 1 THEN $10 ELSE ended_by_id END, \
     ended_by_name = CASE WHEN $13 = 1 THEN (SELECT display_name FROM users WHERE id = $10) \
         ELSE ended_by_name END, \
     sharer_id = COALESCE($4, sharer_id), \
     sharer_name = COALESCE((SELECT display_name FROM users WHERE id = $4), sharer_name), \
     device_id = COALESCE($8, device_id), \
     device_name = COALESCE((SELECT name FROM devices WHERE id = $8), device_name), \
     reconnects = reconnects + $5, \
     pause_used = CASE WHEN $17 = 1 THEN 1 ELSE pause_used END, \
     elevation_held = CASE WHEN $18 = 1 THEN 1 ELSE elevation_held END, \
     elevation_used = CASE WHEN $19 = 1 THEN 1 ELSE elevation_used END \
     WHERE session_id = $6";

/// Why a code did not work, for "repeated code failures".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeFailure {
    Wrong,
    Expired,
    Used,
    /// Someone of another organization entered this tenant's code.
    ForeignTenant,
}

/// Who a foreign-tenant attempt is recorded under: the owning tenant learns
/// that it happened, not who in the other organization tried.
pub const OUTSIDER_ID: &str = "outsider";
const OUTSIDER_NAME: &str = "Someone of another organization";

impl CodeFailure {
    fn as_str(self) -> &'static str {
        match self {
            CodeFailure::Wrong => "wrong",
            CodeFailure::Expired => "expired",
            CodeFailure::Used => "used",
            CodeFailure::ForeignTenant => "foreign_tenant",
        }
    }
}

/// What a session's view shows of its record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFacts {
    pub clipboard_to_device: u32,
    pub clipboard_from_device: u32,
    /// The helper's ticket reference, if any.
    pub ticket: Option<String>,
}

/// The columns of [`RecordFacts`], in `session_reports`.
pub(super) const RECORD_FACTS: &str = "clipboard_to_device, clipboard_from_device, ticket";

pub(super) fn record_facts_from_row(row: &sqlx::any::AnyRow) -> StoreResult<RecordFacts> {
    let count = |name: &str| -> StoreResult<u32> {
        u32::try_from(row.try_get::<i64, _>(name)?).map_err(|e| StoreError::Corrupt {
            table: "session_reports",
            reason: e.to_string(),
        })
    };
    Ok(RecordFacts {
        clipboard_to_device: count("clipboard_to_device")?,
        clipboard_from_device: count("clipboard_from_device")?,
        ticket: row.try_get("ticket")?,
    })
}

impl Store {
    /// Records that chat was used in a session (the fact, never the text).
    pub async fn mark_chat_used(&self, id: &SessionId) -> StoreResult<()> {
        sqlx::query(
            "UPDATE session_reports SET chat_used = 1 WHERE session_id = $1 AND chat_used = 0",
        )
        .bind(id.0.as_str())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records that annotation was used in a session (the fact, never the
    /// strokes).
    pub async fn mark_annotation_used(&self, id: &SessionId) -> StoreResult<()> {
        sqlx::query(
            "UPDATE session_reports SET annotation_used = 1 \
             WHERE session_id = $1 AND annotation_used = 0",
        )
        .bind(id.0.as_str())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Counts one use of the clipboard in a session (the fact and its
    /// direction, never the text); returns the counts after it, to
    /// device then from device.
    pub async fn count_clipboard(
        &self,
        id: &SessionId,
        direction: ClipboardDirection,
    ) -> StoreResult<(u32, u32)> {
        let column = match direction {
            ClipboardDirection::ToDevice => "clipboard_to_device",
            ClipboardDirection::FromDevice => "clipboard_from_device",
        };
        sqlx::query(&format!(
            "UPDATE session_reports SET {column} = {column} + 1 WHERE session_id = $1"
        ))
        .bind(id.0.as_str())
        .execute(self.pool())
        .await?;
        self.clipboard_counts(id).await
    }

    /// Counts one file moved whole in a session (the fact and its size,
    /// never the name or content).
    pub async fn count_file(
        &self,
        id: &SessionId,
        direction: FileDirection,
        bytes: u64,
    ) -> StoreResult<()> {
        let (count, total) = match direction {
            FileDirection::ToDevice => ("files_to_device", "file_bytes_to_device"),
            FileDirection::FromDevice => ("files_from_device", "file_bytes_from_device"),
        };
        sqlx::query(&format!(
            "UPDATE session_reports SET {count} = {count} + 1, {total} = {total} + $2 \
             WHERE session_id = $1"
        ))
        .bind(id.0.as_str())
        .bind(i64::try_from(bytes).unwrap_or(i64::MAX))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// How often the clipboard went to and came from the device in a
    /// session.
    pub async fn clipboard_counts(&self, id: &SessionId) -> StoreResult<(u32, u32)> {
        let facts = self.record_facts(id).await?;
        Ok((facts.clipboard_to_device, facts.clipboard_from_device))
    }

    /// What a session's view shows of its record, in one read.
    pub async fn record_facts(&self, id: &SessionId) -> StoreResult<RecordFacts> {
        let row = sqlx::query(&format!(
            "SELECT {RECORD_FACTS} FROM session_reports WHERE session_id = $1"
        ))
        .bind(id.0.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref()
            .map_or(Ok(RecordFacts::default()), record_facts_from_row)
    }

    /// Whether a session's record already says elevation was used.
    pub async fn elevation_recorded(&self, id: &SessionId) -> StoreResult<bool> {
        let used: Option<i64> =
            sqlx::query_scalar("SELECT elevation_used FROM session_reports WHERE session_id = $1")
                .bind(id.0.as_str())
                .fetch_optional(self.pool())
                .await?;
        Ok(used.is_some_and(|u| u != 0))
    }

    /// Sets (or clears) the ticket reference of a session's record. The
    /// caller checked that the user is the session's helper.
    pub async fn set_ticket(
        &self,
        scope: &TenantScope,
        id: &SessionId,
        ticket: Option<&str>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE session_reports SET ticket = $3 WHERE session_id = $1 AND tenant_id = $2",
        )
        .bind(id.0.as_str())
        .bind(scope.tenant_id().0.as_str())
        .bind(ticket.map(str::to_owned))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A signed-in person entered a code that did not work.
    pub async fn record_code_failure(
        &self,
        tenant: &TenantId,
        user: &UserId,
        kind: CodeFailure,
        at: UnixMillis,
        local_day: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO code_failures (tenant_id, user_id, user_name, at, local_day, kind) \
             VALUES ($1, $2, COALESCE((SELECT display_name FROM users WHERE id = $2), $2), \
             $3, $4, $5)",
        )
        .bind(tenant.0.as_str())
        .bind(user.0.as_str())
        .bind(at.0)
        .bind(local_day)
        .bind(kind.as_str())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Someone of another organization entered one of `tenant`'s codes.
    pub async fn record_foreign_code(
        &self,
        tenant: &TenantId,
        at: UnixMillis,
        local_day: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO code_failures (tenant_id, user_id, user_name, at, local_day, kind) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tenant.0.as_str())
        .bind(OUTSIDER_ID)
        .bind(OUTSIDER_NAME)
        .bind(at.0)
        .bind(local_day)
        .bind(CodeFailure::ForeignTenant.as_str())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Deletes what is older than each tenant's retention: ended sessions
    /// (with their log and record) and code failures. Returns how many
    /// session records went.
    pub async fn delete_expired_records(&self, now: UnixMillis) -> StoreResult<u64> {
        const DAY_MS: i64 = 86_400_000;
        let cutoff = |table: &str| {
            format!(
                "$1 - {DAY_MS} * COALESCE((SELECT retention_days FROM tenant_settings ts \
                 WHERE ts.tenant_id = {table}.tenant_id), 30)"
            )
        };
        let (_gate, mut tx) = self.begin_write().await?;
        if self.backend() == super::Backend::Postgres {
            // The hourly job may delete a large backlog at once: the
            // statement timeout of requests does not apply to it.
            sqlx::query("SET LOCAL statement_timeout = 0")
                .execute(&mut *tx)
                .await?;
        }
        let records = sqlx::query(&format!(
            "DELETE FROM session_reports WHERE ended_at IS NOT NULL AND ended_at < {}",
            cutoff("session_reports")
        ))
        .bind(now.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // The event log goes with its session (ON DELETE CASCADE).
        sqlx::query(&format!(
            "DELETE FROM remote_sessions WHERE ended_at IS NOT NULL AND ended_at < {}",
            cutoff("remote_sessions")
        ))
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        sqlx::query(&format!(
            "DELETE FROM code_failures WHERE at < {}",
            cutoff("code_failures")
        ))
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(records)
    }
}
