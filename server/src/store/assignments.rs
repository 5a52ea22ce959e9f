//! Creating, editing and deleting role assignments.

use super::Store;
use super::audit::{ASSIGNMENT_DELETION, AuditEntry, delete_audited, record};
use super::rbac::{RbacChangeError, draft_name, name_taken, tenant_groups};
use crate::auth::{Authorized, ManageRoles};
use sqlx::{Any, Transaction};
use tandem_protocol::rbac::{AssignmentDraft, AssignmentView, GroupRef};
use tandem_protocol::{AssignmentId, UnixMillis};

async fn link_groups(
    tx: &mut Transaction<'_, Any>,
    table: &str,
    id: &AssignmentId,
    groups: &[GroupRef],
) -> Result<(), RbacChangeError> {
    sqlx::query(&format!("DELETE FROM {table} WHERE assignment_id = $1"))
        .bind(id.0.as_str())
        .execute(&mut **tx)
        .await?;
    for group in groups {
        sqlx::query(&format!(
            "INSERT INTO {table} (assignment_id, group_id) VALUES ($1, $2)"
        ))
        .bind(id.0.as_str())
        .bind(group.id.0.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Checks a draft against the tenant (valid, its role exists, every
    /// group is the tenant's own) and returns the assignment it describes.
    async fn checked_draft(
        &self,
        auth: &Authorized<ManageRoles>,
        id: &AssignmentId,
        draft: &AssignmentDraft,
    ) -> Result<AssignmentView, RbacChangeError> {
        draft.validate().map_err(RbacChangeError::Invalid)?;
        let roles = self.roles(auth.scope()).await?;
        let role = roles
            .iter()
            .find(|r| r.id == draft.role_id)
            .ok_or_else(|| {
                RbacChangeError::Invalid(format!("There is no role with id {}.", draft.role_id))
            })?;
        Ok(AssignmentView {
            id: id.clone(),
            name: draft_name(draft),
            role_id: role.id.clone(),
            role_name: role.name.clone(),
            admin_groups: tenant_groups(self, auth.scope(), &draft.admin_groups).await?,
            all_users: draft.all_users,
            all_devices: draft.all_devices,
            scope_groups: tenant_groups(self, auth.scope(), &draft.scope_groups).await?,
        })
    }

    async fn assignment_view(
        &self,
        auth: &Authorized<ManageRoles>,
        id: &AssignmentId,
    ) -> Result<AssignmentView, RbacChangeError> {
        self.assignments(auth.scope())
            .await?
            .into_iter()
            .find(|a| &a.id == id)
            .ok_or(RbacChangeError::NotFound)
    }

    async fn write_assignment(
        &self,
        auth: &Authorized<ManageRoles>,
        id: &AssignmentId,
        draft: &AssignmentDraft,
        now: UnixMillis,
        before: Option<&AssignmentView>,
    ) -> Result<AssignmentView, RbacChangeError> {
        let after = self.checked_draft(auth, id, draft).await?;
        let tenant = auth.scope().tenant_id().0.as_str();
        let (_gate, mut tx) = self.begin_write().await?;
        let written = if before.is_some() {
            sqlx::query(
                "UPDATE assignments SET name = $1, role_id = $2, all_users = $3, all_devices = $4, \
                 updated_at = $5 WHERE id = $6 AND tenant_id = $7",
            )
            .bind(after.name.as_str())
            .bind(after.role_id.0.as_str())
            .bind(i64::from(after.all_users))
            .bind(i64::from(after.all_devices))
            .bind(now.0)
            .bind(id.0.as_str())
            .bind(tenant)
            .execute(&mut *tx)
            .await
        } else {
            sqlx::query(
                "INSERT INTO assignments (id, tenant_id, name, role_id, all_users, all_devices, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(id.0.as_str())
            .bind(tenant)
            .bind(after.name.as_str())
            .bind(after.role_id.0.as_str())
            .bind(i64::from(after.all_users))
            .bind(i64::from(after.all_devices))
            .bind(now.0)
            .execute(&mut *tx)
            .await
        };
        written.map_err(|e| name_taken(e, "assignment", &after.name))?;
        link_groups(&mut tx, "assignment_admin_groups", id, &after.admin_groups).await?;
        link_groups(&mut tx, "assignment_scope_groups", id, &after.scope_groups).await?;
        let action = if before.is_some() {
            "assignment.update"
        } else {
            "assignment.create"
        };
        record(
            &mut tx,
            auth.scope(),
            auth.actor(),
            now,
            AuditEntry {
                action,
                object_type: "assignment",
                object_id: &id.0,
                before,
                after: Some(&after),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Creates an assignment.
    pub async fn create_assignment(
        &self,
        auth: &Authorized<ManageRoles>,
        draft: &AssignmentDraft,
        now: UnixMillis,
    ) -> Result<AssignmentView, RbacChangeError> {
        let id = AssignmentId(uuid::Uuid::new_v4().to_string());
        self.write_assignment(auth, &id, draft, now, None).await
    }

    /// Replaces an assignment.
    pub async fn update_assignment(
        &self,
        auth: &Authorized<ManageRoles>,
        id: &AssignmentId,
        draft: &AssignmentDraft,
        now: UnixMillis,
    ) -> Result<AssignmentView, RbacChangeError> {
        let before = self.assignment_view(auth, id).await?;
        self.write_assignment(auth, id, draft, now, Some(&before))
            .await
    }

    /// Deletes an assignment.
    pub async fn delete_assignment(
        &self,
        auth: &Authorized<ManageRoles>,
        id: &AssignmentId,
        now: UnixMillis,
    ) -> Result<(), RbacChangeError> {
        let before = self.assignment_view(auth, id).await?;
        let (_gate, mut tx) = self.begin_write().await?;
        delete_audited(&mut tx, &ASSIGNMENT_DELETION, auth, now, &id.0, &before).await?;
        tx.commit().await?;
        Ok(())
    }
}
