//! The Windows backends: DXGI Desktop Duplication with a GDI fallback,
//! SendInput, the sharing indicator, the Event Log, secure-desktop
//! following, sign-out, and the service that runs the agent as SYSTEM in
//! the user's session.

mod account;
mod capture;
mod cursor;
mod desktop;
mod dxgi;
mod eventlog;
mod gdi;
mod indicator;
mod inject;
mod monitors;
mod overlay;
mod pointer;
pub mod service;
pub mod state_dir;
mod top_windows;

pub use account::running_as_system;
pub use capture::WindowsCapturer;
pub use desktop::{InputDesktop, input_desktop, thread_desktop};
pub use eventlog::{EventLog, SOURCE as EVENT_SOURCE};
pub use indicator::WindowsIndicator;
pub use inject::{WindowsInjector, normalized};
pub use monitors::{Monitor, monitors};

use crate::capture::{CaptureError, Capturer};
use crate::indicator::{Indicator, IndicatorError};
use crate::inject::{InjectError, Injector};
use crate::journal::DeviceLog;
use crate::overlay::{Overlay, OverlayError};
use crate::platform::PlatformError;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tandem_protocol::agent::SharerAction;
use tokio::sync::mpsc;

pub const NAME: &str = "windows";
pub const HAS_SECURE_DESKTOP: bool = true;
pub const BROWSER: &str = "rundll32 url.dll,FileProtocolHandler";

/// A NUL-terminated UTF-16 copy of `text`.
pub(crate) fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

pub fn capturer() -> Result<Box<dyn Capturer>, CaptureError> {
    Ok(Box::new(WindowsCapturer::new()?))
}

pub fn injector() -> Result<Box<dyn Injector>, InjectError> {
    Ok(Box::new(WindowsInjector::new()?))
}

pub fn overlay() -> Result<Box<dyn Overlay>, OverlayError> {
    Ok(Box::new(overlay::WindowsOverlay::start()?))
}

pub fn desktop_windows() -> Result<Box<dyn crate::window::Windows>, crate::window::WindowError> {
    Ok(Box::new(top_windows::TopWindows))
}

pub fn indicator(clicks: mpsc::Sender<SharerAction>) -> Result<Box<dyn Indicator>, IndicatorError> {
    Ok(Box::new(WindowsIndicator::start(clicks)?))
}

pub fn device_log() -> Arc<dyn DeviceLog> {
    Arc::new(EventLog::open())
}

pub fn warn_sharer(title: &str, message: &str, wait: Duration) {
    account::warn(title, message, wait);
}

pub fn sign_out() -> Result<(), PlatformError> {
    account::sign_out()
}

pub const HAS_SERVICE: bool = true;

pub fn protect_state_dir(dir: &Path) -> Result<(), PlatformError> {
    state_dir::protect(dir)
}

pub fn install_service(agent_args: &[String]) -> Result<(), PlatformError> {
    service::install(agent_args)
}

pub fn uninstall_service() -> Result<(), PlatformError> {
    service::uninstall()
}

pub fn run_service() -> Result<(), PlatformError> {
    service::run()
}

pub const SERVICE_NAME: &str = service::NAME;

/// Opens a link: as the console user when this agent runs as SYSTEM (a
/// browser must never run as SYSTEM), else directly.
pub fn open_link(command_line: &str) -> Result<(), PlatformError> {
    if running_as_system() {
        return account::run_as_console_user(command_line);
    }
    super::spawn_command_line(command_line)
}

/// `%USERPROFILE%\Downloads`; none for an agent running as SYSTEM, whose
/// profile is not the sharer's (files are not received or sent there).
pub fn downloads_dir() -> Option<PathBuf> {
    if running_as_system() {
        return None;
    }
    std::env::var_os("USERPROFILE").map(|p| PathBuf::from(p).join("Downloads"))
}

/// `%ProgramData%\Tandem` for the service's agent, else
/// `%LOCALAPPDATA%\Tandem`.
pub fn default_state_dir() -> PathBuf {
    if running_as_system() {
        return service_state_dir();
    }
    std::env::var_os("LOCALAPPDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join("Tandem")
}

/// `%ProgramData%\Tandem`: the service's state, wherever it is installed
/// from.
pub fn service_state_dir() -> PathBuf {
    std::env::var_os("ProgramData")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(r"C:\ProgramData"))
        .join("Tandem")
}

pub fn describe() -> (String, String) {
    use windows::Win32::System::Registry::{HKEY_LOCAL_MACHINE, RRF_RT_REG_SZ, RegGetValueW};
    use windows::core::PCWSTR;
    let read = |name: &str| {
        let key = wide(r"SOFTWARE\Microsoft\Windows NT\CurrentVersion");
        let value = wide(name);
        let mut buffer = [0u16; 128];
        let mut size = (buffer.len() * 2) as u32;
        // SAFETY: the buffer's size in bytes is passed with it.
        let status = unsafe {
            RegGetValueW(
                HKEY_LOCAL_MACHINE,
                PCWSTR(key.as_ptr()),
                PCWSTR(value.as_ptr()),
                RRF_RT_REG_SZ,
                None,
                Some(buffer.as_mut_ptr().cast()),
                Some(&mut size),
            )
        };
        status.is_ok().then(|| {
            let end = buffer.iter().position(|&c| c == 0).unwrap_or(buffer.len());
            String::from_utf16_lossy(&buffer[..end])
        })
    };
    let product = read("ProductName").unwrap_or_else(|| "Windows".into());
    let build = read("CurrentBuild")
        .map(|b| format!(" (build {b})"))
        .unwrap_or_default();
    ("Windows".to_owned(), format!("{product}{build}"))
}
