//! Building blocks, by feature.

pub mod admin;
pub mod auth;
pub mod devices;
pub mod layout;
pub mod reports;
pub mod session;
