//! The peer benchmark's X client: the same deterministic screen for every
//! remote-desktop system under test (`cargo xtask bench --peers`).
//!
//! A full-screen window shows, top left, the wall clock (milliseconds mod
//! 2²⁴) as 24 black/white cells after a white and a black reference cell,
//! redrawn at 60 Hz; below, a page of text. On `go` (a line on stdin) it
//! runs the phases, each `--phase-seconds` long, and prints
//! `phase NAME START_MS` as each begins:
//!
//! - `idle`: nothing changes at all, not even the clock cells;
//! - `still`: only the clock cells change;
//! - `typing`: keys that arrive are typed into the page;
//! - `scroll`: the page scrolls up 2 px per frame;
//! - `motion`: a 480×270 region shows full-motion content.
//!
//! In `scroll` and `motion` a second clock of 16 px cells is drawn inside
//! the moving content ([`MOVING_CLOCK`]).
//!
//! Each key press it receives is printed as `key WALL_MS KEYCODE`; at the
//! end of `still` the text region it drew is written as 8-bit grey to
//! `--source FILE` (for the fidelity figures). Then it prints `done`.
//!
//! With `--browser`, a full-screen Chromium page draws the same screen
//! instead (`browser.rs`, `page.html`), as real desktops draw: on every
//! animation frame, text by the browser, a 6 px/frame scroll and a
//! 640×360 noise field in `motion`.
//!
//! In both, `framebuffer.rs` watches the clock cells in the X framebuffer
//! and prints `seen STAMP WALL_MS` when each value first reaches it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench tool: a panic is a report

mod browser;
mod framebuffer;

use std::io::{BufRead, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{
    ChangeGCAux, ChangeWindowAttributesAux, ConfigureWindowAux, ConnectionExt as _, CreateGCAux,
    CreateWindowAux, EventMask, ImageFormat, InputFocus, Rectangle, StackMode, WindowClass,
};

/// Cell size of the clock, in pixels; 26 cells in a row.
pub const CELL: u16 = 24;
/// The text region whose fidelity is measured: x, y, width, height.
pub const TEXT_REGION: (i16, i16, u16, u16) = (40, 80, 960, 480);
const MOTION: (i16, i16, u16, u16) = (1200, 600, 480, 270);
/// The moving-region clock: the same cells, 16 px, drawn inside the
/// scrolled page in `scroll` and inside the moving field in `motion`. It
/// is part of the moving content, so it shows how late that content is
/// even where the clock top left goes a faster way (Tandem's tiles).
pub const MOVING_CLOCK: [(i16, i16); 2] = [(240, 280), (1208, 608)];
pub const MOVING_CELL: u16 = 16;
const PHASES: [&str; 5] = ["idle", "still", "typing", "scroll", "motion"];
const LINE: i16 = 16;

pub fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Deterministic text: line `n` of a made-up manual.
fn text_line(n: usize) -> String {
    const WORDS: [&str; 16] = [
        "remote", "help", "session", "consent", "screen", "keyboard", "helper", "sharer", "device",
        "policy", "grant", "video", "latency", "frame", "text", "sharp",
    ];
    let mut line = format!("{n:04} ");
    let mut k = n * 7 + 3;
    while line.len() < 150 {
        line.push_str(WORDS[k % WORDS.len()]);
        line.push(' ');
        k = k * 31 + 11;
    }
    line
}

/// The root window's `w`×`h` region at (`x`, `y`) as 8-bit grey (the
/// weights the page script uses).
pub fn source_of_root(x: i16, y: i16, w: u16, h: u16) -> Vec<u8> {
    let (conn, screen_num) = x11rb::connect(None).expect("DISPLAY");
    let root = conn.setup().roots[screen_num].root;
    let image = conn
        .get_image(ImageFormat::Z_PIXMAP, root, x, y, w, h, !0)
        .unwrap()
        .reply()
        .unwrap();
    grey(&image.data)
}

fn grey(bgrx: &[u8]) -> Vec<u8> {
    bgrx.chunks_exact(4)
        .map(|p| ((u32::from(p[2]) * 77 + u32::from(p[1]) * 150 + u32::from(p[0]) * 29) >> 8) as u8)
        .collect()
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let phase_seconds: u64 = arg("--phase-seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    let source = arg("--source");
    if std::env::args().any(|a| a == "--browser") {
        browser::run(phase_seconds, source);
        return;
    }
    let (conn, screen_num) = x11rb::connect(None).expect("DISPLAY");
    let screen = &conn.setup().roots[screen_num];
    let (width, height) = (screen.width_in_pixels, screen.height_in_pixels);
    let (white, black) = (screen.white_pixel, screen.black_pixel);
    let win = conn.generate_id().unwrap();
    conn.create_window(
        screen.root_depth,
        win,
        screen.root,
        0,
        0,
        width,
        height,
        0,
        WindowClass::INPUT_OUTPUT,
        screen.root_visual,
        &CreateWindowAux::new()
            .background_pixel(white)
            .override_redirect(1)
            .event_mask(EventMask::KEY_PRESS | EventMask::EXPOSURE),
    )
    .unwrap();
    let font = conn.generate_id().unwrap();
    conn.open_font(font, b"fixed").unwrap();
    let gc = conn.generate_id().unwrap();
    conn.create_gc(
        gc,
        win,
        &CreateGCAux::new()
            .foreground(black)
            .background(white)
            .font(font)
            .graphics_exposures(0),
    )
    .unwrap();
    conn.map_window(win).unwrap();
    // Told of every window that appears (see the raise in the loop).
    conn.change_window_attributes(
        screen.root,
        &ChangeWindowAttributesAux::new().event_mask(EventMask::SUBSTRUCTURE_NOTIFY),
    )
    .unwrap();
    conn.set_input_focus(InputFocus::POINTER_ROOT, win, x11rb::CURRENT_TIME)
        .unwrap();
    let (tx, ty, tw, th) = TEXT_REGION;
    let lines = usize::from(th) / LINE as usize;
    // Fills in `colour`, then leaves the GC drawing text in black.
    let fill = |colour: u32, rects: &[Rectangle]| {
        conn.change_gc(gc, &ChangeGCAux::new().foreground(colour))
            .unwrap();
        conn.poly_fill_rectangle(win, gc, rects).unwrap();
        conn.change_gc(gc, &ChangeGCAux::new().foreground(black))
            .unwrap();
    };
    let draw_page = |first: usize| {
        let page = Rectangle {
            x: tx,
            y: ty,
            width: tw,
            height: th,
        };
        fill(white, &[page]);
        for i in 0..lines {
            let y = ty + (i as i16 + 1) * LINE - 4;
            conn.image_text8(win, gc, tx + 4, y, text_line(first + i).as_bytes())
                .unwrap();
        }
    };
    let draw_clock_at = |ms: u64, (x, y): (i16, i16), cell: u16| {
        let mut on = Vec::new();
        let mut off = Vec::new();
        let cells = (0..26u16).map(|i| match i {
            0 => true,
            1 => false,
            _ => (ms >> (25 - i)) & 1 == 1,
        });
        for (i, bit) in cells.enumerate() {
            let r = Rectangle {
                x: x + (i as u16 * cell) as i16,
                y,
                width: cell,
                height: cell,
            };
            if bit { on.push(r) } else { off.push(r) }
        }
        fill(white, &on);
        fill(black, &off);
    };
    let draw_clock = |ms: u64| draw_clock_at(ms, (0, 0), CELL);
    draw_page(0);
    draw_clock(wall_ms());
    conn.flush().unwrap();
    println!("ready {width}x{height}");
    std::io::stdout().flush().unwrap();
    framebuffer::watch();

    // Wait for `go`, answering nothing else.
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).unwrap();

    let frame = Duration::from_micros(16_667);
    let mut typed = String::new();
    let mut scroll_first = 0usize;
    let mut scroll_px = 0i16;
    let (mx, my, mw, mh) = MOTION;
    let mut motion_buf = vec![0u8; usize::from(mw) * usize::from(mh) * 4];
    for (index, phase) in PHASES.iter().enumerate() {
        println!("phase {phase} {}", wall_ms());
        std::io::stdout().flush().unwrap();
        let start = Instant::now();
        let mut tick = 0u64;
        while start.elapsed() < Duration::from_secs(phase_seconds) {
            let next = start + frame * (tick as u32 + 1);
            tick += 1;
            // Keys that arrived: printed always, typed in `typing`.
            while let Some(event) = conn.poll_for_event().unwrap() {
                match event {
                    Event::KeyPress(key) => {
                        println!("key {} {}", wall_ms(), key.detail);
                        if *phase == "typing" {
                            typed.push(char::from(b'a' + key.detail % 26));
                            let y = ty + (lines as i16) * LINE - 4 - LINE;
                            conn.image_text8(win, gc, tx + 4, y, typed.as_bytes())
                                .unwrap();
                        }
                    }
                    // A system under test may open a window of its own
                    // (xpra's session script shows an error box): back on
                    // top of it. Only when one appears, not every frame: a
                    // window that keeps itself on top (Tandem's sharing
                    // indicator) would otherwise flip with this one, and
                    // every system would be measured on that flicker.
                    Event::MapNotify(map) if map.window != win => {
                        conn.configure_window(
                            win,
                            &ConfigureWindowAux::new().stack_mode(StackMode::ABOVE),
                        )
                        .unwrap();
                    }
                    _ => {}
                }
            }
            match *phase {
                "idle" => {}
                "scroll" => {
                    scroll_px += 2;
                    conn.copy_area(win, win, gc, tx, ty + 2, tx, ty, tw, th - 2)
                        .unwrap();
                    let uncovered = Rectangle {
                        x: tx,
                        y: ty + th as i16 - 2,
                        width: tw,
                        height: 2,
                    };
                    fill(white, &[uncovered]);
                    if scroll_px >= LINE {
                        scroll_px = 0;
                        scroll_first += 1;
                        let y = ty + th as i16 - 4;
                        conn.image_text8(
                            win,
                            gc,
                            tx + 4,
                            y,
                            text_line(scroll_first + lines).as_bytes(),
                        )
                        .unwrap();
                    }
                }
                "motion" => {
                    // A moving colour field: every pixel changes every frame.
                    let t = tick as u32;
                    for (i, px) in motion_buf.chunks_exact_mut(4).enumerate() {
                        let (x, y) = (i as u32 % u32::from(mw), i as u32 / u32::from(mw));
                        px[0] = (x * 2 + t * 5) as u8;
                        px[1] = (y * 3 + t * 3) as u8;
                        px[2] = ((x ^ y) + t * 7) as u8;
                        px[3] = 0;
                    }
                    conn.put_image(
                        ImageFormat::Z_PIXMAP,
                        win,
                        gc,
                        mw,
                        mh,
                        mx,
                        my,
                        0,
                        screen.root_depth,
                        &motion_buf,
                    )
                    .unwrap();
                }
                _ => {}
            }
            if *phase != "idle" {
                let ms = wall_ms();
                draw_clock(ms);
                match *phase {
                    "scroll" => draw_clock_at(ms, MOVING_CLOCK[0], MOVING_CELL),
                    "motion" => draw_clock_at(ms, MOVING_CLOCK[1], MOVING_CELL),
                    _ => {}
                }
            }
            conn.flush().unwrap();
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            }
        }
        // The settled text, as the X server holds it.
        if *phase == "still"
            && let Some(path) = &source
        {
            let image = conn
                .get_image(ImageFormat::Z_PIXMAP, win, tx, ty, tw, th, !0)
                .unwrap()
                .reply()
                .unwrap();
            std::fs::write(path, grey(&image.data)).unwrap();
        }
        let _ = index;
    }
    println!("done {}", wall_ms());
    std::io::stdout().flush().unwrap();
    // Stay up (the clients keep showing the last frame) until stdin closes.
    let _ = std::io::stdin().lock().read_line(&mut line);
}
