//! The capture → encode loop, on its own thread (capture and encoding are
//! blocking work). It reads the screen only while the session allows media,
//! encodes only when something changed (plus a rare keep-alive, and one
//! sharp "top-off" frame once the screen is still), and hands encoded
//! frames to the session task. It never queues stale frames: each pass
//! captures the screen as it is now.

use super::changes::ChangeFinder;
use super::pacer::Pacer;
use super::tiles::{self, Split, TilePlanner};
use crate::capture::{Capturer, Desktop, Frame, Rect};
use crate::encode::{Encoder, Quality};
use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tandem_protocol::input::{CursorShape, Display};
use tandem_protocol::tiles::TileRect;
use tokio::sync::mpsc;

/// Frames per second at most (a 60 Hz screen); `TANDEM_AGENT_MAX_FPS`
/// lowers it (see [`max_fps_from_env`]).
pub const MAX_FPS: u32 = 60;
/// The share of one core the encoder may take: when encoding takes longer,
/// frames are spaced out so that it stays at this share (a small change
/// goes at 60 fps; full motion slows down instead of queueing).
pub const ENCODER_SHARE: f64 = 0.8;
/// The shortest gap after a pass that went as tiles: they cost well under
/// a millisecond, so a change is taken as soon as it is noticed instead of
/// waiting out a 60 Hz frame (which added half a frame on average).
pub const TILE_GAP: Duration = Duration::from_millis(4);
/// The screen is looked at at least this often (the pointer, keep-alives,
/// top-offs), and on this tick when the capturer cannot tell of changes.
pub const TICK: Duration = Duration::from_micros(33_333);

/// What the loop does after a pass that started `elapsed` ago.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Capture now.
    Go,
    /// Wait this long, then ask again.
    Wait(Duration),
}

/// `TANDEM_AGENT_MAX_FPS` (1 to [`MAX_FPS`]), else [`MAX_FPS`].
pub fn max_fps_from_env() -> u32 {
    std::env::var("TANDEM_AGENT_MAX_FPS")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .map_or(MAX_FPS, |fps| fps.clamp(1, MAX_FPS))
}

/// The shortest gap between two encoded frames: one frame at `cap_fps`,
/// or longer when the last encodes (`encode`, smoothed) took more than
/// [`ENCODER_SHARE`] of that. Pure.
pub fn frame_gap(cap_fps: u32, encode: Option<Duration>) -> Duration {
    let floor = Duration::from_secs(1) / cap_fps.clamp(1, MAX_FPS);
    encode.map_or(floor, |e| floor.max(e.div_f64(ENCODER_SHARE)))
}

/// Captures as soon as the screen changed, if the last encoded frame is
/// at least `min_gap` old (`since_encoded`; see [`frame_gap`]), else on
/// the tick (`elapsed` since the last pass); a capturer that cannot tell
/// (`None`) is read on the tick. Pure: times and the capturer's answer
/// are passed in.
pub fn next_pass(
    elapsed: Duration,
    since_encoded: Option<Duration>,
    change: Option<bool>,
    min_gap: Duration,
) -> Next {
    let due = match change {
        // Measured from the last encode: after a quiet spell a change goes
        // at once, instead of waiting for the tick.
        Some(true) => {
            let waited = since_encoded.unwrap_or(min_gap);
            elapsed + min_gap.saturating_sub(waited)
        }
        Some(false) | None => TICK,
    };
    match due.checked_sub(elapsed) {
        None => Next::Go,
        Some(rest) if rest.is_zero() => Next::Go,
        Some(rest) => Next::Wait(rest),
    }
}

/// Switches shared between the session task and the loop.
#[derive(Debug, Default)]
pub struct StreamSwitches {
    /// The consent gate allows media now.
    pub allowed: AtomicBool,
    /// The next frame must be a keyframe.
    pub keyframe: AtomicBool,
    pub stop: AtomicBool,
    /// The display the helper picked; [`NO_DISPLAY`] until they pick one.
    pub display: AtomicU32,
    /// The helper holds Elevation and full control: a secure desktop may be
    /// followed.
    pub secure_desktop: AtomicBool,
    /// Frames per second at most (1 to [`MAX_FPS`]).
    pub max_fps: AtomicU32,
    /// Small changes may go as tiles: the tiles channel is open and keeps
    /// up (see [`super::tiles`]).
    pub tiles: AtomicBool,
    /// A tile was not delivered: the next video frame repaints (and names)
    /// the whole screen, so no stale tile stays on the helper's side.
    pub repaint: AtomicBool,
    /// Tile bytes waiting to leave, as the session last saw it.
    pub tiles_backlog: AtomicUsize,
    /// What of the display is shown: all of it ([`super::window_mask::WHOLE_SCREEN`]),
    /// one window (its id), or nothing (see [`super::window_mask`]).
    pub window: std::sync::atomic::AtomicU64,
}

/// [`StreamSwitches::display`] before the helper picks one.
pub const NO_DISPLAY: u32 = u32::MAX;

impl StreamSwitches {
    pub fn new() -> Self {
        Self {
            display: AtomicU32::new(NO_DISPLAY),
            max_fps: AtomicU32::new(MAX_FPS),
            ..Self::default()
        }
    }
}

/// How often the display list is looked at again.
const DISPLAYS_EVERY: Duration = Duration::from_secs(1);

/// Where one pass's time went before encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PassTiming {
    /// From the change being noticed to the capture starting (zero when
    /// the capturer cannot tell of changes and is read on the tick).
    pub wait: Duration,
    /// Reading the changed pixels.
    pub capture: Duration,
}

/// Why tiles leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileCause {
    /// A pass whose changes all went as tiles (an update of its own).
    Change,
    /// The small areas of a pass whose large ones went into the video.
    BesideVideo,
    /// A settled region, sent again losslessly.
    Settled,
}

/// What the loop reports.
#[derive(Debug)]
pub enum StreamEvent {
    Frame {
        access_unit: Bytes,
        captured_at: Instant,
        encode_ms: f32,
        timing: PassTiming,
        /// With tiles on: the screen's size and the regions this frame
        /// changed, for the tiles channel's [`tandem_protocol::tiles::TileMessage::Video`].
        changed: Option<((u16, u16), Vec<TileRect>)>,
    },
    /// Tile messages, ready for the tiles channel.
    Tiles {
        messages: Vec<Vec<u8>>,
        encode_ms: f32,
        timing: PassTiming,
        cause: TileCause,
    },
    Cursor {
        x: i32,
        y: i32,
        visible: bool,
    },
    CursorShape(CursorShape),
    /// The displays changed (or the selection did).
    Displays {
        displays: Vec<Display>,
        current: u32,
    },
    /// A secure desktop came or went.
    Desktop(Desktop),
    Failed(String),
}

/// Starts the loop. It ends when `stop` is set or the receiver is gone.
/// With `tiles`, small changes may go as tiles (see [`super::tiles`]).
pub fn spawn(
    mut capturer: Box<dyn Capturer>,
    mut encoder: Box<dyn Encoder>,
    switches: Arc<StreamSwitches>,
    events: mpsc::Sender<StreamEvent>,
    tiles: bool,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("tandem-capture".into())
        .spawn(move || {
            run(
                capturer.as_mut(),
                encoder.as_mut(),
                &switches,
                &events,
                tiles,
            )
        })
}

/// Encodes `rects` of `frame` as tile messages; `None` when one is left
/// out as a photograph (with `photo_limit`) or cannot be encoded.
fn tile_messages(frame: &Frame, rects: &[Rect], photo_limit: bool) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for rect in rects {
        match tiles::encode_tiles(frame, rect, photo_limit) {
            Ok(Some(messages)) => out.extend(messages),
            Ok(None) => return None,
            Err(error) => {
                tracing::debug!(%error, "no tile");
                return None;
            }
        }
    }
    Some(out)
}

fn run(
    capturer: &mut dyn Capturer,
    encoder: &mut dyn Encoder,
    switches: &StreamSwitches,
    events: &mpsc::Sender<StreamEvent>,
    tiles_enabled: bool,
) {
    let mut frame = Frame::new(0, 0);
    let mut pacer = Pacer::default();
    let mut planner = TilePlanner::default();
    let mut finder = ChangeFinder::default();
    // A settled region was left to the video as a photograph.
    let mut photo_lossy = false;
    // When the capturer last told of a change not yet captured.
    let mut noticed: Option<Instant> = None;
    let mut cursor_at = None;
    let mut displays: Option<(Vec<Display>, u32)> = None;
    let mut displays_at: Option<Instant> = None;
    let mut selected = NO_DISPLAY;
    let mut desktop = Desktop::Normal;
    let mut off = true;
    let mut encoded_at: Option<Instant> = None;
    // Encode time, smoothed over the last few frames.
    let mut encode_time: Option<Duration> = None;
    while !switches.stop.load(Ordering::Acquire) {
        let started = Instant::now();
        if !switches.allowed.load(Ordering::Acquire) {
            // Nothing is read from the screen while media is not allowed.
            off = true;
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        if off {
            off = false;
            switches.keyframe.store(true, Ordering::Release);
        }
        capturer.allow_secure_desktop(switches.secure_desktop.load(Ordering::Acquire));
        let wanted = switches.display.load(Ordering::Acquire);
        if wanted != selected {
            selected = wanted;
            if wanted != NO_DISPLAY {
                match capturer.select_display(wanted) {
                    Ok(()) => switches.keyframe.store(true, Ordering::Release),
                    Err(error) => tracing::info!(%error, "the display was not switched"),
                }
                displays_at = None;
            }
        }
        let capture_started = Instant::now();
        let damage = match capturer.capture(&mut frame) {
            Ok(damage) => finder.changed(&frame, &damage),
            Err(error) => {
                let _ = events.blocking_send(StreamEvent::Failed(error.to_string()));
                return;
            }
        };
        let timing = PassTiming {
            wait: noticed.map_or(Duration::ZERO, |t| started.saturating_duration_since(t)),
            capture: capture_started.elapsed(),
        };
        noticed = None;
        if displays_at.is_none_or(|t| started.duration_since(t) >= DISPLAYS_EVERY) {
            displays_at = Some(started);
            let now = (capturer.displays(), capturer.current_display());
            if displays.as_ref() != Some(&now) {
                let _ = events.blocking_send(StreamEvent::Displays {
                    displays: now.0.clone(),
                    current: now.1,
                });
                displays = Some(now);
            }
        }
        if capturer.desktop() != desktop {
            desktop = capturer.desktop();
            switches.keyframe.store(true, Ordering::Release);
            let _ = events.blocking_send(StreamEvent::Desktop(desktop));
        }
        if desktop == (Desktop::Secure { followed: false }) {
            // Nothing to show but a stale picture: the helper's console
            // says the sharer must answer the prompt instead.
            sleep_rest(TICK, started);
            continue;
        }
        if let Ok(cursor) = capturer.cursor() {
            if let Some(shape) = cursor.shape {
                let _ = events.try_send(StreamEvent::CursorShape(shape));
            }
            let now = (cursor.x, cursor.y, cursor.visible);
            if cursor_at != Some(now) {
                cursor_at = Some(now);
                let _ = events.try_send(StreamEvent::Cursor {
                    x: cursor.x,
                    y: cursor.y,
                    visible: cursor.visible,
                });
            }
        }
        let keyframe = switches.keyframe.swap(false, Ordering::AcqRel);
        let repaint = switches.repaint.swap(false, Ordering::AcqRel);
        if keyframe {
            encoder.request_keyframe();
        }
        let screen = (frame.width, frame.height);
        let backlog = switches.tiles_backlog.load(Ordering::Acquire);
        let tiles_now = tiles_enabled
            && switches.tiles.load(Ordering::Acquire)
            && backlog < tiles::ROUTE_BACKLOG;
        planner.changed(&damage, screen, started);
        let mut split = if tiles_now && !keyframe && !repaint {
            tiles::split(&damage, screen)
        } else {
            Split::all_video(&damage)
        };
        // The small areas first: they do not wait for the video encoder.
        // Beside the video, an area that codes like a photograph joins it.
        let beside_video = !split.video.is_empty();
        let mut tiled = Vec::new();
        let mut messages = Vec::new();
        let tiled_at = Instant::now();
        for area in std::mem::take(&mut split.tiles) {
            match tile_messages(&frame, &tiles::merge_to(area.clone(), 4), beside_video) {
                Some(more) => {
                    messages.extend(more);
                    tiled.extend(area);
                }
                None => split.video.extend(area),
            }
        }
        if !messages.is_empty() {
            encoded_at = Some(tiled_at);
            // Not in `encode_time`: that spaces video frames.
            let took = tiled_at.elapsed();
            let sent = events.blocking_send(StreamEvent::Tiles {
                messages,
                encode_ms: took.as_secs_f32() * 1000.0,
                timing,
                cause: if split.video.is_empty() {
                    TileCause::Change
                } else {
                    TileCause::BesideVideo
                },
            });
            if sent.is_err() {
                return;
            }
        }
        let video_changed = !split.video.is_empty();
        // Tiles re-send settled regions exactly, except photographs, which
        // the video's sharp top-off frame takes care of.
        pacer.tiles_sharpen(tiles_now && !photo_lossy);
        if let Some(quality) = pacer.decide(video_changed || repaint, keyframe, started) {
            if quality == Quality::TopOff {
                photo_lossy = false;
            }
            let encode_started = Instant::now();
            encoded_at = Some(encode_started);
            let encoded = encoder.encode(&frame, quality);
            let took = encode_started.elapsed();
            encode_time = Some(encode_time.map_or(took, |t| t.mul_f64(0.7) + took.mul_f64(0.3)));
            let changed = tiles_enabled.then(|| {
                let rects = if keyframe || repaint {
                    planner.all_lossy(screen, started);
                    vec![frame.bounds()]
                } else if video_changed {
                    planner.sent_as_video(&split.video, &tiled, screen, started)
                } else {
                    Vec::new()
                };
                (
                    (
                        u16::try_from(screen.0).unwrap_or(u16::MAX),
                        u16::try_from(screen.1).unwrap_or(u16::MAX),
                    ),
                    rects.iter().filter_map(tiles::wire_rect).collect(),
                )
            });
            match encoded {
                Ok(bytes) if !bytes.is_empty() => {
                    let sent = events.blocking_send(StreamEvent::Frame {
                        access_unit: Bytes::from(bytes),
                        captured_at: started,
                        encode_ms: took.as_secs_f32() * 1000.0,
                        timing,
                        changed,
                    });
                    if sent.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    let _ = events.blocking_send(StreamEvent::Failed(error.to_string()));
                    return;
                }
            }
        }
        // Regions the video left lossy, quiet now: re-sent exactly.
        if tiles_now && backlog < tiles::SETTLE_BACKLOG && planner.has_lossy() {
            let settled = planner.settled(screen, Instant::now());
            for rect in settled {
                let Some(messages) = tile_messages(&frame, &[rect], true) else {
                    photo_lossy = true;
                    continue;
                };
                if events
                    .blocking_send(StreamEvent::Tiles {
                        messages,
                        encode_ms: 0.0,
                        timing: PassTiming::default(),
                        cause: TileCause::Settled,
                    })
                    .is_err()
                {
                    return;
                }
            }
        }
        let gap = if !tiled.is_empty() && !video_changed {
            TILE_GAP
        } else {
            frame_gap(switches.max_fps.load(Ordering::Acquire), encode_time)
        };
        noticed = wait_for_change(capturer, started, encoded_at, gap, &switches.stop);
    }
}

/// Waits until the next pass is due: a change (at most one per `gap`), or
/// the tick. A change read now is captured within a few milliseconds,
/// instead of waiting up to a whole tick. Answers when a change was first
/// noticed, if one was.
fn wait_for_change(
    capturer: &mut dyn Capturer,
    started: Instant,
    encoded: Option<Instant>,
    gap: Duration,
    stop: &AtomicBool,
) -> Option<Instant> {
    let mut noticed = None;
    loop {
        if stop.load(Ordering::Acquire) {
            return noticed;
        }
        let since_encoded = encoded.map(|t| t.elapsed());
        let change = capturer.change_pending();
        if change == Some(true) && noticed.is_none() {
            noticed = Some(Instant::now());
        }
        match next_pass(started.elapsed(), since_encoded, change, gap) {
            Next::Go => return noticed,
            // Nothing changed yet: the capturer wakes on the first change
            // (or, unable to, asks again within a few milliseconds).
            Next::Wait(rest) if change == Some(false) => {
                capturer.wait_for_change(rest);
            }
            Next::Wait(rest) => std::thread::sleep(rest),
        }
    }
}

fn sleep_rest(period: Duration, started: Instant) {
    if let Some(rest) = period.checked_sub(started.elapsed()) {
        std::thread::sleep(rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::SyntheticCapturer;
    use crate::encode::{H264Encoder, H264Settings, has_idr};

    #[test]
    fn a_change_is_captured_at_once_but_no_faster_than_the_frame_gap() {
        let ms = Duration::from_millis;
        let gap = Duration::from_secs(1) / MAX_FPS;
        // After a quiet spell a change is captured at once.
        assert_eq!(next_pass(ms(3), Some(ms(500)), Some(true), gap), Next::Go);
        assert_eq!(next_pass(ms(3), None, Some(true), gap), Next::Go);
        // Right after an encoded frame it waits for the gap.
        assert_eq!(
            next_pass(ms(3), Some(ms(3)), Some(true), gap),
            Next::Wait(gap - ms(3))
        );
        assert_eq!(next_pass(gap, Some(gap), Some(true), gap), Next::Go);
        // Nothing changed: wait for a change until the tick, and pass on
        // the tick anyway.
        assert_eq!(
            next_pass(ms(20), Some(ms(500)), Some(false), gap),
            Next::Wait(TICK - ms(20))
        );
        assert_eq!(next_pass(TICK, Some(ms(500)), Some(false), gap), Next::Go);
        // A capturer that cannot tell is read on the tick.
        assert_eq!(
            next_pass(ms(10), None, None, gap),
            Next::Wait(TICK - ms(10))
        );
        assert_eq!(next_pass(TICK, None, None, gap), Next::Go);
    }

    #[test]
    fn small_changes_go_at_60_fps_and_slow_encodes_are_spaced_out() {
        let ms = Duration::from_millis;
        let at_60 = Duration::from_secs(1) / 60;
        assert_eq!(frame_gap(60, None), at_60);
        // A 9 ms encode (a small change at 1080p) keeps 60 fps.
        assert_eq!(frame_gap(60, Some(ms(9))), at_60);
        // A 40 ms encode (full motion on a busy machine) is spaced to keep
        // the encoder at 80 % of a core: 50 ms, 20 fps, never queued.
        assert_eq!(frame_gap(60, Some(ms(40))), ms(50));
        // The configured cap holds, and is clamped to 1..=60.
        assert_eq!(frame_gap(30, Some(ms(1))), Duration::from_secs(1) / 30);
        assert_eq!(frame_gap(500, None), at_60);
        assert_eq!(frame_gap(0, None), Duration::from_secs(1));
    }

    #[test]
    fn nothing_is_captured_until_allowed_and_the_first_frame_is_a_keyframe() {
        let switches = Arc::new(StreamSwitches::new());
        let (tx, mut rx) = mpsc::channel(16);
        let handle = spawn(
            Box::new(SyntheticCapturer::new(320, 240)),
            Box::new(H264Encoder::new(H264Settings::default())),
            switches.clone(),
            tx,
            true,
        );
        assert!(handle.is_ok());
        std::thread::sleep(Duration::from_millis(150));
        assert!(rx.try_recv().is_err(), "not allowed: nothing at all");
        switches.allowed.store(true, Ordering::Release);
        let mut first = None;
        for _ in 0..100 {
            match rx.try_recv() {
                Ok(StreamEvent::Frame { access_unit, .. }) => {
                    first = Some(access_unit);
                    break;
                }
                Ok(_) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        assert!(first.is_some_and(|f| has_idr(&f)));
        switches.stop.store(true, Ordering::Release);
        if let Ok(handle) = handle {
            assert!(handle.join().is_ok());
        }
    }
}
