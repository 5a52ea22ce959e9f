//! The X11 backends against a real Xvfb started for the test.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use super::{X11Capturer, X11Injector};
use crate::capture::{Capturer, Frame};
use crate::inject::Injector;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use tandem_protocol::input::Input;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt as _, CreateWindowAux, EventMask, WindowClass};

/// An Xvfb on a free display, killed when dropped.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Xvfb {
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
    let window = conn.generate_id().unwrap();
    conn.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        window,
        root,
        100,
        50,
        64,
        32,
        0,
        WindowClass::INPUT_OUTPUT,
        0,
        &CreateWindowAux::new()
            .background_pixel(0xff0000)
            .event_mask(EventMask::EXPOSURE),
    )
    .unwrap();
    conn.map_window(window).unwrap();
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
    let mut capturer = X11Capturer::connect(Some(&xvfb.display)).unwrap();
    let mut frame = Frame::new(0, 0);
    capturer.capture(&mut frame).unwrap();
    let (conn, screen) = x11rb::connect(Some(&xvfb.display)).unwrap();
    let root = conn.setup().roots[screen].root;
    let window = conn.generate_id().unwrap();
    conn.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        window,
        root,
        10,
        10,
        32,
        32,
        0,
        WindowClass::INPUT_OUTPUT,
        0,
        &CreateWindowAux::new().background_pixel(0x0000ff),
    )
    .unwrap();
    conn.map_window(window).unwrap();
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

trait SyncOk {
    fn sync_ok(&self);
}

impl<C: Connection> SyncOk for C {
    fn sync_ok(&self) {
        self.flush().unwrap();
        self.get_input_focus().unwrap().reply().unwrap();
    }
}
