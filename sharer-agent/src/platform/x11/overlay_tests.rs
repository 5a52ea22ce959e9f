//! The annotation overlay on a real X server: the strokes' pixels show in
//! their colours where they were drawn and nowhere else, the window takes
//! no input, and it goes when the strokes do.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use super::X11Overlay;
use super::overlay::OVERLAY_TITLE;
use super::tests::{Xvfb, eventually, named, pixel};
use crate::overlay::Overlay;
use tandem_protocol::annotation::{Sketch, Tool};
use tandem_protocol::input::Display;
use x11rb::connection::Connection;
use x11rb::protocol::shape::{ConnectionExt as _, SK};

#[test]
fn strokes_show_in_their_colours_take_no_input_and_go_when_cleared() {
    let xvfb = Xvfb::start();
    let (conn, screen) = x11rb::connect(Some(&xvfb.display)).unwrap();
    let root = conn.setup().roots[screen].root;
    let before = (pixel(&conn, root, 200, 100), pixel(&conn, root, 200, 200));
    let display = Display {
        id: 0,
        name: "screen".into(),
        width: 640,
        height: 480,
        primary: true,
        x: 0,
        y: 0,
    };
    let mut overlay = X11Overlay::connect(Some(&xvfb.display)).unwrap();
    let mut sketch = Sketch::default();
    sketch.add(1, Tool::Pen, &[(100, 100), (300, 100)], (640, 480), 0);
    sketch.add(2, Tool::Arrow, &[(100, 300), (400, 300)], (640, 480), 0);
    overlay.show(sketch.strokes(), &display).unwrap();
    eventually("the pen stroke is on screen", || {
        pixel(&conn, root, 200, 100) == Tool::Pen.rgb()
    });
    assert_eq!(pixel(&conn, root, 250, 300), Tool::Arrow.rgb());
    assert_eq!(
        pixel(&conn, root, 200, 200),
        before.1,
        "nothing else is covered"
    );
    // Clicks go through: the window's input region is empty.
    let (window, ..) = named(&conn, root, OVERLAY_TITLE).expect("the overlay window");
    let input = conn
        .shape_get_rectangles(window, SK::INPUT)
        .unwrap()
        .reply()
        .unwrap();
    assert!(input.rectangles.is_empty(), "{:?}", input.rectangles);

    overlay.show(&[], &display).unwrap();
    eventually("the strokes are gone", || {
        pixel(&conn, root, 200, 100) == before.0
    });
}
