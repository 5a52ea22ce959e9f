//! GDI capture: `BitBlt` from the screen into a DIB, then `GetDIBits`.
//! Works everywhere (Wine, RDP, old drivers); the fallback for DXGI. It
//! has no dirty rectangles, so changed row bands are found by comparing
//! with the previous frame.

use crate::capture::{CaptureError, Frame, Rect};
use windows::Win32::Graphics::Gdi::{
    BI_RGB, BITMAPINFO, BITMAPINFOHEADER, BitBlt, CAPTUREBLT, CreateCompatibleBitmap,
    CreateCompatibleDC, DIB_RGB_COLORS, DeleteDC, DeleteObject, GetDC, GetDIBits, HBITMAP, HDC,
    HGDIOBJ, ReleaseDC, SRCCOPY, SelectObject,
};

/// Rows compared as one band: damage is reported per band.
const BAND: u32 = 16;

/// The GDI objects of one capture size, released on drop.
pub struct GdiCapturer {
    /// The captured rectangle on the virtual desktop.
    origin: (i32, i32),
    width: u32,
    height: u32,
    screen: HDC,
    memory: HDC,
    bitmap: HBITMAP,
    previous: HGDIOBJ,
    scratch: Vec<u8>,
}

// SAFETY: the handles are only used by the thread that owns the capturer
// (the capture thread); they are moved, never shared.
unsafe impl Send for GdiCapturer {}

impl GdiCapturer {
    /// Captures the rectangle at `origin` of `width`×`height` (made even).
    /// The thread's current desktop is the one captured.
    pub fn new(origin: (i32, i32), width: u32, height: u32) -> Result<Self, CaptureError> {
        let (width, height) = (width & !1, height & !1);
        if width == 0 || height == 0 {
            return Err(CaptureError::Connect("the display has no pixels".into()));
        }
        // SAFETY: plain GDI calls; every handle made here is released in
        // `drop` (or right here when a later step fails).
        unsafe {
            let screen = GetDC(None);
            if screen.is_invalid() {
                return Err(CaptureError::Connect("GetDC(screen) failed".into()));
            }
            let memory = CreateCompatibleDC(Some(screen));
            let bitmap = CreateCompatibleBitmap(screen, width as i32, height as i32);
            if memory.is_invalid() || bitmap.is_invalid() {
                if !bitmap.is_invalid() {
                    let _ = DeleteObject(bitmap.into());
                }
                if !memory.is_invalid() {
                    let _ = DeleteDC(memory);
                }
                ReleaseDC(None, screen);
                return Err(CaptureError::Connect("cannot create a GDI bitmap".into()));
            }
            let previous = SelectObject(memory, bitmap.into());
            Ok(Self {
                origin,
                width,
                height,
                screen,
                memory,
                bitmap,
                previous,
                scratch: vec![0; width as usize * height as usize * 4],
            })
        }
    }

    /// Reads the screen into `frame`; returns the changed bands.
    pub fn capture(&mut self, frame: &mut Frame) -> Result<Vec<Rect>, CaptureError> {
        let fresh = frame.width != self.width || frame.height != self.height;
        if fresh {
            *frame = Frame::new(self.width, self.height);
        }
        let mut info = BITMAPINFO {
            bmiHeader: BITMAPINFOHEADER {
                biSize: std::mem::size_of::<BITMAPINFOHEADER>() as u32,
                biWidth: self.width as i32,
                // Negative: top-down rows, like `Frame`.
                biHeight: -(self.height as i32),
                biPlanes: 1,
                biBitCount: 32,
                biCompression: BI_RGB.0,
                ..Default::default()
            },
            ..Default::default()
        };
        // SAFETY: the DCs and bitmap are alive (owned by self); `scratch`
        // holds exactly width × height 32-bit pixels, as `info` says.
        let lines = unsafe {
            BitBlt(
                self.memory,
                0,
                0,
                self.width as i32,
                self.height as i32,
                Some(self.screen),
                self.origin.0,
                self.origin.1,
                SRCCOPY | CAPTUREBLT,
            )
            .map_err(|e| CaptureError::Protocol(format!("BitBlt: {e}")))?;
            GetDIBits(
                self.memory,
                self.bitmap,
                0,
                self.height,
                Some(self.scratch.as_mut_ptr().cast()),
                &mut info,
                DIB_RGB_COLORS,
            )
        };
        if lines != self.height as i32 {
            return Err(CaptureError::Protocol(format!(
                "GetDIBits read {lines} of {} lines",
                self.height
            )));
        }
        Ok(copy_changed_bands(
            &self.scratch,
            frame,
            self.width,
            self.height,
            fresh,
        ))
    }
}

/// Copies `fresh_pixels` into `frame` band by band; returns the bands
/// that differed (all of them when `all`).
pub fn copy_changed_bands(
    pixels: &[u8],
    frame: &mut Frame,
    width: u32,
    height: u32,
    all: bool,
) -> Vec<Rect> {
    let stride = width as usize * 4;
    let mut damage: Vec<Rect> = Vec::new();
    let mut y = 0;
    while y < height {
        let rows = BAND.min(height - y);
        let range = y as usize * stride..(y + rows) as usize * stride;
        let (Some(new), Some(old)) = (pixels.get(range.clone()), frame.bgrx.get_mut(range)) else {
            break;
        };
        if all || new != old {
            old.copy_from_slice(new);
            match damage.last_mut() {
                Some(last) if last.y + last.height == y => last.height += rows,
                _ => damage.push(Rect {
                    x: 0,
                    y,
                    width,
                    height: rows,
                }),
            }
        }
        y += rows;
    }
    damage
}

impl Drop for GdiCapturer {
    fn drop(&mut self) {
        // SAFETY: the handles were made in `new` and are released once.
        unsafe {
            SelectObject(self.memory, self.previous);
            let _ = DeleteObject(self.bitmap.into());
            let _ = DeleteDC(self.memory);
            ReleaseDC(None, self.screen);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_bands_are_damage_and_neighbours_merge() {
        let (w, h) = (4, 64);
        let mut frame = Frame::new(w, h);
        let mut pixels = vec![0u8; (w * h * 4) as usize];
        assert_eq!(copy_changed_bands(&pixels, &mut frame, w, h, false), vec![]);
        pixels[(w * 4 * 20) as usize] = 9;
        pixels[(w * 4 * 33) as usize] = 9;
        let damage = copy_changed_bands(&pixels, &mut frame, w, h, false);
        assert_eq!(
            damage,
            vec![Rect {
                x: 0,
                y: 16,
                width: 4,
                height: 32
            }]
        );
        assert_eq!(frame.bgrx, pixels);
        assert_eq!(copy_changed_bands(&pixels, &mut frame, w, h, true).len(), 1);
    }
}
