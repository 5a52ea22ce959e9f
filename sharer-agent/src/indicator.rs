//! The sharing indicator on the device's own screen. While the agent
//! shares, the sharer sees a coloured border around the shared display and
//! a small always-on-top bar at its top centre ("Shared with Megan Bowen
//! (full control)", or "Paused — shared with …") with Pause (Resume while
//! paused) and Stop. The buttons do what the sharer page's buttons do.
//!
//! This module is pure: what to show ([`Bar::of`], from the gate's
//! [`Status`]), where ([`Layout`]), which button a point hits, and whether
//! a helper's click would land on the bar ([`OnScreen::blocks`]). The OS
//! backends ([`Indicator`], picked in `platform`) draw it on a thread of
//! their own and send the sharer's clicks back on a channel as
//! [`SharerAction`]s; the session loop turns those into the server's
//! Pause, Resume and Stop.

use crate::gate::{Status, mode_text};
use tandem_protocol::agent::SharerAction;
use tandem_protocol::input::{Display, Input};

/// The name of the bar's window (its buttons are `"{TITLE}: {label}"`).
pub const TITLE: &str = "Tandem sharing indicator";
/// The border's colour, 0xRRGGBB: a bright orange seen on any desktop.
pub const BORDER_RGB: u32 = 0xE8_59_0C;
/// The border's width in pixels.
pub const BORDER_PX: u32 = 5;
/// The bar's background and its text.
pub const BAR_RGB: u32 = 0x21_25_29;
pub const BAR_TEXT_RGB: u32 = 0xFF_FF_FF;
/// Pause / Resume: light with dark text. Stop: red with white text.
pub const PAUSE_RGB: u32 = 0xDE_E2_E6;
pub const PAUSE_TEXT_RGB: u32 = 0x21_25_29;
pub const STOP_RGB: u32 = 0xC9_2A_2A;
pub const STOP_TEXT_RGB: u32 = 0xFF_FF_FF;
/// Longest helper name shown, in characters.
pub const MAX_NAME_CHARS: usize = 40;
/// Space around the bar's text and between its parts, in pixels.
const PAD: u32 = 8;
/// Space left and right of a button's label.
const BUTTON_PAD: u32 = 10;
/// How many clicks may wait for the session loop (more are dropped).
pub const CLICK_QUEUE: usize = 8;

/// Why an indicator backend could not start.
#[derive(Debug, thiserror::Error)]
pub enum IndicatorError {
    #[error("cannot connect to the display: {0}")]
    Connect(String),
    #[error("the display refused a request: {0}")]
    Protocol(String),
    #[error("cannot start the indicator's thread: {0}")]
    Thread(String),
    #[error("the window system refused: {0}")]
    Window(String),
}

/// The label of a bar button.
pub fn label(action: SharerAction) -> &'static str {
    match action {
        SharerAction::Pause => "Pause",
        SharerAction::Resume => "Resume",
        SharerAction::Stop => "Stop",
    }
}

/// What the bar says and offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub text: String,
    /// The border is drawn only while pixels may leave (not while paused).
    pub border: bool,
    /// Left to right: Pause or Resume, then Stop.
    pub buttons: [SharerAction; 2],
}

impl Bar {
    /// What to show for `status`: nothing unless the screen is shared or
    /// paused.
    pub fn of(status: &Status) -> Option<Self> {
        match status {
            Status::Shared { helper, mode } => Some(Self {
                text: format!("Shared with {} ({})", name(helper), mode_text(*mode)),
                border: true,
                buttons: [SharerAction::Pause, SharerAction::Stop],
            }),
            Status::Paused { helper } => Some(Self {
                text: format!("Paused \u{2014} shared with {}", name(helper)),
                border: false,
                buttons: [SharerAction::Resume, SharerAction::Stop],
            }),
            Status::Idle | Status::Waiting | Status::Ended { .. } => None,
        }
    }
}

impl Bar {
    /// The bar while the helper's connection is down: the sharer sees that
    /// nobody is acting right now (the device injects nothing meanwhile),
    /// and, once the server counts it, how long the helper has to come
    /// back before the session ends (`left_ms`).
    pub fn with_link_lost(mut self, lost: bool, left_ms: Option<u64>) -> Self {
        match left_ms {
            Some(ms) => self.text.push_str(&format!(
                " \u{2014} helper disconnected, reconnecting ({} left)",
                minutes_seconds(ms)
            )),
            None if lost => self
                .text
                .push_str(" \u{2014} helper disconnected, reconnecting\u{2026}"),
            None => {}
        }
        self
    }
}

/// `ms` as minutes and seconds ("1:05"), rounded up: a second is shown
/// until it is over.
pub fn minutes_seconds(ms: u64) -> String {
    let seconds = ms.div_ceil(1000);
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// The helper's name as the bar shows it: one line, at most
/// [`MAX_NAME_CHARS`] characters (cut with "..."), never empty.
fn name(helper: &str) -> String {
    // Direction overrides and other invisible marks could reorder or hide
    // what the sharer reads.
    let invisible = |c: char| matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}');
    let clean: String = helper
        .chars()
        .filter(|&c| !invisible(c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim();
    if clean.is_empty() {
        return "your helper".into();
    }
    if clean.chars().count() <= MAX_NAME_CHARS {
        return clean.to_owned();
    }
    let cut: String = clean.chars().take(MAX_NAME_CHARS - 3).collect();
    format!("{}...", cut.trim_end())
}

/// A rectangle in virtual-desktop pixels (or relative to the bar, for the
/// bar's parts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Area {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

impl Area {
    /// The display's rectangle on the virtual desktop.
    pub fn of(display: &Display) -> Self {
        Self {
            x: display.x,
            y: display.y,
            width: display.width,
            height: display.height,
        }
    }

    pub fn contains(&self, x: i32, y: i32) -> bool {
        let (dx, dy) = (
            i64::from(x) - i64::from(self.x),
            i64::from(y) - i64::from(self.y),
        );
        (0..i64::from(self.width)).contains(&dx) && (0..i64::from(self.height)).contains(&dy)
    }
}

/// Where each part goes: the bar at the top centre of the shared display,
/// the four border strips along its edges (virtual-desktop pixels); the
/// text and the buttons relative to the bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub bar: Area,
    pub text: Area,
    pub buttons: [Area; 2],
    /// Top, bottom, left, right.
    pub border: [Area; 4],
}

fn px(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

impl Layout {
    /// Lays `bar` out over `area`; `measure` gives the size in pixels of a
    /// text in the backend's font.
    pub fn new(area: Area, bar: &Bar, measure: impl Fn(&str) -> (u32, u32)) -> Self {
        let (text_width, line) = measure(&bar.text);
        let widths = bar.buttons.map(|b| measure(label(b)).0 + 2 * BUTTON_PAD);
        let height = line + 2 * PAD;
        let width = (PAD + text_width + PAD + widths[0] + PAD + widths[1] + PAD).min(area.width);
        let bar_area = Area {
            x: area.x + px((area.width - width) / 2),
            y: area.y,
            width,
            height,
        };
        let button_height = line + PAD;
        let first = PAD + text_width + PAD;
        let buttons = [
            Area {
                x: px(first),
                y: px(PAD / 2),
                width: widths[0],
                height: button_height,
            },
            Area {
                x: px(first + widths[0] + PAD),
                y: px(PAD / 2),
                width: widths[1],
                height: button_height,
            },
        ];
        let b = BORDER_PX.min(area.width / 2).min(area.height / 2);
        let side = area.height.saturating_sub(2 * b);
        let border = [
            Area { height: b, ..area },
            Area {
                y: area.y + px(area.height - b),
                height: b,
                ..area
            },
            Area {
                y: area.y + px(b),
                width: b,
                height: side,
                ..area
            },
            Area {
                x: area.x + px(area.width - b),
                y: area.y + px(b),
                width: b,
                height: side,
            },
        ];
        Self {
            bar: bar_area,
            text: Area {
                x: px(PAD),
                y: px(PAD),
                width: text_width,
                height: line,
            },
            buttons,
            border,
        }
    }

    /// The button at (`x`, `y`), relative to the bar.
    pub fn button_at(&self, bar: &Bar, x: i32, y: i32) -> Option<SharerAction> {
        (0..2)
            .find(|&i| self.buttons[i].contains(x, y))
            .map(|i| bar.buttons[i])
    }
}

/// An OS backend: windows on top of everything, drawn and clicked on a
/// thread of their own. Clicks go to the channel given at construction.
pub trait Indicator: Send + Sync {
    /// The size in pixels of `text` in the bar's font.
    fn measure(&self, text: &str) -> (u32, u32);
    /// The whole screen (the primary monitor), for when the session does
    /// not know the shared display yet.
    fn screen(&self) -> Area;
    /// Shows `bar` (with the border if `bar.border`) as `layout` places
    /// it, or hides everything (`None`).
    fn show(&mut self, shown: Option<(&Bar, &Layout)>);
}

/// The indicator as the session loop drives it: it shows what the status
/// calls for over the shared display, and only when that changed.
pub struct OnScreen {
    backend: Option<Box<dyn Indicator>>,
    /// What was asked for last, and where (laid out again only when
    /// either changes).
    wanted: Option<(Bar, Area)>,
    shown: Option<(Bar, Layout)>,
    /// The helper's connection dropped and has not come back yet.
    link_lost: bool,
    /// The server counts the helper as away: milliseconds left.
    helper_away_ms: Option<u64>,
}

impl std::fmt::Debug for OnScreen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnScreen")
            .field("shown", &self.shown)
            .finish_non_exhaustive()
    }
}

impl OnScreen {
    /// `None`: the device cannot show one (logged by the caller).
    pub fn new(backend: Option<Box<dyn Indicator>>) -> Self {
        Self {
            backend,
            wanted: None,
            shown: None,
            link_lost: false,
            helper_away_ms: None,
        }
    }

    /// Shows what `status` calls for over `display` (the whole screen
    /// while the shared display is not known yet).
    pub fn update(&mut self, status: &Status, display: Option<&Display>) {
        let Some(backend) = &mut self.backend else {
            return;
        };
        let (link_lost, left) = (self.link_lost, self.helper_away_ms);
        let wanted = Bar::of(status).map(|bar| {
            let bar = bar.with_link_lost(link_lost, left);
            let area = display.map_or_else(|| backend.screen(), Area::of);
            (bar, area)
        });
        if wanted == self.wanted {
            return;
        }
        let shown = wanted.clone().map(|(bar, area)| {
            let layout = Layout::new(area, &bar, |text| backend.measure(text));
            (bar, layout)
        });
        if shown != self.shown {
            backend.show(shown.as_ref().map(|(bar, layout)| (bar, layout)));
            self.shown = shown;
        }
        self.wanted = wanted;
    }

    /// Whether the helper's connection is down (the bar says so at the
    /// next [`OnScreen::update`]).
    pub fn set_link_lost(&mut self, lost: bool) {
        self.link_lost = lost;
    }

    /// Whether the server counts the helper as away, and how long they
    /// have left to come back (the bar counts down at each update).
    pub fn set_helper_away(&mut self, left_ms: Option<u64>) {
        self.helper_away_ms = left_ms;
    }

    /// Hides everything (the session is over).
    pub fn hide(&mut self) {
        self.wanted = None;
        if let Some(backend) = &mut self.backend
            && self.shown.take().is_some()
        {
            backend.show(None);
        }
    }

    /// Whether `input` from the helper presses a button on the bar (the
    /// sharer's own controls): such a press is refused. Releases pass, so
    /// nothing stays held. Coordinates are relative to `display`.
    pub fn blocks(&self, input: &Input, display: Option<&Display>) -> bool {
        let Some((_, layout)) = &self.shown else {
            return false;
        };
        let Input::Button {
            down: true, x, y, ..
        } = input
        else {
            return false;
        };
        let (ox, oy) = display.map_or((0, 0), |d| (d.x, d.y));
        let at = |v: u32, o: i32| i32::try_from(v).unwrap_or(i32::MAX).saturating_add(o);
        layout.bar.contains(at(*x, ox), at(*y, oy))
    }

    /// The bar's place, while shown.
    pub fn layout(&self) -> Option<&Layout> {
        self.shown.as_ref().map(|(_, layout)| layout)
    }
}

#[cfg(test)]
#[path = "indicator_tests.rs"]
mod tests;
