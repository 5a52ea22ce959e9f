//! The annotation overlay on X: one override-redirect window over the
//! shared display, shaped (SHAPE) to exactly the strokes' pixels, so it
//! needs no compositing manager and hides nothing else, with an empty
//! input region, so every click goes to the window under it. Its picture
//! is its background pixmap: X repaints it by itself when it is uncovered.
//! It is in the captured picture (X has no per-window exclusion); see
//! `crate::overlay` for why the console stays consistent with that.

use crate::overlay::{Overlay, OverlayError};
use std::collections::HashMap;
use tandem_protocol::annotation::{Sketch, Stroke};
use tandem_protocol::input::Display;
use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::shape::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{
    AtomEnum, CapStyle, ChangeGCAux, ClipOrdering, ConfigureWindowAux, ConnectionExt as _,
    CreateGCAux, CreateWindowAux, JoinStyle, PropMode, Rectangle, Segment, StackMode, Window,
    WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

/// The overlay window's name (tests and window lists find it by this).
pub const OVERLAY_TITLE: &str = "Tandem annotation";

fn draw_error(e: impl std::fmt::Display) -> OverlayError {
    OverlayError::Draw(e.to_string())
}

pub struct X11Overlay {
    conn: RustConnection,
    root: Window,
    depth: u8,
    colormap: u32,
    window: Option<Window>,
    mapped: bool,
    pixels: HashMap<u32, u32>,
}

impl std::fmt::Debug for X11Overlay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X11Overlay").finish_non_exhaustive()
    }
}

fn clamp16(value: i32) -> i16 {
    i16::try_from(value.clamp(i32::from(i16::MIN), i32::from(i16::MAX))).unwrap_or(0)
}

impl X11Overlay {
    /// Connects to `display` (`$DISPLAY` when `None`); nothing shows until
    /// strokes come. Refused without SHAPE: an unshaped window would hide
    /// the whole screen.
    pub fn connect(display: Option<&str>) -> Result<Self, OverlayError> {
        let (conn, screen) =
            x11rb::connect(display).map_err(|e| OverlayError::Connect(e.to_string()))?;
        let has_shape = conn
            .extension_information(shape::X11_EXTENSION_NAME)
            .map_err(|e| OverlayError::Connect(e.to_string()))?
            .is_some();
        if !has_shape {
            return Err(OverlayError::Connect(
                "the display has no SHAPE extension".into(),
            ));
        }
        let root = conn
            .setup()
            .roots
            .get(screen)
            .ok_or_else(|| OverlayError::Connect("no such screen".into()))?
            .clone();
        Ok(Self {
            conn,
            root: root.root,
            depth: root.root_depth,
            colormap: root.default_colormap,
            window: None,
            mapped: false,
            pixels: HashMap::new(),
        })
    }

    fn pixel(&mut self, rgb: u32) -> Result<u32, OverlayError> {
        if let Some(pixel) = self.pixels.get(&rgb) {
            return Ok(*pixel);
        }
        let channel = |shift: u32| u16::try_from((rgb >> shift) & 0xff).unwrap_or(0) * 257;
        let pixel = self
            .conn
            .alloc_color(self.colormap, channel(16), channel(8), channel(0))
            .map_err(draw_error)?
            .reply()
            .map_err(draw_error)?
            .pixel;
        self.pixels.insert(rgb, pixel);
        Ok(pixel)
    }

    fn window(&mut self) -> Result<Window, OverlayError> {
        if let Some(window) = self.window {
            return Ok(window);
        }
        let window = self.conn.generate_id().map_err(draw_error)?;
        self.conn
            .create_window(
                x11rb::COPY_DEPTH_FROM_PARENT,
                window,
                self.root,
                0,
                0,
                1,
                1,
                0,
                WindowClass::INPUT_OUTPUT,
                x11rb::COPY_FROM_PARENT,
                &CreateWindowAux::new().override_redirect(1),
            )
            .map_err(draw_error)?;
        self.conn
            .change_property8(
                PropMode::REPLACE,
                window,
                AtomEnum::WM_NAME,
                AtomEnum::STRING,
                OVERLAY_TITLE.as_bytes(),
            )
            .map_err(draw_error)?;
        // No input region: clicks go to the window under the strokes.
        self.conn
            .shape_rectangles(
                shape::SO::SET,
                shape::SK::INPUT,
                ClipOrdering::UNSORTED,
                window,
                0,
                0,
                &[],
            )
            .map_err(draw_error)?;
        self.window = Some(window);
        Ok(window)
    }

    fn hide(&mut self) -> Result<(), OverlayError> {
        if let (Some(window), true) = (self.window, self.mapped) {
            self.conn.unmap_window(window).map_err(draw_error)?;
            self.conn.flush().map_err(draw_error)?;
        }
        self.mapped = false;
        Ok(())
    }
}

impl Overlay for X11Overlay {
    fn show(&mut self, strokes: &[Stroke], display: &Display) -> Result<(), OverlayError> {
        if strokes.is_empty() || display.width == 0 || display.height == 0 {
            return self.hide();
        }
        let window = self.window()?;
        let (width, height) = (
            u16::try_from(display.width).unwrap_or(u16::MAX),
            u16::try_from(display.height).unwrap_or(u16::MAX),
        );
        let conn = &self.conn;
        let mask = conn.generate_id().map_err(draw_error)?;
        conn.create_pixmap(1, mask, window, width, height)
            .map_err(draw_error)?;
        let picture = conn.generate_id().map_err(draw_error)?;
        conn.create_pixmap(self.depth, picture, window, width, height)
            .map_err(draw_error)?;
        let mask_gc = conn.generate_id().map_err(draw_error)?;
        conn.create_gc(mask_gc, mask, &CreateGCAux::new().foreground(0))
            .map_err(draw_error)?;
        let whole = Rectangle {
            x: 0,
            y: 0,
            width,
            height,
        };
        conn.poly_fill_rectangle(mask, mask_gc, &[whole])
            .map_err(draw_error)?;
        let picture_gc = conn.generate_id().map_err(draw_error)?;
        conn.create_gc(picture_gc, picture, &CreateGCAux::new())
            .map_err(draw_error)?;
        let mut drawn = Vec::with_capacity(strokes.len());
        for stroke in strokes {
            let segments: Vec<Segment> = Sketch::segments(stroke)
                .into_iter()
                .map(|((x1, y1), (x2, y2))| Segment {
                    x1: clamp16(x1),
                    y1: clamp16(y1),
                    x2: clamp16(x2),
                    y2: clamp16(y2),
                })
                .collect();
            drawn.push((stroke.tool, segments));
        }
        for (tool, segments) in &drawn {
            let pixel = self.pixel(tool.rgb())?;
            let conn = &self.conn;
            let line = ChangeGCAux::new()
                .line_width(u32::from(tool.width()))
                .cap_style(CapStyle::ROUND)
                .join_style(JoinStyle::ROUND);
            conn.change_gc(mask_gc, &line.foreground(1))
                .map_err(draw_error)?;
            conn.poly_segment(mask, mask_gc, segments)
                .map_err(draw_error)?;
            conn.change_gc(picture_gc, &line.foreground(pixel))
                .map_err(draw_error)?;
            conn.poly_segment(picture, picture_gc, segments)
                .map_err(draw_error)?;
        }
        let conn = &self.conn;
        let mut place = ConfigureWindowAux::new()
            .x(display.x)
            .y(display.y)
            .width(u32::from(width))
            .height(u32::from(height));
        // On top when it appears; not again at each stroke, so the
        // sharing indicator, which raises itself when covered, stays
        // above the strokes.
        if !self.mapped {
            place = place.stack_mode(StackMode::ABOVE);
        }
        conn.configure_window(window, &place).map_err(draw_error)?;
        conn.change_window_attributes(
            window,
            &x11rb::protocol::xproto::ChangeWindowAttributesAux::new().background_pixmap(picture),
        )
        .map_err(draw_error)?;
        conn.shape_mask(shape::SO::SET, shape::SK::BOUNDING, window, 0, 0, mask)
            .map_err(draw_error)?;
        conn.clear_area(false, window, 0, 0, 0, 0)
            .map_err(draw_error)?;
        conn.map_window(window).map_err(draw_error)?;
        for gc in [mask_gc, picture_gc] {
            conn.free_gc(gc).map_err(draw_error)?;
        }
        for pixmap in [mask, picture] {
            conn.free_pixmap(pixmap).map_err(draw_error)?;
        }
        conn.flush().map_err(draw_error)?;
        self.mapped = true;
        Ok(())
    }
}

impl Drop for X11Overlay {
    fn drop(&mut self) {
        if let Some(window) = self.window.take() {
            let _ = self.conn.destroy_window(window);
            let _ = self.conn.flush();
        }
    }
}
