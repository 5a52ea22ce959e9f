//! Every wire type Tandem speaks.
//!
//! This crate is shared by the server, the console (wasm) and the sharer
//! agent, so it depends on `serde` only: no async runtime, no database, no
//! browser bindings. `xtask test` checks that invariant.

pub mod admin;
pub mod agent;
pub mod annotation;
pub mod auth;
pub mod clipboard;
pub mod devices;
pub mod directory;
pub mod files;
pub mod grant;
pub mod ids;
pub mod input;
pub mod problem;
pub mod qoi;
pub mod rbac;
pub mod refusal;
pub mod reports;
pub mod routes;
pub mod session;
pub mod settings;
pub mod sharing;
pub mod signal;
pub mod tagged;
pub mod text;
pub mod tiles;
pub mod time;

pub use ids::{
    AssignmentId, DeviceId, EnrollmentTokenId, GroupId, RoleId, SessionId, TenantId, UserId,
};
pub use problem::Problem;
pub use time::UnixMillis;
