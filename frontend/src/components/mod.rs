//! Building blocks, by feature.

pub mod auth;
pub mod devices;
pub mod layout;
