//! The proofs that privileged store operations take: [`TenantScope`],
//! [`Authorized`] and [`ReportReader`]. They are plain values that sit
//! below the store (this file names nothing of the crate), and only `auth`
//! can make one: their constructors are visible to `auth/` alone.

use std::marker::PhantomData;
use tandem_protocol::rbac::Permission;
use tandem_protocol::{TenantId, UserId};

/// Proof that the caller may read its own tenant's directory. Only this
/// module can mint one, from an authenticated principal.
#[derive(Debug, Clone)]
pub struct TenantScope {
    tenant_id: TenantId,
}

impl TenantScope {
    pub(super) fn new(tenant_id: TenantId) -> Self {
        Self { tenant_id }
    }

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
    pub(super) fn new(scope: TenantScope, actor: Actor) -> Self {
        Self {
            scope,
            actor,
            _capability: PhantomData,
        }
    }

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

/// Proof of what the caller may read in the reports.
#[derive(Debug, Clone)]
pub struct ReportReader {
    scope: TenantScope,
    /// `None`: the whole tenant; `Some(user)`: sessions `user` helped in.
    own: Option<UserId>,
}

impl ReportReader {
    pub(super) fn new(scope: TenantScope, own: Option<UserId>) -> Self {
        Self { scope, own }
    }

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
