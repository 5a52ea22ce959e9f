//! Groups managed in the console: create, delete, and set the members
//! managed here (memberships from the IdP's groups claim stay the IdP's).

use super::Store;
use super::audit::{AuditEntry, GROUP_DELETION, delete_audited, record};
use super::rbac::{RbacChangeError, name_taken};
use crate::auth::{Authorized, ManageRoles};
use std::collections::BTreeMap;
use tandem_protocol::directory::MemberView;
use tandem_protocol::rbac::GroupRef;
use tandem_protocol::{GroupId, UnixMillis, UserId};

/// The members of group `id`, by name.
async fn members<'e, E>(executor: E, id: &GroupId) -> Result<Vec<MemberView>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT u.id, u.display_name, u.email, m.source FROM group_members m \
         JOIN users u ON u.id = m.user_id WHERE m.group_id = $1 ORDER BY u.display_name, u.id",
    )
    .bind(id.0.as_str())
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(user_id, display_name, email, source)| MemberView {
            user_id: UserId(user_id),
            display_name,
            email,
            from_idp: source == "idp",
        })
        .collect())
}

impl Store {
    async fn own_group(
        &self,
        auth: &Authorized<ManageRoles>,
        id: &GroupId,
    ) -> Result<GroupRef, RbacChangeError> {
        self.groups(auth.scope())
            .await?
            .into_iter()
            .find(|g| &g.id == id)
            .ok_or(RbacChangeError::NotFound)
    }

    /// The members of a group of the tenant, by name.
    pub async fn group_members(
        &self,
        auth: &Authorized<ManageRoles>,
        id: &GroupId,
    ) -> Result<Vec<MemberView>, RbacChangeError> {
        self.own_group(auth, id).await?;
        Ok(members(self.pool(), id).await?)
    }

    /// Creates an empty group.
    pub async fn create_group_as(
        &self,
        auth: &Authorized<ManageRoles>,
        name: &str,
        now: UnixMillis,
    ) -> Result<GroupRef, RbacChangeError> {
        tandem_protocol::rbac::validate_name("group", name).map_err(RbacChangeError::Invalid)?;
        let group = GroupRef {
            id: GroupId(uuid::Uuid::new_v4().to_string()),
            name: name.trim().to_owned(),
        };
        let (_gate, mut tx) = self.begin_write().await?;
        sqlx::query("INSERT INTO groups (id, tenant_id, name) VALUES ($1, $2, $3)")
            .bind(group.id.0.as_str())
            .bind(auth.scope().tenant_id().0.as_str())
            .bind(group.name.as_str())
            .execute(&mut *tx)
            .await
            .map_err(|e| name_taken(e, "group", &group.name))?;
        record(
            &mut tx,
            auth.scope(),
            auth.actor(),
            now,
            AuditEntry::<(), _> {
                action: "group.create",
                object_type: "group",
                object_id: &group.id.0,
                before: None,
                after: Some(&group),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(group)
    }

    /// Deletes a group; its memberships and assignment links go with it.
    pub async fn delete_group(
        &self,
        auth: &Authorized<ManageRoles>,
        id: &GroupId,
        now: UnixMillis,
    ) -> Result<(), RbacChangeError> {
        let before = self.own_group(auth, id).await?;
        let (_gate, mut tx) = self.begin_write().await?;
        delete_audited(&mut tx, &GROUP_DELETION, auth, now, &id.0, &before).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes `emails` the group's console-managed members.
    pub async fn set_group_members(
        &self,
        auth: &Authorized<ManageRoles>,
        id: &GroupId,
        emails: &[String],
        now: UnixMillis,
    ) -> Result<Vec<MemberView>, RbacChangeError> {
        let before = self.group_members(auth, id).await?;
        let tenant = auth.scope().tenant_id().0.as_str();
        let users: BTreeMap<String, String> = sqlx::query_as::<_, (String, String)>(
            "SELECT email, id FROM users WHERE tenant_id = $1",
        )
        .bind(tenant)
        .fetch_all(self.pool())
        .await?
        .into_iter()
        .collect();
        let mut wanted = Vec::new();
        for email in emails {
            let email = email.trim().to_lowercase();
            match users.get(&email) {
                Some(user) => wanted.push(user.clone()),
                // Another tenant's user looks exactly like a missing one.
                None => {
                    return Err(RbacChangeError::Invalid(format!(
                        "There is no user {email} in this organization."
                    )));
                }
            }
        }
        let (_gate, mut tx) = self.begin_write().await?;
        sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND source = 'console'")
            .bind(id.0.as_str())
            .execute(&mut *tx)
            .await?;
        for user in &wanted {
            sqlx::query(
                "INSERT INTO group_members (group_id, user_id, source) VALUES ($1, $2, 'console') \
                 ON CONFLICT (group_id, user_id) DO NOTHING",
            )
            .bind(id.0.as_str())
            .bind(user.as_str())
            .execute(&mut *tx)
            .await?;
        }
        let after = members(&mut *tx, id).await?;
        record(
            &mut tx,
            auth.scope(),
            auth.actor(),
            now,
            AuditEntry {
                action: "group.members",
                object_type: "group",
                object_id: &id.0,
                before: Some(&before),
                after: Some(&after),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}
