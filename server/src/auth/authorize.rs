//! Authorization as a type. [`authorize`] checks a principal's
//! tenant-wide permissions through the RBAC resolver and returns an
//! `Authorized<P>`, or refuses; [`report_reader`] says how much of the
//! reports a principal may read. Store operations that need a permission
//! take the proof, so calling them without the check does not compile.
//! (The HTTP layer's extractors call these.)

use super::proof::{Actor, Authorized, Capability, ReadSessionReports, ReportReader};
use super::{AuthError, Principal};
use crate::store::Store;

/// Checks that `principal` holds `C::PERMISSION` in their tenant, through
/// the RBAC resolver.
pub async fn authorize<C: Capability>(
    store: &Store,
    principal: &Principal,
) -> Result<Authorized<C>, AuthError> {
    let scope = principal.tenant_scope();
    let user = principal.user();
    let policy = store.policy(&scope).await?;
    let membership = store.user_membership(&scope, &user.id).await?;
    if !policy
        .tenant_permissions(&membership)
        .contains(C::PERMISSION)
    {
        tracing::info!(user = %user.id, permission = ?C::PERMISSION, "forbidden");
        return Err(AuthError::Forbidden(C::PERMISSION));
    }
    Ok(Authorized::new(
        scope,
        Actor {
            id: user.id.clone(),
            name: user.card.display_name.clone(),
        },
    ))
}

/// What `principal` may read in the reports.
pub async fn report_reader(
    store: &Store,
    principal: &Principal,
) -> Result<ReportReader, AuthError> {
    let scope = principal.tenant_scope();
    let own = match authorize::<ReadSessionReports>(store, principal).await {
        Ok(_) => None,
        Err(AuthError::Forbidden(_)) => Some(principal.user().id.clone()),
        Err(other) => return Err(other),
    };
    Ok(ReportReader::new(scope, own))
}
