//! X11 capture: MIT-SHM for the pixels (plain GetImage when the display
//! has no SHM), XDamage for what changed, XFixes for the cursor.

use super::shm::ShmSegment;
use crate::capture::{CaptureError, Capturer, Cursor, Frame, Rect};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rustix::event::{PollFd, PollFlags, Timespec};
use std::time::Duration;
use tandem_protocol::input::{CursorShape, Display, MAX_CURSOR_SIDE};
use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::Event;
use x11rb::protocol::damage::{self, ConnectionExt as _};
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::protocol::xfixes::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat, Window};
use x11rb::rust_connection::RustConnection;

fn protocol(e: impl std::fmt::Display) -> CaptureError {
    CaptureError::Protocol(e.to_string())
}

/// Captures the root window of one X display.
pub struct X11Capturer {
    conn: RustConnection,
    root: Window,
    width: u32,
    height: u32,
    shm: Option<ShmSegment>,
    damage: damage::Damage,
    /// A damage notice arrived that `capture` has not taken yet.
    damage_pending: bool,
    region: xfixes::Region,
    /// The whole screen is to be read on the next capture.
    full: bool,
    cursor_serial: Option<u32>,
    cursor_dirty: bool,
}

impl std::fmt::Debug for X11Capturer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X11Capturer")
            .field("size", &(self.width, self.height))
            .field("shm", &self.shm.is_some())
            .finish_non_exhaustive()
    }
}

impl X11Capturer {
    /// Connects to `display` (`$DISPLAY` when `None`).
    pub fn connect(display: Option<&str>) -> Result<Self, CaptureError> {
        let (conn, screen) =
            x11rb::connect(display).map_err(|e| CaptureError::Connect(e.to_string()))?;
        let root_screen = conn
            .setup()
            .roots
            .get(screen)
            .ok_or_else(|| CaptureError::Connect("no such screen".into()))?;
        let root = root_screen.root;
        let width = u32::from(root_screen.width_in_pixels) & !1;
        let height = u32::from(root_screen.height_in_pixels) & !1;
        for (name, present) in [
            (damage::X11_EXTENSION_NAME, "DAMAGE"),
            (xfixes::X11_EXTENSION_NAME, "XFIXES"),
        ] {
            if conn
                .extension_information(name)
                .map_err(protocol)?
                .is_none()
            {
                return Err(CaptureError::MissingExtension(present));
            }
        }
        conn.xfixes_query_version(5, 0)
            .map_err(protocol)?
            .reply()
            .map_err(protocol)?;
        conn.damage_query_version(1, 1)
            .map_err(protocol)?
            .reply()
            .map_err(protocol)?;
        let damage = conn.generate_id().map_err(protocol)?;
        conn.damage_create(damage, root, damage::ReportLevel::NON_EMPTY)
            .map_err(protocol)?;
        let region = conn.generate_id().map_err(protocol)?;
        conn.xfixes_create_region(region, &[]).map_err(protocol)?;
        conn.xfixes_select_cursor_input(root, xfixes::CursorNotifyMask::DISPLAY_CURSOR)
            .map_err(protocol)?;
        let shm = Self::shm(&conn, width, height);
        if shm.is_none() {
            tracing::warn!("the display has no usable MIT-SHM; capturing with GetImage");
        }
        conn.flush().map_err(protocol)?;
        Ok(Self {
            conn,
            root,
            width,
            height,
            shm,
            damage,
            region,
            full: true,
            damage_pending: false,
            cursor_serial: None,
            cursor_dirty: true,
        })
    }

    /// Whether pixels come through MIT-SHM (not plain GetImage).
    pub fn uses_shm(&self) -> bool {
        self.shm.is_some()
    }

    fn shm(conn: &RustConnection, width: u32, height: u32) -> Option<ShmSegment> {
        conn.extension_information(shm::X11_EXTENSION_NAME).ok()??;
        let version = conn.shm_query_version().ok()?.reply().ok()?;
        if (version.major_version, version.minor_version) < (1, 2) {
            return None;
        }
        ShmSegment::create(conn, width as usize * height as usize * 4)
            .inspect_err(|e| tracing::warn!(%e, "cannot create a SHM segment"))
            .ok()
    }

    /// Drains pending events: damage and cursor changes. A damage notice
    /// is kept until `capture` takes the damage: with `NON_EMPTY` the server
    /// sends no other until then, so one that is dropped (say, drained by
    /// `cursor`) would stop every later change from being seen.
    fn drain_events(&mut self) -> Result<(), CaptureError> {
        while let Some(event) = self.conn.poll_for_event().map_err(protocol)? {
            match event {
                Event::DamageNotify(_) => self.damage_pending = true,
                Event::XfixesCursorNotify(_) => self.cursor_dirty = true,
                _ => {}
            }
        }
        Ok(())
    }

    /// The damaged rectangles, clipped to the screen; clears the damage.
    fn take_damage(&mut self) -> Result<Vec<Rect>, CaptureError> {
        self.conn
            .damage_subtract(self.damage, x11rb::NONE, self.region)
            .map_err(protocol)?;
        let reply = self
            .conn
            .xfixes_fetch_region(self.region)
            .map_err(protocol)?
            .reply()
            .map_err(protocol)?;
        Ok(reply
            .rectangles
            .iter()
            .filter_map(|r| {
                self.clip(
                    i32::from(r.x),
                    i32::from(r.y),
                    u32::from(r.width),
                    u32::from(r.height),
                )
            })
            .collect())
    }

    fn clip(&self, x: i32, y: i32, width: u32, height: u32) -> Option<Rect> {
        let x0 = x.max(0) as u32;
        let y0 = y.max(0) as u32;
        let x1 = (x + width as i32).clamp(0, self.width as i32) as u32;
        let y1 = (y + height as i32).clamp(0, self.height as i32) as u32;
        (x1 > x0 && y1 > y0).then_some(Rect {
            x: x0,
            y: y0,
            width: x1 - x0,
            height: y1 - y0,
        })
    }

    /// Reads `rect` of the root window into `frame`.
    fn read(&self, rect: Rect, frame: &mut Frame) -> Result<(), CaptureError> {
        let (x, y) = (rect.x as i16, rect.y as i16);
        let (w, h) = (rect.width as u16, rect.height as u16);
        let row = rect.width as usize * 4;
        let stride = frame.width as usize * 4;
        let mut copy = |data: &[u8]| {
            for line in 0..rect.height as usize {
                let src = data.get(line * row..(line + 1) * row);
                let at = (rect.y as usize + line) * stride + rect.x as usize * 4;
                if let (Some(src), Some(dst)) = (src, frame.bgrx.get_mut(at..at + row)) {
                    dst.copy_from_slice(src);
                }
            }
        };
        match &self.shm {
            Some(segment) => {
                self.conn
                    .shm_get_image(
                        self.root,
                        x,
                        y,
                        w,
                        h,
                        u32::MAX,
                        ImageFormat::Z_PIXMAP.into(),
                        segment.seg,
                        0,
                    )
                    .map_err(protocol)?
                    .reply()
                    .map_err(protocol)?;
                copy(segment.bytes());
            }
            None => {
                let reply = self
                    .conn
                    .get_image(ImageFormat::Z_PIXMAP, self.root, x, y, w, h, u32::MAX)
                    .map_err(protocol)?
                    .reply()
                    .map_err(protocol)?;
                copy(&reply.data);
            }
        }
        Ok(())
    }

    fn cursor_shape(&mut self) -> Result<Option<CursorShape>, CaptureError> {
        let image = self
            .conn
            .xfixes_get_cursor_image()
            .map_err(protocol)?
            .reply()
            .map_err(protocol)?;
        if self.cursor_serial == Some(image.cursor_serial) {
            return Ok(None);
        }
        self.cursor_serial = Some(image.cursor_serial);
        let (w, h) = (u32::from(image.width), u32::from(image.height));
        if w == 0 || h == 0 || w > MAX_CURSOR_SIDE || h > MAX_CURSOR_SIDE {
            return Ok(None);
        }
        // XFixes gives premultiplied ARGB words; the console wants straight RGBA.
        let mut rgba = Vec::with_capacity(image.cursor_image.len() * 4);
        for argb in &image.cursor_image {
            let a = (argb >> 24) as u8;
            let un = |c: u32| -> u8 {
                let c = (c & 0xff) as u16;
                if a == 0 {
                    0
                } else {
                    (c * 255 / u16::from(a)).min(255) as u8
                }
            };
            rgba.extend_from_slice(&[un(argb >> 16), un(argb >> 8), un(*argb), a]);
        }
        Ok(Some(CursorShape {
            serial: image.cursor_serial,
            width: w,
            height: h,
            hot_x: u32::from(image.xhot),
            hot_y: u32::from(image.yhot),
            rgba: STANDARD.encode(rgba),
        }))
    }
}

impl Capturer for X11Capturer {
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn displays(&self) -> Vec<Display> {
        vec![Display {
            id: 0,
            name: "Screen".into(),
            width: self.width,
            height: self.height,
            primary: true,
            x: 0,
            y: 0,
        }]
    }

    fn capture(&mut self, frame: &mut Frame) -> Result<Vec<Rect>, CaptureError> {
        if frame.width != self.width || frame.height != self.height {
            *frame = Frame::new(self.width, self.height);
            self.full = true;
        }
        self.drain_events()?;
        let damaged = std::mem::take(&mut self.damage_pending);
        let rects = if self.full {
            // Clear pending damage, then read everything.
            self.take_damage()?;
            self.full = false;
            vec![Rect {
                x: 0,
                y: 0,
                width: self.width,
                height: self.height,
            }]
        } else if damaged {
            self.take_damage()?
        } else {
            Vec::new()
        };
        for rect in &rects {
            self.read(*rect, frame)?;
        }
        Ok(rects)
    }

    fn change_pending(&mut self) -> Option<bool> {
        self.drain_events().ok()?;
        Some(self.damage_pending)
    }

    /// Sleeps in `poll` on the X connection: the damage notice wakes it,
    /// instead of asking every few milliseconds. Every event already read
    /// is drained first, so none waits in x11rb's buffer unseen.
    fn wait_for_change(&mut self, timeout: Duration) -> Option<bool> {
        self.drain_events().ok()?;
        if !self.damage_pending {
            let timeout = Timespec::try_from(timeout).ok()?;
            let mut fds = [PollFd::new(self.conn.stream(), PollFlags::IN)];
            // Interrupted or failed: the caller asks again.
            let _ = rustix::event::poll(&mut fds, Some(&timeout));
            self.drain_events().ok()?;
        }
        Some(self.damage_pending)
    }

    fn cursor(&mut self) -> Result<Cursor, CaptureError> {
        self.drain_events()?;
        let shape = if self.cursor_dirty {
            self.cursor_dirty = false;
            self.cursor_shape()?
        } else {
            None
        };
        let pointer = self
            .conn
            .query_pointer(self.root)
            .map_err(protocol)?
            .reply()
            .map_err(protocol)?;
        Ok(Cursor {
            x: i32::from(pointer.root_x),
            y: i32::from(pointer.root_y),
            visible: pointer.same_screen,
            shape,
        })
    }
}

impl Drop for X11Capturer {
    fn drop(&mut self) {
        if let Some(segment) = &self.shm {
            segment.detach(&self.conn);
        }
        let _ = self.conn.damage_destroy(self.damage);
        let _ = self.conn.flush();
    }
}
