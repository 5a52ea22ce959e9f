//! `/api/admin/*`: settings, roles, assignments, groups, access review,
//! the audit log, revoking enrollment tokens.
//! Every handler takes an `Authorized<…>` for the permission it needs.

use crate::auth::{Authorized, ManageDevices, ManageRoles, ManageSettings};
use crate::http::AppState;
use crate::http::{ApiError, ApiResult};
use crate::http::{ApiJson, ApiPath, ApiQuery};
use crate::store::RbacChangeError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tandem_protocol::rbac::{
    AccessReviewRow, AssignmentDraft, AssignmentView, GroupRef, RoleDraft, RoleView,
};
use tandem_protocol::settings::TenantSettings;
use tandem_protocol::{AssignmentId, RoleId};

impl From<RbacChangeError> for ApiError {
    fn from(error: RbacChangeError) -> Self {
        match error {
            RbacChangeError::Invalid(message) => ApiError::BadRequest(message),
            RbacChangeError::NotFound => ApiError::NotFound,
            RbacChangeError::Conflict(message) => ApiError::Conflict(message),
            RbacChangeError::Store(store) => ApiError::Store(store),
        }
    }
}

pub async fn get_settings(
    State(state): State<AppState>,
    auth: Authorized<ManageSettings>,
) -> ApiResult<Json<TenantSettings>> {
    Ok(Json(state.store.settings(auth.scope()).await?))
}

pub async fn put_settings(
    State(state): State<AppState>,
    auth: Authorized<ManageSettings>,
    ApiJson(settings): ApiJson<TenantSettings>,
) -> ApiResult<Json<TenantSettings>> {
    settings.validate().map_err(ApiError::BadRequest)?;
    if !crate::domain::local_time::known_zone(&settings.timezone) {
        return Err(ApiError::BadRequest(format!(
            "{} is not a time zone this server knows (IANA names, such as Europe/Berlin).",
            settings.timezone
        )));
    }
    if settings.relay_only && !state.sessions.ice().has_turn() {
        return Err(ApiError::BadRequest(
            "Relay only needs a TURN server in this server's configuration ([turn_rest] or a \
             turn: URL in [[ice_servers]]); without one no session could connect."
                .into(),
        ));
    }
    let saved = state
        .store
        .update_settings(&auth, &settings, state.clock.now())
        .await?;
    // Off means off: sessions still running end now, and both sides see why.
    if !saved.remote_help_enabled {
        state.sessions.stop_all(&auth).await?;
    }
    Ok(Json(saved))
}

/// `POST /api/admin/sessions/{id}/end`: "End session" on the monitor.
pub async fn end_session(
    State(state): State<AppState>,
    auth: Authorized<ManageSettings>,
    ApiPath(id): ApiPath<tandem_protocol::SessionId>,
) -> ApiResult<axum::http::StatusCode> {
    state.sessions.stop(&auth, &id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

pub async fn audit(
    State(state): State<AppState>,
    auth: Authorized<ManageSettings>,
) -> ApiResult<Json<Vec<tandem_protocol::settings::AuditEntryView>>> {
    Ok(Json(state.store.audit_entries(auth.scope()).await?))
}

/// `GET /api/admin/audit-log`: one page of the audit log, newest first.
pub async fn audit_log(
    State(state): State<AppState>,
    auth: Authorized<ManageSettings>,
    ApiQuery(query): ApiQuery<tandem_protocol::admin::AuditQuery>,
) -> ApiResult<Json<tandem_protocol::directory::Page<tandem_protocol::admin::AuditRecord>>> {
    Ok(Json(state.store.audit_page(auth.scope(), &query).await?))
}

/// `POST /api/admin/enrollment-tokens/{id}/revoke`: no agent can register
/// with the token any more (already registered devices stay enrolled).
pub async fn revoke_enrollment_token(
    State(state): State<AppState>,
    auth: Authorized<ManageDevices>,
    ApiPath(id): ApiPath<tandem_protocol::EnrollmentTokenId>,
) -> ApiResult<Json<tandem_protocol::agent::EnrollmentTokenRow>> {
    let row = state
        .store
        .revoke_enrollment_token(&auth, &id, state.clock.now())
        .await?;
    Ok(Json(row))
}

pub async fn list_roles(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
) -> ApiResult<Json<Vec<RoleView>>> {
    Ok(Json(state.store.roles(auth.scope()).await?))
}

pub async fn create_role(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
    ApiJson(draft): ApiJson<RoleDraft>,
) -> ApiResult<(StatusCode, Json<RoleView>)> {
    let role = state
        .store
        .create_role(&auth, &draft, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(role)))
}

pub async fn update_role(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
    ApiPath(id): ApiPath<RoleId>,
    ApiJson(draft): ApiJson<RoleDraft>,
) -> ApiResult<Json<RoleView>> {
    let role = state
        .store
        .update_role(&auth, &id, &draft, state.clock.now())
        .await?;
    Ok(Json(role))
}

pub async fn delete_role(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
    ApiPath(id): ApiPath<RoleId>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_role(&auth, &id, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_assignments(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
) -> ApiResult<Json<Vec<AssignmentView>>> {
    Ok(Json(state.store.assignments(auth.scope()).await?))
}

pub async fn create_assignment(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
    ApiJson(draft): ApiJson<AssignmentDraft>,
) -> ApiResult<(StatusCode, Json<AssignmentView>)> {
    let view = state
        .store
        .create_assignment(&auth, &draft, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

pub async fn update_assignment(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
    ApiPath(id): ApiPath<AssignmentId>,
    ApiJson(draft): ApiJson<AssignmentDraft>,
) -> ApiResult<Json<AssignmentView>> {
    let view = state
        .store
        .update_assignment(&auth, &id, &draft, state.clock.now())
        .await?;
    Ok(Json(view))
}

pub async fn delete_assignment(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
    ApiPath(id): ApiPath<AssignmentId>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_assignment(&auth, &id, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_groups(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
) -> ApiResult<Json<Vec<GroupRef>>> {
    Ok(Json(state.store.groups(auth.scope()).await?))
}

/// Filters of the access review; both match case-insensitively on names
/// (or exactly on ids).
#[derive(Debug, Deserialize)]
pub struct ReviewFilter {
    pub helper: Option<String>,
    pub target: Option<String>,
}

pub async fn access_review(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
    ApiQuery(filter): ApiQuery<ReviewFilter>,
) -> ApiResult<Json<Vec<AccessReviewRow>>> {
    let rows = crate::reports::access_review::access_review(&state.store, auth.scope()).await?;
    let matches = |needle: &Option<String>, id: &str, name: &str| {
        needle.as_deref().is_none_or(|n| {
            let n = n.trim().to_lowercase();
            id == n || name.to_lowercase().contains(&n)
        })
    };
    Ok(Json(
        rows.into_iter()
            .filter(|r| matches(&filter.helper, &r.helper_id.0, &r.helper_name))
            .filter(|r| {
                let (id, name) = match &r.target {
                    tandem_protocol::rbac::ReviewTarget::User { id, name } => (&id.0, name),
                    tandem_protocol::rbac::ReviewTarget::Device { id, name } => (&id.0, name),
                };
                matches(&filter.target, id, name)
            })
            .collect(),
    ))
}

pub async fn create_group(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
    ApiJson(draft): ApiJson<tandem_protocol::directory::GroupDraft>,
) -> ApiResult<(StatusCode, Json<GroupRef>)> {
    let group = state
        .store
        .create_group_as(&auth, &draft.name, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(group)))
}

pub async fn delete_group(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
    ApiPath(id): ApiPath<tandem_protocol::GroupId>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_group(&auth, &id, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn group_members(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
    ApiPath(id): ApiPath<tandem_protocol::GroupId>,
) -> ApiResult<Json<Vec<tandem_protocol::directory::MemberView>>> {
    let members = state.store.group_members(&auth, &id).await?;
    Ok(Json(members))
}

pub async fn set_group_members(
    State(state): State<AppState>,
    auth: Authorized<ManageRoles>,
    ApiPath(id): ApiPath<tandem_protocol::GroupId>,
    ApiJson(draft): ApiJson<tandem_protocol::directory::MembersDraft>,
) -> ApiResult<Json<Vec<tandem_protocol::directory::MemberView>>> {
    if draft.emails.len() > 10_000 {
        return Err(ApiError::BadRequest(
            "At most 10 000 members can be set at once.".into(),
        ));
    }
    let members = state
        .store
        .set_group_members(&auth, &id, &draft.emails, state.clock.now())
        .await?;
    Ok(Json(members))
}
