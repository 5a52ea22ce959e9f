//! The Windows capturer: one monitor at a time, by DXGI Desktop
//! Duplication when it works and GDI otherwise; it follows the input to a
//! secure desktop only when allowed (Elevation with full control) and
//! able (running as SYSTEM through the service).

use super::desktop::{self, InputDesktop};
use super::dxgi::{Duplication, DuplicationError};
use super::gdi::GdiCapturer;
use super::monitors::{Monitor, monitors};
use super::pointer::GdiPointer;
use crate::capture::{CaptureError, Capturer, Cursor, Desktop, Frame, Rect};
use std::time::{Duration, Instant};
use tandem_protocol::input::Display;

/// How often monitors are enumerated again.
const MONITORS_EVERY: Duration = Duration::from_secs(1);

enum Backend {
    Dxgi(Duplication),
    Gdi(GdiCapturer, GdiPointer),
}

pub struct WindowsCapturer {
    monitors: Vec<Monitor>,
    monitors_at: Instant,
    selected: u32,
    backend: Option<Backend>,
    /// Why DXGI is not used (kept until the monitors change).
    dxgi_refused: Option<String>,
    allow_secure: bool,
    desktop: Desktop,
}

impl WindowsCapturer {
    pub fn new() -> Result<Self, CaptureError> {
        let monitors = monitors();
        let Some(first) = monitors.first() else {
            return Err(CaptureError::Connect("Windows reports no monitor".into()));
        };
        Ok(Self {
            selected: first.display.id,
            monitors,
            monitors_at: Instant::now(),
            backend: None,
            dxgi_refused: None,
            allow_secure: false,
            desktop: Desktop::Normal,
        })
    }

    /// "dxgi", "gdi", or "none" before the first capture.
    pub fn backend(&self) -> &'static str {
        match self.backend {
            Some(Backend::Dxgi(_)) => "dxgi",
            Some(Backend::Gdi(..)) => "gdi",
            None => "none",
        }
    }

    /// Why Desktop Duplication is not in use, if it was refused.
    pub fn dxgi_refused(&self) -> Option<&str> {
        self.dxgi_refused.as_deref()
    }

    fn monitor(&self) -> Option<&Monitor> {
        self.monitors.iter().find(|m| m.display.id == self.selected)
    }

    fn refresh_monitors(&mut self) {
        if self.monitors_at.elapsed() < MONITORS_EVERY {
            return;
        }
        self.monitors_at = Instant::now();
        let now = monitors();
        if now == self.monitors || now.is_empty() {
            return;
        }
        tracing::info!(count = now.len(), "the monitors changed");
        let before = self.monitor().map(Monitor::rect);
        self.monitors = now;
        if self.monitor().is_none()
            && let Some(first) = self.monitors.first()
        {
            self.selected = first.display.id;
        }
        if self.monitor().map(Monitor::rect) != before {
            self.backend = None;
            self.dxgi_refused = None;
        }
    }

    fn start_backend(&mut self) -> Result<(), CaptureError> {
        let Some(monitor) = self.monitor().cloned() else {
            return Err(CaptureError::NoSuchDisplay(self.selected));
        };
        if self.dxgi_refused.is_none() {
            match Duplication::new(&monitor.device) {
                Ok(duplication) => {
                    tracing::info!(device = %monitor.device, "capturing with DXGI Desktop Duplication");
                    self.backend = Some(Backend::Dxgi(duplication));
                    return Ok(());
                }
                Err(error) => {
                    tracing::info!(%error, "DXGI Desktop Duplication is unavailable; using GDI");
                    self.dxgi_refused = Some(error.to_string());
                }
            }
        }
        let (x, y, width, height) = monitor.rect();
        self.backend = Some(Backend::Gdi(
            GdiCapturer::new((x, y), width, height)?,
            GdiPointer::new((x, y)),
        ));
        Ok(())
    }

    /// Follows the input desktop if allowed; returns whether capturing
    /// makes sense now.
    fn follow_desktop(&mut self) -> bool {
        let input = desktop::input_desktop();
        let on = desktop::thread_desktop();
        let here = matches!(&input, InputDesktop::Named(name) if Some(name) == on.as_ref());
        let secure = !input.is_default();
        if here {
            self.desktop = if secure {
                Desktop::Secure { followed: true }
            } else {
                Desktop::Normal
            };
            if secure && !self.allow_secure {
                // Control (or Elevation) went away while on the prompt.
                self.leave_secure_desktop();
                return false;
            }
            return true;
        }
        if secure && !self.allow_secure {
            self.desktop = Desktop::Secure { followed: false };
            return false;
        }
        match desktop::follow_input() {
            Ok(name) => {
                tracing::info!(desktop = %name, "following the input desktop");
                self.backend = None; // DCs and duplications are per desktop
                self.desktop = if secure {
                    Desktop::Secure { followed: true }
                } else {
                    Desktop::Normal
                };
                true
            }
            Err(error) => {
                tracing::debug!(%error, "the input desktop cannot be followed");
                self.desktop = Desktop::Secure { followed: false };
                !secure
            }
        }
    }

    fn leave_secure_desktop(&mut self) {
        self.desktop = Desktop::Secure { followed: false };
        self.backend = None;
    }
}

impl Capturer for WindowsCapturer {
    fn size(&self) -> (u32, u32) {
        self.monitor()
            .map_or((0, 0), |m| (m.display.width & !1, m.display.height & !1))
    }

    fn displays(&self) -> Vec<Display> {
        self.monitors.iter().map(|m| m.display.clone()).collect()
    }

    fn current_display(&self) -> u32 {
        self.selected
    }

    fn select_display(&mut self, id: u32) -> Result<(), CaptureError> {
        if !self.monitors.iter().any(|m| m.display.id == id) {
            return Err(CaptureError::NoSuchDisplay(id));
        }
        if id != self.selected {
            self.selected = id;
            self.backend = None;
            self.dxgi_refused = None;
        }
        Ok(())
    }

    fn allow_secure_desktop(&mut self, allowed: bool) {
        self.allow_secure = allowed;
    }

    fn desktop(&self) -> Desktop {
        self.desktop
    }

    fn capture(&mut self, frame: &mut Frame) -> Result<Vec<Rect>, CaptureError> {
        self.refresh_monitors();
        if !self.follow_desktop() {
            return Ok(Vec::new());
        }
        if self.backend.is_none() {
            self.start_backend()?;
        }
        let result = match &mut self.backend {
            Some(Backend::Dxgi(duplication)) => match duplication.capture(frame) {
                Ok(damage) => Ok(damage),
                Err(DuplicationError::Lost) => {
                    // A desktop switch or mode change: start over.
                    self.backend = None;
                    Ok(Vec::new())
                }
                Err(error) => Err(CaptureError::from(error)),
            },
            Some(Backend::Gdi(gdi, _)) => gdi.capture(frame),
            None => Ok(Vec::new()),
        };
        if result.is_err() && matches!(self.backend, Some(Backend::Dxgi(_))) {
            // DXGI broke mid-session: fall back for good.
            self.dxgi_refused = Some("desktop duplication failed".into());
            self.backend = None;
            return Ok(Vec::new());
        }
        result
    }

    fn cursor(&mut self) -> Result<Cursor, CaptureError> {
        Ok(match &mut self.backend {
            Some(Backend::Dxgi(duplication)) => duplication.cursor(),
            Some(Backend::Gdi(_, pointer)) => pointer.read(),
            None => Cursor {
                x: 0,
                y: 0,
                visible: false,
                shape: None,
            },
        })
    }
}
