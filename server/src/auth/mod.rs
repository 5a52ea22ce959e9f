//! Who is calling, and what that lets them reach: the domain of sign-in,
//! as plain functions with no web types. The HTTP layer (`http/`) wraps
//! them in extractors and handlers.
//!
//! Privileged store operations take values minted only here: a
//! [`Principal`] (an authenticated user) yields a [`TenantScope`], the only
//! key to tenant-scoped store queries, and [`authorize`] an
//! [`Authorized`] proof of a permission.

mod authorize;
pub mod device;
mod nonces;
pub mod oidc;
mod password;
mod principal;
mod proof;
pub mod throttle;

pub use authorize::{authorize, report_reader};
pub use password::{
    HashLimits, MAX_CONCURRENT_HASHES, PasswordError, PasswordHasher, hash_password,
    verify_password,
};
pub use principal::{Principal, SessionPolicy, resume, sign_in_with_password};
pub use proof::{
    Actor, Authorized, Capability, ManageDevices, ManageRoles, ManageSettings, ReadSessionReports,
    ReportReader, TenantScope,
};

use tandem_protocol::rbac::Permission;

/// Every way authentication or authorization can refuse or fail.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("wrong e-mail or password")]
    BadCredentials,
    #[error("too many sign-in attempts; retry in {0} s")]
    TooManyAttempts(u64),
    /// Too many password checks waited; retry in this many seconds.
    #[error("password checks busy; retry in {0} s")]
    Busy(u64),
    #[error("forbidden: needs {0:?}")]
    Forbidden(Permission),
    #[error("password check: {0}")]
    Password(PasswordError),
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
}
