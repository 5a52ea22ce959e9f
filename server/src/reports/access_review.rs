//! Decisions over many targets: the access review ("who can help whom,
//! with what") and the devices a helper may see. Both call the same
//! [`Policy::resolve`] that guards every single decision.

use crate::auth::TenantScope;
use crate::domain::rbac::{Membership, Policy, Target};
use crate::store::{DeviceNode, DirectoryGraph, Store, StoreResult, UserNode};
use tandem_protocol::DeviceId;
use tandem_protocol::rbac::{AccessReviewRow, PermissionSet, ReviewTarget};

/// The target a user is, when helped (on whatever device).
pub fn user_target(scope: &TenantScope, user: &UserNode) -> Target {
    Target {
        tenant: scope.tenant_id().clone(),
        user: Some(user.membership.clone()),
        device: None,
    }
}

/// The target a device is: the device, and its primary user if it has one.
pub fn device_target(scope: &TenantScope, graph: &DirectoryGraph, device: &DeviceNode) -> Target {
    Target {
        tenant: scope.tenant_id().clone(),
        user: device
            .primary_user
            .as_ref()
            .and_then(|id| graph.user(id))
            .map(|u| u.membership.clone()),
        device: Some(device.membership.clone()),
    }
}

/// Every (helper, target) pair with at least one permission.
pub async fn access_review(
    store: &Store,
    scope: &TenantScope,
) -> StoreResult<Vec<AccessReviewRow>> {
    let policy = store.policy(scope).await?;
    let graph = store.directory_graph(scope).await?;
    let mut rows = Vec::new();
    for helper in &graph.users {
        let mut push = |target: ReviewTarget, permissions: PermissionSet| {
            if !permissions.is_empty() {
                rows.push(AccessReviewRow {
                    helper_id: helper.id.clone(),
                    helper_name: helper.name.clone(),
                    target,
                    permissions,
                });
            }
        };
        for user in graph.users.iter().filter(|u| u.id != helper.id) {
            let permissions = policy.resolve(&helper.membership, &user_target(scope, user));
            push(
                ReviewTarget::User {
                    id: user.id.clone(),
                    name: user.name.clone(),
                },
                permissions,
            );
        }
        for device in &graph.devices {
            let permissions =
                policy.resolve(&helper.membership, &device_target(scope, &graph, device));
            push(
                ReviewTarget::Device {
                    id: device.id.clone(),
                    name: device.name.clone(),
                },
                permissions,
            );
        }
    }
    Ok(rows)
}

/// The devices `helper` may see: all with Manage devices, otherwise those
/// on which the helper holds any remote-help permission.
pub fn visible_devices(
    scope: &TenantScope,
    policy: &Policy,
    graph: &DirectoryGraph,
    helper: &Membership,
) -> Vec<DeviceId> {
    let manages = policy
        .tenant_permissions(helper)
        .contains(tandem_protocol::rbac::Permission::ManageDevices);
    graph
        .devices
        .iter()
        .filter(|d| {
            manages
                || !policy
                    .resolve(helper, &device_target(scope, graph, d))
                    .is_empty()
        })
        .map(|d| d.id.clone())
        .collect()
}
