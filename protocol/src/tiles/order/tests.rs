use super::*;
use proptest::prelude::*;

const SCREEN: (u16, u16) = (80, 40);

fn rect(x: u16, y: u16, width: u16, height: u16) -> TileRect {
    TileRect {
        x,
        y,
        width,
        height,
    }
}

fn n(seq: u32) -> NonZeroU32 {
    NonZeroU32::new(seq).unwrap()
}

/// A canvas of tile ids (`None`: transparent, the video shows).
#[derive(Clone, PartialEq, Eq)]
struct Canvas {
    size: (u16, u16),
    cells: Vec<Option<u64>>,
}

impl std::fmt::Debug for Canvas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for row in self.cells.chunks(usize::from(self.size.0)) {
            let line: String = row
                .iter()
                .map(|c| c.map_or('.', |id| char::from(b'a' + (id % 26) as u8)))
                .collect();
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

impl Canvas {
    fn new(size: (u16, u16)) -> Self {
        Self {
            size,
            cells: vec![None; usize::from(size.0) * usize::from(size.1)],
        }
    }

    fn fill(&mut self, area: &TileRect, value: Option<u64>) {
        for y in area.y..area.y + area.height {
            for x in area.x..area.x + area.width {
                self.cells[usize::from(y) * usize::from(self.size.0) + usize::from(x)] = value;
            }
        }
    }

    fn paint(&mut self, paints: Vec<Paint<u64>>) {
        for paint in paints {
            match paint {
                Paint::Resize(size) => *self = Canvas::new(size),
                Paint::Put {
                    rect,
                    image,
                    within,
                } => {
                    let part = rect.intersection(&within).unwrap();
                    self.fill(&part, Some(image));
                }
                Paint::Clear(area) => self.fill(&area, None),
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Sent {
    Tile(TileRect),
    Video(u32, Vec<TileRect>),
}

fn any_rect() -> impl Strategy<Value = TileRect> {
    (0..SCREEN.0, 0..SCREEN.1, 1..40u16, 1..20u16)
        .prop_map(|(x, y, w, h)| rect(x, y, w.min(SCREEN.0 - x), h.min(SCREEN.1 - y)))
}

fn any_message() -> impl Strategy<Value = Sent> {
    prop_oneof![
        3 => any_rect().prop_map(Sent::Tile),
        1 => prop::collection::vec(any_rect(), 1..3).prop_map(|rects| Sent::Video(0, rects)),
    ]
}

/// What the canvas must show: in number order, every tile received and
/// every video message applied.
fn expected(sent: &[Sent], received: &[bool], applied: &[bool]) -> Canvas {
    let mut canvas = Canvas::new(SCREEN);
    for (i, message) in sent.iter().enumerate() {
        match message {
            Sent::Tile(area) if received[i] => canvas.fill(area, Some(i as u64 + 1)),
            Sent::Video(_, rects) if applied[i] => {
                for area in rects {
                    canvas.fill(area, None);
                }
            }
            _ => {}
        }
    }
    canvas
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Whatever order messages arrive in, and whenever frames are shown,
    /// every pixel shows the newest tile received or the video, as if
    /// they had come in order.
    #[test]
    fn any_arrival_order_paints_what_in_order_would(
        messages in prop::collection::vec(any_message(), 1..40),
        delays in prop::collection::vec(0..6usize, 40),
        shows in prop::collection::vec(any::<bool>(), 40),
    ) {
        // Video frames are numbered in the order they were sent.
        let mut sent = messages;
        let mut rtp = 0;
        for message in &mut sent {
            if let Sent::Video(at, _) = message {
                rtp += 3000;
                *at = rtp;
            }
        }
        let mut arrival: Vec<usize> = (0..sent.len()).collect();
        arrival.sort_by_key(|&i| i + delays[i]);
        let mut order = TileOrder::<u64>::default();
        let mut canvas = Canvas::new((0, 0));
        let mut received = vec![false; sent.len()];
        let mut shown = 0u32;
        for (step, &i) in arrival.iter().enumerate() {
            let seq = n(i as u32 + 1);
            let paints = match &sent[i] {
                Sent::Tile(area) => order.tile(seq, SCREEN, *area, i as u64 + 1, 4, 0.0),
                Sent::Video(rtp, rects) => order.video(seq, SCREEN, *rtp, rects.clone(), 0.0),
            };
            canvas.paint(paints);
            received[i] = true;
            // The video shows the next frame sent so far, whether or not
            // its message came.
            if shows[step] {
                let sent_so_far = arrival[..=step].iter().max().copied().unwrap_or(0);
                let next = sent[..=sent_so_far].iter().find_map(|m| match m {
                    Sent::Video(rtp, _) if *rtp > shown => Some(*rtp),
                    _ => None,
                });
                if let Some(rtp) = next {
                    shown = rtp;
                    canvas.paint(order.shown(rtp, 0.0));
                }
            }
            let applied: Vec<bool> = sent
                .iter()
                .zip(&received)
                .map(|(m, &r)| r && matches!(m, Sent::Video(rtp, _) if *rtp <= shown))
                .collect();
            prop_assert_eq!(&canvas, &expected(&sent, &received, &applied), "after {} arrivals", step + 1);
        }
        // Once every frame is shown, nothing is kept.
        canvas.paint(order.shown(rtp, 0.0));
        let all = vec![true; sent.len()];
        prop_assert_eq!(&canvas, &expected(&sent, &all, &all));
        prop_assert!(order.held.is_empty() && order.armed.is_empty());
        prop_assert_eq!(order.counts().dropped, 0);
    }
}

#[test]
fn a_late_tile_stays_under_a_newer_one_and_over_older_video() {
    let mut order = TileOrder::<u64>::default();
    let mut canvas = Canvas::new((0, 0));
    // 1: a tile; 2: a video frame over it; 4: a newer tile; 3 comes last.
    canvas.paint(order.tile(n(1), SCREEN, rect(0, 0, 10, 10), 1, 4, 0.0));
    canvas.paint(order.video(n(2), SCREEN, 100, vec![rect(0, 0, 10, 10)], 0.0));
    canvas.paint(order.shown(100, 0.0));
    canvas.paint(order.tile(n(4), SCREEN, rect(5, 0, 5, 5), 4, 4, 0.0));
    let paints = order.tile(n(3), SCREEN, rect(0, 0, 8, 8), 3, 4, 0.0);
    canvas.paint(paints);
    let at = |x: usize, y: usize| canvas.cells[y * 80 + x];
    assert_eq!(
        (at(0, 0), at(6, 1), at(7, 7), at(9, 9)),
        (Some(3), Some(4), Some(3), None)
    );
    assert_eq!(order.counts().late, 1);
    // In order now: nothing held.
    assert!(order.held.is_empty());
}

#[test]
fn repeated_and_older_screen_messages_are_dropped() {
    let mut order = TileOrder::<u64>::default();
    assert!(
        !order
            .tile(n(1), SCREEN, rect(0, 0, 1, 1), 1, 4, 0.0)
            .is_empty()
    );
    assert!(
        order
            .tile(n(1), SCREEN, rect(0, 0, 1, 1), 1, 4, 0.0)
            .is_empty()
    );
    // 3 opens a new screen size; 2, of the old one, comes after it.
    let resized = order.tile(n(3), (40, 40), rect(0, 0, 1, 1), 3, 4, 0.0);
    assert_eq!(resized.first(), Some(&Paint::Resize((40, 40))));
    assert!(
        order
            .tile(n(2), SCREEN, rect(0, 0, 1, 1), 2, 4, 0.0)
            .is_empty()
    );
    assert_eq!(order.screen(), (40, 40));
    assert_eq!(order.counts().dropped, 2);
    // Every number came: nothing is held for them.
    assert_eq!((order.contiguous, order.ahead.len()), (3, 0));
    // A malformed message's number is taken all the same.
    order.skip(n(4));
    assert_eq!((order.contiguous, order.counts().dropped), (4, 3));
    // A new connection numbers from 1 again.
    order.reset();
    assert!(
        !order
            .tile(n(1), (40, 40), rect(0, 0, 1, 1), 1, 4, 0.0)
            .is_empty()
    );
}

#[test]
fn numbers_wrap() {
    let mut order = TileOrder::<u64>::default();
    let mut seq = u32::MAX - 2;
    // Reach the top the way a long session would.
    order.highest = u64::from(seq) - 1;
    order.contiguous = u64::from(seq) - 1;
    order.floor = u64::from(seq) - 1;
    for _ in 0..5 {
        assert!(
            !order
                .tile(n(seq), SCREEN, rect(0, 0, 1, 1), 1, 4, 0.0)
                .is_empty()
        );
        seq = seq.wrapping_add(1).max(1);
    }
    // MAX − 2, MAX − 1, MAX, then 1 and 2 of the next round.
    assert_eq!(order.contiguous, u64::from(u32::MAX) + 3);
}

#[test]
fn a_gap_that_never_fills_is_bounded() {
    let mut order = TileOrder::<u64>::default();
    // Number 1 never comes; a tile of 1 KiB at each number after it.
    let last = MAX_HELD as u32 + 100;
    for seq in 2..=last {
        order.tile(n(seq), SCREEN, rect(0, 0, 1, 1), 0, 1024, 0.0);
        assert!(order.held.len() <= MAX_HELD);
    }
    assert!(order.floor >= 1 && order.ahead.len() < MAX_HELD);
    // When it comes after all, it is too late to paint.
    assert!(
        order
            .tile(n(1), SCREEN, rect(0, 0, 1, 1), 1, 4, 0.0)
            .is_empty()
    );
    assert_eq!(order.counts().dropped, 1);
    // Held bytes are bounded too.
    let mut order = TileOrder::<u64>::default();
    for seq in 2..200 {
        order.tile(n(seq), SCREEN, rect(0, 0, 1, 1), 0, 1 << 20, 0.0);
        assert!(order.held_bytes <= MAX_HELD_BYTES);
    }
}

#[test]
fn a_video_message_whose_frame_never_shows_applies_after_a_second() {
    let mut order = TileOrder::<u64>::default();
    let mut canvas = Canvas::new((0, 0));
    canvas.paint(order.tile(n(1), SCREEN, rect(0, 0, 4, 4), 1, 4, 0.0));
    canvas.paint(order.video(n(2), SCREEN, 100, vec![rect(0, 0, 4, 4)], 10.0));
    canvas.paint(order.shown(90, 500.0));
    assert_eq!(canvas.cells[0], Some(1));
    canvas.paint(order.shown(90, 10.0 + STALE_CLEAR_MS));
    assert_eq!(canvas.cells[0], None);
    // Video over a region without tiles does not touch the canvas.
    assert!(
        order
            .video(n(3), SCREEN, 200, vec![rect(40, 20, 4, 4)], 0.0)
            .is_empty()
    );
    assert!(order.shown(200, 0.0).is_empty());
    assert_eq!(order.counts().cleared, 1);
}

#[test]
fn rtp_timestamps_compare_across_the_wrap() {
    assert!(shown_at_or_after(10, 10));
    assert!(shown_at_or_after(11, 10));
    assert!(!shown_at_or_after(9, 10));
    assert!(shown_at_or_after(5, u32::MAX - 5));
    assert!(!shown_at_or_after(u32::MAX - 5, 5));
}

#[test]
fn a_new_canvas_starts_empty_and_keeps_the_numbers() {
    let mut order = TileOrder::<u64>::default();
    order.tile(n(1), SCREEN, rect(0, 0, 4, 4), 1, 4, 0.0);
    order.tile(n(3), SCREEN, rect(0, 0, 4, 4), 3, 4, 0.0);
    order.canvas_replaced();
    // 2 would go under 3, which the new canvas no longer shows.
    assert!(
        order
            .tile(n(2), SCREEN, rect(0, 0, 4, 4), 2, 4, 0.0)
            .is_empty()
    );
    let mut canvas = Canvas::new(SCREEN);
    canvas.paint(order.tile(n(4), SCREEN, rect(0, 0, 4, 4), 4, 4, 0.0));
    assert_eq!(canvas.cells[0], Some(4));
    assert!(order.held.is_empty());
}

#[test]
fn a_screen_that_changed_and_changed_back_while_a_message_was_late_is_cleared() {
    let mut order = TileOrder::<u64>::default();
    let mut canvas = Canvas::new((0, 0));
    // 1: a tile of this screen; 2: the screen changed size; 3: back to
    // this size, a tile elsewhere. 2 comes last.
    canvas.paint(order.tile(n(1), SCREEN, rect(0, 0, 4, 4), 1, 4, 0.0));
    canvas.paint(order.tile(n(3), SCREEN, rect(10, 0, 4, 4), 3, 4, 0.0));
    canvas.paint(order.tile(n(2), (40, 40), rect(0, 0, 1, 1), 2, 4, 0.0));
    // Tile 1 went with the screen it was on; tile 3 stays.
    assert_eq!(canvas.cells[0], None);
    assert_eq!(canvas.cells[10], Some(3));
    assert_eq!(order.screen(), SCREEN);
    assert!(order.held.iter().all(|h| h.seq > 2));
    // Anything numbered before the change is dropped from now on.
    assert!(order.tile(n(4), SCREEN, rect(0, 0, 1, 1), 4, 4, 0.0).len() == 1);
}
