//! The policy checks of a session: what the helper may do on its sharer
//! and device, and why a redemption must be refused.

use super::error::SessionResult;
use super::resolved::Resolved;
use super::service::Sessions;
use crate::auth::TenantScope;
use crate::domain::rbac::Target;
use crate::store::{SessionRecord, UserRecord};
use tandem_protocol::rbac::{Permission, PermissionSet};
use tandem_protocol::session::Refusal;

impl Sessions {
    /// [`Self::permissions_on`], unless `resolved` already holds the answer
    /// for the same parties.
    pub(crate) async fn permissions_once(
        &self,
        record: &SessionRecord,
        resolved: &Resolved,
    ) -> SessionResult<PermissionSet> {
        if let Some(set) = resolved.get(record) {
            return Ok(set);
        }
        let set = self.permissions_on(record).await?;
        resolved.keep(record, set);
        Ok(set)
    }

    /// The helper's remote-help permissions on the session's sharer (and
    /// device): the resolver's answer, now.
    pub(crate) async fn permissions_on(
        &self,
        record: &SessionRecord,
    ) -> SessionResult<PermissionSet> {
        self.count_resolution();
        let scope = TenantScope::of_record(&record.tenant_id);
        let store = self.store();
        let policy = store.policy(&scope).await?;
        let helper = store.user_membership(&scope, &record.helper_id).await?;
        let user = match &record.sharer_id {
            Some(id) => Some(store.user_membership(&scope, id).await?),
            None => None,
        };
        let device = match &record.device_id {
            Some(id) => Some(store.device_membership(&scope, id).await?),
            None => None,
        };
        let target = Target {
            tenant: record.tenant_id.clone(),
            user,
            device,
        };
        Ok(policy.resolve(&helper, &target))
    }

    /// Why the session may not go ahead with this sharer, if it may not.
    pub(super) async fn refusal(
        &self,
        record: &SessionRecord,
        sharer: &UserRecord,
    ) -> SessionResult<Option<Refusal>> {
        // Redemption turns another tenant's code into a wrong code before
        // it gets here; this stays as a second wall, and says nothing more.
        if sharer.tenant_id != record.tenant_id {
            return Ok(Some(Refusal::NotAvailable));
        }
        let scope = TenantScope::of_record(&record.tenant_id);
        let settings = self.store().settings(&scope).await?;
        if !settings.remote_help_enabled {
            return Ok(Some(Refusal::RemoteHelpOff));
        }
        let mut candidate = record.clone();
        candidate.sharer_id = Some(sharer.id.clone());
        if !self
            .permissions_on(&candidate)
            .await?
            .contains(Permission::ViewScreen)
        {
            return Ok(Some(Refusal::OutOfScope));
        }
        if let Some(device) = &record.device_id {
            let enrolled = self
                .store()
                .device_summary(&scope, device)
                .await?
                .is_some_and(|d| d.enrolled);
            if !enrolled && !settings.allow_unenrolled {
                return Ok(Some(Refusal::UnenrolledDevicesOff));
            }
        }
        Ok(None)
    }
}
