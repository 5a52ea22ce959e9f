//! The pointer for GDI capture: its position from `GetCursorInfo` and its
//! image from `GetIconInfo`, converted once per cursor change.

use super::cursor::{self, Format};
use crate::capture::Cursor;
use tandem_protocol::input::CursorShape;
use windows::Win32::Graphics::Gdi::{
    BI_RGB, BITMAP, BITMAPINFO, BITMAPINFOHEADER, DIB_RGB_COLORS, DeleteObject, GetDC, GetDIBits,
    GetObjectW, HBITMAP, ReleaseDC,
};
use windows::Win32::UI::WindowsAndMessaging::{
    CURSOR_SHOWING, CURSORINFO, GetCursorInfo, GetIconInfo, HCURSOR, HICON, ICONINFO,
};

pub struct GdiPointer {
    origin: (i32, i32),
    last: Option<isize>,
    serial: u32,
}

impl GdiPointer {
    /// For a monitor whose top-left is `origin` on the virtual desktop.
    pub fn new(origin: (i32, i32)) -> Self {
        Self {
            origin,
            last: None,
            serial: 0,
        }
    }

    pub fn read(&mut self) -> Cursor {
        let mut info = CURSORINFO {
            cbSize: std::mem::size_of::<CURSORINFO>() as u32,
            ..Default::default()
        };
        // SAFETY: a sized out-struct.
        if unsafe { GetCursorInfo(&mut info) }.is_err() {
            return Cursor {
                x: 0,
                y: 0,
                visible: false,
                shape: None,
            };
        }
        let handle = info.hCursor.0 as isize;
        let shape = if self.last != Some(handle) && !info.hCursor.is_invalid() {
            self.last = Some(handle);
            self.serial = self.serial.wrapping_add(1);
            shape_of(info.hCursor, self.serial)
        } else {
            None
        };
        Cursor {
            x: info.ptScreenPos.x - self.origin.0,
            y: info.ptScreenPos.y - self.origin.1,
            visible: info.flags.0 & CURSOR_SHOWING.0 != 0,
            shape,
        }
    }
}

/// The 32-bit or 1-bit pixels of `bitmap`, top-down, and its size.
fn bits_of(bitmap: HBITMAP, bits_per_pixel: u16) -> Option<(Vec<u8>, u32, u32, u32)> {
    let mut header = BITMAP::default();
    // SAFETY: a sized out-struct for a live bitmap.
    let got = unsafe {
        GetObjectW(
            bitmap.into(),
            std::mem::size_of::<BITMAP>() as i32,
            Some((&raw mut header).cast()),
        )
    };
    if got == 0 || header.bmWidth <= 0 || header.bmHeight <= 0 {
        return None;
    }
    let (width, height) = (header.bmWidth as u32, header.bmHeight as u32);
    let pitch = (width * u32::from(bits_per_pixel)).div_ceil(32) * 4;
    let mut bits = vec![0u8; (pitch * height) as usize];
    // A 1-bit DIB needs room for its two-entry colour table.
    let mut info = [0u8; std::mem::size_of::<BITMAPINFO>() + 8];
    let header_ptr = info.as_mut_ptr().cast::<BITMAPINFOHEADER>();
    // SAFETY: `info` is large enough for the header plus the colour table,
    // `bits` for `height` rows of `pitch` bytes; the screen DC is released.
    let lines = unsafe {
        header_ptr.write_unaligned(BITMAPINFOHEADER {
            biSize: std::mem::size_of::<BITMAPINFOHEADER>() as u32,
            biWidth: width as i32,
            biHeight: -(height as i32),
            biPlanes: 1,
            biBitCount: bits_per_pixel,
            biCompression: BI_RGB.0,
            ..Default::default()
        });
        let screen = GetDC(None);
        let lines = GetDIBits(
            screen,
            bitmap,
            0,
            height,
            Some(bits.as_mut_ptr().cast()),
            info.as_mut_ptr().cast(),
            DIB_RGB_COLORS,
        );
        ReleaseDC(None, screen);
        lines
    };
    (lines == height as i32).then_some((bits, width, height, pitch))
}

fn shape_of(handle: HCURSOR, serial: u32) -> Option<CursorShape> {
    let mut icon = ICONINFO::default();
    // SAFETY: an out-struct; the bitmaps it returns are deleted below.
    unsafe { GetIconInfo(HICON(handle.0), &mut icon) }.ok()?;
    let hot = (icon.xHotspot, icon.yHotspot);
    let shape = if icon.hbmColor.is_invalid() {
        bits_of(icon.hbmMask, 1).and_then(|(bits, width, height, pitch)| {
            let height = height / 2;
            let rgba = cursor::to_rgba(Format::Monochrome, &bits, width, height, pitch);
            cursor::shape(serial, width, height, hot, &rgba)
        })
    } else {
        bits_of(icon.hbmColor, 32).and_then(|(mut bits, width, height, pitch)| {
            // Old-style colour cursors have no alpha: the mask says which
            // pixels show.
            if bits.chunks_exact(4).all(|p| p[3] == 0)
                && let Some((mask, _, _, mask_pitch)) = bits_of(icon.hbmMask, 1)
            {
                for y in 0..height as usize {
                    for x in 0..width as usize {
                        let clear = mask
                            .get(y * mask_pitch as usize + x / 8)
                            .is_some_and(|b| b & (0x80 >> (x % 8)) != 0);
                        if let Some(a) = bits.get_mut(y * pitch as usize + x * 4 + 3) {
                            *a = if clear { 0 } else { 255 };
                        }
                    }
                }
            }
            let rgba = cursor::to_rgba(Format::Color, &bits, width, height, pitch);
            cursor::shape(serial, width, height, hot, &rgba)
        })
    };
    // SAFETY: GetIconInfo made copies that the caller must delete.
    unsafe {
        if !icon.hbmColor.is_invalid() {
            let _ = DeleteObject(icon.hbmColor.into());
        }
        if !icon.hbmMask.is_invalid() {
            let _ = DeleteObject(icon.hbmMask.into());
        }
    }
    shape
}
