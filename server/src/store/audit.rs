//! The admin audit log: who changed what, when, before and after.
//! Entries are written in the same transaction as the change.

use super::{Store, StoreResult};
use crate::auth::{Actor, Authorized, TenantScope};
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

/// What deleting one kind of tenant-owned object means.
pub struct Deletion {
    /// The table, named by the code, never by input.
    pub table: &'static str,
    pub object_type: &'static str,
    pub action: &'static str,
}

pub const GROUP_DELETION: Deletion = Deletion {
    table: "groups",
    object_type: "group",
    action: "group.delete",
};
pub const ROLE_DELETION: Deletion = Deletion {
    table: "custom_roles",
    object_type: "role",
    action: "role.delete",
};
pub const ASSIGNMENT_DELETION: Deletion = Deletion {
    table: "assignments",
    object_type: "assignment",
    action: "assignment.delete",
};

/// Deletes object `id` of `what` within the caller's tenant and records the
/// deletion with `before`, inside `tx`.
pub async fn delete_audited<C, B: Serialize>(
    tx: &mut Transaction<'_, Any>,
    what: &Deletion,
    auth: &Authorized<C>,
    now: UnixMillis,
    id: &str,
    before: &B,
) -> StoreResult<()> {
    sqlx::query(&format!(
        "DELETE FROM {} WHERE id = $1 AND tenant_id = $2",
        what.table
    ))
    .bind(id)
    .bind(auth.scope().tenant_id().0.as_str())
    .execute(&mut **tx)
    .await?;
    let entry = AuditEntry::<_, ()> {
        action: what.action,
        object_type: what.object_type,
        object_id: id,
        before: Some(before),
        after: None,
    };
    record(tx, auth.scope(), auth.actor(), now, entry).await
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
