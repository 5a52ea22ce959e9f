//! A session's writes: its creation and each transition. Each writes three
//! tables together (the session row, its log, its record), and all or
//! none of them is ever seen:
//!
//! - **SQLite** runs the three statements in one write transaction, its
//!   turn in the writers' queue held (`Store::begin_write`).
//! - **PostgreSQL** runs them as one statement, the row's write first and
//!   the others in data-modifying CTEs that follow it: one round trip
//!   instead of five (`BEGIN`, three writes, `COMMIT`), and a statement is
//!   its own transaction.
//!
//! Both backends run the same three pieces of SQL (PostgreSQL joins them
//! into one statement), and one numbering of their parameters serves all
//! three (SQLite binds `$N` by its number, so
//! each of its statements is bound with the whole list and uses its own).
//!
//! A transition is compare-and-set on the state: `WHERE state = <before>`,
//! so two racing transitions cannot both win. The log's number comes from
//! the row's `event_count`, which the same update moves: on PostgreSQL a
//! racer that waited for the row's lock re-reads the row, so two
//! transitions that keep the state (two reconnects) still take two
//! numbers, where a `MAX(seq) + 1` read from the statement's snapshot
//! would take the same one twice. The count is raised to the log's last
//! number first when that is higher: a replica of the version before
//! (during a rolling upgrade) logs without moving the count.

use super::party_column::party_name;
use super::remote_sessions::{SessionRecord, corrupt};
use super::report_writes::{self, RecordArgs, RecordChange};
use super::{Backend, Store, StoreResult};
use crate::auth::TenantScope;
use crate::domain::local_time::LocalStart;
use crate::domain::machine::{Event, State};
use sqlx::Row;
use std::sync::LazyLock;
use tandem_protocol::session::Party;
use tandem_protocol::{DeviceId, SessionId, UnixMillis, UserId};

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// A checked transition to write.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub actor: Party,
    pub actor_id: Option<&'a UserId>,
    pub event: &'a Event,
    pub next: &'a State,
    /// Set the sharer (redemption, or a refusal naming who tried).
    pub sharer: Option<&'a UserId>,
    /// Bind the session to this device, whose agent then shares the screen.
    pub device: Option<&'a DeviceId>,
    /// The grant of the mode now in force lets the helper act on
    /// elevation prompts (recorded as "helper held Elevation").
    pub elevation_held: bool,
    /// The agent followed an elevation prompt for the helper (recorded as
    /// "elevation used").
    pub elevation_used: bool,
    pub at: UnixMillis,
}

fn json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(corrupt)
}

// ---- creation --------------------------------------------------------------
// $1 session, $2 tenant, $3 helper, $4 state, $5 code hash, $6 code expiry,
// $7 now, $8 device, $9 via agent (0/1), $10 the event, $11 the tenant's
// local day, $12 weekday, $13 minute of the day, $14 the actor (helper).

const INSERT_SESSION: &str = "INSERT INTO remote_sessions (id, tenant_id, helper_id, device_id, \
     via_agent, state, code_hash, code_expires_at, created_at, updated_at, event_count) \
     VALUES ($1, $2, $3, $8, $9, $4, $5, $6, $7, $7, 1)";

/// The first event and the record, each a SELECT of `source`: the CTE of
/// the inserted row, or the row itself.
fn creation_rest(source: &str) -> [String; 2] {
    [
        format!(
            "INSERT INTO session_events (session_id, seq, at, actor, actor_id, event, state) \
             SELECT id, 1, $7, $14, $3, $10, $4 FROM {source}"
        ),
        // The names as they are now, and the tenant-local start.
        format!(
            "INSERT INTO session_reports (session_id, tenant_id, helper_id, helper_name, \
             device_id, device_name, started_at, local_day, local_weekday, local_minute) \
             SELECT id, $2, $3, COALESCE((SELECT display_name FROM users WHERE id = $3), $3), $8, \
             (SELECT name FROM devices WHERE id = $8), $7, $11, $12, $13 FROM {source}"
        ),
    ]
}

static CREATE_ONE_STATEMENT: LazyLock<String> = LazyLock::new(|| {
    let [event, record] = creation_rest("s");
    format!(
        "WITH s AS ({INSERT_SESSION} RETURNING id), e AS ({event}), r AS ({record}) \
         SELECT id FROM s"
    )
});

static CREATE_REST: LazyLock<[String; 2]> =
    LazyLock::new(|| creation_rest("remote_sessions WHERE id = $1"));

// ---- transitions -------------------------------------------------------------
// $1 next state, $2 time, $3 ended at, $4 sharer, $5 reconnect (0/1),
// $6 session, $7 state before, $8 device, $9 actor, $10 actor's id,
// $11 the event; $12 to $19 the record's (`report_writes::RECORD_UPDATE`).

const UPDATE_SESSION: &str = "UPDATE remote_sessions SET state = $1, updated_at = $2, \
     ended_at = $3, sharer_id = COALESCE($4, sharer_id), reconnects = reconnects + $5, \
     device_id = COALESCE($8, device_id), \
     via_agent = CASE WHEN $8 IS NULL THEN via_agent ELSE 1 END, \
     event_count = 1 + CASE WHEN event_count >= (SELECT COALESCE(MAX(seq), 0) \
         FROM session_events WHERE session_id = $6) THEN event_count \
         ELSE (SELECT COALESCE(MAX(seq), 0) FROM session_events WHERE session_id = $6) END \
     WHERE id = $6 AND state = $7";

/// The event, numbered by the count the update moved, as a SELECT of
/// `source`.
fn event_insert(source: &str) -> String {
    format!(
        "INSERT INTO session_events (session_id, seq, at, actor, actor_id, event, state) \
         SELECT id, event_count, $2, $9, $10, $11, $1 FROM {source}"
    )
}

static TRANSITION_ONE_STATEMENT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH s AS ({UPDATE_SESSION} RETURNING id, event_count), e AS ({event}), \
         r AS ({record} AND EXISTS (SELECT 1 FROM s)) SELECT event_count FROM s",
        event = event_insert("s"),
        record = report_writes::RECORD_UPDATE,
    )
});

static UPDATE_SESSION_RETURNING: LazyLock<String> =
    LazyLock::new(|| format!("{UPDATE_SESSION} RETURNING event_count"));

static TRANSITION_EVENT: LazyLock<String> =
    LazyLock::new(|| event_insert("remote_sessions WHERE id = $6"));

/// A transition's parameters, in the numbering above.
struct TransitionArgs {
    next: String,
    at: i64,
    ended_at: Option<i64>,
    sharer: Option<String>,
    reconnect: i64,
    id: String,
    before: String,
    device: Option<String>,
    actor: &'static str,
    actor_id: Option<String>,
    event: String,
    record: RecordArgs,
}

impl TransitionArgs {
    fn bind<'q>(&self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        let query = query
            .bind(self.next.clone())
            .bind(self.at)
            .bind(self.ended_at)
            .bind(self.sharer.clone())
            .bind(self.reconnect)
            .bind(self.id.clone())
            .bind(self.before.clone())
            .bind(self.device.clone())
            .bind(self.actor)
            .bind(self.actor_id.clone())
            .bind(self.event.clone());
        self.record.bind(query)
    }
}

impl Store {
    /// Creates a session with its code issued (the code only as a hash,
    /// with its expiry) and its record.
    pub async fn create_session(
        &self,
        scope: &TenantScope,
        helper: &UserId,
        (code_hash, code_expires_at): (&str, UnixMillis),
        device: Option<&DeviceId>,
        now: UnixMillis,
        local: &LocalStart,
    ) -> StoreResult<SessionRecord> {
        let id = SessionId(uuid::Uuid::new_v4().to_string());
        let state = State::CodeIssued;
        let (state_json, event_json) = (json(&state)?, json(&Event::IssueCode)?);
        let bind = |query: AnyQuery<'static>| {
            query
                .bind(id.0.clone())
                .bind(scope.tenant_id().0.clone())
                .bind(helper.0.clone())
                .bind(state_json.clone())
                .bind(code_hash.to_owned())
                .bind(code_expires_at.0)
                .bind(now.0)
                .bind(device.map(|d| d.0.clone()))
                .bind(i64::from(device.is_some()))
                .bind(event_json.clone())
                .bind(local.day.clone())
                .bind(i64::from(local.weekday))
                .bind(i64::from(local.minute))
                .bind(party_name(Party::Helper))
        };
        let code_taken = |e| super::unique_violation(e, "security code");
        match self.backend() {
            Backend::Postgres => {
                bind(sqlx::query(CREATE_ONE_STATEMENT.as_str()))
                    .fetch_one(self.conn().await?.connection()?)
                    .await
                    .map_err(code_taken)?;
            }
            Backend::Sqlite => {
                let (_gate, mut tx) = self.begin_write().await?;
                bind(sqlx::query(INSERT_SESSION))
                    .execute(&mut *tx)
                    .await
                    .map_err(code_taken)?;
                for statement in CREATE_REST.iter() {
                    bind(sqlx::query(statement.as_str()))
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(SessionRecord {
            id,
            tenant_id: scope.tenant_id().clone(),
            helper_id: helper.clone(),
            sharer_id: None,
            device_id: device.cloned(),
            via_agent: device.is_some(),
            state,
            code_hash: Some(code_hash.to_owned()),
            code_expires_at: Some(code_expires_at),
            reconnects: 0,
            created_at: now,
            updated_at: now,
            ended_at: None,
            version: 1,
        })
    }

    /// Writes `change` if the session is still in `record.state`; returns
    /// the updated record, or `None` if another transition got there first.
    pub async fn apply_session_change(
        &self,
        record: &SessionRecord,
        change: &Change<'_>,
    ) -> StoreResult<Option<SessionRecord>> {
        let reconnect = matches!(change.event, Event::Reconnect);
        let ended_at = change.next.is_ended().then_some(change.at.0);
        let args = TransitionArgs {
            next: json(change.next)?,
            at: change.at.0,
            ended_at,
            sharer: change.sharer.map(|u| u.0.clone()),
            reconnect: i64::from(reconnect),
            id: record.id.0.clone(),
            before: json(&record.state)?,
            device: change.device.map(|d| d.0.clone()),
            actor: party_name(change.actor),
            actor_id: change.actor_id.map(|u| u.0.clone()),
            event: json(change.event)?,
            record: RecordArgs::of(&RecordChange {
                next: change.next,
                actor: change.actor,
                paused: matches!(change.event, Event::Pause),
                elevation_held: change.elevation_held,
                elevation_used: change.elevation_used,
            }),
        };
        let version: Option<i64> = match self.backend() {
            Backend::Postgres => args
                .bind(sqlx::query(TRANSITION_ONE_STATEMENT.as_str()))
                .fetch_optional(self.conn().await?.connection()?)
                .await?
                .map(|row| row.try_get("event_count"))
                .transpose()?,
            Backend::Sqlite => {
                let (_gate, mut tx) = self.begin_write().await?;
                let won = args
                    .bind(sqlx::query(UPDATE_SESSION_RETURNING.as_str()))
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|row| row.try_get("event_count"))
                    .transpose()?;
                if won.is_some() {
                    for statement in [TRANSITION_EVENT.as_str(), report_writes::RECORD_UPDATE] {
                        args.bind(sqlx::query(statement)).execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                }
                won
            }
        };
        let Some(version) = version else {
            return Ok(None);
        };
        let mut updated = record.clone();
        updated.state = change.next.clone();
        updated.updated_at = change.at;
        updated.ended_at = ended_at.map(UnixMillis);
        if let Some(sharer) = change.sharer {
            updated.sharer_id = Some(sharer.clone());
        }
        if let Some(device) = change.device {
            updated.device_id = Some(device.clone());
            updated.via_agent = true;
        }
        updated.reconnects += u32::from(reconnect);
        updated.version = version;
        Ok(Some(updated))
    }
}
