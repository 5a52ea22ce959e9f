#![allow(clippy::unwrap_used)]
use super::*;
use crate::capture::SyntheticCapturer;
use crate::window::{Located, Presence, ScreenRect, WindowError, WindowInfo};
use std::sync::Mutex;

/// A window whose place the test sets.
#[derive(Clone)]
struct Placed(Arc<Mutex<Presence>>);

impl Default for Placed {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(Presence::Gone)))
    }
}

impl Windows for Placed {
    fn list(&mut self) -> Result<Vec<WindowInfo>, WindowError> {
        Ok(Vec::new())
    }
    fn locate(&mut self, _: u64) -> Result<Presence, WindowError> {
        Ok(self.0.lock().unwrap().clone())
    }
}

fn shown(x: i32, y: i32, width: u32, height: u32, covers: Vec<ScreenRect>) -> Presence {
    Presence::Shown(Located {
        rect: ScreenRect {
            x,
            y,
            width,
            height,
        },
        covers,
        focused: false,
    })
}

#[test]
fn outside_the_window_and_under_what_covers_it_is_black() {
    let switches = Arc::new(StreamSwitches::new());
    let place = Placed::default();
    *place.0.lock().unwrap() = shown(
        8,
        4,
        16,
        10,
        vec![ScreenRect {
            x: 10,
            y: 6,
            width: 2,
            height: 2,
        }],
    );
    // Its red is never zero, so black can only come from the mask.
    let synthetic = SyntheticCapturer::new(64, 48);
    let mut masked = MaskedCapturer::new(
        Box::new(synthetic),
        switches.clone(),
        Some(Box::new(place.clone())),
    );
    let mut frame = Frame::new(0, 0);
    switches.window.store(42, Ordering::Release);
    assert_eq!(masked.capture(&mut frame).unwrap(), vec![frame.bounds()]);
    for (x, y) in [(0, 0), (7, 4), (24, 4), (8, 14), (63, 47), (10, 6), (11, 7)] {
        assert_eq!(frame.rgb(x, y), Some((0, 0, 0)), "({x}, {y}) not shown");
    }
    for (x, y) in [(8, 4), (23, 13), (12, 6)] {
        assert_ne!(frame.rgb(x, y), Some((0, 0, 0)), "({x}, {y}) shown");
    }
    // Still: nothing new to send.
    assert_eq!(masked.capture(&mut frame).unwrap(), Vec::new());
    // Minimized: all black, at once.
    *place.0.lock().unwrap() = Presence::Hidden;
    assert_eq!(masked.change_pending(), Some(true));
    masked.capture(&mut frame).unwrap();
    assert!(frame.bgrx.iter().all(|b| *b == 0));
    // The whole screen again.
    switches.window.store(WHOLE_SCREEN, Ordering::Release);
    assert_eq!(masked.change_pending(), Some(true));
    masked.capture(&mut frame).unwrap();
    assert_ne!(frame.rgb(0, 0), Some((0, 0, 0)));
    // A window chosen but nothing to find it with: nothing shown.
    let mut blind = MaskedCapturer::new(
        Box::new(SyntheticCapturer::new(64, 48)),
        switches.clone(),
        None,
    );
    switches.window.store(42, Ordering::Release);
    blind.capture(&mut frame).unwrap();
    assert!(frame.bgrx.iter().all(|b| *b == 0));
}

#[test]
fn a_window_that_moves_during_a_capture_shows_only_where_it_was_both_times() {
    let a = Mask::Window(Some(Shape {
        area: Rect {
            x: 0,
            y: 0,
            width: 10,
            height: 10,
        },
        holes: Vec::new(),
    }));
    let b = Mask::Window(Some(Shape {
        area: Rect {
            x: 5,
            y: 5,
            width: 10,
            height: 10,
        },
        holes: vec![Rect {
            x: 6,
            y: 6,
            width: 1,
            height: 1,
        }],
    }));
    let common = both(a, b);
    assert!(common.shows(5, 5) && common.shows(9, 9));
    assert!(!common.shows(4, 4) && !common.shows(10, 10) && !common.shows(6, 6));
    assert_eq!(both(Mask::Screen, Mask::Window(None)), Mask::Window(None));
}

#[test]
fn damage_is_clipped_to_the_window() {
    let area = Rect {
        x: 10,
        y: 10,
        width: 10,
        height: 10,
    };
    let rect = |x, y, width, height| Rect {
        x,
        y,
        width,
        height,
    };
    assert_eq!(clip(&rect(0, 0, 5, 5), &area), None);
    assert_eq!(clip(&rect(5, 5, 10, 10), &area), Some(rect(10, 10, 5, 5)));
}
