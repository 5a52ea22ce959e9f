//! One window shared: a [`Capturer`] that shows only the window's area of
//! the display and blacks out everything else before anything is tiled
//! or encoded. The real capturer fills a shadow frame of its own; what
//! changed is copied to the frame the stream reads, with the pixels
//! outside the window zeroed, and the damage reported is only what
//! changed inside it. A mask that moves (the window moved, was resized,
//! closed) repaints the whole frame. The pointer is hidden outside it.

use super::stream::StreamSwitches;
use crate::capture::{CaptureError, Capturer, Cursor, Desktop, Frame, Rect};
use crate::window::Mask;
use std::sync::Arc;
use std::time::Duration;
use tandem_protocol::input::Display;

pub struct MaskedCapturer {
    inner: Box<dyn Capturer>,
    switches: Arc<StreamSwitches>,
    shadow: Frame,
    /// The mask the frame was last drawn with (`None`: not drawn yet).
    applied: Option<Mask>,
}

impl MaskedCapturer {
    pub fn new(inner: Box<dyn Capturer>, switches: Arc<StreamSwitches>) -> Self {
        Self {
            inner,
            switches,
            shadow: Frame::new(0, 0),
            applied: None,
        }
    }

    fn mask(&self) -> Mask {
        self.switches
            .window
            .lock()
            .map(|m| *m)
            .unwrap_or(Mask::Window(None))
    }
}

/// `rect` of `from` into `to`, pixels outside `mask` black.
pub fn copy_masked(from: &Frame, to: &mut Frame, rect: &Rect, mask: &Mask) {
    let width = from.width as usize;
    let (x0, x1) = (rect.x as usize, (rect.x + rect.width) as usize);
    for y in rect.y..rect.y + rect.height {
        let row = y as usize * width * 4;
        let (shown_from, shown_to) = match mask {
            Mask::Screen => (x0, x1),
            Mask::Window(Some(m)) if y >= m.y && y - m.y < m.height => {
                (x0.max(m.x as usize), x1.min((m.x + m.width) as usize))
            }
            Mask::Window(_) => (x0, x0),
        };
        let shown_to = shown_to.max(shown_from);
        let (a, b, c, d) = (
            row + x0 * 4,
            row + shown_from.min(x1) * 4,
            row + shown_to.min(x1) * 4,
            row + x1 * 4,
        );
        if let (Some(dst), Some(src)) = (to.bgrx.get_mut(a..d), from.bgrx.get(a..d)) {
            let (left, rest) = dst.split_at_mut(b - a);
            let (middle, right) = rest.split_at_mut(c - b);
            left.fill(0);
            middle.copy_from_slice(&src[b - a..c - a]);
            right.fill(0);
        }
    }
}

/// `rect` cut to what `mask` shows; `None` if nothing of it is.
fn clip(rect: &Rect, mask: &Mask) -> Option<Rect> {
    let m = match mask {
        Mask::Screen => return Some(*rect),
        Mask::Window(None) => return None,
        Mask::Window(Some(m)) => m,
    };
    let x = rect.x.max(m.x);
    let y = rect.y.max(m.y);
    let right = (rect.x + rect.width).min(m.x + m.width);
    let bottom = (rect.y + rect.height).min(m.y + m.height);
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
        let damage = self.inner.capture(&mut self.shadow)?;
        let mask = self.mask();
        if (frame.width, frame.height) != (self.shadow.width, self.shadow.height) {
            *frame = Frame::new(self.shadow.width, self.shadow.height);
            self.applied = None;
        }
        if self.applied != Some(mask) {
            self.applied = Some(mask);
            let all = self.shadow.bounds();
            copy_masked(&self.shadow, frame, &all, &mask);
            return Ok(vec![all]);
        }
        let mut shown = Vec::with_capacity(damage.len());
        for rect in &damage {
            copy_masked(&self.shadow, frame, rect, &mask);
            shown.extend(clip(rect, &mask));
        }
        Ok(shown)
    }
    fn cursor(&mut self) -> Result<Cursor, CaptureError> {
        let mut cursor = self.inner.cursor()?;
        let (x, y) = (u32::try_from(cursor.x), u32::try_from(cursor.y));
        let shown = matches!((x, y), (Ok(x), Ok(y)) if self.mask().shows(x, y));
        cursor.visible &= shown;
        Ok(cursor)
    }
    fn change_pending(&mut self) -> Option<bool> {
        // A mask that moved is a change too.
        if self.applied.is_some_and(|a| a != self.mask()) {
            return Some(true);
        }
        self.inner.change_pending()
    }
    fn wait_for_change(&mut self, timeout: Duration) -> Option<bool> {
        self.inner.wait_for_change(timeout)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::capture::SyntheticCapturer;

    #[test]
    fn outside_the_window_is_black_and_its_changes_are_not_reported() {
        let switches = Arc::new(StreamSwitches::new());
        // Its red is never zero, so black can only come from the mask.
        let synthetic = SyntheticCapturer::new(64, 48);
        let mut masked = MaskedCapturer::new(Box::new(synthetic), switches.clone());
        let mut frame = Frame::new(0, 0);
        let window = Rect {
            x: 8,
            y: 4,
            width: 16,
            height: 10,
        };
        *switches.window.lock().unwrap() = Mask::Window(Some(window));
        assert_eq!(masked.capture(&mut frame).unwrap(), vec![frame.bounds()]);
        for (x, y) in [(0, 0), (7, 4), (24, 4), (8, 14), (63, 47)] {
            assert_eq!(frame.rgb(x, y), Some((0, 0, 0)), "({x}, {y}) outside");
        }
        for (x, y) in [(8, 4), (23, 13)] {
            assert_ne!(frame.rgb(x, y), Some((0, 0, 0)), "({x}, {y}) inside");
        }
        // The window is closed: all black, once.
        *switches.window.lock().unwrap() = Mask::Window(None);
        assert_eq!(masked.change_pending(), Some(true));
        masked.capture(&mut frame).unwrap();
        assert!(frame.bgrx.iter().all(|b| *b == 0));
        // The whole screen again.
        *switches.window.lock().unwrap() = Mask::Screen;
        masked.capture(&mut frame).unwrap();
        assert_ne!(frame.rgb(0, 0), Some((0, 0, 0)));
    }

    #[test]
    fn damage_is_clipped_to_the_window() {
        let mask = Mask::Window(Some(Rect {
            x: 10,
            y: 10,
            width: 10,
            height: 10,
        }));
        let rect = |x, y, width, height| Rect {
            x,
            y,
            width,
            height,
        };
        assert_eq!(clip(&rect(0, 0, 5, 5), &mask), None);
        assert_eq!(clip(&rect(5, 5, 10, 10), &mask), Some(rect(10, 10, 5, 5)));
        assert_eq!(
            clip(&rect(0, 0, 5, 5), &Mask::Screen),
            Some(rect(0, 0, 5, 5))
        );
    }
}
