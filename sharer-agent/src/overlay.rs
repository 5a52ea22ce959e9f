//! The annotation overlay: the helper's strokes drawn on the sharer's real
//! screen, above every window and letting every click through. The OS
//! backends implement [`Overlay`]; `platform::overlay()` picks one.
//!
//! Whether the strokes are in the captured picture differs by OS, and the
//! console is consistent with both: it draws the helper's own strokes
//! locally at once, at the same screen pixels, so where the capture has
//! them too (X11: no per-window exclusion) they fall exactly under the
//! local ones; where it does not (Windows: `WDA_EXCLUDEFROMCAPTURE`),
//! the local ones are the only copy.

use tandem_protocol::annotation::Stroke;
use tandem_protocol::input::Display;

/// Why the overlay could not be shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverlayError {
    #[error("the overlay cannot connect to the display: {0}")]
    Connect(String),
    #[error("the overlay could not draw: {0}")]
    Draw(String),
}

/// One OS overlay.
pub trait Overlay: Send + Sync {
    /// Shows `strokes` (pixels of `display`) over that display; none hides
    /// the overlay.
    fn show(&mut self, strokes: &[Stroke], display: &Display) -> Result<(), OverlayError>;
}
