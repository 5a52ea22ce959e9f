//! The admin audit log: who changed what, when, before and after.
//! Entries are written in the same transaction as the change.

use super::StoreResult;
use crate::auth::{Actor, TenantScope};
use serde::Serialize;
use sqlx::{Any, Transaction};
use tandem_protocol::UnixMillis;

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
