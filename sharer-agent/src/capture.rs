//! Screen capture: the [`Capturer`] trait, the frame it fills, and a
//! deterministic synthetic backend for tests. The OS backends live under
//! `platform/`.

use std::time::Duration;
use tandem_protocol::input::Display;

/// A rectangle in display pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// One screen image: B, G, R, X bytes per pixel, rows of `width * 4`.
/// Width and height are even (H.264 4:2:0 needs that).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub bgrx: Vec<u8>,
}

impl Frame {
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            bgrx: vec![0; width as usize * height as usize * 4],
        }
    }

    /// The whole frame as one rectangle.
    pub fn bounds(&self) -> Rect {
        Rect {
            x: 0,
            y: 0,
            width: self.width,
            height: self.height,
        }
    }

    /// The pixel at (x, y) as (r, g, b).
    pub fn rgb(&self, x: u32, y: u32) -> Option<(u8, u8, u8)> {
        let at = (y as usize * self.width as usize + x as usize) * 4;
        let px = self.bgrx.get(at..at + 3)?;
        Some((px[2], px[1], px[0]))
    }
}

/// The cursor as the capturer last saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub x: i32,
    pub y: i32,
    pub visible: bool,
    /// A new shape, when it changed since the last call.
    pub shape: Option<tandem_protocol::input::CursorShape>,
}

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot connect to the display: {0}")]
    Connect(String),
    #[error("the display refused a capture request: {0}")]
    Protocol(String),
    #[error("the display needs an extension it lacks: {0}")]
    MissingExtension(&'static str),
    #[error("there is no display {0}")]
    NoSuchDisplay(u32),
}

/// Which desktop has the device's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Desktop {
    /// The signed-in user's desktop.
    #[default]
    Normal,
    /// A secure desktop (a UAC prompt, the sign-in screen). `followed`:
    /// the capturer shows it; otherwise nothing is captured while it is up.
    Secure { followed: bool },
}

/// A screen source. `capture` updates `frame` in place with what changed
/// since the previous call and returns the damaged rectangles; an empty
/// list means the screen is still and no new frame is needed. The frame
/// is the selected display only.
pub trait Capturer: Send {
    fn size(&self) -> (u32, u32);
    /// The displays the helper may pick from (called about once a second,
    /// so a monitor plugged in or a resolution change shows up).
    fn displays(&self) -> Vec<Display>;
    /// The id of the display being captured.
    fn current_display(&self) -> u32 {
        0
    }
    /// Captures `id` from the next frame on.
    fn select_display(&mut self, id: u32) -> Result<(), CaptureError> {
        if self.displays().iter().any(|d| d.id == id) {
            Ok(())
        } else {
            Err(CaptureError::NoSuchDisplay(id))
        }
    }
    /// May the capturer follow the input to a secure desktop? Only while
    /// the helper holds Elevation and full control.
    fn allow_secure_desktop(&mut self, _allowed: bool) {}
    /// The desktop that has the input, as of the last capture.
    fn desktop(&self) -> Desktop {
        Desktop::Normal
    }
    fn capture(&mut self, frame: &mut Frame) -> Result<Vec<Rect>, CaptureError>;
    fn cursor(&mut self) -> Result<Cursor, CaptureError>;
    /// Whether the screen changed since the last capture, cheaply and
    /// without blocking; `None` when this capturer cannot tell, and is then
    /// read on a fixed tick.
    fn change_pending(&mut self) -> Option<bool> {
        None
    }
    /// Waits at most `timeout` for a change, then answers as
    /// [`Capturer::change_pending`]. A capturer that can be woken by a change
    /// returns as soon as one arrives; by default this waits at most
    /// [`CHANGE_POLL`] and asks.
    fn wait_for_change(&mut self, timeout: Duration) -> Option<bool> {
        std::thread::sleep(timeout.min(CHANGE_POLL));
        self.change_pending()
    }
}

/// How long [`Capturer::wait_for_change`] waits at most by default.
pub const CHANGE_POLL: Duration = Duration::from_millis(2);

/// A deterministic screen for tests: a fixed background with a moving
/// square; it changes only when told to.
#[derive(Debug, Clone)]
pub struct SyntheticCapturer {
    width: u32,
    height: u32,
    tick: u32,
    drawn: Option<u32>,
}

impl SyntheticCapturer {
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            width: width & !1,
            height: height & !1,
            tick: 0,
            drawn: None,
        }
    }

    /// Moves the square: the next capture reports damage.
    pub fn advance(&mut self) {
        self.tick += 1;
    }

    fn square(&self, tick: u32) -> Rect {
        let side = 32.min(self.width).min(self.height);
        Rect {
            x: (tick * 16) % (self.width - side + 1),
            y: self.height / 2 - side / 2,
            width: side,
            height: side,
        }
    }

    fn paint(&self, frame: &mut Frame, rect: Rect, square: Rect) {
        for y in rect.y..rect.y + rect.height {
            for x in rect.x..rect.x + rect.width {
                let inside = x >= square.x
                    && x < square.x + square.width
                    && y >= square.y
                    && y < square.y + square.height;
                let (r, g, b) = if inside {
                    (250, 250, 250)
                } else {
                    (20, (x % 256) as u8, (y % 256) as u8)
                };
                let at = (y as usize * frame.width as usize + x as usize) * 4;
                if let Some(px) = frame.bgrx.get_mut(at..at + 4) {
                    px.copy_from_slice(&[b, g, r, 0]);
                }
            }
        }
    }
}

impl Capturer for SyntheticCapturer {
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn displays(&self) -> Vec<Display> {
        vec![Display {
            id: 0,
            name: "synthetic".into(),
            width: self.width,
            height: self.height,
            primary: true,
            x: 0,
            y: 0,
        }]
    }

    fn capture(&mut self, frame: &mut Frame) -> Result<Vec<Rect>, CaptureError> {
        if frame.width != self.width || frame.height != self.height {
            *frame = Frame::new(self.width, self.height);
            self.drawn = None;
        }
        let square = self.square(self.tick);
        let damaged = match self.drawn {
            Some(tick) if tick == self.tick => return Ok(Vec::new()),
            Some(tick) => vec![self.square(tick), square],
            None => vec![Rect {
                x: 0,
                y: 0,
                width: self.width,
                height: self.height,
            }],
        };
        for rect in &damaged {
            self.paint(frame, *rect, square);
        }
        self.drawn = Some(self.tick);
        Ok(damaged)
    }

    fn cursor(&mut self) -> Result<Cursor, CaptureError> {
        Ok(Cursor {
            x: 10,
            y: 10,
            visible: true,
            shape: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_still_synthetic_screen_reports_no_damage() {
        let mut capturer = SyntheticCapturer::new(64, 48);
        let mut frame = Frame::new(0, 0);
        assert_eq!(capturer.capture(&mut frame).map(|d| d.len()).ok(), Some(1));
        assert_eq!(frame.width, 64);
        assert_eq!(capturer.capture(&mut frame).map(|d| d.len()).ok(), Some(0));
        capturer.advance();
        assert_eq!(capturer.capture(&mut frame).map(|d| d.len()).ok(), Some(2));
        assert_eq!(frame.rgb(0, 0), Some((20, 0, 0)));
    }
}
