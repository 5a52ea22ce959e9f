//! The Windows backends: DXGI Desktop Duplication with a GDI fallback,
//! SendInput, the Event Log, secure-desktop following, sign-out, and the
//! service that runs the agent as SYSTEM in the user's session.

mod account;
mod capture;
mod cursor;
mod desktop;
mod dxgi;
mod eventlog;
mod gdi;
mod inject;
mod monitors;
mod pointer;
pub mod service;

pub use account::running_as_system;
pub use capture::WindowsCapturer;
pub use desktop::{InputDesktop, input_desktop, thread_desktop};
pub use eventlog::{EventLog, SOURCE as EVENT_SOURCE};
pub use inject::{WindowsInjector, normalized};
pub use monitors::{Monitor, monitors};

use crate::capture::{CaptureError, Capturer};
use crate::inject::{InjectError, Injector};
use crate::journal::DeviceLog;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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

pub fn device_log() -> Arc<dyn DeviceLog> {
    Arc::new(EventLog::open())
}

pub fn warn_sharer(title: &str, message: &str, wait: Duration) {
    account::warn(title, message, wait);
}

pub fn sign_out() -> Result<(), String> {
    account::sign_out()
}

pub fn service(action: crate::cli::ServiceAction, cli: &crate::cli::Cli) -> Result<(), String> {
    use crate::cli::ServiceAction;
    match action {
        ServiceAction::Install => {
            cli.server()?;
            service::install(&cli.agent_args())?;
            println!(
                "tandem-agent: the {} service is installed and running",
                service::NAME
            );
            Ok(())
        }
        ServiceAction::Uninstall => service::uninstall(),
        ServiceAction::Run => service::run(),
    }
}

/// Opens a link: as the console user when this agent runs as SYSTEM (a
/// browser must never run as SYSTEM), else directly.
pub fn open_link(command_line: &str) -> Result<(), String> {
    if running_as_system() {
        return account::run_as_console_user(command_line);
    }
    super::spawn_command_line(command_line)
}

/// `%ProgramData%\Tandem` for the service's agent, else
/// `%LOCALAPPDATA%\Tandem`.
pub fn default_state_dir() -> PathBuf {
    let base = if running_as_system() {
        std::env::var_os("ProgramData")
    } else {
        std::env::var_os("LOCALAPPDATA")
    };
    base.map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
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
