//! Linux: the X11 backends, syslog, and the rest of the OS glue.

use super::error::{PlatformError, failed};
use crate::capture::{CaptureError, Capturer};
use crate::indicator::{Indicator, IndicatorError};
use crate::inject::{InjectError, Injector};
use crate::journal::{DeviceLog, Entry, LogError};
use crate::overlay::{Overlay, OverlayError};
use crate::window::{WindowError, Windows};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tandem_protocol::agent::SharerAction;
use tokio::sync::mpsc;

pub const NAME: &str = "linux-x11";
pub const HAS_SECURE_DESKTOP: bool = false;
pub const BROWSER: &str = "xdg-open";

pub fn capturer() -> Result<Box<dyn Capturer>, CaptureError> {
    let capturer = super::x11::X11Capturer::connect(None)?;
    tracing::info!(shm = capturer.uses_shm(), "capturing the X display");
    Ok(Box::new(capturer))
}

pub fn injector() -> Result<Box<dyn Injector>, InjectError> {
    Ok(Box::new(super::x11::X11Injector::connect(None)?))
}

pub fn overlay() -> Result<Box<dyn Overlay>, OverlayError> {
    Ok(Box::new(super::x11::X11Overlay::connect(None)?))
}

pub fn desktop_windows() -> Result<Box<dyn Windows>, WindowError> {
    Ok(Box::new(super::x11::X11Windows::connect(None)?))
}

pub fn indicator(clicks: mpsc::Sender<SharerAction>) -> Result<Box<dyn Indicator>, IndicatorError> {
    Ok(Box::new(super::x11::X11Indicator::start(None, clicks)?))
}

/// Writes to syslog (`/dev/log`, which journald also serves, or the socket
/// named by `TANDEM_SYSLOG_SOCKET`), facility auth, so it lands with the
/// other security records.
struct Syslog;

/// Where syslog listens.
fn syslog_socket() -> PathBuf {
    std::env::var_os("TANDEM_SYSLOG_SOCKET")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/dev/log"))
}

impl DeviceLog for Syslog {
    fn write(&self, entry: &Entry) -> Result<(), LogError> {
        tracing::info!(event = entry.event_id(), "{}", entry.text());
        let socket = std::os::unix::net::UnixDatagram::unbound().map_err(|e| LogError::Call {
            call: "syslog socket",
            detail: e.to_string(),
        })?;
        // <PRI> = facility auth (4) * 8 + severity notice (5).
        let line = format!("<37>tandem-agent[{}]: {}", std::process::id(), entry.text());
        match socket.send_to(line.as_bytes(), syslog_socket()) {
            Ok(_) => Ok(()),
            // No syslog daemon (a container): the terminal line above stays.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(LogError::Call {
                call: "syslog",
                detail: error.to_string(),
            }),
        }
    }
}

pub fn device_log() -> Arc<dyn DeviceLog> {
    Arc::new(Syslog)
}

/// X11 has no secure desktop, so no session can use elevation here.
pub fn warn_sharer(_title: &str, _message: &str, _wait: Duration) {}

pub fn sign_out() -> Result<(), PlatformError> {
    let session = std::env::var("XDG_SESSION_ID")
        .map_err(|_| PlatformError::Unsupported("no login session (XDG_SESSION_ID is unset)"))?;
    let status = std::process::Command::new("loginctl")
        .args(["terminate-session", &session])
        .status()
        .map_err(failed("loginctl"))?;
    if status.success() {
        Ok(())
    } else {
        Err(PlatformError::call(
            format!("loginctl terminate-session {session}"),
            status,
        ))
    }
}

/// The service is for Windows; on Linux the agent runs in the user's
/// graphical session (for example from a systemd user unit).
pub const HAS_SERVICE: bool = false;
pub const SERVICE_NAME: &str = "";

fn no_service() -> Result<(), PlatformError> {
    Err(PlatformError::Unsupported("the service is for Windows"))
}

pub fn service_state_dir() -> PathBuf {
    default_state_dir()
}

pub fn protect_state_dir(_dir: &std::path::Path) -> Result<(), PlatformError> {
    no_service()
}

pub fn install_service(_agent_args: &[String]) -> Result<(), PlatformError> {
    no_service()
}

pub fn uninstall_service() -> Result<(), PlatformError> {
    no_service()
}

pub fn run_service() -> Result<(), PlatformError> {
    no_service()
}

pub fn open_link(command_line: &str) -> Result<(), PlatformError> {
    super::spawn_command_line(command_line)
}

/// `$XDG_STATE_HOME/tandem`, else `~/.local/state/tandem`.
pub fn default_state_dir() -> PathBuf {
    if let Some(state) = std::env::var_os("XDG_STATE_HOME") {
        return PathBuf::from(state).join("tandem");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".local/state/tandem")
}

/// `XDG_DOWNLOAD_DIR`, from the environment or `user-dirs.dirs`, else
/// `~/Downloads`.
pub fn downloads_dir() -> Option<PathBuf> {
    let home = PathBuf::from(std::env::var_os("HOME")?);
    if let Some(dir) = std::env::var_os("XDG_DOWNLOAD_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".config"));
    let from_user_dirs = std::fs::read_to_string(config.join("user-dirs.dirs"))
        .ok()
        .and_then(|text| user_dirs_download(&text, &home));
    Some(from_user_dirs.unwrap_or_else(|| home.join("Downloads")))
}

/// The Downloads line of a `user-dirs.dirs` file
/// (`XDG_DOWNLOAD_DIR="$HOME/Downloads"`).
fn user_dirs_download(text: &str, home: &std::path::Path) -> Option<PathBuf> {
    let value = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("XDG_DOWNLOAD_DIR="))?
        .trim()
        .trim_matches('"');
    match value.strip_prefix("$HOME") {
        Some(rest) => Some(home.join(rest.trim_start_matches('/'))),
        None if value.starts_with('/') => Some(PathBuf::from(value)),
        None => None,
    }
}

pub fn describe() -> (String, String) {
    let version = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_owned())
            })
        })
        .unwrap_or_else(|| "unknown".into());
    ("Linux".to_owned(), version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_downloads_line_of_user_dirs_is_read() {
        let home = std::path::Path::new("/home/megan");
        let text = "# comment\nXDG_DESKTOP_DIR=\"$HOME/Desktop\"\nXDG_DOWNLOAD_DIR=\"$HOME/Téléchargements\"\n";
        assert_eq!(
            user_dirs_download(text, home),
            Some(PathBuf::from("/home/megan/Téléchargements"))
        );
        assert_eq!(
            user_dirs_download("XDG_DOWNLOAD_DIR=\"/data/dl\"", home),
            Some(PathBuf::from("/data/dl"))
        );
        assert_eq!(user_dirs_download("XDG_DOWNLOAD_DIR=\"dl\"", home), None);
        assert_eq!(user_dirs_download("", home), None);
    }
}
