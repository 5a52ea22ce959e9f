//! The one place that picks the OS backends. OS-specific `cfg`s live only
//! under this folder (checked by `cargo xtask test`).

use crate::capture::{CaptureError, Capturer};
use crate::clipboard::{Clipboard, ClipboardError};
use crate::indicator::{Indicator, IndicatorError};
use crate::inject::{InjectError, Injector};
use crate::journal::DeviceLog;
use crate::overlay::{Overlay, OverlayError};
use crate::window::{WindowError, Windows};
pub use error::{PlatformError, failed};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tandem_protocol::agent::SharerAction;
use tokio::sync::{mpsc, watch};

mod clipboard;
mod error;
#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
mod x11;
#[cfg(target_os = "linux")]
use linux as os;

pub mod keymap;
/// Win32 is a C API: every call is `unsafe`, each with its SAFETY note.
#[cfg(windows)]
#[allow(unsafe_code)]
pub mod windows;
#[cfg(windows)]
use windows as os;

/// The platform this agent was built for.
pub const NAME: &str = os::NAME;

/// Whether this OS has secure desktops (UAC prompts) that need Elevation.
pub const HAS_SECURE_DESKTOP: bool = os::HAS_SECURE_DESKTOP;

/// The screen capturer of this OS.
pub fn capturer() -> Result<Box<dyn Capturer>, CaptureError> {
    os::capturer()
}

/// The input injector of this OS.
pub fn injector() -> Result<Box<dyn Injector>, InjectError> {
    os::injector()
}

/// The clipboard of this OS (text). Call it on the thread that will use
/// it (see `clipboard::ClipboardWorker`).
pub fn clipboard() -> Result<Box<dyn Clipboard>, ClipboardError> {
    clipboard::open()
}

/// The annotation overlay of this OS: the helper's strokes over the
/// sharer's screen, click-through.
pub fn overlay() -> Result<Box<dyn Overlay>, OverlayError> {
    os::overlay()
}

/// The device's windows, for sharing one of them.
pub fn desktop_windows() -> Result<Box<dyn Windows>, WindowError> {
    os::desktop_windows()
}

/// The sharing indicator of this OS: windows above all others that show
/// the sharer what is shared and with whom; the clicks on its buttons go
/// to `clicks`.
pub fn indicator(clicks: mpsc::Sender<SharerAction>) -> Result<Box<dyn Indicator>, IndicatorError> {
    os::indicator(clicks)
}

/// The device's own log: the Windows Event Log, syslog on Linux.
pub fn device_log() -> Arc<dyn DeviceLog> {
    os::device_log()
}

/// Warns the sharer (on their screen and the agent's terminal), waits
/// `warning`, then signs them out. Called after a session that used
/// elevation with full control; the agent stopping cuts the wait short
/// and signs out at once.
pub async fn sign_out(warning: Duration, mut stop: watch::Receiver<bool>) {
    let message = format!(
        "Your help session used administrator rights. Save your work: \
         you will be signed out in {} seconds.",
        warning.as_secs()
    );
    println!("tandem-agent: {message}");
    os::warn_sharer("Tandem remote help", &message, warning);
    tokio::select! {
        _ = tokio::time::sleep(warning) => {}
        _ = stop.changed() => {}
    }
    println!("tandem-agent: signing the sharer out");
    if let Err(error) = os::sign_out() {
        println!("tandem-agent: could not sign the sharer out: {error}");
    }
}

/// Whether this OS has the agent's service (Windows).
pub const HAS_SERVICE: bool = os::HAS_SERVICE;
/// The service's name in the OS.
pub const SERVICE_NAME: &str = os::SERVICE_NAME;

/// Where the service keeps the device key, wherever it is installed from.
pub fn service_state_dir() -> PathBuf {
    os::service_state_dir()
}

/// Lets only the system and administrators into the service's state.
pub fn protect_state_dir(dir: &std::path::Path) -> Result<(), PlatformError> {
    os::protect_state_dir(dir)
}

/// Installs and starts the service, which runs the agent with `agent_args`.
pub fn install_service(agent_args: &[String]) -> Result<(), PlatformError> {
    os::install_service(agent_args)
}

pub fn uninstall_service() -> Result<(), PlatformError> {
    os::uninstall_service()
}

/// Runs as the service (called by the service manager).
pub fn run_service() -> Result<(), PlatformError> {
    os::run_service()
}

/// The program that opens a link in the sharer's browser.
pub const BROWSER: &str = os::BROWSER;

/// Runs `command_line` (the browser and the link) for the signed-in user.
pub fn open_link(command_line: &str) -> Result<(), PlatformError> {
    os::open_link(command_line)
}

/// Runs a command line split at whitespace, without waiting.
fn spawn_command_line(command_line: &str) -> Result<(), PlatformError> {
    let mut parts = command_line.split_whitespace();
    let program = parts
        .next()
        .ok_or_else(|| PlatformError::call("run a command", "the command is empty"))?;
    std::process::Command::new(program)
        .args(parts)
        .stdin(std::process::Stdio::null())
        .spawn()
        .map(drop)
        .map_err(failed(program))
}

/// The sharer's Downloads folder, where files from the helper land.
pub fn downloads_dir() -> Option<PathBuf> {
    os::downloads_dir()
}

/// Where the device key is kept unless `--state-dir` says otherwise.
pub fn default_state_dir() -> PathBuf {
    os::default_state_dir()
}

/// Options that create a file only its owner can read (0600 on Unix;
/// on Windows the per-user or ProgramData folder's ACL applies).
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
    os::describe()
}
