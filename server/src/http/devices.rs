//! `GET /api/devices` and `GET /api/devices/{id}`: the devices the caller
//! may help (all of the tenant's with Manage devices). Anything else is 404,
//! exactly like a device that does not exist.

use super::ApiPath;
use super::CurrentUser;
use crate::auth::TenantScope;
use crate::domain::rbac::{Membership, Policy, Target};
use crate::http::AppState;
use crate::http::{ApiError, ApiResult};
use crate::reports::access_review::visible_devices;
use crate::store::DirectoryGraph;
use axum::Json;
use axum::extract::State;
use std::collections::{BTreeMap, BTreeSet};
use tandem_protocol::devices::DeviceSummary;
use tandem_protocol::rbac::Permission;
use tandem_protocol::{DeviceId, UserId};

/// Marks each device's presence, and whether `helper` may offer help on it
/// (the target is the device and the user signed in on it, exactly as the
/// offer itself is checked).
pub(super) async fn mark_presence_and_offers(
    state: &AppState,
    scope: &TenantScope,
    policy: &Policy,
    graph: &DirectoryGraph,
    helper: &Membership,
    devices: &mut [DeviceSummary],
) -> ApiResult<()> {
    let signed_in = state.store.signed_in_users(scope).await?;
    let users: BTreeMap<&UserId, &Membership> =
        graph.users.iter().map(|u| (&u.id, &u.membership)).collect();
    let nodes: BTreeMap<&DeviceId, &Membership> = graph
        .devices
        .iter()
        .map(|d| (&d.id, &d.membership))
        .collect();
    for device in devices {
        device.online = state.sessions.device_online(&device.id);
        let Some(membership) = nodes.get(&device.id) else {
            continue;
        };
        let target = Target {
            tenant: scope.tenant_id().clone(),
            user: signed_in
                .get(&device.id)
                .and_then(|id| users.get(id))
                .map(|m| (*m).clone()),
            device: Some((*membership).clone()),
        };
        device.can_offer = policy
            .resolve(helper, &target)
            .contains(Permission::OfferRemoteAssistance);
    }
    Ok(())
}

async fn visible(state: &AppState, current: &CurrentUser) -> ApiResult<Vec<DeviceSummary>> {
    let scope = current.tenant_scope();
    let policy = state.store.policy(&scope).await?;
    let graph = state.store.directory_graph(&scope).await?;
    let helper = state
        .store
        .user_membership(&scope, &current.user().id)
        .await?;
    let allowed: BTreeSet<DeviceId> = visible_devices(&scope, &policy, &graph, &helper)
        .into_iter()
        .collect();
    let mut devices = state.store.list_devices(&scope).await?;
    devices.retain(|d| allowed.contains(&d.id));
    mark_presence_and_offers(state, &scope, &policy, &graph, &helper, &mut devices).await?;
    Ok(devices)
}

/// The devices of the caller's tenant that the caller may help.
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
) -> ApiResult<Json<Vec<DeviceSummary>>> {
    Ok(Json(visible(&state, &current).await?))
}

/// One device the caller may help.
pub async fn get(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<DeviceId>,
) -> ApiResult<Json<DeviceSummary>> {
    visible(&state, &current)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .map(Json)
        .ok_or(ApiError::NotFound)
}
