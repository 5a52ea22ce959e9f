//! `GET /api/devices` and `GET /api/devices/{id}`: the devices the caller
//! may help (all of the tenant's with Manage devices). Anything else is 404,
//! exactly like a device that does not exist.

use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::rbac::review::visible_devices;
use axum::Json;
use axum::extract::{Path, State};
use std::collections::BTreeSet;
use tandem_protocol::DeviceId;
use tandem_protocol::devices::DeviceSummary;

async fn visible(state: &AppState, current: &CurrentUser) -> ApiResult<Vec<DeviceSummary>> {
    let scope = current.tenant_scope();
    let policy = state.store.policy(&scope).await?;
    let graph = state.store.directory_graph(&scope).await?;
    let helper = state
        .store
        .user_membership(&scope, &current.user.id)
        .await?;
    let allowed: BTreeSet<DeviceId> = visible_devices(&scope, &policy, &graph, &helper)
        .into_iter()
        .collect();
    let mut devices = state.store.list_devices(&scope).await?;
    devices.retain(|d| allowed.contains(&d.id));
    for device in &mut devices {
        device.online = state.sessions.device_online(&device.id);
    }
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
    Path(id): Path<String>,
) -> ApiResult<Json<DeviceSummary>> {
    visible(&state, &current)
        .await?
        .into_iter()
        .find(|d| d.id.0 == id)
        .map(Json)
        .ok_or(ApiError::NotFound)
}
