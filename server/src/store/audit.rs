//! The admin audit log: who changed what, when, before and after.
//! Entries are written in the same transaction as the change.

use super::directory_pages::{contains_pattern, count, offset};
use super::{Store, StoreError, StoreResult};
use crate::auth::{Actor, Authorized, TenantScope};
use serde::Serialize;
use sqlx::{Any, Row, Transaction};
use tandem_protocol::admin::{AuditQuery, AuditRecord};
use tandem_protocol::directory::Page;
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

/// The JSON of a recorded object. A value that cannot be written refuses
/// the whole change: an audit entry never silently loses its object.
fn to_json<T: Serialize>(value: Option<&T>) -> StoreResult<Option<String>> {
    value
        .map(serde_json::to_string)
        .transpose()
        .map_err(|error| StoreError::Corrupt {
            table: "audit_log",
            reason: format!("an object that cannot be recorded: {error}"),
        })
}

/// Appends `entry` inside `tx`.
pub async fn record<B: Serialize, A: Serialize>(
    tx: &mut Transaction<'_, Any>,
    scope: &TenantScope,
    actor: &Actor,
    now: UnixMillis,
    entry: AuditEntry<'_, B, A>,
) -> StoreResult<()> {
    let (before, after) = (to_json(entry.before)?, to_json(entry.after)?);
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
    .bind(before)
    .bind(after)
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

    /// One page of the tenant's audit log, newest first: entries about
    /// objects of `query.kind` whose actor, action, object name or
    /// recorded content contains `query.q`.
    pub async fn audit_page(
        &self,
        scope: &TenantScope,
        query: &AuditQuery,
    ) -> StoreResult<Page<AuditRecord>> {
        let (page, per_page) = query.normalized();
        let tenant = scope.tenant_id().0.as_str();
        let pattern = contains_pattern(query.search());
        let kind = query.kind().unwrap_or_default();
        // A group's entries may not carry its name (members changed): the
        // directory still knows it while the group exists.
        let filter = "FROM audit_log a LEFT JOIN groups g ON a.object_type = 'group' \
             AND g.id = a.object_id AND g.tenant_id = a.tenant_id \
             WHERE a.tenant_id = $1 AND ($2 = '' OR a.object_type = $2) \
             AND (lower(a.actor_name) LIKE $3 ESCAPE '\\' \
             OR lower(a.action) LIKE $3 ESCAPE '\\' \
             OR lower(coalesce(g.name, '')) LIKE $3 ESCAPE '\\' \
             OR lower(coalesce(a.before_json, '')) LIKE $3 ESCAPE '\\' \
             OR lower(coalesce(a.after_json, '')) LIKE $3 ESCAPE '\\')";
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) {filter}"))
            .bind(tenant)
            .bind(kind)
            .bind(pattern.as_str())
            .fetch_one(self.pool())
            .await?;
        let rows = sqlx::query(&format!(
            "SELECT a.id, a.at, a.actor_id, a.actor_name, a.action, a.object_type, \
             a.object_id, a.before_json, a.after_json, g.name AS group_name {filter} \
             ORDER BY a.at DESC, a.id LIMIT $4 OFFSET $5"
        ))
        .bind(tenant)
        .bind(kind)
        .bind(pattern.as_str())
        .bind(i64::from(per_page))
        .bind(offset(page, per_page))
        .fetch_all(self.pool())
        .await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let before: Option<String> = row.try_get("before_json")?;
            let after: Option<String> = row.try_get("after_json")?;
            let object_type: String = row.try_get("object_type")?;
            let object_id: String = row.try_get("object_id")?;
            let object_name = [after.as_deref(), before.as_deref()]
                .into_iter()
                .flatten()
                .find_map(name_in)
                .or(row.try_get::<Option<String>, _>("group_name")?)
                .or_else(|| (object_type == "import").then(|| object_id.clone()));
            items.push(AuditRecord {
                id: row.try_get("id")?,
                at: UnixMillis(row.try_get("at")?),
                actor_id: UserId(row.try_get("actor_id")?),
                actor_name: row.try_get("actor_name")?,
                action: row.try_get("action")?,
                object_type,
                object_id,
                object_name,
                before,
                after,
            });
        }
        Ok(Page {
            items,
            page,
            per_page,
            total: count(total),
        })
    }
}

/// The name an entry's JSON gives its object: `name`, `display_name` or
/// `label`.
fn name_in(json: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    ["name", "display_name", "label"]
        .into_iter()
        .find_map(|key| value.get(key)?.as_str().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value serde_json refuses (a map keyed by something that is not a
    /// string).
    struct Unwritable;

    impl Serialize for Unwritable {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = serializer.serialize_map(Some(1))?;
            map.serialize_entry(&[1u8, 2], "v")?;
            map.end()
        }
    }

    /// Before, such an object became NULL in a committed audit entry.
    #[tokio::test]
    async fn an_object_that_cannot_be_written_refuses_the_entry() {
        let store = crate::store::Store::open_scratch().await.unwrap();
        crate::seed::seed_demo(&store, UnixMillis(1)).await.unwrap();
        let scope = crate::auth::TenantScope::for_tests("contoso".into());
        let count = || async {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log")
                .fetch_one(store.pool())
                .await
                .unwrap()
        };
        let before = count().await;
        let actor = Actor {
            id: UserId::from("u"),
            name: "U".into(),
        };
        let (_gate, mut tx) = store.begin_write().await.unwrap();
        let entry = AuditEntry::<(), Unwritable> {
            action: "test.write",
            object_type: "test",
            object_id: "x",
            before: None,
            after: Some(&Unwritable),
        };
        let result = record(&mut tx, &scope, &actor, UnixMillis(2), entry).await;
        assert!(
            matches!(
                result,
                Err(StoreError::Corrupt {
                    table: "audit_log",
                    ..
                })
            ),
            "{result:?}"
        );
        tx.commit().await.unwrap();
        assert_eq!(count().await, before, "no entry without its object");
    }

    #[test]
    fn names_come_from_the_recorded_object() {
        assert_eq!(
            name_in(r#"{"name":"Sales","id":"g"}"#).as_deref(),
            Some("Sales")
        );
        assert_eq!(
            name_in(r#"{"display_name":"Ann","email":"a@b.test"}"#).as_deref(),
            Some("Ann")
        );
        assert_eq!(name_in(r#"{"label":"Kiosks"}"#).as_deref(), Some("Kiosks"));
        assert_eq!(name_in(r#"[{"display_name":"Ann"}]"#), None);
        assert_eq!(name_in("not json"), None);
    }
}
