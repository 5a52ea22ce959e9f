//! Watches the clock cells in the X framebuffer itself: when each clock
//! value first appears on the screen, whatever drew it (this X client, or
//! a browser page). The difference between that time and when a client
//! shows the value is the latency the system under test *adds* above the
//! source's own rendering.

use std::io::Write;
use std::time::Duration;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat};

use crate::{CELL, wall_ms};

/// Decodes a row through the middle of the 26 cells (32-bit pixels): the
/// stamp, or `None` when the reference cells are not white and black.
pub fn stamp_of(row: &[u8]) -> Option<u64> {
    let lum = |i: usize| -> Option<u32> {
        let o = (i * usize::from(CELL) + usize::from(CELL) / 2) * 4;
        let p = row.get(o..o + 3)?;
        Some(u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2]))
    };
    let (white, black) = (lum(0)?, lum(1)?);
    if white < black + 200 {
        return None;
    }
    let mid = (white + black) / 2;
    let mut stamp = 0u64;
    for i in 2..26 {
        stamp = stamp * 2 + u64::from(lum(i)? > mid);
    }
    Some(stamp)
}

/// Polls the framebuffer every millisecond on a connection of its own and
/// prints `seen STAMP WALL_MS` each time the cells show a new value.
pub fn watch() {
    std::thread::spawn(|| {
        let Ok((conn, screen_num)) = x11rb::connect(None) else {
            eprintln!("framebuffer watch: no X display");
            return;
        };
        let root = conn.setup().roots[screen_num].root;
        let width = CELL * 26;
        let mut last = None;
        loop {
            let row = conn
                .get_image(
                    ImageFormat::Z_PIXMAP,
                    root,
                    0,
                    (CELL / 2) as i16,
                    width,
                    1,
                    !0,
                )
                .ok()
                .and_then(|cookie| cookie.reply().ok());
            let at = wall_ms();
            if let Some(stamp) = row.and_then(|r| stamp_of(&r.data))
                && last != Some(stamp)
            {
                last = Some(stamp);
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "seen {stamp} {at}");
                let _ = out.flush();
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_of_cells_decodes_to_its_stamp() {
        let stamp = 0xA5_5A_C3u64;
        let mut row = vec![0u8; usize::from(CELL) * 26 * 4];
        for i in 0..26usize {
            let on = match i {
                0 => true,
                1 => false,
                _ => (stamp >> (25 - i)) & 1 == 1,
            };
            for x in 0..usize::from(CELL) {
                let o = (i * usize::from(CELL) + x) * 4;
                row[o..o + 3].fill(if on { 255 } else { 0 });
            }
        }
        assert_eq!(stamp_of(&row), Some(stamp));
        row.fill(128);
        assert_eq!(stamp_of(&row), None, "no reference cells, no stamp");
    }
}
