//! What the device shares: its whole screen, or one window the sharer
//! picked. The sharer asks the agent for the device's windows and picks
//! one, or the whole screen again, on their page ([`ShareChoice`], relayed
//! by the server); the agent answers with the list ([`WindowChoice`]s,
//! titles sanitized) and says what it shares ([`Shared`]) to the sharer's
//! page and, on the control channel, to the helper. While one window is
//! shared, everything outside it is black before encoding and input
//! outside it is dropped on the device.

use serde::{Deserialize, Serialize};

/// The most windows one list names.
pub const MAX_WINDOWS: usize = 64;
/// The longest window title shown, in characters.
pub const MAX_TITLE_CHARS: usize = 120;

/// A window the sharer may pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowChoice {
    /// The OS's handle of it (an X window id, a Windows HWND).
    pub id: u64,
    pub title: String,
}

/// Sharer → (server) → agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// Tagged on the wire; on wasm32 read and written through crate::tagged.
#[cfg_attr(not(target_arch = "wasm32"), serde(tag = "kind"))]
pub enum ShareChoice {
    /// Send me the windows I may pick from.
    ListWindows,
    /// Share this window only.
    Window { id: u64 },
    /// Share the whole screen again.
    Screen,
    /// Say what is shared (her page was just opened).
    Tell,
}

impl crate::tagged::Tagged for ShareChoice {
    const TAG: &'static str = "kind";
}

/// Agent → helper and sharer: what is shared now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
// Tagged on the wire; on wasm32 read and written through crate::tagged.
#[cfg_attr(not(target_arch = "wasm32"), serde(tag = "kind"))]
pub enum Shared {
    #[default]
    Screen,
    /// One window; `gone` while it is closed or minimized (then nothing
    /// at all is shown).
    Window { title: String, gone: bool },
}

impl crate::tagged::Tagged for Shared {
    const TAG: &'static str = "kind";
}

impl Shared {
    /// What the helper and the sharer read.
    pub fn text(&self) -> String {
        match self {
            Shared::Screen => "the whole screen".into(),
            Shared::Window { title, gone: false } => {
                format!("one window: \u{201c}{title}\u{201d}")
            }
            Shared::Window { title, gone: true } => format!(
                "one window, \u{201c}{title}\u{201d}, which is closed, minimized or on another display: \
                 nothing is shown"
            ),
        }
    }

    /// Within bounds: a short visible title.
    pub fn is_valid(&self) -> bool {
        match self {
            Shared::Screen => true,
            Shared::Window { title, .. } => title_is_valid(title),
        }
    }
}

/// A title as the agent sends it: 1 to [`MAX_TITLE_CHARS`] visible
/// characters.
pub fn title_is_valid(title: &str) -> bool {
    !title.trim().is_empty()
        && title.chars().count() <= MAX_TITLE_CHARS
        && !title.chars().any(crate::text::is_hidden)
}

/// A window list within bounds.
pub fn windows_are_valid(windows: &[WindowChoice]) -> bool {
    windows.len() <= MAX_WINDOWS && windows.iter().all(|w| title_is_valid(&w.title))
}

/// A title as the agent shows it: control and invisible characters gone,
/// one line, at most [`MAX_TITLE_CHARS`]; "(untitled)" if nothing is left.
pub fn clean_title(raw: &str) -> String {
    let clean = crate::text::sanitize(raw, MAX_TITLE_CHARS);
    if clean.trim().is_empty() {
        "(untitled)".into()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_cleaned_and_bounded() {
        assert_eq!(clean_title("Terminal\n— bash"), "Terminal — bash");
        assert_eq!(clean_title("evil\u{202e}txt.exe"), "eviltxt.exe");
        assert_eq!(clean_title("  "), "(untitled)");
        assert_eq!(
            clean_title(&"x".repeat(500)).chars().count(),
            MAX_TITLE_CHARS
        );
        assert!(title_is_valid(&clean_title("a\u{7}b")));
        assert!(!title_is_valid("a\u{202e}b"));
        assert!(!title_is_valid(""));
        let many: Vec<WindowChoice> = (0..65)
            .map(|id| WindowChoice {
                id,
                title: "w".into(),
            })
            .collect();
        assert!(!windows_are_valid(&many));
        assert!(windows_are_valid(&many[..64]));
    }

    #[test]
    fn what_is_shared_reads_plainly() {
        assert_eq!(Shared::Screen.text(), "the whole screen");
        let window = Shared::Window {
            title: "Notes".into(),
            gone: false,
        };
        assert_eq!(window.text(), "one window: \u{201c}Notes\u{201d}");
        assert!(window.is_valid());
    }
}
