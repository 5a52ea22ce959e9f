//! One window shared: a [`Capturer`] that shows only the window's part of
//! the display and blacks out everything else before anything is tiled
//! or encoded. It finds the window itself at every capture, before and
//! after reading the screen, and shows only what both places agree on, so
//! a window that moves, closes or is covered never lets what is behind or
//! over it through, not even for a frame. The real capturer fills a
//! shadow frame of its own; what changed is copied to the frame the
//! stream reads with everything outside the window zeroed, and the damage
//! reported is only what changed inside it. A mask that changes repaints
//! the whole frame. The pointer is hidden (and not placed) outside it; a
//! secure desktop shows nothing.

use super::stream::StreamSwitches;
use crate::capture::{CaptureError, Capturer, Cursor, Desktop, Frame, Rect};
use crate::window::{Mask, Shape, Windows};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tandem_protocol::input::Display;

/// [`StreamSwitches::window`]: the whole screen.
pub const WHOLE_SCREEN: u64 = 0;
/// [`StreamSwitches::window`]: nothing (the shared window was closed).
pub const NOTHING: u64 = u64::MAX;

pub struct MaskedCapturer {
    inner: Box<dyn Capturer>,
    switches: Arc<StreamSwitches>,
    windows: Option<Box<dyn Windows>>,
    shadow: Frame,
    /// The mask the frame was last drawn with (`None`: not drawn yet).
    applied: Option<Mask>,
    /// When the mask was last looked at between captures.
    checked: Option<std::time::Instant>,
}

/// How often the mask is looked at between captures.
const MASK_CHECK: Duration = Duration::from_millis(100);

impl MaskedCapturer {
    /// `windows` finds the shared window (none: a shared window shows
    /// nothing).
    pub fn new(
        inner: Box<dyn Capturer>,
        switches: Arc<StreamSwitches>,
        windows: Option<Box<dyn Windows>>,
    ) -> Self {
        Self {
            inner,
            switches,
            windows,
            shadow: Frame::new(0, 0),
            applied: None,
            checked: None,
        }
    }

    /// What may be shown of the selected display now.
    fn mask(&mut self) -> Mask {
        let id = self.switches.window.load(Ordering::Acquire);
        if id == WHOLE_SCREEN {
            return Mask::Screen;
        }
        if id == NOTHING || matches!(self.inner.desktop(), Desktop::Secure { .. }) {
            return Mask::Window(None);
        }
        let current = self.inner.current_display();
        let display = self.inner.displays().into_iter().find(|d| d.id == current);
        let presence = self.windows.as_mut().map(|w| w.locate(id));
        match (display, presence) {
            (Some(display), Some(Ok(presence))) => Mask::of(presence.located(), &display),
            _ => Mask::Window(None),
        }
    }
}

/// What both masks show: the common area, both masks' holes.
fn both(a: Mask, b: Mask) -> Mask {
    match (a, b) {
        (Mask::Screen, m) | (m, Mask::Screen) => m,
        (Mask::Window(Some(a)), Mask::Window(Some(b))) => {
            let Some(area) = clip(&a.area, &b.area) else {
                return Mask::Window(None);
            };
            let mut holes = a.holes;
            holes.extend(b.holes);
            Mask::Window(Some(Shape { area, holes }))
        }
        _ => Mask::Window(None),
    }
}

/// `rect` of `from` into `to`, pixels outside `mask` black.
pub fn copy_masked(from: &Frame, to: &mut Frame, rect: &Rect, mask: &Mask) {
    let width = from.width as usize;
    let (x0, x1) = (rect.x as usize, (rect.x + rect.width) as usize);
    for y in rect.y..rect.y + rect.height {
        let row = y as usize * width * 4;
        let (Some(dst), Some(src)) = (
            to.bgrx.get_mut(row + x0 * 4..row + x1 * 4),
            from.bgrx.get(row + x0 * 4..row + x1 * 4),
        ) else {
            continue;
        };
        let shape = match mask {
            Mask::Screen => {
                dst.copy_from_slice(src);
                continue;
            }
            Mask::Window(Some(shape))
                if y >= shape.area.y && y - shape.area.y < shape.area.height =>
            {
                shape
            }
            Mask::Window(_) => {
                dst.fill(0);
                continue;
            }
        };
        let span = |r: &Rect| {
            let from = (r.x as usize).clamp(x0, x1) - x0;
            let to = ((r.x + r.width) as usize).clamp(x0, x1) - x0;
            (from * 4, to * 4)
        };
        let (a, b) = span(&shape.area);
        dst.fill(0);
        dst[a..b].copy_from_slice(&src[a..b]);
        for hole in &shape.holes {
            if y >= hole.y && y - hole.y < hole.height {
                let (a, b) = span(hole);
                dst[a..b].fill(0);
            }
        }
    }
}

/// `rect` cut to `area`; `None` if nothing of it is in it.
fn clip(rect: &Rect, area: &Rect) -> Option<Rect> {
    let x = rect.x.max(area.x);
    let y = rect.y.max(area.y);
    let right = (rect.x + rect.width).min(area.x + area.width);
    let bottom = (rect.y + rect.height).min(area.y + area.height);
    (right > x && bottom > y).then(|| Rect {
        x,
        y,
        width: right - x,
        height: bottom - y,
    })
}

impl Capturer for MaskedCapturer {
    fn size(&self) -> (u32, u32) {
        self.inner.size()
    }
    fn displays(&self) -> Vec<Display> {
        self.inner.displays()
    }
    fn current_display(&self) -> u32 {
        self.inner.current_display()
    }
    fn select_display(&mut self, id: u32) -> Result<(), CaptureError> {
        self.applied = None;
        self.inner.select_display(id)
    }
    fn allow_secure_desktop(&mut self, allowed: bool) {
        self.inner.allow_secure_desktop(allowed);
    }
    fn desktop(&self) -> Desktop {
        self.inner.desktop()
    }
    fn capture(&mut self, frame: &mut Frame) -> Result<Vec<Rect>, CaptureError> {
        let before = self.mask();
        let damage = self.inner.capture(&mut self.shadow)?;
        let mask = both(before, self.mask());
        if (frame.width, frame.height) != (self.shadow.width, self.shadow.height) {
            *frame = Frame::new(self.shadow.width, self.shadow.height);
            self.applied = None;
        }
        if self.applied.as_ref() != Some(&mask) {
            let all = self.shadow.bounds();
            copy_masked(&self.shadow, frame, &all, &mask);
            self.applied = Some(mask);
            return Ok(vec![all]);
        }
        let mut shown = Vec::with_capacity(damage.len());
        for rect in &damage {
            copy_masked(&self.shadow, frame, rect, &mask);
            match &mask {
                Mask::Screen => shown.push(*rect),
                Mask::Window(Some(shape)) => shown.extend(clip(rect, &shape.area)),
                Mask::Window(None) => {}
            }
        }
        Ok(shown)
    }
    fn cursor(&mut self) -> Result<Cursor, CaptureError> {
        let mut cursor = self.inner.cursor()?;
        let (x, y) = (u32::try_from(cursor.x), u32::try_from(cursor.y));
        let mask = self.applied.clone().unwrap_or(Mask::Window(None));
        let shown = matches!((x, y), (Ok(x), Ok(y)) if mask.shows(x, y));
        if !shown {
            // Neither where it is nor what it looks like.
            cursor = Cursor {
                x: 0,
                y: 0,
                visible: false,
                shape: None,
            };
        }
        Ok(cursor)
    }
    fn change_pending(&mut self) -> Option<bool> {
        // A window that moves, closes or is covered changes the screen,
        // which the capturer hears of; the rest (a choice just made, an id
        // gone) is looked at a few times a second.
        let window = self.switches.window.load(Ordering::Acquire) != WHOLE_SCREEN;
        if window && self.checked.is_none_or(|at| at.elapsed() >= MASK_CHECK) {
            self.checked = Some(std::time::Instant::now());
            let now = self.mask();
            if self.applied.as_ref() != Some(&now) {
                return Some(true);
            }
        }
        if self
            .applied
            .as_ref()
            .is_some_and(|m| (*m == Mask::Screen) == window)
        {
            return Some(true);
        }
        self.inner.change_pending()
    }
    fn wait_for_change(&mut self, timeout: Duration) -> Option<bool> {
        self.inner.wait_for_change(timeout.min(MASK_CHECK))
    }
}

#[cfg(test)]
#[path = "window_mask_tests.rs"]
mod tests;
