//! Who is calling, and what that lets them reach.
//!
//! Handlers get privileged store operations only through values minted
//! here: a [`CurrentUser`] (an authenticated web session) yields a
//! [`TenantScope`], the only key to tenant-scoped store queries.

mod authorized;
pub mod oidc;
mod password;
mod report_reader;
pub mod throttle;
mod web_session;

pub use authorized::{
    Actor, Authorized, Capability, ManageDevices, ManageRoles, ManageSettings, ReadSessionReports,
    authorize,
};
pub use password::{
    HashLimits, MAX_CONCURRENT_HASHES, PasswordError, PasswordHasher, hash_password,
    verify_password,
};
pub use report_reader::ReportReader;
pub use web_session::{CurrentUser, SessionPolicy, login, logout, me};

use tandem_protocol::TenantId;

/// Proof that the caller may read its own tenant's directory. Only this
/// module can mint one, from an authenticated principal.
#[derive(Debug, Clone)]
pub struct TenantScope {
    tenant_id: TenantId,
}

impl TenantScope {
    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant_id
    }

    /// The scope of a record the server already holds (a session's own
    /// tenant), for its housekeeping: expiry, reconnect windows, views.
    pub(crate) fn of_record(tenant_id: &TenantId) -> Self {
        Self {
            tenant_id: tenant_id.clone(),
        }
    }

    /// A scope for store unit tests, which have no HTTP caller.
    #[cfg(test)]
    pub(crate) fn for_tests(tenant_id: TenantId) -> Self {
        Self { tenant_id }
    }
}
