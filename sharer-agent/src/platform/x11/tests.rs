//! The X11 backends against a real Xvfb started for the test.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use super::{X11Capturer, X11Indicator, X11Injector};
use crate::capture::{Capturer, Frame};
use crate::gate::Status;
use crate::indicator::{BORDER_RGB, OnScreen, TITLE};
use crate::inject::Injector;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tandem_protocol::agent::SharerAction;
use tandem_protocol::input::{Button, Input};
use tandem_protocol::session::Mode;
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{
    AtomEnum, ConnectionExt as _, CreateWindowAux, EventMask, ImageFormat, MapState, Window,
    WindowClass,
};

/// An Xvfb on a free display, killed when dropped.
pub(super) struct Xvfb {
    child: Child,
    pub(super) display: String,
}

impl Xvfb {
    pub(super) fn start() -> Xvfb {
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "640x480x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is installed (cargo xtask test installs it)");
        let mut out = child.stdout.take().unwrap();
        let mut number = String::new();
        let mut byte = [0u8; 1];
        while out.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
            number.push(byte[0] as char);
        }
        Xvfb {
            child,
            display: format!(":{}", number.trim()),
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn captures_what_changed_and_injects_the_pointer() {
    let xvfb = Xvfb::start();
    let mut capturer = X11Capturer::connect(Some(&xvfb.display)).unwrap();
    assert_eq!(capturer.size(), (640, 480));
    assert!(capturer.uses_shm(), "Xvfb offers MIT-SHM 1.2");
    let mut frame = Frame::new(0, 0);
    let first = capturer.capture(&mut frame).unwrap();
    assert_eq!(first.len(), 1, "the first capture reads the whole screen");
    assert!(
        capturer.capture(&mut frame).unwrap().is_empty(),
        "a still screen"
    );

    // Another client paints a red window: only its area is damaged.
    let (conn, screen) = x11rb::connect(Some(&xvfb.display)).unwrap();
    let root = conn.setup().roots[screen].root;
    show_window(
        &conn,
        root,
        (100, 50, 64, 32),
        &CreateWindowAux::new()
            .background_pixel(0xff0000)
            .event_mask(EventMask::EXPOSURE),
    );
    conn.sync_ok();
    let mut damaged = Vec::new();
    for _ in 0..50 {
        damaged = capturer.capture(&mut frame).unwrap();
        if !damaged.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!damaged.is_empty(), "the new window was reported");
    assert!(damaged.iter().all(|r| r.width <= 640 && r.height <= 480));
    assert_eq!(frame.rgb(120, 60), Some((255, 0, 0)));

    let mut injector = X11Injector::connect(Some(&xvfb.display)).unwrap();
    injector.inject(&Input::Move { x: 300, y: 200 }).unwrap();
    let cursor = capturer.cursor().unwrap();
    assert_eq!((cursor.x, cursor.y), (300, 200));
}

/// A change whose notice arrives while the pointer is read is still
/// captured, and so is every change after it (the notice is not lost, so the
/// server keeps sending them). Before, `cursor` drained and dropped it, and a
/// screen that changed all the time showed one frame a second.
#[test]
fn a_damage_notice_drained_by_the_cursor_read_is_not_lost() {
    let xvfb = Xvfb::start();
    let (mut capturer, mut frame) = captured_once(&xvfb);
    let (conn, screen) = x11rb::connect(Some(&xvfb.display)).unwrap();
    let root = conn.setup().roots[screen].root;
    let window = show_window(
        &conn,
        root,
        (10, 10, 32, 32),
        &CreateWindowAux::new().background_pixel(0x0000ff),
    );
    for round in 0..5u32 {
        // Repaint, let the notice arrive, and read the pointer first.
        conn.change_window_attributes(
            window,
            &x11rb::protocol::xproto::ChangeWindowAttributesAux::new()
                .background_pixel(0x00ff00 + round),
        )
        .unwrap();
        conn.clear_area(false, window, 0, 0, 0, 0).unwrap();
        conn.sync_ok();
        std::thread::sleep(std::time::Duration::from_millis(50));
        capturer.cursor().unwrap();
        let damaged = capturer.capture(&mut frame).unwrap();
        assert!(!damaged.is_empty(), "round {round}: the change was seen");
    }
}

/// Waiting for a change sleeps in `poll` on the X connection and wakes on
/// the damage notice, long before its timeout; with nothing drawn it
/// answers "no change" once the timeout is out.
#[test]
fn a_wait_for_change_wakes_on_the_damage_notice() {
    let xvfb = Xvfb::start();
    let (mut capturer, mut frame) = captured_once(&xvfb);
    assert_eq!(
        capturer.wait_for_change(Duration::from_millis(30)),
        Some(false)
    );
    let display = xvfb.display.clone();
    let painter = std::thread::spawn(move || {
        let (conn, screen) = x11rb::connect(Some(&display)).unwrap();
        let root = conn.setup().roots[screen].root;
        std::thread::sleep(Duration::from_millis(100));
        show_window(
            &conn,
            root,
            (20, 20, 16, 16),
            &CreateWindowAux::new().background_pixel(0xff0000),
        );
        conn.sync_ok();
        // Stay connected until the capturer has looked.
        std::thread::sleep(Duration::from_secs(1));
    });
    let timeout = Duration::from_secs(20);
    let started = Instant::now();
    let mut answer = Some(false);
    let mut calls = 0;
    while answer == Some(false) && started.elapsed() < timeout {
        calls += 1;
        answer = capturer.wait_for_change(timeout - started.elapsed());
    }
    assert_eq!(answer, Some(true), "the change was noticed");
    assert!(
        started.elapsed() < timeout,
        "woken by the notice, not the timeout"
    );
    // Asking every 2 ms would take about 50 calls over the 100 ms.
    assert!(
        calls <= 5,
        "{calls} calls: it did not sleep until the notice"
    );
    assert!(!capturer.capture(&mut frame).unwrap().is_empty());
    painter.join().unwrap();
}

/// A capturer on `xvfb` that has read the whole screen once, and its frame.
fn captured_once(xvfb: &Xvfb) -> (X11Capturer, Frame) {
    let mut capturer = X11Capturer::connect(Some(&xvfb.display)).unwrap();
    let mut frame = Frame::new(0, 0);
    capturer.capture(&mut frame).unwrap();
    (capturer, frame)
}

/// Creates and maps a child of `root` at `(x, y, width, height)`.
fn show_window(
    conn: &impl Connection,
    root: Window,
    (x, y, width, height): (i16, i16, u16, u16),
    aux: &CreateWindowAux,
) -> Window {
    let window = conn.generate_id().unwrap();
    conn.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        window,
        root,
        x,
        y,
        width,
        height,
        0,
        WindowClass::INPUT_OUTPUT,
        0,
        aux,
    )
    .unwrap();
    conn.map_window(window).unwrap();
    window
}

/// The colour of the root window's pixel at (`x`, `y`), 0xRRGGBB.
pub(super) fn pixel(conn: &impl Connection, root: Window, x: i16, y: i16) -> u32 {
    let image = conn
        .get_image(ImageFormat::Z_PIXMAP, root, x, y, 1, 1, u32::MAX)
        .unwrap()
        .reply()
        .unwrap();
    u32::from_le_bytes([image.data[0], image.data[1], image.data[2], 0])
}

/// The mapped window named `name` among `parent`'s children, with its
/// place relative to `parent`.
pub(super) fn named(
    conn: &impl Connection,
    parent: Window,
    name: &str,
) -> Option<(Window, i16, i16, u16, u16)> {
    let children = conn.query_tree(parent).unwrap().reply().unwrap().children;
    children.into_iter().find_map(|window| {
        let title = conn
            .get_property(false, window, AtomEnum::WM_NAME, AtomEnum::STRING, 0, 64)
            .unwrap()
            .reply()
            .unwrap()
            .value;
        let mapped = conn
            .get_window_attributes(window)
            .unwrap()
            .reply()
            .unwrap()
            .map_state
            == MapState::VIEWABLE;
        if title != name.as_bytes() || !mapped {
            return None;
        }
        let g = conn.get_geometry(window).unwrap().reply().unwrap();
        Some((window, g.x, g.y, g.width, g.height))
    })
}

/// Waits up to 5 s for `check`.
pub(super) fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The indicator on a real X server: the orange border along the edges
/// (which lets clicks through to the window under it), the bar at the top
/// centre with its named buttons, a click on Stop coming back, no border
/// while paused, and nothing once hidden.
#[test]
fn the_indicator_shows_a_border_and_a_bar_whose_buttons_answer() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_max_level(tracing::Level::DEBUG)
        .try_init();
    let xvfb = Xvfb::start();
    let (conn, screen) = x11rb::connect(Some(&xvfb.display)).unwrap();
    let root = conn.setup().roots[screen].root;
    // A blue desktop window that wants clicks, under the indicator.
    let desktop = show_window(
        &conn,
        root,
        (0, 0, 640, 480),
        &CreateWindowAux::new()
            .background_pixel(0x0000ff)
            .event_mask(EventMask::BUTTON_PRESS),
    );
    conn.sync_ok();

    let (clicks_tx, mut clicks) = tokio::sync::mpsc::channel(8);
    let backend = X11Indicator::start(Some(&xvfb.display), clicks_tx).unwrap();
    let mut indicator = OnScreen::new(Some(Box::new(backend)));
    let shared = Status::Shared {
        helper: "Megan Bowen".into(),
        mode: Mode::Control,
    };
    indicator.update(&shared, None);
    eventually("the border is drawn", || {
        [(20, 1), (1, 240), (638, 240), (320, 478)]
            .iter()
            .all(|&(x, y)| pixel(&conn, root, x, y) == BORDER_RGB)
    });
    let (bar, bx, by, bw, _) = named(&conn, root, TITLE).expect("the bar is up");
    assert_eq!(
        (by, i32::from(bx) + i32::from(bw) / 2),
        (0, 320),
        "top centre"
    );
    assert_ne!(
        pixel(&conn, root, 320, 10),
        0x0000ff,
        "the bar covers the desktop"
    );

    // A window that comes over the bar is overtaken again.
    let cover = show_window(
        &conn,
        root,
        (200, 0, 240, 40),
        &CreateWindowAux::new()
            .background_pixel(0x00ff00)
            .override_redirect(1),
    );
    conn.sync_ok();
    eventually("the bar is on top again", || {
        pixel(&conn, root, 320, 10) != 0x00ff00
    });
    conn.destroy_window(cover).unwrap();
    conn.sync_ok();

    // The border lets clicks through to the desktop.
    let mut injector = X11Injector::connect(Some(&xvfb.display)).unwrap();
    let click = |injector: &mut X11Injector, x: u32, y: u32| {
        injector.inject(&Input::Move { x, y }).unwrap();
        for down in [true, false] {
            let button = Input::Button {
                button: Button::Left,
                down,
                x,
                y,
            };
            injector.inject(&button).unwrap();
        }
    };
    click(&mut injector, 2, 240);
    eventually(
        "the desktop got the click through the border",
        || matches!(conn.poll_for_event().unwrap(), Some(Event::ButtonPress(p)) if p.event == desktop),
    );

    // Stop, pressed on the bar, comes back to the session.
    let stop = format!("{TITLE}: Stop");
    let (_, sx, sy, sw, sh) = named(&conn, bar, &stop).expect("a Stop button");
    let at = |offset: i16, size: u16| (offset + size as i16 / 2) as u32;
    click(&mut injector, bx as u32 + at(sx, sw), at(sy, sh));
    eventually("the click on Stop came back", || {
        clicks.try_recv() == Ok(SharerAction::Stop)
    });

    // Paused: the bar offers Resume, and there is no border.
    indicator.update(
        &Status::Paused {
            helper: "Megan Bowen".into(),
        },
        None,
    );
    eventually("no border while paused", || {
        pixel(&conn, root, 1, 240) == 0x0000ff
    });
    assert!(named(&conn, bar, &format!("{TITLE}: Resume")).is_some());

    // The end: nothing is left on the screen.
    indicator.hide();
    eventually("the bar is gone", || {
        named(&conn, root, TITLE).is_none() && pixel(&conn, root, 320, 10) == 0x0000ff
    });
}

trait SyncOk {
    fn sync_ok(&self);
}

impl<C: Connection> SyncOk for C {
    fn sync_ok(&self) {
        self.flush().unwrap();
        self.get_input_focus().unwrap().reply().unwrap();
    }
}
