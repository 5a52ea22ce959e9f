//! Remote-help sessions: the record, its transitions and their log.
//!
//! The writes of a session's creation and of its transitions are in
//! `session_writes.rs`.

use super::party_column::party_from;
use super::{Store, StoreError, StoreResult};
use crate::auth::TenantScope;
use crate::domain::machine::{Event, State};
use sqlx::Row;
use sqlx::any::AnyRow;
use tandem_protocol::session::Party;
use tandem_protocol::{DeviceId, SessionId, TenantId, UnixMillis, UserId};

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: SessionId,
    pub tenant_id: TenantId,
    pub helper_id: UserId,
    pub sharer_id: Option<UserId>,
    pub device_id: Option<DeviceId>,
    /// The device's agent shares the screen (not the sharer's browser).
    pub via_agent: bool,
    pub state: State,
    /// The code's keyed hash, hex (kept after use so that a reused code is
    /// told apart from a wrong one).
    pub code_hash: Option<String>,
    pub code_expires_at: Option<UnixMillis>,
    pub reconnects: u32,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
    pub ended_at: Option<UnixMillis>,
    /// How many changes the session had (`event_count`, its log's last
    /// number): a later state of it has a higher one.
    pub version: i64,
}

/// One entry of a session's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEventRecord {
    pub seq: i64,
    pub at: UnixMillis,
    pub actor: Party,
    pub actor_id: Option<UserId>,
    pub event: Event,
    pub state: State,
}

const COLUMNS: &str = "id, tenant_id, helper_id, sharer_id, device_id, via_agent, state, \
    code_hash, code_expires_at, reconnects, created_at, updated_at, ended_at, event_count";

/// A `remote_sessions` row (or a value written to it) that does not decode.
pub(super) fn corrupt(reason: impl ToString) -> StoreError {
    StoreError::Corrupt {
        table: "remote_sessions",
        reason: reason.to_string(),
    }
}

fn record_from_row(row: &AnyRow) -> StoreResult<SessionRecord> {
    let state: String = row.try_get("state")?;
    let reconnects: i64 = row.try_get("reconnects")?;
    let millis = |name: &str| -> StoreResult<Option<UnixMillis>> {
        Ok(row.try_get::<Option<i64>, _>(name)?.map(UnixMillis))
    };
    Ok(SessionRecord {
        id: SessionId(row.try_get("id")?),
        tenant_id: TenantId(row.try_get("tenant_id")?),
        helper_id: UserId(row.try_get("helper_id")?),
        sharer_id: row.try_get::<Option<String>, _>("sharer_id")?.map(UserId),
        device_id: row.try_get::<Option<String>, _>("device_id")?.map(DeviceId),
        via_agent: super::flag(row.try_get("via_agent")?),
        state: serde_json::from_str(&state).map_err(corrupt)?,
        code_hash: row.try_get("code_hash")?,
        code_expires_at: millis("code_expires_at")?,
        reconnects: u32::try_from(reconnects).map_err(corrupt)?,
        created_at: UnixMillis(row.try_get("created_at")?),
        updated_at: UnixMillis(row.try_get("updated_at")?),
        ended_at: millis("ended_at")?,
        version: row.try_get("event_count")?,
    })
}

impl Store {
    /// The session a code hash belongs to, in any tenant. Only redemption
    /// may call this: the code names the session, and redemption then
    /// refuses a sharer of another tenant.
    pub(crate) async fn session_by_code_hash(
        &self,
        code_hash: &str,
    ) -> StoreResult<Option<SessionRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM remote_sessions WHERE code_hash = $1"
        ))
        .bind(code_hash)
        .fetch_optional(self.conn().await?.connection()?)
        .await?;
        row.as_ref().map(record_from_row).transpose()
    }

    /// A session of the caller's tenant.
    pub async fn session(
        &self,
        scope: &TenantScope,
        id: &SessionId,
    ) -> StoreResult<Option<SessionRecord>> {
        // By the primary key alone, the tenant checked here: with the
        // tenant in the WHERE clause, PostgreSQL planned a growing table
        // (statistics not yet analysed) through the (tenant, created)
        // index, a scan of the tenant's sessions on every lookup.
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM remote_sessions WHERE id = $1"
        ))
        .bind(id.0.as_str())
        .fetch_optional(self.conn().await?.connection()?)
        .await?;
        let record = row.as_ref().map(record_from_row).transpose()?;
        Ok(record.filter(|r| &r.tenant_id == scope.tenant_id()))
    }

    /// Every session that has not ended, in all tenants: the server's own
    /// housekeeping (expiry, reconnect windows, grant renewal).
    pub(crate) async fn live_sessions(&self) -> StoreResult<Vec<SessionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM remote_sessions WHERE ended_at IS NULL ORDER BY created_at"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// The sessions of one tenant that have not ended.
    pub async fn live_sessions_of_tenant(
        &self,
        scope: &TenantScope,
    ) -> StoreResult<Vec<SessionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM remote_sessions \
             WHERE ended_at IS NULL AND tenant_id = $1 ORDER BY created_at"
        ))
        .bind(scope.tenant_id().0.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// The sessions, not ended, that a device's agent shares: an agent that
    /// reconnects (or restarts) is told about them again.
    pub async fn live_sessions_of_device(
        &self,
        device: &DeviceId,
    ) -> StoreResult<Vec<SessionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM remote_sessions \
             WHERE ended_at IS NULL AND device_id = $1 AND via_agent = 1 ORDER BY created_at"
        ))
        .bind(device.0.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// A session's log, oldest first.
    pub async fn session_events(
        &self,
        scope: &TenantScope,
        id: &SessionId,
    ) -> StoreResult<Vec<SessionEventRecord>> {
        let rows = sqlx::query(
            "SELECT e.seq, e.at, e.actor, e.actor_id, e.event, e.state FROM session_events e \
             JOIN remote_sessions s ON s.id = e.session_id \
             WHERE e.session_id = $1 AND s.tenant_id = $2 ORDER BY e.seq",
        )
        .bind(id.0.as_str())
        .bind(scope.tenant_id().0.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let actor: String = row.try_get("actor")?;
                let event: String = row.try_get("event")?;
                let state: String = row.try_get("state")?;
                Ok(SessionEventRecord {
                    seq: row.try_get("seq")?,
                    at: UnixMillis(row.try_get("at")?),
                    actor: party_from(&actor).ok_or_else(|| corrupt(format!("actor {actor:?}")))?,
                    actor_id: row.try_get::<Option<String>, _>("actor_id")?.map(UserId),
                    event: serde_json::from_str(&event).map_err(corrupt)?,
                    state: serde_json::from_str(&state).map_err(corrupt)?,
                })
            })
            .collect()
    }

    /// The secret named `name`, made by `make` and stored on first use.
    pub(crate) async fn server_secret(
        &self,
        name: &str,
        make: impl FnOnce() -> Vec<u8>,
        now: UnixMillis,
    ) -> StoreResult<Vec<u8>> {
        sqlx::query(
            "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(to_hex(&make()))
        .bind(now.0)
        .execute(self.pool())
        .await?;
        let value: String = sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(self.pool())
            .await?;
        from_hex(&value).ok_or_else(|| StoreError::Corrupt {
            table: "server_secrets",
            reason: format!("{name} is not hex"),
        })
    }
}

/// Lower-case hex.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses [`to_hex`]'s output.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Change;
    use tandem_protocol::session::Mode;

    fn local() -> crate::domain::local_time::LocalStart {
        crate::domain::local_time::LocalStart {
            day: "2026-11-23".into(),
            weekday: 0,
            minute: 600,
        }
    }

    #[test]
    fn hex_round_trips() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(from_hex(&to_hex(&bytes)), Some(bytes.to_vec()));
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
    }

    #[tokio::test]
    async fn transitions_are_compare_and_set_and_logged() {
        let store = Store::open_scratch().await.unwrap();
        let now = UnixMillis(1_000);
        crate::seed::seed_demo(&store, now).await.unwrap();
        let helper = store
            .user_by_email_for_sign_in("megan@contoso.test")
            .await
            .unwrap()
            .unwrap();
        let scope = TenantScope::for_tests(helper.tenant_id.clone());
        let record = store
            .create_session(
                &scope,
                &helper.id,
                ("aa", UnixMillis(61_000)),
                None,
                now,
                &local(),
            )
            .await
            .unwrap();
        assert_eq!(
            store.session_by_code_hash("aa").await.unwrap(),
            Some(record.clone())
        );
        let next = State::Redeemed;
        let change = Change {
            actor: Party::Sharer,
            actor_id: None,
            event: &Event::Redeem,
            next: &next,
            sharer: None,
            device: None,
            elevation_held: false,
            elevation_used: false,
            at: UnixMillis(2_000),
        };
        let updated = store
            .apply_session_change(&record, &change)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(updated.state, State::Redeemed);
        // The same change from the stale record loses the race.
        assert_eq!(
            store.apply_session_change(&record, &change).await.unwrap(),
            None
        );
        let ended = State::Ended {
            reason: tandem_protocol::session::EndReason::Declined,
        };
        let pending = State::ConsentPending {
            requested: Mode::View,
            current: None,
        };
        let updated = store
            .apply_session_change(
                &updated,
                &Change {
                    actor: Party::Helper,
                    actor_id: Some(&helper.id),
                    event: &Event::Request { mode: Mode::View },
                    next: &pending,
                    sharer: None,
                    device: None,
                    elevation_held: false,
                    elevation_used: false,
                    at: UnixMillis(3_000),
                },
            )
            .await
            .unwrap()
            .unwrap();
        let updated = store
            .apply_session_change(
                &updated,
                &Change {
                    actor: Party::Sharer,
                    actor_id: None,
                    event: &Event::Decline,
                    next: &ended,
                    sharer: None,
                    device: None,
                    elevation_held: false,
                    elevation_used: false,
                    at: UnixMillis(4_000),
                },
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(updated.ended_at, Some(UnixMillis(4_000)));
        assert_eq!((record.version, updated.version), (1, 4), "one per change");
        let reloaded = store.session(&scope, &record.id).await.unwrap().unwrap();
        assert_eq!(reloaded, updated);
        assert!(store.live_sessions().await.unwrap().is_empty());
        let log = store.session_events(&scope, &record.id).await.unwrap();
        let events: Vec<_> = log.iter().map(|e| (e.seq, e.actor, e.at)).collect();
        assert_eq!(
            events,
            vec![
                (1, Party::Helper, UnixMillis(1_000)),
                (2, Party::Sharer, UnixMillis(2_000)),
                (3, Party::Helper, UnixMillis(3_000)),
                (4, Party::Sharer, UnixMillis(4_000)),
            ]
        );
        // Another tenant's scope sees nothing.
        let other = TenantScope::for_tests(TenantId::from("other"));
        assert_eq!(store.session(&other, &record.id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn secrets_are_made_once() {
        let store = Store::open_scratch().await.unwrap();
        let first = store
            .server_secret("k", || vec![1, 2, 3], UnixMillis(1))
            .await
            .unwrap();
        let second = store
            .server_secret("k", || vec![9], UnixMillis(2))
            .await
            .unwrap();
        assert_eq!(first, vec![1, 2, 3]);
        assert_eq!(second, first);
    }
}
