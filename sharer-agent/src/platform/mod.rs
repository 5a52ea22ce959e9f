//! The one place that picks the OS backend. OS-specific `cfg`s live only
//! under this folder (checked by `cargo xtask test`).

use crate::capture::{CaptureError, Capturer};
use crate::inject::{InjectError, Injector};

#[cfg(target_os = "linux")]
mod x11;

/// The platform this agent was built for.
#[cfg(target_os = "linux")]
pub const NAME: &str = "linux-x11";
#[cfg(target_os = "windows")]
pub const NAME: &str = "windows";
#[cfg(not(any(target_os = "linux", target_os = "windows")))]
pub const NAME: &str = "unsupported";

/// The screen capturer of this OS.
pub fn capturer() -> Result<Box<dyn Capturer>, CaptureError> {
    #[cfg(target_os = "linux")]
    {
        let capturer = x11::X11Capturer::connect(None)?;
        tracing::info!(shm = capturer.uses_shm(), "capturing the X display");
        Ok(Box::new(capturer))
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(CaptureError::Connect(format!(
            "screen capture is not built for {NAME} yet"
        )))
    }
}

/// The input injector of this OS.
pub fn injector() -> Result<Box<dyn Injector>, InjectError> {
    #[cfg(target_os = "linux")]
    {
        Ok(Box::new(x11::X11Injector::connect(None)?))
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(InjectError::Unsupported(
            "input injection is not built for this OS yet",
        ))
    }
}

/// Options that create a file only its owner can read (0600 on Unix).
pub fn private_file() -> std::fs::OpenOptions {
    #[allow(unused_mut)]
    let mut options = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// The device's name, for registration.
pub fn device_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "device".into())
}

/// A short description of the OS, for registration.
pub fn os() -> (String, String) {
    let name = std::env::consts::OS;
    let version = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_owned())
            })
        })
        .unwrap_or_else(|| "unknown".into());
    let os = match name {
        "linux" => "Linux",
        "windows" => "Windows",
        other => other,
    };
    (os.to_owned(), version)
}
