//! The pixel coding of tiles: the operations of QOI (the "Quite OK Image"
//! format, qoiformat.org) without its header and end marker, for opaque
//! RGB. It is lossless, codes a tile in one pass of a few nanoseconds a
//! pixel on either side, and runs of one colour (a text page's
//! background) cost a byte per 62 pixels. Unlike PNG in a browser, which
//! decodes asynchronously and showed tiles about 15 ms after they
//! arrived, the console decodes it synchronously and draws at once.
//!
//! Decoding is bounded: it fills exactly the number of pixels asked for
//! and refuses a stream that is short, long or malformed.

/// A colour, and the hash QOI files it under.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Px([u8; 3]);

impl Px {
    fn hash(self) -> usize {
        let [r, g, b] = self.0;
        (usize::from(r) * 3 + usize::from(g) * 5 + usize::from(b) * 7 + 255 * 11) % 64
    }
}

const OP_INDEX: u8 = 0x00;
const OP_DIFF: u8 = 0x40;
const OP_LUMA: u8 = 0x80;
const OP_RUN: u8 = 0xc0;
const OP_RGB: u8 = 0xfe;
const MASK: u8 = 0xc0;

/// Codes pixels given as (r, g, b) triples.
pub fn encode(rgb: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rgb.len() / 4 + 16);
    let mut index = [Px([0, 0, 0]); 64];
    let mut prev = Px([0, 0, 0]);
    let mut run = 0u8;
    for chunk in rgb.chunks_exact(3) {
        let px = Px([chunk[0], chunk[1], chunk[2]]);
        if px == prev {
            run += 1;
            if run == 62 {
                out.push(OP_RUN | (run - 1));
                run = 0;
            }
            continue;
        }
        if run > 0 {
            out.push(OP_RUN | (run - 1));
            run = 0;
        }
        let slot = px.hash();
        if index[slot] == px {
            out.push(OP_INDEX | slot as u8);
        } else {
            index[slot] = px;
            let [dr, dg, db] = [0, 1, 2].map(|i| px.0[i].wrapping_sub(prev.0[i]) as i8);
            let (dr_dg, db_dg) = (dr.wrapping_sub(dg), db.wrapping_sub(dg));
            if (-2..2).contains(&dr) && (-2..2).contains(&dg) && (-2..2).contains(&db) {
                out.push(
                    OP_DIFF | (((dr + 2) as u8) << 4) | (((dg + 2) as u8) << 2) | (db + 2) as u8,
                );
            } else if (-32..32).contains(&dg)
                && (-8..8).contains(&dr_dg)
                && (-8..8).contains(&db_dg)
            {
                out.push(OP_LUMA | (dg + 32) as u8);
                out.push((((dr_dg + 8) as u8) << 4) | (db_dg + 8) as u8);
            } else {
                out.extend_from_slice(&[OP_RGB, px.0[0], px.0[1], px.0[2]]);
            }
        }
        prev = px;
    }
    if run > 0 {
        out.push(OP_RUN | (run - 1));
    }
    out
}

/// Decodes exactly `pixels` pixels into RGBA (alpha 255); `None` if the
/// stream is malformed, too short, or longer than that.
pub fn decode_rgba(data: &[u8], pixels: usize) -> Option<Vec<u8>> {
    // No operation makes more than 62 pixels: refuse before allocating.
    if pixels > data.len().saturating_mul(62) {
        return None;
    }
    let mut out = Vec::with_capacity(pixels.checked_mul(4)?);
    let mut index = [Px([0, 0, 0]); 64];
    let mut prev = Px([0, 0, 0]);
    let mut at = 0;
    let mut left = pixels;
    let push = |out: &mut Vec<u8>, px: Px, times: usize| {
        for _ in 0..times {
            out.extend_from_slice(&[px.0[0], px.0[1], px.0[2], 255]);
        }
    };
    while left > 0 {
        let op = *data.get(at)?;
        at += 1;
        let (px, times) = if op == OP_RGB {
            let b = data.get(at..at + 3)?;
            at += 3;
            (Px([b[0], b[1], b[2]]), 1)
        } else {
            match op & MASK {
                OP_INDEX => (index[usize::from(op)], 1),
                OP_DIFF => {
                    let d = |shift: u8| ((op >> shift) & 3).wrapping_sub(2);
                    let [r, g, b] = prev.0;
                    (
                        Px([
                            r.wrapping_add(d(4)),
                            g.wrapping_add(d(2)),
                            b.wrapping_add(d(0)),
                        ]),
                        1,
                    )
                }
                OP_LUMA => {
                    let second = *data.get(at)?;
                    at += 1;
                    let dg = (op & 0x3f).wrapping_sub(32);
                    let dr = dg.wrapping_add(second >> 4).wrapping_sub(8);
                    let db = dg.wrapping_add(second & 0x0f).wrapping_sub(8);
                    let [r, g, b] = prev.0;
                    (
                        Px([r.wrapping_add(dr), g.wrapping_add(dg), b.wrapping_add(db)]),
                        1,
                    )
                }
                // A run; 0xfe and 0xff (RGBA, not used for opaque tiles)
                // are not runs.
                _ if op == 0xff => return None,
                _ => (prev, usize::from(op & 0x3f) + 1),
            }
        };
        if times > left {
            return None;
        }
        push(&mut out, px, times);
        left -= times;
        index[px.hash()] = px;
        prev = px;
    }
    (at == data.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgba(rgb: &[u8]) -> Vec<u8> {
        rgb.chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect()
    }

    #[test]
    fn pixels_round_trip_exactly() {
        // Runs, small and larger differences, repeats from the index and
        // arbitrary colours.
        let mut rgb = Vec::new();
        for i in 0..5000u32 {
            let v = match i % 7 {
                0 | 1 => [255, 255, 255],
                2 => [(i % 251) as u8, (i * 7 % 253) as u8, (i * 13 % 255) as u8],
                3 => [0, 0, 0],
                4 => [1, 0, 255],
                5 => [40, 60, 50],
                _ => [41, 61, 49],
            };
            rgb.extend_from_slice(&v);
        }
        rgb.extend(std::iter::repeat_n(7, 3 * 200));
        let coded = encode(&rgb);
        assert_eq!(decode_rgba(&coded, rgb.len() / 3), Some(rgba(&rgb)));
    }

    #[test]
    fn a_page_background_costs_a_byte_per_62_pixels() {
        let white = vec![255u8; 3 * 62 * 100];
        let coded = encode(&white);
        assert!(coded.len() <= 105, "{}", coded.len());
        assert_eq!(decode_rgba(&coded, 6200), Some(rgba(&white)));
    }

    #[test]
    fn short_long_and_malformed_streams_are_refused() {
        let coded = encode(&[10, 20, 30, 10, 20, 30, 200, 0, 9]);
        assert!(decode_rgba(&coded, 3).is_some());
        assert!(decode_rgba(&coded, 4).is_none(), "too short");
        assert!(decode_rgba(&coded, 2).is_none(), "too long");
        assert!(decode_rgba(&[0xff, 1, 2, 3, 4], 1).is_none(), "RGBA op");
        assert!(decode_rgba(&[OP_RGB, 1], 1).is_none(), "cut short");
        // A run longer than the pixels left.
        assert!(decode_rgba(&[OP_RUN | 61], 10).is_none());
        assert!(decode_rgba(&[], usize::MAX).is_none());
    }
}
