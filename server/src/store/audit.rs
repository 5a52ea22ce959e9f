//! The admin audit log: who changed what, when, before and after.
//! Entries are written in the same transaction as the change.

use super::{Store, StoreResult};
use crate::auth::{Actor, TenantScope};
use serde::Serialize;
use sqlx::{Any, Transaction};
use tandem_protocol::settings::AuditEntryView;
use tandem_protocol::{UnixMillis, UserId};

/// One change to record.
pub struct AuditEntry<'a, B: Serialize, A: Serialize> {
    pub action: &'static str,
    pub object_type: &'static str,
    pub object_id: &'a str,
    pub before: Option<&'a B>,
    pub after: Option<&'a A>,
}

fn to_json<T: Serialize>(value: Option<&T>) -> Option<String> {
    value.and_then(|v| serde_json::to_string(v).ok())
}

/// Appends `entry` inside `tx`.
pub async fn record<B: Serialize, A: Serialize>(
    tx: &mut Transaction<'_, Any>,
    scope: &TenantScope,
    actor: &Actor,
    now: UnixMillis,
    entry: AuditEntry<'_, B, A>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, tenant_id, actor_id, actor_name, action, object_type, \
         object_id, before_json, after_json, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(scope.tenant_id().0.as_str())
    .bind(actor.id.0.as_str())
    .bind(actor.name.as_str())
    .bind(entry.action)
    .bind(entry.object_type)
    .bind(entry.object_id)
    .bind(to_json(entry.before))
    .bind(to_json(entry.after))
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// at, actor id, actor name, action, object type, object id, before, after.
type AuditRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

/// Most entries one read returns.
pub const MAX_AUDIT_ENTRIES: i64 = 500;

impl Store {
    /// The tenant's newest audit entries, newest first.
    pub async fn audit_entries(&self, scope: &TenantScope) -> StoreResult<Vec<AuditEntryView>> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT at, actor_id, actor_name, action, object_type, object_id, before_json, \
                 after_json FROM audit_log WHERE tenant_id = $1 ORDER BY at DESC, id LIMIT $2",
        )
        .bind(scope.tenant_id().0.as_str())
        .bind(MAX_AUDIT_ENTRIES)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(at, actor_id, actor_name, action, object_type, object_id, before, after)| {
                    AuditEntryView {
                        at: UnixMillis(at),
                        actor_id: UserId(actor_id),
                        actor_name,
                        action,
                        object_type,
                        object_id,
                        before,
                        after,
                    }
                },
            )
            .collect())
    }
}
