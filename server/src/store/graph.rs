//! The tenant's users and devices with their group memberships, loaded in
//! four queries, for RBAC decisions over many targets at once.

use super::{Store, StoreResult};
use crate::auth::TenantScope;
use crate::domain::rbac::Membership;
use std::collections::BTreeMap;
use tandem_protocol::{DeviceId, GroupId, UserId};

#[derive(Debug, Clone)]
pub struct UserNode {
    pub id: UserId,
    pub name: String,
    pub membership: Membership,
}

#[derive(Debug, Clone)]
pub struct DeviceNode {
    pub id: DeviceId,
    pub name: String,
    pub primary_user: Option<UserId>,
    pub membership: Membership,
}

#[derive(Debug, Clone, Default)]
pub struct DirectoryGraph {
    pub users: Vec<UserNode>,
    pub devices: Vec<DeviceNode>,
}

impl DirectoryGraph {
    pub fn user(&self, id: &UserId) -> Option<&UserNode> {
        self.users.iter().find(|u| &u.id == id)
    }
}

impl Store {
    /// Users and devices of the tenant, by name, with their groups.
    pub async fn directory_graph(&self, scope: &TenantScope) -> StoreResult<DirectoryGraph> {
        let tenant = scope.tenant_id().0.as_str();
        let mut user_groups: BTreeMap<String, Membership> = BTreeMap::new();
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT m.user_id, m.group_id FROM group_members m JOIN groups g ON g.id = m.group_id \
             WHERE g.tenant_id = $1",
        )
        .bind(tenant)
        .fetch_all(self.pool())
        .await?;
        for (user, group) in rows {
            user_groups
                .entry(user)
                .or_default()
                .groups
                .insert(GroupId(group));
        }
        let mut device_groups: BTreeMap<String, Membership> = BTreeMap::new();
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT m.device_id, m.group_id FROM group_devices m JOIN groups g ON g.id = m.group_id \
             WHERE g.tenant_id = $1",
        )
        .bind(tenant)
        .fetch_all(self.pool())
        .await?;
        for (device, group) in rows {
            device_groups
                .entry(device)
                .or_default()
                .groups
                .insert(GroupId(group));
        }
        let users: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, display_name FROM users WHERE tenant_id = $1 ORDER BY display_name, id",
        )
        .bind(tenant)
        .fetch_all(self.pool())
        .await?;
        let devices: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT id, name, primary_user_id FROM devices WHERE tenant_id = $1 ORDER BY name, id",
        )
        .bind(tenant)
        .fetch_all(self.pool())
        .await?;
        Ok(DirectoryGraph {
            users: users
                .into_iter()
                .map(|(id, name)| UserNode {
                    membership: user_groups.remove(&id).unwrap_or_default(),
                    id: UserId(id),
                    name,
                })
                .collect(),
            devices: devices
                .into_iter()
                .map(|(id, name, primary)| DeviceNode {
                    membership: device_groups.remove(&id).unwrap_or_default(),
                    id: DeviceId(id),
                    name,
                    primary_user: primary.map(UserId),
                })
                .collect(),
        })
    }
}
