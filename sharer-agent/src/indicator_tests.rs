use super::*;
use std::sync::{Arc, Mutex};
use tandem_protocol::input::Button;
use tandem_protocol::session::Mode;

fn shared(mode: Mode) -> Status {
    Status::Shared {
        helper: "Megan Bowen".into(),
        mode,
    }
}

#[test]
fn the_bar_says_who_sees_the_screen_and_how() {
    let view = Bar::of(&shared(Mode::View)).unwrap_or_else(|| unreachable!());
    assert_eq!(view.text, "Shared with Megan Bowen (view only)");
    assert!(view.border);
    assert_eq!(view.buttons, [SharerAction::Pause, SharerAction::Stop]);
    let control = Bar::of(&shared(Mode::Control)).map(|b| b.text);
    assert_eq!(
        control.as_deref(),
        Some("Shared with Megan Bowen (full control)")
    );
    let paused = Bar::of(&Status::Paused {
        helper: "Megan Bowen".into(),
    })
    .unwrap_or_else(|| unreachable!());
    assert_eq!(paused.text, "Paused \u{2014} shared with Megan Bowen");
    assert!(!paused.border, "nothing leaves while paused");
    assert_eq!(paused.buttons, [SharerAction::Resume, SharerAction::Stop]);
    for quiet in [
        Status::Idle,
        Status::Waiting,
        Status::Ended { why: "x".into() },
    ] {
        assert_eq!(Bar::of(&quiet), None, "{quiet}");
    }
}

#[test]
fn names_are_one_short_line() {
    assert_eq!(name("  Megan\nBowen\u{202e} "), "Megan Bowen");
    assert_eq!(name("\n"), "your helper");
    let long = "Ä".repeat(100);
    let shown = name(&long);
    assert_eq!(shown.chars().count(), MAX_NAME_CHARS);
    assert!(shown.ends_with("..."));
}

/// A 6×13 fixed font, like X's `fixed`.
fn fixed(text: &str) -> (u32, u32) {
    (text.chars().count() as u32 * 6, 13)
}

#[test]
fn the_bar_sits_at_the_top_centre_and_the_border_along_the_edges() {
    let area = Area {
        x: -1024,
        y: 0,
        width: 1024,
        height: 768,
    };
    let bar = Bar::of(&shared(Mode::Control)).unwrap_or_else(|| unreachable!());
    let layout = Layout::new(area, &bar, fixed);
    // 8 + 38×6 + 8 + (5×6 + 20) + 8 + (4×6 + 20) + 8 = 354 wide.
    assert_eq!(layout.bar.width, 354);
    assert_eq!(layout.bar.height, 29);
    assert_eq!((layout.bar.x, layout.bar.y), (-1024 + 335, 0));
    assert_eq!(layout.buttons[0].x, 8 + 228 + 8);
    assert_eq!(layout.buttons[1].x, 244 + 50 + 8);
    assert!(layout.buttons[1].x + 44 + 8 == 354);
    let [top, bottom, left, right] = layout.border;
    assert_eq!((top.x, top.y, top.width, top.height), (-1024, 0, 1024, 5));
    assert_eq!((bottom.y, bottom.height), (763, 5));
    assert_eq!(
        (left.x, left.y, left.width, left.height),
        (-1024, 5, 5, 758)
    );
    assert_eq!((right.x, right.width), (-5, 5));
    // Clicks inside the buttons, not between them.
    assert_eq!(layout.button_at(&bar, 250, 10), Some(SharerAction::Pause));
    assert_eq!(layout.button_at(&bar, 310, 10), Some(SharerAction::Stop));
    assert_eq!(layout.button_at(&bar, 297, 10), None);
    assert_eq!(layout.button_at(&bar, 100, 10), None);
    // A tiny screen still gets a bar no wider than itself.
    let tiny = Area {
        x: 0,
        y: 0,
        width: 100,
        height: 6,
    };
    let small = Layout::new(tiny, &bar, fixed);
    assert_eq!((small.bar.x, small.bar.width), (0, 100));
    assert_eq!(small.border[2].height, 0);
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Option<String>>>>);

impl Indicator for Recorder {
    fn measure(&self, text: &str) -> (u32, u32) {
        fixed(text)
    }
    fn screen(&self) -> Area {
        Area {
            x: 0,
            y: 0,
            width: 1024,
            height: 768,
        }
    }
    fn show(&mut self, shown: Option<(&Bar, &Layout)>) {
        if let Ok(mut calls) = self.0.lock() {
            calls.push(shown.map(|(bar, _)| bar.text.clone()));
        }
    }
}

#[test]
fn the_screen_follows_every_status_change_and_only_changes() {
    let recorder = Recorder::default();
    let mut screen = OnScreen::new(Some(Box::new(recorder.clone())));
    let paused = Status::Paused {
        helper: "Megan Bowen".into(),
    };
    for status in [
        Status::Waiting,
        shared(Mode::View),
        shared(Mode::View),
        shared(Mode::Control),
        paused.clone(),
        shared(Mode::Control),
        Status::Ended { why: "x".into() },
        Status::Ended { why: "x".into() },
    ] {
        screen.update(&status, None);
    }
    let calls = recorder.0.lock().map(|c| c.clone()).unwrap_or_default();
    assert_eq!(
        calls,
        [
            Some("Shared with Megan Bowen (view only)".into()),
            Some("Shared with Megan Bowen (full control)".into()),
            Some("Paused \u{2014} shared with Megan Bowen".into()),
            Some("Shared with Megan Bowen (full control)".into()),
            None,
        ]
    );
    // Another display moves it; the end hides it once.
    screen.update(&shared(Mode::View), None);
    let second = Display {
        id: 1,
        name: "2".into(),
        width: 800,
        height: 600,
        primary: false,
        x: 1024,
        y: 0,
    };
    screen.update(&shared(Mode::View), Some(&second));
    assert_eq!(screen.layout().map(|l| l.border[0].x), Some(1024));
    screen.hide();
    screen.hide();
    let calls = recorder.0.lock().map(|c| c.len()).unwrap_or_default();
    assert_eq!(calls, 8);
    // A dropped connection shows on the bar until it is back.
    screen.set_link_lost(true);
    screen.update(&shared(Mode::Control), None);
    // Once the server counts the helper as away, the bar counts down
    // (a second is shown until it is over).
    screen.set_helper_away(Some(119_001));
    screen.update(&shared(Mode::Control), None);
    screen.set_helper_away(Some(65_000));
    screen.update(&shared(Mode::Control), None);
    screen.set_helper_away(None);
    screen.set_link_lost(false);
    screen.update(&shared(Mode::Control), None);
    let calls = recorder.0.lock().map(|c| c.clone()).unwrap_or_default();
    let lost = "Shared with Megan Bowen (full control) \u{2014} helper disconnected, reconnecting";
    assert_eq!(
        calls[8..],
        [
            Some(format!("{lost}\u{2026}")),
            Some(format!("{lost} (2:00 left)")),
            Some(format!("{lost} (1:05 left)")),
            Some("Shared with Megan Bowen (full control)".into()),
        ]
    );
    assert_eq!(minutes_seconds(0), "0:00");
    // No backend: nothing to do, nothing blocked.
    let mut none = OnScreen::new(None);
    none.update(&shared(Mode::View), None);
    assert!(none.layout().is_none());
}

#[test]
fn the_helper_cannot_press_the_sharers_buttons() {
    let mut screen = OnScreen::new(Some(Box::new(Recorder::default())));
    let press = |x, y, down| Input::Button {
        button: Button::Left,
        down,
        x,
        y,
    };
    assert!(!screen.blocks(&press(512, 10, true), None), "nothing shown");
    screen.update(&shared(Mode::Control), None);
    let bar = screen.layout().map(|l| l.bar).unwrap_or_default();
    let (mx, my) = (bar.x as u32 + bar.width / 2, bar.height / 2);
    assert!(screen.blocks(&press(mx, my, true), None));
    assert!(!screen.blocks(&press(mx, my, false), None), "releases pass");
    assert!(!screen.blocks(&press(mx, bar.height + 1, true), None));
    assert!(!screen.blocks(&Input::Move { x: mx, y: my }, None));
    // On a display to the right, its own coordinates count.
    let right = Display {
        id: 1,
        name: "2".into(),
        width: 1024,
        height: 768,
        primary: false,
        x: 1024,
        y: 0,
    };
    screen.update(&shared(Mode::Control), Some(&right));
    assert!(screen.blocks(&press(mx, my, true), Some(&right)));
    assert!(!screen.blocks(&press(mx, my, true), None));
}
