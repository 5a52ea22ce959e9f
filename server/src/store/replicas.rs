//! Several replicas on one PostgreSQL database: who runs, who is connected
//! where, and the bus between them (`LISTEN/NOTIFY` on a channel named
//! after the schema, so that databases and test schemas never hear each
//! other). SQLite has one server per file and none of this.
//!
//! Each replica holds a [`Lifeline`]: one connection of its own that
//! registers it, beats its heart, holds the housekeeping lock
//! (`pg_try_advisory_lock`: the lock goes when the connection does), writes
//! its presence rows and sends its notifications, in order. A replica whose
//! lifeline process is gone from `pg_stat_activity` (it was killed, so its
//! connection closed) or that missed its heartbeats is dead.

use super::party_column::{party_from, party_name};
use super::{Store, StoreError, StoreResult};
use sqlx::postgres::{PgConnection, PgListener};
use sqlx::{Connection, Row};
use std::sync::Arc;
use tandem_protocol::session::Party;
use tandem_protocol::{DeviceId, SessionId, TenantId, UnixMillis};

/// NOTIFY payloads must stay under 8000 bytes; larger messages go through
/// `bus_payloads` and the notification carries `@<id>`.
pub const INLINE_PAYLOAD_MAX: usize = 7_000;

/// A database URL, which may hold a password: never printed.
#[derive(Clone)]
pub struct SecretUrl(pub(super) Arc<str>);

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretUrl(…)")
    }
}

/// What an open socket is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// A signaling connection of `party` in a session.
    Session {
        tenant: TenantId,
        session: SessionId,
        party: Party,
    },
    /// An agent's control connection.
    Agent { device: DeviceId },
}

/// An open socket of another replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceRow {
    pub replica: String,
    pub conn: u64,
    pub presence: Presence,
}

/// A replica found dead: its lifeline's process, and how long ago (by
/// the database's clock) it was last seen alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadReplica {
    pub id: String,
    pub pid: i32,
    pub unseen_millis: i64,
}

/// Now, by the database's clock: replicas compare their heartbeats on
/// one clock, whatever their hosts' clocks say.
const DB_NOW: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

impl Store {
    fn url(&self) -> StoreResult<&str> {
        self.url
            .as_ref()
            .map(|url| &*url.0)
            .ok_or(StoreError::SingleServer)
    }

    /// Whether several replicas may share this database (PostgreSQL).
    pub fn shared_by_replicas(&self) -> bool {
        self.url.is_some()
    }

    /// A second handle on the same PostgreSQL database, as another
    /// replica would open (tests of several replicas in one process).
    #[doc(hidden)]
    pub async fn open_again(&self) -> StoreResult<Store> {
        Store::open(self.url()?).await
    }

    /// Opens this replica's lifeline connection.
    pub async fn lifeline(&self) -> StoreResult<Lifeline> {
        let mut conn = PgConnection::connect(self.url()?).await?;
        let row = sqlx::query("SELECT current_schema(), pg_backend_pid()")
            .fetch_one(&mut conn)
            .await?;
        let schema: String = row.try_get(0)?;
        let pid: i32 = row.try_get(1)?;
        Ok(Lifeline {
            conn,
            channel: channel_of(&schema),
            pid,
        })
    }

    /// A listener on the bus channel `channel` (from [`Lifeline::channel`]).
    pub async fn bus_listener(&self, channel: &str) -> StoreResult<PgListener> {
        let mut listener = PgListener::connect(self.url()?).await?;
        listener.listen(channel).await?;
        Ok(listener)
    }

    /// The open sockets of every other replica still alive.
    pub async fn presence_elsewhere(
        &self,
        me: &str,
        lease_millis: i64,
    ) -> StoreResult<Vec<PresenceRow>> {
        let rows = sqlx::query(&format!(
            "SELECT p.replica_id, p.conn, p.tenant_id, p.session_id, p.party, p.device_id \
             FROM live_presence p JOIN replicas r ON r.id = p.replica_id \
             WHERE p.replica_id <> $1 AND r.seen_at >= {DB_NOW} - $2 ORDER BY p.attached_at"
        ))
        .bind(me)
        .bind(lease_millis)
        .fetch_all(self.pool())
        .await?;
        let mut found = Vec::with_capacity(rows.len());
        for row in rows {
            let conn: i64 = row.try_get(1)?;
            let tenant: Option<String> = row.try_get(2)?;
            let session: Option<String> = row.try_get(3)?;
            let party: Option<String> = row.try_get(4)?;
            let device: Option<String> = row.try_get(5)?;
            let presence = match (
                tenant,
                session,
                party.as_deref().and_then(party_from),
                device,
            ) {
                (Some(tenant), Some(session), Some(party), None) => Presence::Session {
                    tenant: TenantId(tenant),
                    session: SessionId(session),
                    party,
                },
                (None, None, None, Some(device)) => Presence::Agent {
                    device: DeviceId(device),
                },
                _ => {
                    return Err(StoreError::Corrupt {
                        table: "live_presence",
                        reason: "neither a session nor a device".into(),
                    });
                }
            };
            found.push(PresenceRow {
                replica: row.try_get(0)?,
                conn: u64::try_from(conn).unwrap_or_default(),
                presence,
            });
        }
        Ok(found)
    }

    /// Replicas but `me` whose lifeline process is gone, or that were not
    /// seen for `lease_millis`.
    pub async fn dead_replicas(
        &self,
        me: &str,
        lease_millis: i64,
    ) -> StoreResult<Vec<DeadReplica>> {
        let rows = sqlx::query(&format!(
            "SELECT id, lifeline_pid, {DB_NOW} - seen_at FROM replicas r WHERE id <> $1 \
             AND (seen_at < {DB_NOW} - $2 OR NOT EXISTS \
             (SELECT 1 FROM pg_stat_activity a WHERE a.pid = r.lifeline_pid))"
        ))
        .bind(me)
        .bind(lease_millis)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DeadReplica {
                    id: row.try_get(0)?,
                    pid: row.try_get(1)?,
                    unseen_millis: row.try_get::<i64, _>(2)?.max(0),
                })
            })
            .collect()
    }

    /// The body of a bus message too large for its notification.
    pub async fn bus_payload(&self, id: i64) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar::<_, String>("SELECT body FROM bus_payloads WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?,
        )
    }
}

/// The channel of a schema: letters, digits and `_` only, at most 63
/// bytes (an identifier's limit).
fn channel_of(schema: &str) -> String {
    let clean: String = schema
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut channel = format!("tandem_{clean}");
    channel.truncate(63);
    channel
}

/// One replica's own connection (see the module's text).
pub struct Lifeline {
    conn: PgConnection,
    channel: String,
    pid: i32,
}

impl std::fmt::Debug for Lifeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lifeline")
            .field("channel", &self.channel)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl Lifeline {
    /// The bus channel of this database and schema.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// Registers `replica` as running, with this connection's process,
    /// and forgets any sockets it announced before (they are announced
    /// again).
    pub async fn register(&mut self, replica: &str, now: UnixMillis) -> StoreResult<()> {
        let mut tx = self.conn.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO replicas (id, lifeline_pid, started_at, registered_at, seen_at) \
             VALUES ($1, $2, $3, {DB_NOW}, {DB_NOW}) ON CONFLICT (id) DO UPDATE \
             SET lifeline_pid = $2, registered_at = {DB_NOW}, seen_at = {DB_NOW}"
        ))
        .bind(replica)
        .bind(self.pid)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM live_presence WHERE replica_id = $1")
            .bind(replica)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Says `replica` is alive; answers how long it had not been seen
    /// (by the database's clock), or `None` if its row is gone (another
    /// replica took it for dead). Past the lease, others may have
    /// forgotten its sockets: it must announce them again.
    pub async fn heartbeat(&mut self, replica: &str) -> StoreResult<Option<i64>> {
        Ok(sqlx::query_scalar(&format!(
            "WITH old AS (SELECT seen_at FROM replicas WHERE id = $1 AND lifeline_pid = $2 FOR UPDATE) \
             UPDATE replicas r SET seen_at = {DB_NOW} FROM old \
             WHERE r.id = $1 AND r.lifeline_pid = $2 RETURNING {DB_NOW} - old.seen_at"
        ))
        .bind(replica)
        .bind(self.pid)
        .fetch_optional(&mut self.conn)
        .await?)
    }

    /// Takes the housekeeping lock if nobody holds it; true while this
    /// connection holds it.
    pub async fn try_lead(&mut self) -> StoreResult<bool> {
        Ok(
            sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock(hashtext($1)::bigint)")
                .bind(&self.channel)
                .fetch_one(&mut self.conn)
                .await?,
        )
    }

    /// Deletes a dead replica and its presence rows, if it is still dead
    /// (the same process, still gone or unseen for `lease_millis`), and
    /// ends its lifeline's backend if that lingers (a host that vanished
    /// without closing its connection holds the housekeeping lock until
    /// then). True if it was deleted.
    pub async fn forget_dead(
        &mut self,
        dead: &DeadReplica,
        lease_millis: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.conn.begin().await?;
        let gone: Option<i64> = sqlx::query_scalar(&format!(
            "DELETE FROM replicas r WHERE id = $1 AND lifeline_pid = $2 \
             AND (seen_at < {DB_NOW} - $3 OR NOT EXISTS \
             (SELECT 1 FROM pg_stat_activity a WHERE a.pid = r.lifeline_pid)) RETURNING registered_at"
        ))
        .bind(&dead.id)
        .bind(dead.pid)
        .bind(lease_millis)
        .fetch_optional(&mut *tx)
        .await?;
        if gone.is_some() {
            sqlx::query("DELETE FROM live_presence WHERE replica_id = $1")
                .bind(&dead.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        if let Some(registered_at) = gone {
            // Its own backend only: one that started after it registered
            // reuses the pid and is someone else's. Only a backend of the
            // same role can be ended; a failure leaves it to TCP.
            let _ = sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1 \
                 AND (extract(epoch from backend_start) * 1000)::bigint <= $2",
            )
            .bind(dead.pid)
            .bind(registered_at)
            .execute(&mut self.conn)
            .await;
        }
        Ok(gone.is_some())
    }

    /// Deletes this replica's own rows (it is leaving).
    pub async fn unregister(&mut self, replica: &str) -> StoreResult<()> {
        let mut tx = self.conn.begin().await?;
        sqlx::query("DELETE FROM live_presence WHERE replica_id = $1")
            .bind(replica)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM replicas WHERE id = $1 AND lifeline_pid = $2")
            .bind(replica)
            .bind(self.pid)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records an open socket of `replica`.
    pub async fn add_presence(
        &mut self,
        replica: &str,
        conn: u64,
        presence: &Presence,
        at: UnixMillis,
    ) -> StoreResult<()> {
        let (tenant, session, party, device) = match presence {
            Presence::Session {
                tenant,
                session,
                party,
            } => (
                Some(tenant.0.as_str()),
                Some(session.0.as_str()),
                Some(party_name(*party)),
                None,
            ),
            Presence::Agent { device } => (None, None, None, Some(device.0.as_str())),
        };
        sqlx::query(
            "INSERT INTO live_presence (replica_id, conn, tenant_id, session_id, party, device_id, attached_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (replica_id, conn) DO NOTHING",
        )
        .bind(replica)
        .bind(i64::try_from(conn).unwrap_or(i64::MAX))
        .bind(tenant)
        .bind(session)
        .bind(party)
        .bind(device)
        .bind(at.0)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    /// Deletes a closed socket's row.
    pub async fn remove_presence(&mut self, replica: &str, conn: u64) -> StoreResult<()> {
        sqlx::query("DELETE FROM live_presence WHERE replica_id = $1 AND conn = $2")
            .bind(replica)
            .bind(i64::try_from(conn).unwrap_or(i64::MAX))
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    /// Sends `body` to every replica listening (this one too).
    pub async fn notify(&mut self, body: &str, now: UnixMillis) -> StoreResult<()> {
        let payload = if body.len() <= INLINE_PAYLOAD_MAX {
            body.to_owned()
        } else {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO bus_payloads (body, created_at) VALUES ($1, $2) RETURNING id",
            )
            .bind(body)
            .bind(now.0)
            .fetch_one(&mut self.conn)
            .await?;
            format!("@{id}")
        };
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(&self.channel)
            .bind(payload)
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    /// Deletes large bus messages sent before `before`.
    pub async fn purge_payloads(&mut self, before: UnixMillis) -> StoreResult<()> {
        sqlx::query("DELETE FROM bus_payloads WHERE created_at < $1")
            .bind(before.0)
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_identifiers_of_their_schema() {
        assert_eq!(channel_of("public"), "tandem_public");
        assert_eq!(channel_of("a-b\"; x"), "tandem_a_b___x");
        assert_eq!(channel_of(&"s".repeat(100)).len(), 63);
    }
}
