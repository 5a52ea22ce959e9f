//! The one place that picks the OS backend. OS-specific `cfg`s live only
//! under this folder (checked by `cargo xtask test`).

/// The platform this agent was built for.
#[cfg(target_os = "linux")]
pub const NAME: &str = "linux-x11";
#[cfg(target_os = "windows")]
pub const NAME: &str = "windows";
#[cfg(not(any(target_os = "linux", target_os = "windows")))]
pub const NAME: &str = "unsupported";
