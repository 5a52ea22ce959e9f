//! Who may read which session records. With Read session reports, every
//! record of the tenant; without it, a helper's own sessions only. Store
//! report queries take a [`ReportReader`], which only this extractor mints,
//! so a handler cannot widen what a caller sees.

use super::authorized::{ReadSessionReports, authorize};
use super::{CurrentUser, TenantScope};
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tandem_protocol::UserId;

/// Proof of what the caller may read in the reports.
#[derive(Debug, Clone)]
pub struct ReportReader {
    scope: TenantScope,
    /// `None`: the whole tenant; `Some(user)`: sessions `user` helped in.
    own: Option<UserId>,
}

impl ReportReader {
    pub fn scope(&self) -> &TenantScope {
        &self.scope
    }

    /// The helper whose sessions alone may be read, when not all.
    pub fn only_helper(&self) -> Option<&UserId> {
        self.own.as_ref()
    }

    /// A reader of the whole tenant, for store unit tests.
    #[cfg(test)]
    pub(crate) fn for_tests(scope: TenantScope, own: Option<UserId>) -> Self {
        Self { scope, own }
    }
}

impl FromRequestParts<AppState> for ReportReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let current = CurrentUser::from_request_parts(parts, state).await?;
        let scope = current.tenant_scope();
        let own = match authorize::<ReadSessionReports>(state, &current).await {
            Ok(_) => None,
            Err(ApiError::Forbidden(_)) => Some(current.user.id.clone()),
            Err(other) => return Err(other),
        };
        Ok(Self { scope, own })
    }
}
