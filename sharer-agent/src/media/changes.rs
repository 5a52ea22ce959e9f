//! What really changed. A capturer's damage says where something was
//! drawn, not that a pixel differs: a browser repaints a whole layer for
//! one typed character, a toolkit redraws a window with the same pixels.
//! [`ChangeFinder`] keeps a copy of the last frame and narrows the damage
//! to the [`BLOCK`]-pixel blocks that differ, so a small change stays
//! small (and goes as tiles) and an unchanged repaint sends nothing. The
//! cost is a comparison of the damaged area, which stops at the first
//! differing row of a changed block.

use crate::capture::{Frame, Rect};

/// The side of the blocks compared.
pub const BLOCK: u32 = 32;

/// The last frame as sent, to compare the next one with.
#[derive(Debug)]
pub struct ChangeFinder {
    previous: Frame,
}

impl Default for ChangeFinder {
    fn default() -> Self {
        Self {
            previous: Frame::new(0, 0),
        }
    }
}

impl ChangeFinder {
    /// The parts of `damage` where `frame` differs from the last frame,
    /// as rectangles (changed blocks joined along each block row, clipped
    /// to the damage); the copy is brought up to date. A new frame size
    /// counts as a change of everything.
    pub fn changed(&mut self, frame: &Frame, damage: &[Rect]) -> Vec<Rect> {
        if self.previous.width != frame.width || self.previous.height != frame.height {
            self.previous = frame.clone();
            return if frame.width > 0 && frame.height > 0 {
                vec![frame.bounds()]
            } else {
                Vec::new()
            };
        }
        let mut out = Vec::new();
        for rect in damage {
            let Some(rect) = clip(rect, frame) else {
                continue;
            };
            let mut by = rect.y - rect.y % BLOCK;
            while by < rect.y + rect.height {
                let top = by.max(rect.y);
                let bottom = (by + BLOCK).min(rect.y + rect.height);
                let mut run: Option<Rect> = None;
                let mut bx = rect.x - rect.x % BLOCK;
                while bx < rect.x + rect.width {
                    let left = bx.max(rect.x);
                    let right = (bx + BLOCK).min(rect.x + rect.width);
                    let block = Rect {
                        x: left,
                        y: top,
                        width: right - left,
                        height: bottom - top,
                    };
                    if self.differs_and_copy(frame, &block) {
                        run = Some(match run {
                            Some(r) => Rect {
                                width: right - r.x,
                                ..r
                            },
                            None => block,
                        });
                    } else if let Some(r) = run.take() {
                        out.push(r);
                    }
                    bx += BLOCK;
                }
                out.extend(run);
                by += BLOCK;
            }
        }
        out
    }

    /// Whether `block` differs from the copy; if so, copies it over.
    fn differs_and_copy(&mut self, frame: &Frame, block: &Rect) -> bool {
        let stride = frame.width as usize * 4;
        let row_bytes = block.width as usize * 4;
        let start = |y: u32| y as usize * stride + block.x as usize * 4;
        let differs = (block.y..block.y + block.height).any(|y| {
            let at = start(y);
            frame.bgrx.get(at..at + row_bytes) != self.previous.bgrx.get(at..at + row_bytes)
        });
        if differs {
            for y in block.y..block.y + block.height {
                let at = start(y);
                if let (Some(from), Some(to)) = (
                    frame.bgrx.get(at..at + row_bytes),
                    self.previous.bgrx.get_mut(at..at + row_bytes),
                ) {
                    to.copy_from_slice(from);
                }
            }
        }
        differs
    }
}

/// `rect` cut to the frame; `None` if nothing is left.
fn clip(rect: &Rect, frame: &Frame) -> Option<Rect> {
    let x = rect.x.min(frame.width);
    let y = rect.y.min(frame.height);
    let width = rect.width.min(frame.width - x);
    let height = rect.height.min(frame.height - y);
    (width > 0 && height > 0).then_some(Rect {
        x,
        y,
        width,
        height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_repaint_with_the_same_pixels_is_no_change() {
        let mut finder = ChangeFinder::default();
        let mut frame = Frame::new(200, 100);
        assert_eq!(finder.changed(&frame, &[]), vec![frame.bounds()]);
        // Damage over everything, nothing different: nothing changed.
        assert!(finder.changed(&frame, &[frame.bounds()]).is_empty());
        // One pixel: its block, clipped to the damage.
        frame.bgrx[(50 * 200 + 70) * 4] = 9;
        let damage = Rect {
            x: 60,
            y: 40,
            width: 100,
            height: 20,
        };
        assert_eq!(
            finder.changed(&frame, &[damage]),
            vec![Rect {
                x: 64,
                y: 40,
                width: 32,
                height: 20
            }]
        );
        assert!(finder.changed(&frame, &[damage]).is_empty());
    }

    proptest! {
        /// Every pixel that differs inside the damage is inside an
        /// answered rectangle, every answered rectangle is inside the
        /// damage, and afterwards the copy equals the frame there.
        #[test]
        fn every_changed_pixel_is_found(
            changes in proptest::collection::vec((0u32..96, 0u32..64, 1u8..=255), 0..40),
            damage in proptest::collection::vec((0u32..96, 0u32..64, 1u32..96, 1u32..64), 1..4),
        ) {
            let mut finder = ChangeFinder::default();
            let mut frame = Frame::new(96, 64);
            finder.changed(&frame, &[]);
            for (x, y, v) in &changes {
                frame.bgrx[((y * 96 + x) * 4) as usize] = *v;
            }
            let damage: Vec<Rect> = damage
                .into_iter()
                .map(|(x, y, w, h)| Rect { x, y, width: w, height: h })
                .collect();
            let found = finder.changed(&frame, &damage);
            let inside = |r: &Rect, x: u32, y: u32| x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
            for (x, y, _) in &changes {
                if damage.iter().any(|d| inside(d, *x, *y)) {
                    prop_assert!(found.iter().any(|r| inside(r, *x, *y)), "({}, {}) missed", x, y);
                }
            }
            for r in &found {
                prop_assert!(damage.iter().any(|d| d.x <= r.x && d.y <= r.y
                    && d.x + d.width >= r.x + r.width && d.y + d.height >= r.y + r.height));
            }
            prop_assert!(finder.changed(&frame, &damage).is_empty());
        }
    }
}
