//! Cursor images → straight RGBA for the helper's console: from GDI
//! (`GetCursorInfo`/`GetIconInfo`) and from DXGI's pointer shapes, which
//! use the same three formats.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tandem_protocol::input::{CursorShape, MAX_CURSOR_SIDE};

/// The pixel formats of a cursor image (the DXGI_OUTDUPL_POINTER_SHAPE_TYPE
/// values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// 1 bpp: an AND mask over an XOR mask, `height` is twice the image.
    Monochrome,
    /// 32 bpp BGRA with alpha.
    Color,
    /// 32 bpp BGR where alpha 0xff means "XOR with the screen".
    MaskedColor,
}

/// Converts one cursor image. Inverting pixels (which a browser cannot
/// draw) become opaque black, so the cursor stays visible on white.
pub fn to_rgba(format: Format, bits: &[u8], width: u32, height: u32, pitch: u32) -> Vec<u8> {
    let mut rgba = Vec::with_capacity(width as usize * height as usize * 4);
    for y in 0..height as usize {
        for x in 0..width as usize {
            let px = match format {
                Format::Monochrome => {
                    let bit = |row: usize| {
                        bits.get(row * pitch as usize + x / 8)
                            .is_some_and(|b| b & (0x80 >> (x % 8)) != 0)
                    };
                    match (bit(y), bit(y + height as usize)) {
                        (false, false) => [0, 0, 0, 255],
                        (false, true) => [255, 255, 255, 255],
                        (true, false) => [0, 0, 0, 0],
                        (true, true) => [0, 0, 0, 255],
                    }
                }
                Format::Color | Format::MaskedColor => {
                    let at = y * pitch as usize + x * 4;
                    let Some(p) = bits.get(at..at + 4) else {
                        return rgba;
                    };
                    match format {
                        Format::Color => [p[2], p[1], p[0], p[3]],
                        // Mask bit set: XOR with the screen; a black XOR
                        // changes nothing, anything else shows as opaque.
                        _ if p[3] == 0xff && p[..3] == [0, 0, 0] => [0, 0, 0, 0],
                        _ => [p[2], p[1], p[0], 255],
                    }
                }
            };
            rgba.extend_from_slice(&px);
        }
    }
    rgba
}

/// A shape message, or `None` when the image is empty or too big.
pub fn shape(
    serial: u32,
    width: u32,
    height: u32,
    hot: (u32, u32),
    rgba: &[u8],
) -> Option<CursorShape> {
    if width == 0 || height == 0 || width > MAX_CURSOR_SIDE || height > MAX_CURSOR_SIDE {
        return None;
    }
    Some(CursorShape {
        serial,
        width,
        height,
        hot_x: hot.0.min(width - 1),
        hot_y: hot.1.min(height - 1),
        rgba: STANDARD.encode(rgba),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monochrome_masks_become_black_white_and_clear() {
        // 2×1: AND row then XOR row, one byte each.
        let bits = [0b0100_0000, 0b1100_0000];
        let rgba = to_rgba(Format::Monochrome, &bits, 2, 1, 1);
        assert_eq!(rgba, [255, 255, 255, 255, 0, 0, 0, 255]);
        let bits = [0b1000_0000, 0b0000_0000];
        assert_eq!(to_rgba(Format::Monochrome, &bits, 1, 1, 1), [0, 0, 0, 0]);
    }

    #[test]
    fn colour_cursors_swap_to_rgba() {
        let bits = [10, 20, 30, 128];
        assert_eq!(to_rgba(Format::Color, &bits, 1, 1, 4), [30, 20, 10, 128]);
        assert_eq!(
            to_rgba(Format::MaskedColor, &[0, 0, 0, 255], 1, 1, 4),
            [0, 0, 0, 0]
        );
        assert!(shape(1, 129, 1, (0, 0), &[]).is_none());
    }
}
