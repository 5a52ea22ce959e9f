//! `/api/admin/users` (listed, created, edited), `/api/admin/group-list`,
//! `/api/admin/devices` and `/api/admin/import/{kind}`: the directory in
//! the admin console.

use super::CurrentUser;
use super::{ApiJson, ApiPath, ApiQuery, ApiText};
use crate::auth::{Authorized, ManageDevices, ManageRoles, authorize};
use crate::http::AppState;
use crate::http::{ApiError, ApiResult};
use crate::store::ImportOf;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use std::collections::BTreeMap;
use tandem_protocol::UserId;
use tandem_protocol::admin::UserDraft;
use tandem_protocol::directory::{
    DeviceRow, GroupRow, ImportKind, ImportOptions, ImportReport, Page, PageQuery, UserRow,
};

/// Largest CSV file an import accepts.
pub const MAX_IMPORT_BYTES: usize = 2 * 1024 * 1024;

pub async fn users(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<UserRow>>> {
    Ok(Json(state.store.users_page(auth.scope(), &query).await?))
}

/// Checks a user draft and hashes its password, if it has one.
async fn checked(draft: &UserDraft) -> ApiResult<Option<String>> {
    draft.validate().map_err(ApiError::BadRequest)?;
    match &draft.password {
        Some(password) => crate::auth::hash_password(password.clone())
            .await
            .map(Some)
            .map_err(|e| ApiError::Internal(format!("hashing a new password: {e}"))),
        None => Ok(None),
    }
}

/// `POST /api/admin/users`: a new user with a Tandem account.
pub async fn create_user(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
    ApiJson(draft): ApiJson<UserDraft>,
) -> ApiResult<(StatusCode, Json<UserRow>)> {
    let hash = checked(&draft).await?;
    let user = state
        .store
        .create_user_as(&auth, &draft, hash.as_deref(), state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// `PUT /api/admin/users/{id}`: edits a user with a Tandem account.
pub async fn update_user(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(draft): ApiJson<UserDraft>,
) -> ApiResult<Json<UserRow>> {
    // A foreign or unknown id is a 404 before anything else is said.
    if state.store.user_row(auth.scope(), &id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    let hash = checked(&draft).await?;
    let user = state
        .store
        .update_user(&auth, &id, &draft, hash.as_deref(), state.clock.now())
        .await?;
    Ok(Json(user))
}

pub async fn groups(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<GroupRow>>> {
    Ok(Json(state.store.groups_page(auth.scope(), &query).await?))
}

/// Every device of the tenant (not only those the caller may help).
pub async fn devices(
    State(state): State<AppState>,
    auth: Authorized<ManageDevices>,
    ApiQuery(query): ApiQuery<PageQuery>,
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
    let mut items: Vec<DeviceRow> = ids.iter().filter_map(|id| by_id.remove(id)).collect();
    let scope = auth.scope();
    let policy = state.store.policy(scope).await?;
    let graph = state.store.directory_graph(scope).await?;
    let caller = state.store.user_membership(scope, &auth.actor().id).await?;
    super::devices::mark_presence_and_offers(&state, scope, &policy, &graph, &caller, &mut items)
        .await?;
    Ok(Json(Page {
        items,
        page,
        per_page,
        total,
    }))
}

/// Imports a CSV file. Users and groups need Manage roles; devices need
/// Manage devices. 400 with the report when any line is wrong (nothing is
/// written then). A body that is not UTF-8 is a problem+json 400, one over
/// [`MAX_IMPORT_BYTES`] a 413. `?set_passwords=true` lets a users file
/// change the passwords of existing accounts.
pub async fn import(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(kind): ApiPath<String>,
    ApiQuery(options): ApiQuery<ImportOptions>,
    ApiText(body): ApiText,
) -> ApiResult<(axum::http::StatusCode, Json<ImportReport>)> {
    let kind = match kind.as_str() {
        "users" => ImportKind::Users,
        "groups" => ImportKind::Groups,
        "devices" => ImportKind::Devices,
        _ => return Err(ApiError::NotFound),
    };
    let now = state.clock.now();
    let store = &state.store;
    let report = match kind {
        ImportKind::Users | ImportKind::Groups => {
            let auth = authorize::<ManageRoles>(store, &current).await?;
            let import = if kind == ImportKind::Users {
                ImportOf::Users(&auth)
            } else {
                ImportOf::Groups(&auth)
            };
            store.import_csv(import, options, &body, now).await?
        }
        ImportKind::Devices => {
            let auth = authorize::<ManageDevices>(store, &current).await?;
            store
                .import_csv(ImportOf::Devices(&auth), options, &body, now)
                .await?
        }
    };
    let status = if report.problems.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::BAD_REQUEST
    };
    Ok((status, Json(report)))
}
