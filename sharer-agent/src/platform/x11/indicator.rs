//! The sharing indicator on X11: override-redirect windows above every
//! other window. Four thin orange strips run along the edges of the shared
//! screen; their input shape is empty (SHAPE), so clicks pass through to
//! the desktop. The bar sits at the top centre with two buttons, child
//! windows named `"Tandem sharing indicator: Pause"` (or `Resume`) and
//! `"…: Stop"`. Text is drawn in the core font `fixed`, which every X
//! server has (Latin-1 only). A thread of its own, with its own
//! connection, draws them, raises them again (at most once a second) when
//! another window covers the bar, and sends the buttons' clicks back to
//! the session.
//!
//! **Not excluded from capture.** X has no per-window capture exclusion,
//! and the agent's capture reads the root window (`capture.rs`), so the
//! helper sees the indicator in the picture. It is left there rather than
//! blanked in the frame: without a compositor the X server keeps nothing
//! of what an override-redirect window covers, so blanking would show the
//! helper a black box where the bar is and hide nothing more, while the
//! bar itself tells the helper what the sharer sees and that a press on it
//! is refused (`indicator::OnScreen::blocks`).

use crate::indicator::{
    Area, BAR_RGB, BAR_TEXT_RGB, BORDER_RGB, Bar, Indicator, IndicatorError, Layout, PAUSE_RGB,
    PAUSE_TEXT_RGB, STOP_RGB, STOP_TEXT_RGB, TITLE, label,
};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};
use tandem_protocol::agent::SharerAction;
use tokio::sync::mpsc;
use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::Event;
use x11rb::protocol::shape::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{
    AtomEnum, ChangeGCAux, ClipOrdering, ConfigureWindowAux, ConnectionExt as _, CreateGCAux,
    CreateWindowAux, EventMask, Font, Gcontext, PropMode, StackMode, Visibility, Window,
    WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

/// How often the thread looks for clicks while the bar is up.
const POLL: Duration = Duration::from_millis(40);
/// How long it sleeps while nothing is shown (a command wakes it).
const IDLE: Duration = Duration::from_secs(1);
/// A window mapped or raised later may cover the bar: if it does, the
/// indicator is raised again this often (not at once, so a window that
/// keeps itself on top is not fought at its own pace).
const RAISE_EVERY: Duration = Duration::from_secs(1);

fn protocol(e: impl std::fmt::Display) -> IndicatorError {
    IndicatorError::Protocol(e.to_string())
}

/// `text` as the Latin-1 bytes core fonts draw; one byte per character
/// (dashes become `-`, anything else outside Latin-1 `?`).
pub(crate) fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{2012}'..='\u{2015}' => b'-',
            c if c.is_control() => b' ',
            c => u8::try_from(u32::from(c)).unwrap_or(b'?'),
        })
        .collect()
}

/// The indicator of one X display; its thread stops when this is dropped.
#[derive(Debug)]
pub struct X11Indicator {
    commands: std_mpsc::Sender<Option<(Bar, Layout)>>,
    char_width: u32,
    line_height: u32,
    screen: Area,
}

impl X11Indicator {
    /// Connects to `display` (`$DISPLAY` when `None`) and starts the
    /// thread; nothing shows until [`Indicator::show`].
    pub fn start(
        display: Option<&str>,
        clicks: mpsc::Sender<SharerAction>,
    ) -> Result<Self, IndicatorError> {
        let (conn, screen) =
            x11rb::connect(display).map_err(|e| IndicatorError::Connect(e.to_string()))?;
        let root = conn
            .setup()
            .roots
            .get(screen)
            .ok_or_else(|| IndicatorError::Connect("no such screen".into()))?
            .clone();
        let font = conn.generate_id().map_err(protocol)?;
        conn.open_font(font, b"fixed").map_err(protocol)?;
        let metrics = conn
            .query_font(font)
            .map_err(protocol)?
            .reply()
            .map_err(protocol)?;
        let ascent = u32::try_from(metrics.font_ascent).unwrap_or(0);
        let descent = u32::try_from(metrics.font_descent).unwrap_or(0);
        let char_width = u32::try_from(metrics.max_bounds.character_width).unwrap_or(6);
        let mut colours = [0u32; 7];
        let wanted = [
            BORDER_RGB,
            BAR_RGB,
            BAR_TEXT_RGB,
            PAUSE_RGB,
            PAUSE_TEXT_RGB,
            STOP_RGB,
            STOP_TEXT_RGB,
        ];
        for (pixel, rgb) in colours.iter_mut().zip(wanted) {
            let channel = |shift: u32| (((rgb >> shift) & 0xff) as u16) * 257;
            *pixel = conn
                .alloc_color(root.default_colormap, channel(16), channel(8), channel(0))
                .map_err(protocol)?
                .reply()
                .map_err(protocol)?
                .pixel;
        }
        let shape = conn
            .extension_information(shape::X11_EXTENSION_NAME)
            .map_err(protocol)?
            .is_some();
        let painter = Painter {
            conn,
            root: root.root,
            font,
            ascent,
            char_width,
            line_height: ascent + descent,
            colours,
            shape,
            clicks,
            windows: None,
            shown: None,
            covered: false,
        };
        let (commands, received) = std_mpsc::channel();
        std::thread::Builder::new()
            .name("tandem-indicator".into())
            .spawn(move || painter.run(&received))
            .map_err(|e| IndicatorError::Thread(e.to_string()))?;
        Ok(Self {
            commands,
            char_width,
            line_height: ascent + descent,
            screen: Area {
                x: 0,
                y: 0,
                width: u32::from(root.width_in_pixels),
                height: u32::from(root.height_in_pixels),
            },
        })
    }
}

impl Indicator for X11Indicator {
    fn measure(&self, text: &str) -> (u32, u32) {
        let chars = u32::try_from(latin1(text).len()).unwrap_or(u32::MAX);
        (chars.saturating_mul(self.char_width), self.line_height)
    }

    fn screen(&self) -> Area {
        self.screen
    }

    fn show(&mut self, shown: Option<(&Bar, &Layout)>) {
        let command = shown.map(|(bar, layout)| (bar.clone(), *layout));
        if self.commands.send(command).is_err() {
            tracing::debug!("the indicator's thread has stopped");
        }
    }
}

/// The windows, made on first show.
struct Windows {
    bar: Window,
    buttons: [Window; 2],
    border: [Window; 4],
    gc: Gcontext,
}

/// The thread's side: the connection and what is on screen.
struct Painter {
    conn: RustConnection,
    root: Window,
    font: Font,
    ascent: u32,
    char_width: u32,
    line_height: u32,
    /// Border, bar, bar text, pause, pause text, stop, stop text.
    colours: [u32; 7],
    shape: bool,
    clicks: mpsc::Sender<SharerAction>,
    windows: Option<Windows>,
    shown: Option<(Bar, Layout)>,
    /// Another window covers (part of) the bar.
    covered: bool,
}

fn clamp16(value: i32) -> i16 {
    value.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

impl Painter {
    fn run(mut self, commands: &std_mpsc::Receiver<Option<(Bar, Layout)>>) {
        if let Err(error) = self.serve(commands) {
            tracing::warn!(%error, "the sharing indicator stopped");
        }
        if let Some(windows) = self.windows.take() {
            let _ = self.conn.destroy_window(windows.bar);
            for strip in windows.border {
                let _ = self.conn.destroy_window(strip);
            }
            let _ = self.conn.free_gc(windows.gc);
        }
        let _ = self.conn.close_font(self.font);
        let _ = self.conn.flush();
    }

    fn serve(
        &mut self,
        commands: &std_mpsc::Receiver<Option<(Bar, Layout)>>,
    ) -> Result<(), IndicatorError> {
        let mut raised = Instant::now();
        loop {
            let wait = if self.shown.is_some() { POLL } else { IDLE };
            match commands.recv_timeout(wait) {
                Ok(next) => self.apply(next)?,
                Err(std_mpsc::RecvTimeoutError::Timeout) => {}
                Err(std_mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            }
            while let Some(event) = self.conn.poll_for_event().map_err(protocol)? {
                self.on_event(&event)?;
            }
            if self.shown.is_some() && self.covered && raised.elapsed() >= RAISE_EVERY {
                self.raise()?;
                raised = Instant::now();
            }
            self.conn.flush().map_err(protocol)?;
        }
    }

    fn window(
        &self,
        parent: Window,
        background: u32,
        mask: EventMask,
    ) -> Result<Window, IndicatorError> {
        let id = self.conn.generate_id().map_err(protocol)?;
        let aux = CreateWindowAux::new()
            .background_pixel(background)
            .override_redirect(1)
            .event_mask(mask);
        self.conn
            .create_window(
                x11rb::COPY_DEPTH_FROM_PARENT,
                id,
                parent,
                0,
                0,
                1,
                1,
                0,
                WindowClass::INPUT_OUTPUT,
                x11rb::COPY_FROM_PARENT,
                &aux,
            )
            .map_err(protocol)?;
        Ok(id)
    }

    fn name(&self, window: Window, name: &str) -> Result<(), IndicatorError> {
        self.conn
            .change_property8(
                PropMode::REPLACE,
                window,
                AtomEnum::WM_NAME,
                AtomEnum::STRING,
                &latin1(name),
            )
            .map_err(protocol)?;
        Ok(())
    }

    fn create(&self) -> Result<Windows, IndicatorError> {
        let [border, bar_bg, _, pause, _, stop, _] = self.colours;
        let bar = self.window(
            self.root,
            bar_bg,
            EventMask::EXPOSURE | EventMask::VISIBILITY_CHANGE,
        )?;
        self.name(bar, TITLE)?;
        let mut buttons = [0; 2];
        for (button, background) in buttons.iter_mut().zip([pause, stop]) {
            *button = self.window(
                bar,
                background,
                EventMask::EXPOSURE | EventMask::BUTTON_PRESS,
            )?;
        }
        let mut strips = [0; 4];
        for strip in &mut strips {
            *strip = self.window(self.root, border, EventMask::NO_EVENT)?;
            self.name(*strip, &format!("{TITLE}: border"))?;
            if self.shape {
                // No input region: the desktop under the strip gets the clicks.
                self.conn
                    .shape_rectangles(
                        shape::SO::SET,
                        shape::SK::INPUT,
                        ClipOrdering::UNSORTED,
                        *strip,
                        0,
                        0,
                        &[],
                    )
                    .map_err(protocol)?;
            }
        }
        let gc = self.conn.generate_id().map_err(protocol)?;
        self.conn
            .create_gc(gc, bar, &CreateGCAux::new().font(self.font))
            .map_err(protocol)?;
        Ok(Windows {
            bar,
            buttons,
            border: strips,
            gc,
        })
    }

    fn place(&self, window: Window, area: &Area) -> Result<(), IndicatorError> {
        let aux = ConfigureWindowAux::new()
            .x(area.x)
            .y(area.y)
            .width(area.width.max(1))
            .height(area.height.max(1));
        self.conn.configure_window(window, &aux).map_err(protocol)?;
        Ok(())
    }

    fn apply(&mut self, next: Option<(Bar, Layout)>) -> Result<(), IndicatorError> {
        if self.windows.is_none() {
            self.windows = Some(self.create()?);
        }
        let Some(windows) = &self.windows else {
            return Ok(());
        };
        let Some((bar, layout)) = &next else {
            self.conn.unmap_window(windows.bar).map_err(protocol)?;
            for strip in windows.border {
                self.conn.unmap_window(strip).map_err(protocol)?;
            }
            self.shown = None;
            return Ok(());
        };
        self.place(windows.bar, &layout.bar)?;
        for (i, button) in windows.buttons.iter().enumerate() {
            self.place(*button, &layout.buttons[i])?;
            self.name(*button, &format!("{TITLE}: {}", label(bar.buttons[i])))?;
        }
        for (strip, area) in windows.border.iter().zip(&layout.border) {
            self.place(*strip, area)?;
            if bar.border && area.width > 0 && area.height > 0 {
                self.conn.map_window(*strip).map_err(protocol)?;
            } else {
                self.conn.unmap_window(*strip).map_err(protocol)?;
            }
        }
        self.conn.map_subwindows(windows.bar).map_err(protocol)?;
        self.conn.map_window(windows.bar).map_err(protocol)?;
        // Redrawn on the Expose this asks for (a new text in place).
        for window in [windows.bar, windows.buttons[0], windows.buttons[1]] {
            self.conn
                .clear_area(true, window, 0, 0, 0, 0)
                .map_err(protocol)?;
        }
        self.shown = next;
        self.raise()
    }

    fn raise(&self) -> Result<(), IndicatorError> {
        if let Some(windows) = &self.windows {
            let above = ConfigureWindowAux::new().stack_mode(StackMode::ABOVE);
            for window in windows.border.iter().chain([&windows.bar]) {
                self.conn
                    .configure_window(*window, &above)
                    .map_err(protocol)?;
            }
        }
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> Result<(), IndicatorError> {
        if let (Event::VisibilityNotify(notice), Some(windows)) = (event, &self.windows)
            && notice.window == windows.bar
        {
            self.covered = notice.state != Visibility::UNOBSCURED;
        }
        let (Some(windows), Some((bar, layout))) = (&self.windows, &self.shown) else {
            return Ok(());
        };
        match event {
            Event::Expose(expose) if expose.count == 0 => {
                self.draw(windows, bar, layout, expose.window)?;
            }
            Event::ButtonPress(press) if press.detail == 1 => {
                if let Some(i) = windows.buttons.iter().position(|&b| b == press.event) {
                    let action = bar.buttons[i];
                    tracing::info!(?action, "the sharer pressed a button of the indicator");
                    if self.clicks.try_send(action).is_err() {
                        tracing::warn!("a click on the indicator was dropped");
                    }
                }
            }
            Event::Error(error) => tracing::debug!(?error, "the indicator's request failed"),
            _ => {}
        }
        Ok(())
    }

    /// Draws the text of `window` (the bar, or one of its buttons).
    fn draw(
        &self,
        windows: &Windows,
        bar: &Bar,
        layout: &Layout,
        window: Window,
    ) -> Result<(), IndicatorError> {
        let [_, bar_bg, bar_text, pause, pause_text, stop, stop_text] = self.colours;
        let (text, x, y, colours) = if window == windows.bar {
            let text = latin1(&bar.text);
            let y = layout.text.y + self.ascent as i32;
            (text, layout.text.x, y, (bar_text, bar_bg))
        } else if let Some(i) = windows.buttons.iter().position(|&b| b == window) {
            let text = latin1(label(bar.buttons[i]));
            let area = layout.buttons[i];
            let width = text.len() as u32 * self.char_width;
            let x = area.width.saturating_sub(width) / 2;
            let y = area.height.saturating_sub(self.line_height) / 2 + self.ascent;
            let colours = if i == 0 {
                (pause_text, pause)
            } else {
                (stop_text, stop)
            };
            (text, x as i32, y as i32, colours)
        } else {
            return Ok(());
        };
        let gc = ChangeGCAux::new()
            .foreground(colours.0)
            .background(colours.1);
        self.conn.change_gc(windows.gc, &gc).map_err(protocol)?;
        self.conn
            .image_text8(window, windows.gc, clamp16(x), clamp16(y), &text)
            .map_err(protocol)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::latin1;

    #[test]
    fn core_fonts_get_one_latin1_byte_per_character() {
        assert_eq!(latin1("Paused \u{2014} Zoë"), b"Paused - Zo\xeb");
        assert_eq!(latin1("李\n"), b"? ");
    }
}
