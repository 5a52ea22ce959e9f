//! X11 input injection with XTest: keys by physical code, text through the
//! keyboard mapping (a spare keycode is borrowed for characters the layout
//! lacks), pointer, buttons and wheel.

use super::keymap;
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
    shift: Option<u8>,
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
        let mut injector = Self {
            conn,
            root,
            min_keycode,
            max_keycode,
            held_keys: BTreeSet::new(),
            held_buttons: BTreeSet::new(),
            shift: None,
        };
        injector.shift = injector.keycode_of(0xffe1)?.map(|(code, _)| code);
        Ok(injector)
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

    /// The keycode and shift level that type `keysym`, if the layout has it.
    fn keycode_of(&self, keysym: u32) -> Result<Option<(u8, bool)>, InjectError> {
        let count = self.max_keycode - self.min_keycode + 1;
        let mapping = self
            .conn
            .get_keyboard_mapping(self.min_keycode, count)
            .map_err(failed)?
            .reply()
            .map_err(failed)?;
        let per = usize::from(mapping.keysyms_per_keycode.max(1));
        for (i, syms) in mapping.keysyms.chunks(per).enumerate() {
            for (level, sym) in syms.iter().take(2).enumerate() {
                if *sym == keysym {
                    return Ok(Some((self.min_keycode + i as u8, level == 1)));
                }
            }
        }
        Ok(None)
    }

    /// A keycode with no symbols, to borrow for a character.
    fn spare_keycode(&self) -> Result<Option<u8>, InjectError> {
        let count = self.max_keycode - self.min_keycode + 1;
        let mapping = self
            .conn
            .get_keyboard_mapping(self.min_keycode, count)
            .map_err(failed)?
            .reply()
            .map_err(failed)?;
        let per = usize::from(mapping.keysyms_per_keycode.max(1));
        Ok(mapping
            .keysyms
            .chunks(per)
            .enumerate()
            .rev()
            .find(|(_, syms)| syms.iter().all(|s| *s == 0))
            .map(|(i, _)| self.min_keycode + i as u8))
    }

    fn type_char(&mut self, c: char) -> Result<(), InjectError> {
        let sym = keymap::keysym(c);
        if let Some((code, shifted)) = self.keycode_of(sym)? {
            let shift = self.shift.filter(|_| shifted);
            if let Some(shift) = shift {
                self.key(shift, true)?;
            }
            self.key(code, true)?;
            self.key(code, false)?;
            if let Some(shift) = shift {
                self.key(shift, false)?;
            }
            return Ok(());
        }
        let Some(spare) = self.spare_keycode()? else {
            return Err(InjectError::Unsupported(
                "no spare keycode to type this character",
            ));
        };
        self.conn
            .change_keyboard_mapping(1, spare, 2, &[sym, sym])
            .map_err(failed)?;
        self.conn.sync().map_err(failed)?;
        self.key(spare, true)?;
        self.key(spare, false)?;
        self.conn.sync().map_err(failed)?;
        self.conn
            .change_keyboard_mapping(1, spare, 2, &[0, 0])
            .map_err(failed)?;
        Ok(())
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
            Input::Text { text } => {
                for c in text.chars() {
                    self.type_char(c)?;
                }
            }
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
