//! The sharer's keyboard layout on a real X server: a helper's physical
//! keys (a US keyboard) and typed text arrive in an xterm as the sharer's
//! French (AZERTY) and German layouts make them, AltGr and dead keys
//! included. What arrives is read from the file the xterm's `cat` writes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use super::X11Injector;
use super::tests::{Xvfb, eventually};
use crate::inject::Injector;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use tandem_protocol::input::Input;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt as _, InputFocus, MapState};
use x11rb::wrapper::ConnectionExt as _;

fn set_layout(xvfb: &Xvfb, layout: &str) {
    let status = Command::new("setxkbmap")
        .args(["-display", &xvfb.display, layout])
        .status()
        .expect("setxkbmap is installed (cargo xtask test installs it)");
    assert!(status.success(), "setxkbmap {layout}");
}

/// An xterm whose `cat` writes what it is typed into `out`, with the
/// keyboard focus.
struct Terminal(Child);

impl Terminal {
    fn start(xvfb: &Xvfb, out: &Path) -> Terminal {
        let child = Command::new("xterm")
            .env("DISPLAY", &xvfb.display)
            .env("LC_ALL", "C.UTF-8")
            .args(["-u8", "-geometry", "80x10+0+0", "-e", "sh", "-c"])
            .arg(format!("exec cat > '{}'", out.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("xterm is installed (cargo xtask test installs it)");
        let (conn, screen) = x11rb::connect(Some(&xvfb.display)).unwrap();
        let root = conn.setup().roots[screen].root;
        let mut window = None;
        eventually("the xterm is shown and its cat runs", || {
            window = conn
                .query_tree(root)
                .unwrap()
                .reply()
                .unwrap()
                .children
                .into_iter()
                .find(|w| {
                    conn.get_window_attributes(*w)
                        .unwrap()
                        .reply()
                        .unwrap()
                        .map_state
                        == MapState::VIEWABLE
                });
            window.is_some() && out.exists()
        });
        conn.set_input_focus(InputFocus::PARENT, window.unwrap(), x11rb::CURRENT_TIME)
            .unwrap();
        conn.sync().unwrap();
        Terminal(child)
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Presses and lets go of physical keys, `held` around `key`.
fn press(injector: &mut X11Injector, held: &[&str], key: &str) {
    let mut send = |code: &str, down| {
        injector
            .inject(&Input::Key {
                code: code.to_owned(),
                down,
            })
            .unwrap();
    };
    for h in held {
        send(h, true);
    }
    send(key, true);
    send(key, false);
    for h in held.iter().rev() {
        send(h, false);
    }
}

/// The lines `out` holds once it holds `count` of them.
fn lines(out: &Path, count: usize) -> Vec<String> {
    let mut text = String::new();
    eventually(
        &format!("{count} lines arrive in {}", out.display()),
        || {
            text = std::fs::read_to_string(out).unwrap_or_default();
            text.lines().count() >= count
        },
    );
    text.lines().map(str::to_owned).collect()
}

#[test]
fn french_and_german_layouts_get_keys_and_text_as_the_helper_meant() {
    let xvfb = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("typed");
    // A client stays connected throughout: an X server resets (and its
    // keymap with it) when its last client leaves, as setxkbmap does.
    let (conn, _) = x11rb::connect(Some(&xvfb.display)).unwrap();
    set_layout(&xvfb, "fr");
    let _term = Terminal::start(&xvfb, &out);
    let mut injector = X11Injector::connect(Some(&xvfb.display)).unwrap();

    // French: the keys where a US keyboard has Q, W and 2 give a, z and
    // é; Shift+2 gives 2; AltGr+0 gives @; the dead circumflex (right of
    // P) then E gives ê.
    press(&mut injector, &[], "KeyQ");
    press(&mut injector, &[], "KeyW");
    press(&mut injector, &[], "Digit2");
    press(&mut injector, &["ShiftLeft"], "Digit2");
    press(&mut injector, &["AltRight"], "Digit0");
    press(&mut injector, &[], "BracketLeft");
    press(&mut injector, &[], "KeyE");
    // Text arrives as written, whatever the layout: characters on Shift
    // and AltGr, a dead-key character, and ones the layout lacks.
    let text = " 1ç€@~ßÜ ê{}|Ω";
    injector.inject(&Input::Text { text: text.into() }).unwrap();
    press(&mut injector, &[], "Enter");
    assert_eq!(lines(&out, 1)[0], format!("azé2@ê{text}"));

    // German, switched during the session: Y and Z swap, the key right of
    // 0 is ß, AltGr+Q and AltGr+E give @ and €, the dead acute then E
    // gives é, and Shift+ü gives Ü.
    set_layout(&xvfb, "de");
    press(&mut injector, &[], "KeyY");
    press(&mut injector, &[], "KeyZ");
    press(&mut injector, &[], "Minus");
    press(&mut injector, &["AltRight"], "KeyQ");
    press(&mut injector, &["AltRight"], "KeyE");
    press(&mut injector, &[], "Equal");
    press(&mut injector, &[], "KeyE");
    press(&mut injector, &["ShiftLeft"], "BracketLeft");
    let text = " äöü€@~ê{}\\|µ§ç";
    injector.inject(&Input::Text { text: text.into() }).unwrap();
    press(&mut injector, &[], "Enter");
    assert_eq!(lines(&out, 2)[1], format!("zyß@€éÜ{text}"));

    // The keycodes borrowed for characters the layout lacks are emptied
    // again once the injector goes (the session ended).
    let setup = conn.setup();
    let (min, max) = (setup.min_keycode, setup.max_keycode);
    let before = conn
        .get_keyboard_mapping(min, max - min + 1)
        .unwrap()
        .reply()
        .unwrap();
    let omega = 0x0100_03a9;
    assert!(!before.keysyms.contains(&omega), "Ω was the French text's");
    let mu_or_cedilla = [0xe7_u32];
    assert!(
        before.keysyms.iter().any(|s| mu_or_cedilla.contains(s)),
        "ç is borrowed on the German layout while the session lasts"
    );
    // @ and € were typed with AltGr on their own keys, not borrowed.
    let per = usize::from(before.keysyms_per_keycode);
    for sym in [0x40, 0x20ac, 0x0100_20ac] {
        assert!(
            !before.keysyms.chunks(per).any(|k| k[0] == sym),
            "{sym:#x} was borrowed instead of typed with AltGr"
        );
    }
    drop(injector);
    let after = conn
        .get_keyboard_mapping(min, max - min + 1)
        .unwrap()
        .reply()
        .unwrap();
    assert!(
        !after.keysyms.contains(&0xe7),
        "the borrowed keycodes were emptied"
    );
}
