//! `GET /api/devices`.

use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use axum::Json;
use axum::extract::State;
use tandem_protocol::devices::DeviceSummary;

/// The devices of the caller's tenant.
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
) -> ApiResult<Json<Vec<DeviceSummary>>> {
    let devices = state.store.list_devices(&current.tenant_scope()).await?;
    Ok(Json(devices))
}
