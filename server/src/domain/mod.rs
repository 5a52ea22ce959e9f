//! The pure floor of the server: rules with no I/O, no clock and no
//! storage, which every layer above may use. Nothing here names a module
//! of this crate outside `domain/` (`cargo xtask test` checks it), so the
//! rules can be read, tested and changed on their own.
//!
//! - [`machine`]: the remote-help session's state machine.
//! - [`rbac`]: roles, scope groups and the permission resolver.
//! - [`local_time`]: a tenant's calendar day and working hours.
//! - [`ice`]: STUN/TURN settings and TURN REST credentials.

pub mod ice;
pub mod local_time;
pub mod machine;
pub mod rbac;
