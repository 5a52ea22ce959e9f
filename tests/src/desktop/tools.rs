//! What the in-session tools change on the test desktop: its keyboard
//! layout, its clipboard, the colour of a screen pixel.

use super::Xvfb;
use crate::HarnessError;
use std::process::{Command, Stdio};

impl Xvfb {
    /// Switches the keyboard layout (`setxkbmap LAYOUT`, e.g. `fr`), as a
    /// sharer does in their settings.
    pub fn set_layout(&self, layout: &str) -> Result<(), HarnessError> {
        let status = Command::new("setxkbmap")
            .args(["-display", &self.display, layout])
            .stdin(Stdio::null())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(HarnessError::X(format!("setxkbmap {layout} failed")))
        }
    }

    /// The colour of the screen's pixel at (`x`, `y`), 0xRRGGBB.
    pub fn pixel(&self, x: i16, y: i16) -> Result<u32, HarnessError> {
        use x11rb::connection::Connection as _;
        use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat};
        let not_x = |e: &dyn std::fmt::Display| HarnessError::X(e.to_string());
        let (conn, screen) = x11rb::connect(Some(&self.display)).map_err(|e| not_x(&e))?;
        let root = conn.setup().roots[screen].root;
        let image = conn
            .get_image(ImageFormat::Z_PIXMAP, root, x, y, 1, 1, u32::MAX)
            .map_err(|e| not_x(&e))?
            .reply()
            .map_err(|e| not_x(&e))?;
        match image.data.as_slice() {
            [b, g, r, ..] => Ok(u32::from_le_bytes([*b, *g, *r, 0])),
            _ => Err(HarnessError::X("an empty image".into())),
        }
    }

    /// The text of X's CLIPBOARD selection (`xsel`).
    pub fn clipboard(&self) -> Result<String, HarnessError> {
        self.output("xsel", &["--clipboard", "--output"])
    }

    /// Puts `text` in X's CLIPBOARD selection, as a program the sharer
    /// copies in does (`xsel`, which keeps serving it in the background
    /// until another program takes the selection or X goes).
    pub fn set_clipboard(&self, text: &str) -> Result<(), HarnessError> {
        use std::io::Write;
        let mut child = Command::new("xsel")
            .args(["--clipboard", "--input"])
            .env("DISPLAY", &self.display)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(text.as_bytes())?;
        }
        let status = child.wait()?;
        if status.success() {
            Ok(())
        } else {
            Err(HarnessError::X("xsel could not take the clipboard".into()))
        }
    }
}
