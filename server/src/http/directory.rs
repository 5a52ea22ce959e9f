//! `/api/admin/users`, `/api/admin/group-list`, `/api/admin/devices` and
//! `/api/admin/import/{kind}`: the directory in the admin console.

use crate::app::AppState;
use crate::auth::{Authorized, CurrentUser, ManageDevices, ManageRoles, authorize};
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use std::collections::BTreeMap;
use tandem_protocol::directory::{
    DeviceRow, GroupRow, ImportKind, ImportReport, Page, PageQuery, UserRow,
};

/// Largest CSV file an import accepts.
pub const MAX_IMPORT_BYTES: usize = 2 * 1024 * 1024;

pub async fn users(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<Page<UserRow>>> {
    Ok(Json(state.store.users_page(auth.scope(), &query).await?))
}

pub async fn groups(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<Page<GroupRow>>> {
    Ok(Json(state.store.groups_page(auth.scope(), &query).await?))
}

/// Every device of the tenant (not only those the caller may help).
pub async fn devices(
    State(state): State<AppState>,
    auth: Authorized<ManageDevices>,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<Page<DeviceRow>>> {
    let (page, per_page) = query.normalized();
    let (ids, total) = state.store.device_ids_page(auth.scope(), &query).await?;
    let mut by_id: BTreeMap<_, _> = state
        .store
        .list_devices(auth.scope())
        .await?
        .into_iter()
        .map(|d| (d.id.clone(), d))
        .collect();
    let items = ids.iter().filter_map(|id| by_id.remove(id)).collect();
    Ok(Json(Page {
        items,
        page,
        per_page,
        total,
    }))
}

/// Imports a CSV file. Users and groups need Manage roles; devices need
/// Manage devices. 400 with the report when any line is wrong (nothing is
/// written then).
pub async fn import(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(kind): Path<String>,
    body: String,
) -> ApiResult<(axum::http::StatusCode, Json<ImportReport>)> {
    let kind = match kind.as_str() {
        "users" => ImportKind::Users,
        "groups" => ImportKind::Groups,
        "devices" => ImportKind::Devices,
        _ => return Err(ApiError::NotFound),
    };
    let (scope, actor) = match kind {
        ImportKind::Users | ImportKind::Groups => {
            let auth = authorize::<ManageRoles>(&state, &current).await?;
            (auth.scope().clone(), auth.actor().clone())
        }
        ImportKind::Devices => {
            let auth = authorize::<ManageDevices>(&state, &current).await?;
            (auth.scope().clone(), auth.actor().clone())
        }
    };
    let report = state
        .store
        .import_csv(&scope, &actor, kind, &body, state.clock.now())
        .await?;
    let status = if report.problems.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::BAD_REQUEST
    };
    Ok((status, Json(report)))
}
