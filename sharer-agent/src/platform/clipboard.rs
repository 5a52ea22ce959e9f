//! The OS clipboard through `arboard`: on Linux the X11 CLIPBOARD
//! selection (on `$DISPLAY`; set text is served by arboard's thread while
//! this lives), on Windows the clipboard API.

use crate::clipboard::{Clipboard, ClipboardError};

struct OsClipboard(arboard::Clipboard);

pub fn open() -> Result<Box<dyn Clipboard>, ClipboardError> {
    let board =
        arboard::Clipboard::new().map_err(|e| ClipboardError::Unavailable(e.to_string()))?;
    Ok(Box::new(OsClipboard(board)))
}

impl Clipboard for OsClipboard {
    fn read_text(&mut self) -> Result<Option<String>, ClipboardError> {
        match self.0.get_text() {
            Ok(text) => Ok(Some(text)),
            Err(arboard::Error::ContentNotAvailable) => Ok(None),
            Err(error) => Err(ClipboardError::Failed(error.to_string())),
        }
    }

    fn write_text(&mut self, text: &str) -> Result<(), ClipboardError> {
        self.0
            .set_text(text)
            .map_err(|e| ClipboardError::Failed(e.to_string()))
    }
}
