//! X11 input injection with XTest: keys by physical code (so the sharer's
//! layout, AltGr and dead keys apply as on their own keyboard), text
//! through the keyboard mapping (Shift and AltGr levels; a spare keycode
//! is borrowed for characters the layout lacks), pointer, buttons and
//! wheel.

use super::keymap::{self, Borrowed, Layout};
use crate::inject::{InjectError, Injector};
use std::collections::BTreeSet;
use tandem_protocol::input::{Button, Input, SpecialKeys};
use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::xproto::{
    BUTTON_PRESS_EVENT, BUTTON_RELEASE_EVENT, ConnectionExt as _, KEY_PRESS_EVENT,
    KEY_RELEASE_EVENT, MOTION_NOTIFY_EVENT, Window,
};
use x11rb::protocol::xtest::{self, ConnectionExt as _};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

/// How long a keycode borrowed for one character stays so before it is
/// taken for another in the same text, so programs read the first.
const REUSE_PAUSE: std::time::Duration = std::time::Duration::from_millis(30);

fn failed(e: impl std::fmt::Display) -> InjectError {
    InjectError::Failed(e.to_string())
}

/// Injects into one X display.
pub struct X11Injector {
    conn: RustConnection,
    root: Window,
    min_keycode: u8,
    max_keycode: u8,
    held_keys: BTreeSet<u8>,
    held_buttons: BTreeSet<u8>,
    borrowed: Borrowed,
}

impl std::fmt::Debug for X11Injector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X11Injector").finish_non_exhaustive()
    }
}

fn button_number(button: Button) -> u8 {
    match button {
        Button::Left => 1,
        Button::Middle => 2,
        Button::Right => 3,
        Button::Back => 8,
        Button::Forward => 9,
    }
}

impl X11Injector {
    /// Connects to `display` (`$DISPLAY` when `None`).
    pub fn connect(display: Option<&str>) -> Result<Self, InjectError> {
        let (conn, screen) = x11rb::connect(display).map_err(failed)?;
        if conn
            .extension_information(xtest::X11_EXTENSION_NAME)
            .map_err(failed)?
            .is_none()
        {
            return Err(InjectError::Unsupported(
                "the display has no XTEST extension",
            ));
        }
        conn.xtest_get_version(2, 2)
            .map_err(failed)?
            .reply()
            .map_err(failed)?;
        let setup = conn.setup();
        let root = setup
            .roots
            .get(screen)
            .map(|s| s.root)
            .ok_or_else(|| failed("no such screen"))?;
        let (min_keycode, max_keycode) = (setup.min_keycode, setup.max_keycode);
        Ok(Self {
            conn,
            root,
            min_keycode,
            max_keycode,
            held_keys: BTreeSet::new(),
            held_buttons: BTreeSet::new(),
            borrowed: Borrowed::default(),
        })
    }

    fn fake(&self, kind: u8, detail: u8, x: i16, y: i16) -> Result<(), InjectError> {
        self.conn
            .xtest_fake_input(kind, detail, x11rb::CURRENT_TIME, self.root, x, y, 0)
            .map_err(failed)?;
        Ok(())
    }

    fn key(&mut self, keycode: u8, down: bool) -> Result<(), InjectError> {
        let kind = if down {
            KEY_PRESS_EVENT
        } else {
            KEY_RELEASE_EVENT
        };
        self.fake(kind, keycode, 0, 0)?;
        if down {
            self.held_keys.insert(keycode);
        } else {
            self.held_keys.remove(&keycode);
        }
        Ok(())
    }

    fn move_to(&self, x: u32, y: u32) -> Result<(), InjectError> {
        let clamp = |v: u32| i16::try_from(v).unwrap_or(i16::MAX);
        self.fake(MOTION_NOTIFY_EVENT, 0, clamp(x), clamp(y))
    }

    fn button(&mut self, number: u8, down: bool) -> Result<(), InjectError> {
        let kind = if down {
            BUTTON_PRESS_EVENT
        } else {
            BUTTON_RELEASE_EVENT
        };
        self.fake(kind, number, 0, 0)?;
        if down {
            self.held_buttons.insert(number);
        } else {
            self.held_buttons.remove(&number);
        }
        Ok(())
    }

    /// The keyboard mapping as it is now (the sharer may switch layouts
    /// during a session).
    fn layout(&self) -> Result<Layout, InjectError> {
        let count = self.max_keycode - self.min_keycode + 1;
        let mapping = self
            .conn
            .get_keyboard_mapping(self.min_keycode, count)
            .map_err(failed)?
            .reply()
            .map_err(failed)?;
        Ok(Layout {
            min_keycode: self.min_keycode,
            per: usize::from(mapping.keysyms_per_keycode),
            keysyms: mapping.keysyms,
        })
    }

    /// Types `text` with the sharer's layout: each character by the key
    /// and modifiers (Shift, AltGr) that give it there, and a character
    /// the layout lacks, or has only behind a dead key, on a borrowed
    /// keycode mapped to it. The key-up of a modifier comes after the
    /// character's, so a program sees the character with its modifiers.
    fn type_text(&mut self, text: &str) -> Result<(), InjectError> {
        let mut layout = self.layout()?;
        // Keycodes borrowed in this call: taking one of them again for
        // another character waits until X programs have read the first.
        let mut borrowed_now: Vec<u8> = Vec::new();
        let shift = layout.keycode_of(keymap::SHIFT);
        let level3 = layout.keycode_of(keymap::LEVEL3);
        for c in text.chars() {
            let found = layout
                .key_for(c)
                .filter(|(_, level)| !level.alt_gr() || level3.is_some())
                .filter(|(_, level)| !level.shifted() || shift.is_some());
            let (code, level) = match found {
                Some(found) => found,
                None => {
                    let sym = keymap::keysym(c);
                    let Some(spare) = self.borrowed.borrow(&layout, sym) else {
                        return Err(InjectError::Unsupported(
                            "no spare keycode to type this character",
                        ));
                    };
                    if borrowed_now.contains(&spare) {
                        self.conn.sync().map_err(failed)?;
                        std::thread::sleep(REUSE_PAUSE);
                    }
                    borrowed_now.push(spare);
                    self.conn
                        .change_keyboard_mapping(1, spare, 2, &[sym, sym])
                        .map_err(failed)?;
                    self.conn.sync().map_err(failed)?;
                    layout.set(spare, sym);
                    (spare, keymap::Level::Base)
                }
            };
            self.borrowed.used(code);
            let modifiers: Vec<u8> = [
                shift.filter(|_| level.shifted()),
                level3.filter(|_| level.alt_gr()),
            ]
            .into_iter()
            .flatten()
            .collect();
            for m in &modifiers {
                self.key(*m, true)?;
            }
            self.key(code, true)?;
            self.key(code, false)?;
            for m in modifiers.iter().rev() {
                self.key(*m, false)?;
            }
        }
        Ok(())
    }
}

impl Drop for X11Injector {
    /// Empties the keycodes borrowed for characters, so the sharer's
    /// keyboard mapping is as it was.
    fn drop(&mut self) {
        let Ok(layout) = self.layout() else {
            return;
        };
        for code in self.borrowed.give_back(&layout) {
            let _ = self.conn.change_keyboard_mapping(1, code, 2, &[0, 0]);
        }
        // Done once X has applied it, not only once it was written.
        let _ = self.conn.sync();
    }
}

impl Injector for X11Injector {
    fn inject(&mut self, input: &Input) -> Result<(), InjectError> {
        match input {
            Input::Move { x, y } => self.move_to(*x, *y)?,
            Input::Button { button, down, x, y } => {
                self.move_to(*x, *y)?;
                self.button(button_number(*button), *down)?;
            }
            Input::Wheel { dx, dy, x, y } => {
                self.move_to(*x, *y)?;
                let steps = [
                    (if *dy > 0 { 5 } else { 4 }, dy.unsigned_abs()),
                    (if *dx > 0 { 7 } else { 6 }, dx.unsigned_abs()),
                ];
                for (number, count) in steps {
                    for _ in 0..count {
                        self.button(number, true)?;
                        self.button(number, false)?;
                    }
                }
            }
            Input::Key { code, down } => {
                let evdev = crate::platform::keymap::evdev(code).ok_or(InjectError::UnknownKey)?;
                self.key(evdev + 8, *down)?;
            }
            Input::Text { text } => self.type_text(text)?,
            Input::Special { keys } if !SpecialKeys::for_os("Linux").contains(keys) => {
                return Err(InjectError::Unsupported(
                    "that key combination is a Windows one; it means nothing on this device",
                ));
            }
            Input::Special { keys } => {
                let codes: Vec<u8> = keys
                    .codes()
                    .iter()
                    .filter_map(|c| crate::platform::keymap::evdev(c))
                    .map(|e| e + 8)
                    .collect();
                for code in &codes {
                    self.key(*code, true)?;
                }
                for code in codes.iter().rev() {
                    self.key(*code, false)?;
                }
            }
            Input::ReleaseAll => self.release_all()?,
            // A keep-alive: the gate above notes it, nothing to inject.
            Input::Held => {}
        }
        self.conn.flush().map_err(failed)?;
        Ok(())
    }

    fn release_all(&mut self) -> Result<(), InjectError> {
        for code in std::mem::take(&mut self.held_keys) {
            self.fake(KEY_RELEASE_EVENT, code, 0, 0)?;
        }
        for number in std::mem::take(&mut self.held_buttons) {
            self.fake(BUTTON_RELEASE_EVENT, number, 0, 0)?;
        }
        self.conn.flush().map_err(failed)?;
        Ok(())
    }
}
