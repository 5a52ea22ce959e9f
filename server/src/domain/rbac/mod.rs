//! Role-based access control: who may do what to whom.
//!
//! [`Policy::resolve`] is the one function that turns a tenant's roles and
//! assignments into the permissions a helper holds on a target, and
//! [`Policy::tenant_permissions`] gives the administration permissions.
//! Every server decision, and the access review, goes through them.

mod builtin;
mod resolve;

pub use builtin::{BUILTIN_ROLES, BuiltinRole, builtin};
pub use resolve::{Assignment, Membership, Policy, Scope, Target};
