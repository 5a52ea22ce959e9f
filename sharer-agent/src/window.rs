//! Sharing one window instead of the screen. The OS part is the
//! [`Windows`] capability (list the device's windows; where one is now and
//! whether it has the keyboard), picked in `platform`. The rest is pure:
//! the [`Mask`] the capture applies (the window's area on the shared
//! display, everything else black) and [`admit`], which says what input
//! may reach the device while one window is shared.

use crate::capture::Rect;
use tandem_protocol::input::{Display, Input};

/// A window's area on the device's virtual desktop, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenRect {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

/// A window the sharer may pick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowInfo {
    pub id: u64,
    /// As the OS has it (cleaned before it leaves the device).
    pub title: String,
    pub rect: ScreenRect,
}

/// Where a window is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub rect: ScreenRect,
    /// The windows above it that cover part of it (never the agent's own
    /// bar or overlay): not shown, and input there is not the window's.
    pub covers: Vec<ScreenRect>,
    /// It (or a window inside it) has the keyboard.
    pub focused: bool,
}

/// Whether a window is there to be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    Shown(Located),
    /// Minimized or hidden for now.
    Hidden,
    /// Closed: its id may name another window later, so it is not
    /// followed again.
    Gone,
}

impl Presence {
    pub fn located(&self) -> Option<&Located> {
        match self {
            Presence::Shown(located) => Some(located),
            Presence::Hidden | Presence::Gone => None,
        }
    }
}

/// Whether a window's title marks it as the agent's own (its sharing bar,
/// its annotation overlay): never a cover, never offered.
pub fn is_agents_own(title: &str) -> bool {
    title.starts_with("Tandem sharing indicator") || title.starts_with("Tandem annotation")
}

#[derive(Debug, thiserror::Error)]
pub enum WindowError {
    #[error("cannot connect to the display: {0}")]
    Connect(String),
    #[error("the window system refused: {0}")]
    Refused(String),
}

/// The device's windows.
pub trait Windows: Send + Sync {
    /// The windows a person would pick from: shown, titled, top-level.
    fn list(&mut self) -> Result<Vec<WindowInfo>, WindowError>;
    /// Where window `id` is now, and what covers it.
    fn locate(&mut self, id: u64) -> Result<Presence, WindowError>;
}

/// A window's area on the shared display, less what covers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    pub area: Rect,
    pub holes: Vec<Rect>,
}

impl Shape {
    pub fn shows(&self, x: u32, y: u32) -> bool {
        contains(&self.area, x, y) && !self.holes.iter().any(|h| contains(h, x, y))
    }
}

fn contains(r: &Rect, x: u32, y: u32) -> bool {
    x >= r.x && y >= r.y && x - r.x < r.width && y - r.y < r.height
}

/// `r` on `display`, clipped to it; `None` if nothing of it is there.
fn on_display(r: &ScreenRect, display: &Display) -> Option<Rect> {
    let left = i64::from(r.x) - i64::from(display.x);
    let top = i64::from(r.y) - i64::from(display.y);
    let right = (left + i64::from(r.width)).min(i64::from(display.width));
    let bottom = (top + i64::from(r.height)).min(i64::from(display.height));
    let (left, top) = (left.max(0), top.max(0));
    if right <= left || bottom <= top {
        return None;
    }
    let to_u32 = |v: i64| u32::try_from(v).unwrap_or(0);
    Some(Rect {
        x: to_u32(left),
        y: to_u32(top),
        width: to_u32(right - left),
        height: to_u32(bottom - top),
    })
}

/// What the capture shows of the selected display.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Mask {
    /// All of it.
    #[default]
    Screen,
    /// Only this shape of it (display pixels); nothing when `None` (the
    /// window is closed, minimized, or on another display).
    Window(Option<Shape>),
}

impl Mask {
    /// The mask for a window at `located` on `display`: its area there,
    /// clipped to the display, less what covers it.
    pub fn of(located: Option<&Located>, display: &Display) -> Self {
        let Some(located) = located else {
            return Mask::Window(None);
        };
        let Some(area) = on_display(&located.rect, display) else {
            return Mask::Window(None);
        };
        let holes = located
            .covers
            .iter()
            .filter_map(|c| on_display(c, display))
            .collect();
        Mask::Window(Some(Shape { area, holes }))
    }

    /// Whether the display pixel (`x`, `y`) is shown.
    pub fn shows(&self, x: u32, y: u32) -> bool {
        match self {
            Mask::Screen => true,
            Mask::Window(None) => false,
            Mask::Window(Some(shape)) => shape.shows(x, y),
        }
    }
}

/// The input rule while one window is shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowInput {
    pub mask: Mask,
    /// The window has the keyboard.
    pub focused: bool,
}

/// What becomes of one input event.
#[derive(Debug, Clone, PartialEq)]
pub enum Admission {
    Inject,
    /// Injected at a point inside the window instead (a release, so no
    /// button stays down).
    InjectAt(Input),
    /// Dropped and counted.
    Drop,
}

/// Keys that act on the desktop, not on a window.
const DESKTOP_KEYS: [&str; 5] = ["MetaLeft", "MetaRight", "OSLeft", "OSRight", "ContextMenu"];

/// What may reach the device while one window is shared: pointer events
/// inside it, keys while it has the keyboard; releases always (moved into
/// the window), so nothing stays held; never the special keys (they act
/// on the whole desktop). With the whole screen shared, everything.
pub fn admit(input: &Input, rule: Option<&WindowInput>) -> Admission {
    let Some(rule) = rule else {
        return Admission::Inject;
    };
    let inside = |x: u32, y: u32| rule.mask.shows(x, y);
    match input {
        Input::Move { x, y } | Input::Wheel { x, y, .. } if inside(*x, *y) => Admission::Inject,
        Input::Button { x, y, .. } if inside(*x, *y) => Admission::Inject,
        Input::Button {
            button,
            down: false,
            ..
        } => match &rule.mask {
            Mask::Window(Some(shape)) => Admission::InjectAt(Input::Button {
                button: *button,
                down: false,
                x: shape.area.x + shape.area.width / 2,
                y: shape.area.y + shape.area.height / 2,
            }),
            _ => Admission::Drop,
        },
        Input::Key { down: false, .. } | Input::ReleaseAll | Input::Held => Admission::Inject,
        // The desktop's own keys (the Start menu, a launcher) are never
        // the window's.
        Input::Key { code, .. } if DESKTOP_KEYS.contains(&code.as_str()) => Admission::Drop,
        Input::Key { .. } | Input::Text { .. } if rule.focused => Admission::Inject,
        _ => Admission::Drop,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_protocol::input::Button;

    fn display(x: i32) -> Display {
        Display {
            id: 0,
            name: "one".into(),
            width: 1024,
            height: 768,
            primary: true,
            x,
            y: 0,
        }
    }

    fn at(x: i32, y: i32, width: u32, height: u32) -> Located {
        Located {
            rect: ScreenRect {
                x,
                y,
                width,
                height,
            },
            covers: Vec::new(),
            focused: false,
        }
    }

    fn area(mask: &Mask) -> Option<Rect> {
        match mask {
            Mask::Window(Some(shape)) => Some(shape.area),
            _ => None,
        }
    }

    #[test]
    fn the_mask_is_the_window_clipped_to_its_display_less_what_covers_it() {
        let rect = |x, y, width, height| Rect {
            x,
            y,
            width,
            height,
        };
        let mask = Mask::of(Some(&at(100, 50, 200, 100)), &display(0));
        assert_eq!(area(&mask), Some(rect(100, 50, 200, 100)));
        // Partly off the left of a display that starts at x = 1024.
        let mask = Mask::of(Some(&at(1000, -10, 100, 100)), &display(1024));
        assert_eq!(area(&mask), Some(rect(0, 0, 76, 90)));
        assert_eq!(
            Mask::of(Some(&at(2000, 0, 10, 10)), &display(0)),
            Mask::Window(None),
            "on another display: nothing"
        );
        assert_eq!(Mask::of(None, &display(0)), Mask::Window(None));
        let mask = Mask::of(Some(&at(10, 10, 5, 5)), &display(0));
        assert!(mask.shows(10, 10) && mask.shows(14, 14));
        assert!(!mask.shows(15, 10) && !mask.shows(9, 12));
        // A pop-up over part of it is a hole.
        let mut covered = at(0, 0, 100, 100);
        covered.covers.push(ScreenRect {
            x: 40,
            y: 40,
            width: 20,
            height: 20,
        });
        let mask = Mask::of(Some(&covered), &display(0));
        assert!(mask.shows(10, 10) && mask.shows(60, 60));
        assert!(!mask.shows(40, 40) && !mask.shows(59, 59));
    }

    #[test]
    fn only_input_inside_the_window_passes() {
        let rule = WindowInput {
            mask: Mask::of(Some(&at(100, 100, 200, 100)), &display(0)),
            focused: false,
        };
        let click = |x, y, down| Input::Button {
            button: Button::Left,
            down,
            x,
            y,
        };
        let key = |down| Input::Key {
            code: "KeyA".into(),
            down,
        };
        assert_eq!(admit(&click(5, 5, true), Some(&rule)), Admission::Drop);
        assert_eq!(
            admit(&Input::Move { x: 5, y: 5 }, Some(&rule)),
            Admission::Drop
        );
        assert_eq!(
            admit(&click(150, 150, true), Some(&rule)),
            Admission::Inject
        );
        assert_eq!(
            admit(&click(5, 5, false), Some(&rule)),
            Admission::InjectAt(click(200, 150, false)),
            "a release lands inside"
        );
        assert_eq!(
            admit(&key(true), Some(&rule)),
            Admission::Drop,
            "not focused"
        );
        assert_eq!(admit(&key(false), Some(&rule)), Admission::Inject);
        let focused = WindowInput {
            focused: true,
            ..rule.clone()
        };
        assert_eq!(admit(&key(true), Some(&focused)), Admission::Inject);
        let meta = Input::Key {
            code: "MetaLeft".into(),
            down: true,
        };
        assert_eq!(
            admit(&meta, Some(&focused)),
            Admission::Drop,
            "the desktop's key"
        );
        assert_eq!(
            admit(
                &Input::Special {
                    keys: tandem_protocol::input::SpecialKeys::AltTab
                },
                Some(&focused)
            ),
            Admission::Drop
        );
        let gone = WindowInput {
            mask: Mask::Window(None),
            focused: true,
        };
        assert_eq!(admit(&click(150, 150, false), Some(&gone)), Admission::Drop);
        assert_eq!(admit(&click(5, 5, true), None), Admission::Inject);
    }
}
