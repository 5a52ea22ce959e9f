//! Roles, assignments and group memberships, and loading a tenant's
//! [`Policy`] for the resolver.

use super::audit::{AuditEntry, ROLE_DELETION, delete_audited, record};
use super::{Store, StoreError, StoreResult, flag, unique_violation};
use crate::auth::{Authorized, ManageRoles, TenantScope};
use crate::domain::rbac::{Assignment, BUILTIN_ROLES, Membership, Policy, Scope, builtin};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};
use tandem_protocol::rbac::{
    AssignmentDraft, AssignmentView, GroupRef, PermissionSet, RoleDraft, RoleView,
};
use tandem_protocol::{AssignmentId, DeviceId, GroupId, RoleId, UnixMillis, UserId};

/// Why a role or assignment change was refused; shown to the admin.
#[derive(Debug, thiserror::Error)]
pub enum RbacChangeError {
    #[error("{0}")]
    Invalid(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RbacChangeError {
    fn from(error: sqlx::Error) -> Self {
        RbacChangeError::Store(StoreError::Database(error))
    }
}

fn permissions_from_json(text: &str) -> StoreResult<PermissionSet> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        table: "custom_roles",
        reason: e.to_string(),
    })
}

fn permissions_to_json(set: PermissionSet) -> String {
    serde_json::to_string(&set).unwrap_or_else(|_| "[]".to_owned())
}

impl Store {
    /// Every role of the tenant: built-ins first, then custom roles by name.
    pub async fn roles(&self, scope: &TenantScope) -> StoreResult<Vec<RoleView>> {
        let mut roles: Vec<RoleView> = BUILTIN_ROLES.iter().map(|r| r.view()).collect();
        let rows = sqlx::query(
            "SELECT id, name, description, permissions, version FROM custom_roles \
             WHERE tenant_id = $1 ORDER BY name, id",
        )
        .bind(scope.tenant_id().0.as_str())
        .fetch_all(self.conn().await?.connection()?)
        .await?;
        for row in rows {
            roles.push(RoleView {
                id: RoleId(row.try_get("id")?),
                name: row.try_get("name")?,
                description: row.try_get("description")?,
                permissions: permissions_from_json(&row.try_get::<String, _>("permissions")?)?,
                built_in: false,
                version: u64::try_from(row.try_get::<i64, _>("version")?).unwrap_or_default(),
            });
        }
        Ok(roles)
    }

    /// The groups of the tenant, by name.
    pub async fn groups(&self, scope: &TenantScope) -> StoreResult<Vec<GroupRef>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, name FROM groups WHERE tenant_id = $1 ORDER BY name, id")
                .bind(scope.tenant_id().0.as_str())
                .fetch_all(self.conn().await?.connection()?)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name)| GroupRef {
                id: GroupId(id),
                name,
            })
            .collect())
    }

    /// The groups a user of the tenant is a member of, from the database
    /// (callers use the cached [`Store::user_membership`]).
    pub(super) async fn load_user_membership(
        &self,
        scope: &TenantScope,
        user: &UserId,
    ) -> StoreResult<Membership> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT m.group_id FROM group_members m JOIN groups g ON g.id = m.group_id \
             WHERE m.user_id = $1 AND g.tenant_id = $2",
        )
        .bind(user.0.as_str())
        .bind(scope.tenant_id().0.as_str())
        .fetch_all(self.conn().await?.connection()?)
        .await?;
        Ok(Membership {
            groups: ids.into_iter().map(GroupId).collect(),
        })
    }

    /// The groups a device of the tenant is a member of.
    pub async fn device_membership(
        &self,
        scope: &TenantScope,
        device: &DeviceId,
    ) -> StoreResult<Membership> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT m.group_id FROM group_devices m JOIN groups g ON g.id = m.group_id \
             WHERE m.device_id = $1 AND g.tenant_id = $2",
        )
        .bind(device.0.as_str())
        .bind(scope.tenant_id().0.as_str())
        .fetch_all(self.conn().await?.connection()?)
        .await?;
        Ok(Membership {
            groups: ids.into_iter().map(GroupId).collect(),
        })
    }

    /// Adds devices to a group (seeding and imports).
    pub async fn add_group_devices(
        &self,
        group: &GroupId,
        devices: &[DeviceId],
    ) -> StoreResult<()> {
        let (_gate, mut tx) = self.begin_write().await?;
        for device in devices {
            sqlx::query("INSERT INTO group_devices (group_id, device_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(group.0.as_str())
                .bind(device.0.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The tenant's roles and assignments, from the database (callers use
    /// the cached [`Store::policy`]).
    pub(super) async fn load_policy(&self, scope: &TenantScope) -> StoreResult<Policy> {
        let all = self.roles(scope).await?;
        let names: BTreeMap<RoleId, String> =
            all.iter().map(|r| (r.id.clone(), r.name.clone())).collect();
        let assignments = self
            .assignment_rows_named(scope, &names)
            .await?
            .into_iter()
            .map(|a| Assignment {
                role: a.role_id,
                admin_groups: a.admin_groups.into_iter().map(|g| g.id).collect(),
                scope: Scope {
                    all_users: a.all_users,
                    all_devices: a.all_devices,
                    groups: a.scope_groups.into_iter().map(|g| g.id).collect(),
                },
            })
            .collect();
        let roles: BTreeMap<RoleId, PermissionSet> =
            all.into_iter().map(|r| (r.id, r.permissions)).collect();
        Ok(Policy {
            tenant: scope.tenant_id().clone(),
            roles,
            assignments,
        })
    }

    /// Every assignment of the tenant with names resolved, by name.
    pub async fn assignments(&self, scope: &TenantScope) -> StoreResult<Vec<AssignmentView>> {
        self.assignment_rows(scope).await
    }

    async fn assignment_rows(&self, scope: &TenantScope) -> StoreResult<Vec<AssignmentView>> {
        let roles: BTreeMap<RoleId, String> = self
            .roles(scope)
            .await?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect();
        self.assignment_rows_named(scope, &roles).await
    }

    /// The assignments, with the role names in `roles`.
    async fn assignment_rows_named(
        &self,
        scope: &TenantScope,
        roles: &BTreeMap<RoleId, String>,
    ) -> StoreResult<Vec<AssignmentView>> {
        let tenant = scope.tenant_id().0.as_str();
        let rows = sqlx::query(
            "SELECT id, name, role_id, all_users, all_devices FROM assignments \
             WHERE tenant_id = $1 ORDER BY name, id",
        )
        .bind(tenant)
        .fetch_all(self.pool())
        .await?;
        let links: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT l.assignment_id, 'admin', g.id, g.name FROM assignment_admin_groups l \
             JOIN groups g ON g.id = l.group_id WHERE g.tenant_id = $1 \
             UNION ALL \
             SELECT l.assignment_id, 'scope', g.id, g.name FROM assignment_scope_groups l \
             JOIN groups g ON g.id = l.group_id WHERE g.tenant_id = $1 \
             ORDER BY 4, 3",
        )
        .bind(tenant)
        .fetch_all(self.pool())
        .await?;
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.try_get("id")?;
            let role_id = RoleId(row.try_get("role_id")?);
            let group_refs = |kind: &str| {
                links
                    .iter()
                    .filter(|(a, k, _, _)| *a == id && k == kind)
                    .map(|(_, _, g, name)| GroupRef {
                        id: GroupId(g.clone()),
                        name: name.clone(),
                    })
                    .collect::<Vec<_>>()
            };
            views.push(AssignmentView {
                name: row.try_get("name")?,
                role_name: roles
                    .get(&role_id)
                    .cloned()
                    .unwrap_or_else(|| "(deleted role)".into()),
                role_id,
                admin_groups: group_refs("admin"),
                all_users: flag(row.try_get("all_users")?),
                all_devices: flag(row.try_get("all_devices")?),
                scope_groups: group_refs("scope"),
                id: AssignmentId(id),
            });
        }
        Ok(views)
    }

    /// Creates a custom role.
    pub async fn create_role(
        &self,
        auth: &Authorized<ManageRoles>,
        draft: &RoleDraft,
        now: UnixMillis,
    ) -> Result<RoleView, RbacChangeError> {
        draft.validate().map_err(RbacChangeError::Invalid)?;
        let view = RoleView {
            id: RoleId(format!("role-{}", uuid::Uuid::new_v4())),
            name: draft.name.trim().to_owned(),
            description: draft.description.trim().to_owned(),
            permissions: draft.permissions,
            built_in: false,
            version: 0,
        };
        if BUILTIN_ROLES
            .iter()
            .any(|b| b.name.eq_ignore_ascii_case(&view.name))
        {
            return Err(RbacChangeError::Conflict(format!(
                "\u{201c}{}\u{201d} is a built-in role's name.",
                view.name
            )));
        }
        let (_gate, mut tx) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO custom_roles (id, tenant_id, name, description, permissions, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(view.id.0.as_str())
        .bind(auth.scope().tenant_id().0.as_str())
        .bind(view.name.as_str())
        .bind(view.description.as_str())
        .bind(permissions_to_json(view.permissions))
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| name_taken(e, "role", &view.name))?;
        record(
            &mut tx,
            auth.scope(),
            auth.actor(),
            now,
            AuditEntry::<(), _> {
                action: "role.create",
                object_type: "role",
                object_id: &view.id.0,
                before: None,
                after: Some(&view),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    async fn custom_role(
        &self,
        scope: &TenantScope,
        id: &RoleId,
    ) -> Result<RoleView, RbacChangeError> {
        if builtin(id).is_some() {
            return Err(RbacChangeError::Conflict(
                "Built-in roles cannot be changed or deleted.".into(),
            ));
        }
        self.roles(scope)
            .await?
            .into_iter()
            .find(|r| &r.id == id)
            .ok_or(RbacChangeError::NotFound)
    }

    /// Edits a custom role. Built-in roles cannot be edited.
    pub async fn update_role(
        &self,
        auth: &Authorized<ManageRoles>,
        id: &RoleId,
        draft: &RoleDraft,
        now: UnixMillis,
    ) -> Result<RoleView, RbacChangeError> {
        // The version first: a change after this read, even one that lands
        // before `before` is read, makes the compare-and-set below fail.
        let version: Option<i64> =
            sqlx::query_scalar("SELECT version FROM custom_roles WHERE id = $1 AND tenant_id = $2")
                .bind(id.0.as_str())
                .bind(auth.scope().tenant_id().0.as_str())
                .fetch_optional(self.pool())
                .await?;
        let before = self.custom_role(auth.scope(), id).await?;
        let version = version.ok_or(RbacChangeError::NotFound)?;
        draft.validate().map_err(RbacChangeError::Invalid)?;
        // The form was filled from an older version: someone saved the
        // role since, and this edit would replace their change unseen.
        if draft
            .version
            .is_some_and(|expected| i64::try_from(expected).ok() != Some(version))
        {
            return Err(RbacChangeError::Conflict(
                "Someone else saved this role since you opened it. Reload the page to see \
                 their change, then make yours again."
                    .into(),
            ));
        }
        let after = RoleView {
            name: draft.name.trim().to_owned(),
            description: draft.description.trim().to_owned(),
            permissions: draft.permissions,
            version: u64::try_from(version + 1).unwrap_or_default(),
            ..before.clone()
        };
        let (_gate, mut tx) = self.begin_write().await?;
        // Compare-and-set on the version read with `before`: an edit that raced another
        // admin's is refused rather than silently overwriting it, and the
        // audit entry's "before" is the row it really replaced.
        let done = sqlx::query(
            "UPDATE custom_roles SET name = $1, description = $2, permissions = $3, \
             updated_at = $4, version = version + 1 \
             WHERE id = $5 AND tenant_id = $6 AND version = $7",
        )
        .bind(after.name.as_str())
        .bind(after.description.as_str())
        .bind(permissions_to_json(after.permissions))
        .bind(now.0)
        .bind(id.0.as_str())
        .bind(auth.scope().tenant_id().0.as_str())
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(|e| name_taken(e, "role", &after.name))?;
        if done.rows_affected() != 1 {
            return Err(RbacChangeError::Conflict(
                "Someone else changed this role at the same time. Reload it and try again.".into(),
            ));
        }
        record(
            &mut tx,
            auth.scope(),
            auth.actor(),
            now,
            AuditEntry {
                action: "role.update",
                object_type: "role",
                object_id: &id.0,
                before: Some(&before),
                after: Some(&after),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a custom role that no assignment uses.
    pub async fn delete_role(
        &self,
        auth: &Authorized<ManageRoles>,
        id: &RoleId,
        now: UnixMillis,
    ) -> Result<(), RbacChangeError> {
        let before = self.custom_role(auth.scope(), id).await?;
        let (_gate, mut tx) = self.begin_write().await?;
        let users: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM assignments WHERE role_id = $1 AND tenant_id = $2",
        )
        .bind(id.0.as_str())
        .bind(auth.scope().tenant_id().0.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if users > 0 {
            return Err(RbacChangeError::Conflict(format!(
                "\u{201c}{}\u{201d} is used by {users} assignment{}; remove {} first.",
                before.name,
                if users == 1 { "" } else { "s" },
                if users == 1 { "it" } else { "them" },
            )));
        }
        delete_audited(&mut tx, &ROLE_DELETION, auth, now, &id.0, &before).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Maps a unique violation on a name to a conflict the admin can act on.
pub(super) fn name_taken(error: sqlx::Error, what: &str, name: &str) -> RbacChangeError {
    match unique_violation(error, "name") {
        StoreError::Duplicate { .. } => RbacChangeError::Conflict(format!(
            "A {what} named \u{201c}{name}\u{201d} already exists."
        )),
        other => RbacChangeError::Store(other),
    }
}

/// Checks that every group id belongs to the tenant; returns them with
/// their names, ordered as listings order them.
pub(super) async fn tenant_groups(
    store: &Store,
    scope: &TenantScope,
    ids: &[GroupId],
) -> Result<Vec<GroupRef>, RbacChangeError> {
    let known = store.groups(scope).await?;
    let wanted: BTreeSet<&GroupId> = ids.iter().collect();
    if let Some(unknown) = wanted.iter().find(|g| !known.iter().any(|k| &k.id == **g)) {
        // A foreign tenant's group id looks exactly like a missing one.
        return Err(RbacChangeError::Invalid(format!(
            "There is no group with id {unknown}."
        )));
    }
    Ok(known
        .into_iter()
        .filter(|g| wanted.contains(&g.id))
        .collect())
}

pub(super) fn draft_name(draft: &AssignmentDraft) -> String {
    draft.name.trim().to_owned()
}
