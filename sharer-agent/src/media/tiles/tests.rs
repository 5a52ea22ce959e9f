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

#[test]
fn named_regions_keep_clear_of_the_same_pass_tiles() {
    let (a, b) = (rect(0, 0, 32, 32), rect(64, 0, 32, 32));
    let (far, farther) = (rect(0, 512, 32, 32), rect(640, 512, 32, 32));
    let tile = rect(32, 0, 32, 32);
    // Cheapest is to join the two around the tile, which would remove it.
    let plain = merge_to(vec![a, b, far, farther], 3);
    assert!(plain.iter().any(|r| intersects(r, &tile)));
    let named = merge_avoiding(vec![a, b, far, farther], 3, &[tile]);
    assert_eq!(named.len(), 3);
    assert!(!named.iter().any(|r| intersects(r, &tile)));
    // Only when nothing else is left.
    let forced = merge_avoiding(vec![a, b], 1, &[tile]);
    assert_eq!(forced, vec![rect(0, 0, 96, 32)]);
    // Whatever is named is lossy afterwards, tiles or not: the console
    // removes the tiles there.
    let mut planner = TilePlanner::default();
    let t0 = Instant::now();
    let named = planner.sent_as_video(&[a, b], &[], SCREEN, t0);
    assert_eq!(named.len(), 2);
    // Many scattered changes (joined by rows first, to bound the work).
    let damage: Vec<Rect> = (0..200)
        .map(|i| rect(i % 40 * 48, 640 + i / 40 * 64, 16, 16))
        .collect();
    let named = planner.sent_as_video(&damage, &[], SCREEN, t0);
    assert!(named.len() <= MAX_VIDEO_RECTS);
    for d in &damage {
        assert!(named.iter().any(|n| n.x <= d.x
            && n.y <= d.y
            && n.x + n.width >= d.x + d.width
            && n.y + n.height >= d.y + d.height));
    }
    let mut mask = vec![false; 1920 * 1080];
    for pass in 0..16 {
        let resent = planner.settled(SCREEN, t0 + SETTLE + Duration::from_millis(pass));
        paint(&mut mask, SCREEN, &resent);
    }
    assert!(!planner.has_lossy());
    for n in &named {
        for y in n.y..n.y + n.height {
            for x in n.x..n.x + n.width {
                assert!(
                    mask[(y * 1920 + x) as usize],
                    "({x}, {y}) named but never re-sent"
                );
            }
        }
    }
}

/// Marks the pixels of `rects` in a `screen`-sized mask.
fn paint(mask: &mut [bool], screen: (u32, u32), rects: &[Rect]) {
    for r in rects {
        for y in r.y..(r.y + r.height).min(screen.1) {
            for x in r.x..(r.x + r.width).min(screen.0) {
                mask[(y * screen.0 + x) as usize] = true;
            }
        }
    }
}

#[test]
fn video_regions_are_re_sent_once_quiet_and_spread_over_passes() {
    let t0 = Instant::now();
    let ms = |n: u64| t0 + Duration::from_millis(n);
    let mut planner = TilePlanner::default();
    let page = rect(0, 100, 1920, 900);
    let named = planner.sent_as_video(&[page], &[], SCREEN, ms(0));
    assert_eq!(named, vec![page]);
    // Not yet quiet.
    assert!(planner.settled(SCREEN, ms(50)).is_empty());
    // A clock at the top-left keeps ticking from 60 ms on: only its own
    // blocks stay unsettled, the page around it settles.
    let clock = rect(0, 100, 624, 24);
    planner.changed(&[clock], SCREEN, ms(60));
    assert!(planner.settled(SCREEN, ms(99)).is_empty());
    let mut resent = vec![false; (SCREEN.0 * SCREEN.1) as usize];
    let mut passes = 0;
    let mut at = 100;
    while planner.has_lossy() && passes < 40 {
        planner.changed(&[clock], SCREEN, ms(at));
        let out = planner.settled(SCREEN, ms(at));
        let sent: u64 = out.iter().map(area).sum();
        // An eighth of the screen per pass at most.
        assert!(
            sent <= u64::from(SCREEN.0 * SCREEN.1) / SETTLE_SHARE,
            "{sent}"
        );
        for r in &out {
            assert!(
                !super::intersects(r, &clock),
                "the ticking clock was re-sent: {r:?}"
            );
        }
        paint(&mut resent, SCREEN, &out);
        passes += 1;
        at += 16;
    }
    // Everything but the clock's blocks was re-sent, over several passes.
    assert!(passes >= 8, "{passes} passes");
    for y in [200, 500, 999] {
        for x in [0, 700, 1919] {
            assert!(
                resent[(y * SCREEN.0 + x) as usize],
                "({x}, {y}) never re-sent"
            );
        }
    }
    assert!(!resent[(100 * SCREEN.0 + 10) as usize]);
    // Once the clock stops, its blocks follow.
    let last = planner.settled(SCREEN, ms(at + 200));
    assert!(
        last.iter().any(|r| super::intersects(r, &clock)),
        "{last:?}"
    );
}

#[test]
fn tiles_decode_to_the_exact_pixels_and_large_ones_are_split() {
    let (w, h) = (320u32, 240u32);
    let mut frame = Frame::new(w, h);
    // Noise: incompressible, so a large tile must be split.
    let mut seed = 0x1234_5678u32;
    for px in frame.bgrx.chunks_exact_mut(4) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        px.copy_from_slice(&seed.to_le_bytes());
    }
    let whole = rect(3, 5, 301, 201);
    let Ok(Some(messages)) = encode_tiles(&frame, &whole, false) else {
        panic!("no tiles");
    };
    assert!(
        messages.len() > 1,
        "noise of 301×201 does not fit one message"
    );
    let mut covered = vec![0u8; (w * h) as usize];
    for message in &messages {
        assert!(message.len() <= MAX_TILE_MESSAGE_BYTES);
        let Ok(tile) = TileMessage::parse(message) else {
            panic!("not a tile message");
        };
        let TileMessage::Tile { screen, rect, .. } = tile.clone() else {
            panic!("not a tile");
        };
        assert_eq!(screen, (320, 240));
        let Some(pixels) = tile.rgba() else {
            panic!("the pixels do not decode");
        };
        for dy in 0..u32::from(rect.height) {
            for dx in 0..u32::from(rect.width) {
                let (x, y) = (u32::from(rect.x) + dx, u32::from(rect.y) + dy);
                let at = ((dy * u32::from(rect.width) + dx) * 4) as usize;
                let got = (pixels[at], pixels[at + 1], pixels[at + 2]);
                assert_eq!(Some(got), frame.rgb(x, y), "({x}, {y})");
                covered[(y * w + x) as usize] += 1;
            }
        }
    }
    // Every pixel of the region exactly once, nothing outside it.
    for y in 0..h {
        for x in 0..w {
            let inside = (3..304).contains(&x) && (5..206).contains(&y);
            assert_eq!(covered[(y * w + x) as usize], u8::from(inside));
        }
    }
    // A photograph is left to the video when asked.
    assert!(matches!(encode_tiles(&frame, &whole, true), Ok(None)));
    // Outside the screen: an error, not a panic.
    assert!(encode_tiles(&frame, &rect(300, 0, 21, 1), false).is_err());
}

#[test]
fn text_like_regions_are_kept_for_a_lossless_re_send() {
    let mut frame = Frame::new(640, 480);
    for (i, px) in frame.bgrx.chunks_exact_mut(4).enumerate() {
        let on = (i % 640) % 7 == 0 || (i / 640) % 11 == 0;
        px.copy_from_slice(if on {
            &[0, 0, 0, 0]
        } else {
            &[255, 255, 255, 0]
        });
    }
    let region = rect(0, 0, 640, 480);
    let Ok(Some(messages)) = encode_tiles(&frame, &region, true) else {
        panic!("text was taken for a photograph");
    };
    // A grid of lines every 7 and 11 pixels: well under a quarter of its
    // 3 bytes a pixel.
    let bytes: usize = messages.iter().map(Vec::len).sum();
    assert!(bytes < 640 * 480 * 3 / 4, "{bytes} bytes");
}

fn arb_rect() -> impl Strategy<Value = Rect> {
    (0u32..60, 0u32..44).prop_flat_map(|(x, y)| {
        (Just(x), Just(y), 1..=64 - x, 1..=48 - y).prop_map(|(x, y, w, h)| rect(x, y, w, h))
    })
}

proptest! {
    /// Whatever the video carried is re-sent, every pixel of it, once
    /// quiet; and no pass re-sends more than its share of the screen.
    #[test]
    fn every_lossy_pixel_is_re_sent_within_the_budget(
        frames in proptest::collection::vec(proptest::collection::vec(arb_rect(), 0..6), 1..30),
    ) {
        let screen = (64u32, 48u32);
        let t0 = Instant::now();
        let mut planner = TilePlanner::default();
        let mut lossy = vec![false; 64 * 48];
        let mut resent = vec![false; 64 * 48];
        for (i, damage) in frames.iter().enumerate() {
            let named = planner.sent_as_video(damage, &[], screen, t0 + Duration::from_millis(i as u64));
            prop_assert!(named.len() <= MAX_VIDEO_RECTS);
            for d in damage {
                // Every changed pixel is named for the frame.
                for y in d.y..d.y + d.height {
                    for x in d.x..d.x + d.width {
                        lossy[(y * 64 + x) as usize] = true;
                        prop_assert!(named.iter().any(|n| intersects(n, &rect(x, y, 1, 1))));
                    }
                }
            }
        }
        let mut later = t0 + Duration::from_secs(1);
        let block = u64::from(SETTLE_BLOCK * SETTLE_BLOCK);
        for _ in 0..64 {
            let out = planner.settled(screen, later);
            let sent: u64 = out.iter().map(area).sum();
            prop_assert!(sent <= (64 * 48 / SETTLE_SHARE).max(block));
            paint(&mut resent, screen, &out);
            later += Duration::from_millis(16);
        }
        prop_assert!(!planner.has_lossy());
        for i in 0..64 * 48 {
            prop_assert!(!lossy[i] || resent[i], "pixel {} never re-sent", i);
        }
    }

    #[test]
    fn merging_keeps_every_pixel_and_the_bound(
        rects in proptest::collection::vec(arb_rect(), 0..40),
        max in 1usize..8,
    ) {
        let merged = merge_to(rects.clone(), max);
        prop_assert!(merged.len() <= max);
        for r in &rects {
            prop_assert!(merged.iter().any(|m| m.x <= r.x && m.y <= r.y
                && m.x + m.width >= r.x + r.width && m.y + m.height >= r.y + r.height));
        }
    }
}
