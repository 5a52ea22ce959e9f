//! One pass's changes, split by where they go. The changed blocks form
//! separate areas (touching blocks, diagonals included, are one area).
//! Small areas go as tiles and large ones into the video, so a clock that
//! ticks while a page scrolls stays exact and does not wait for the video
//! encoder. It also never flips between tile and video with each tick:
//! at such a flip the console shows the old tile over the new video for
//! one frame, until it learns that the frame is on screen.

use super::{MAX_TILE_RECTS, TILE_SHARE, area};
use crate::capture::Rect;
use crate::media::changes::BLOCK;

/// At most this many separate areas go as tiles in one pass.
pub const MAX_TILE_AREAS: usize = 16;
/// A pass with more changed rectangles than this is not split: all of it
/// goes into the video (it bounds the work of finding the areas).
pub const MAX_SPLIT_RECTS: usize = 2048;

/// One pass's changes, by where they go.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Split {
    /// Small separate areas (a ticking clock, a typed character), one
    /// entry each: as tiles.
    pub tiles: Vec<Vec<Rect>>,
    /// The rest (a scrolled page, a playing video): into the video.
    pub video: Vec<Rect>,
}

impl Split {
    /// Everything into the video.
    pub fn all_video(damage: &[Rect]) -> Split {
        Split {
            tiles: Vec::new(),
            video: damage.to_vec(),
        }
    }
}

/// The blocks a rectangle touches: first and last column, first and last
/// row.
fn block_span(rect: &Rect) -> (u32, u32, u32, u32) {
    (
        rect.x / BLOCK,
        (rect.x + rect.width - 1) / BLOCK,
        rect.y / BLOCK,
        (rect.y + rect.height - 1) / BLOCK,
    )
}

/// Whether two rectangles touch at block level (diagonals included).
fn touch(a: (u32, u32, u32, u32), b: (u32, u32, u32, u32)) -> bool {
    a.0 <= b.1 + 1 && b.0 <= a.1 + 1 && a.2 <= b.3 + 1 && b.2 <= a.3 + 1
}

fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Splits `damage` (a pass's changed rectangles on a `screen`): areas go
/// as tiles, smallest first, while together they cover at most
/// 1/[`TILE_SHARE`] of the screen in at most [`MAX_TILE_RECTS`]
/// rectangles and [`MAX_TILE_AREAS`] areas. A pass that is small as a
/// whole goes entirely as tiles.
pub fn split(damage: &[Rect], screen: (u32, u32)) -> Split {
    let mut rects: Vec<Rect> = damage
        .iter()
        .filter(|r| r.width > 0 && r.height > 0)
        .copied()
        .collect();
    if rects.is_empty() || rects.len() > MAX_SPLIT_RECTS {
        return Split::all_video(&rects);
    }
    // By first block row: a rectangle can only touch those that start at
    // most one row below its last.
    rects.sort_by_key(|r| (r.y / BLOCK, r.x));
    let spans: Vec<_> = rects.iter().map(block_span).collect();
    let mut parent: Vec<usize> = (0..rects.len()).collect();
    for i in 0..rects.len() {
        for j in i + 1..rects.len() {
            if spans[j].2 > spans[i].3 + 1 {
                break;
            }
            if touch(spans[i], spans[j]) {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a] = b;
            }
        }
    }
    let mut areas: Vec<(usize, Vec<Rect>)> = Vec::new();
    let mut index_of_root = vec![usize::MAX; rects.len()];
    for (i, rect) in rects.iter().enumerate() {
        let r = root(&mut parent, i);
        if index_of_root[r] == usize::MAX {
            index_of_root[r] = areas.len();
            areas.push((r, Vec::new()));
        }
        areas[index_of_root[r]].1.push(*rect);
    }
    let mut areas: Vec<(u64, Vec<Rect>)> = areas
        .into_iter()
        .map(|(_, rs)| (rs.iter().map(area).sum(), rs))
        .collect();
    areas.sort_by_key(|(size, _)| *size);
    let budget = u64::from(screen.0) * u64::from(screen.1) / TILE_SHARE;
    let (mut spent, mut count) = (0u64, 0usize);
    let mut out = Split::default();
    for (size, area_rects) in areas {
        let fits = spent + size <= budget
            && count + area_rects.len() <= MAX_TILE_RECTS
            && out.tiles.len() < MAX_TILE_AREAS;
        if fits {
            spent += size;
            count += area_rects.len();
            out.tiles.push(area_rects);
        } else {
            out.video.extend(area_rects);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SCREEN: (u32, u32) = (1920, 1080);

    fn rect(x: u32, y: u32, width: u32, height: u32) -> Rect {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    /// A region as the change finder reports it: one rectangle per block
    /// row.
    fn rows(x: u32, y: u32, width: u32, height: u32) -> Vec<Rect> {
        let mut out = Vec::new();
        let mut top = y;
        while top < y + height {
            let bottom = ((top / BLOCK + 1) * BLOCK).min(y + height);
            out.push(rect(x, top, width, bottom - top));
            top = bottom;
        }
        out
    }

    #[test]
    fn small_changes_go_as_tiles_and_large_ones_as_video() {
        // The bench's clock strip, a typed character: tiles.
        let clock = rect(0, 0, 624, 24);
        assert_eq!(split(&[clock], SCREEN).tiles, vec![vec![clock]]);
        let both = split(&[rect(100, 300, 9, 17), clock], SCREEN);
        assert!(both.video.is_empty());
        assert_eq!(both.tiles.len(), 2);
        // A 640×360 video, a scrolled page: video.
        let noise = rows(0, 64, 640, 360);
        assert_eq!(split(&noise, SCREEN), Split::all_video(&noise));
        assert_eq!(split(&[], SCREEN), Split::default());
        // Exactly 1/16 of the screen still goes as tiles; many small
        // rectangles in one area do not.
        assert!(split(&rows(0, 0, 480, 270), SCREEN).video.is_empty());
        let many: Vec<Rect> = (0..65).map(|i| rect(i * 4, 0, 2, 2)).collect();
        assert_eq!(split(&many, SCREEN).video.len(), 65);
    }

    #[test]
    fn a_clock_beside_a_scrolling_page_stays_a_tile() {
        let clock = rect(0, 0, 624, 24);
        let page = rows(40, 80, 960, 480);
        let noise = rows(1200, 600, 640, 360);
        let mut damage = vec![clock];
        damage.extend(page.iter().chain(&noise));
        let out = split(&damage, SCREEN);
        assert_eq!(out.tiles, vec![vec![clock]]);
        assert_eq!(out.video.len(), page.len() + noise.len());
        // Touching the page (diagonals count), the clock is part of it.
        let touching = rect(1000, 32, 64, 24);
        let mut damage = vec![touching];
        damage.extend(page.iter().copied());
        assert!(split(&damage, SCREEN).tiles.is_empty());
    }

    fn arb_rect() -> impl Strategy<Value = Rect> {
        (0u32..480, 0u32..270).prop_flat_map(|(x, y)| {
            (
                Just(x),
                Just(y),
                1..=(480 - x).min(200),
                1..=(270 - y).min(100),
            )
                .prop_map(|(x, y, w, h)| rect(x, y, w, h))
        })
    }

    proptest! {
        /// Every change goes exactly one way; the tiles keep their bounds;
        /// and no tile touches the video's areas.
        #[test]
        fn a_split_keeps_every_change_and_its_bounds(
            damage in proptest::collection::vec(arb_rect(), 0..80),
        ) {
            let screen = (480u32, 270u32);
            let out = split(&damage, screen);
            let mut all: Vec<Rect> = out.tiles.iter().flatten().chain(&out.video).copied().collect();
            let mut expected = damage.clone();
            let key = |r: &Rect| (r.x, r.y, r.width, r.height);
            all.sort_by_key(key);
            expected.sort_by_key(key);
            prop_assert_eq!(all, expected);
            let tiles: Vec<&Rect> = out.tiles.iter().flatten().collect();
            let spent: u64 = tiles.iter().map(|r| area(r)).sum();
            prop_assert!(spent <= u64::from(screen.0 * screen.1) / TILE_SHARE);
            prop_assert!(tiles.len() <= MAX_TILE_RECTS);
            prop_assert!(out.tiles.len() <= MAX_TILE_AREAS);
            for t in &tiles {
                for v in &out.video {
                    prop_assert!(!touch(block_span(t), block_span(v)), "{:?} touches {:?}", t, v);
                }
            }
            // A pass that is small as a whole goes entirely as tiles.
            let total: u64 = damage.iter().map(area).sum();
            if total <= u64::from(screen.0 * screen.1) / TILE_SHARE && damage.len() <= MAX_TILE_AREAS {
                prop_assert!(out.video.is_empty());
            }
        }
    }
}
