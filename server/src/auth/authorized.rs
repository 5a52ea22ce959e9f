//! Authorization as a type. A handler that needs an administration
//! permission extracts `Authorized<P>`; the extractor checks the caller's
//! tenant-wide permissions through the RBAC resolver and answers 403
//! otherwise. Store operations that need the permission take
//! `&Authorized<P>`, so calling them without the check does not compile.

use super::{CurrentUser, TenantScope};
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::marker::PhantomData;
use tandem_protocol::UserId;
use tandem_protocol::rbac::Permission;

/// A permission named at the type level.
pub trait Capability: Send + Sync + 'static {
    const PERMISSION: Permission;
}

macro_rules! capability {
    ($($name:ident),* $(,)?) => {$(
        #[doc = concat!("The `", stringify!($name), "` permission.")]
        #[derive(Debug)]
        pub struct $name;
        impl Capability for $name {
            const PERMISSION: Permission = Permission::$name;
        }
    )*};
}

capability!(
    ManageSettings,
    ManageRoles,
    ReadSessionReports,
    ManageDevices
);

/// Who did something, for the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: UserId,
    pub name: String,
}

/// Proof that the caller holds `C::PERMISSION` in their tenant.
#[derive(Debug)]
pub struct Authorized<C> {
    scope: TenantScope,
    actor: Actor,
    _capability: PhantomData<C>,
}

impl<C> Authorized<C> {
    pub fn scope(&self) -> &TenantScope {
        &self.scope
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }
}

impl<C: Capability> Authorized<C> {
    /// The server acting on its own (demo seeding, imports run by the
    /// operator), recorded in the audit log as `system`.
    pub(crate) fn system(tenant_id: tandem_protocol::TenantId, what: &str) -> Self {
        Self {
            scope: TenantScope { tenant_id },
            actor: Actor {
                id: UserId::from("system"),
                name: format!("system ({what})"),
            },
            _capability: PhantomData,
        }
    }
}

/// Checks that `current` holds `C::PERMISSION` in their tenant, through the
/// RBAC resolver; 403 otherwise.
pub async fn authorize<C: Capability>(
    state: &AppState,
    current: &CurrentUser,
) -> ApiResult<Authorized<C>> {
    let scope = current.tenant_scope();
    let policy = state.store.policy(&scope).await?;
    let membership = state
        .store
        .user_membership(&scope, &current.user.id)
        .await?;
    if !policy
        .tenant_permissions(&membership)
        .contains(C::PERMISSION)
    {
        tracing::info!(user = %current.user.id, permission = ?C::PERMISSION, "forbidden");
        return Err(ApiError::Forbidden(C::PERMISSION));
    }
    Ok(Authorized {
        scope,
        actor: Actor {
            id: current.user.id.clone(),
            name: current.user.card.display_name.clone(),
        },
        _capability: PhantomData,
    })
}

impl<C: Capability> FromRequestParts<AppState> for Authorized<C> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let current = CurrentUser::from_request_parts(parts, state).await?;
        authorize(state, &current).await
    }
}
