//! Annotation: the helper draws over the sharer's screen (pen,
//! highlighter, arrow, laser pointer), on its own data channel
//! ([`ANNOTATION_CHANNEL`], ordered and reliable). Strokes are in pixels
//! of the shared display, so they follow their content whatever the
//! helper's scale. They are never stored; the record keeps only that
//! annotation was used.
//!
//! [`Sketch`] is the pure model both ends draw from: the strokes, bounded
//! in number and points, with the laser's fading by time.

use crate::input::MessageError;
use serde::{Deserialize, Serialize};

pub const ANNOTATION_CHANNEL: &str = "annotation";

/// The largest annotation message accepted.
pub const MAX_ANNOTATION_BYTES: usize = 8 * 1024;
/// The most points one message adds.
pub const MAX_POINTS_PER_MESSAGE: usize = 128;
/// The most strokes kept; the oldest goes first.
pub const MAX_STROKES: usize = 256;
/// The most points kept over all strokes; the oldest strokes go first.
pub const MAX_POINTS: usize = 20_000;
/// How long a laser stroke stays after its last point, in milliseconds.
pub const LASER_FADE_MILLIS: u64 = 1_500;

/// What the helper draws with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tool {
    Pen,
    Highlighter,
    Arrow,
    Laser,
}

impl Tool {
    pub const ALL: [Tool; 4] = [Tool::Pen, Tool::Highlighter, Tool::Arrow, Tool::Laser];

    pub fn label(self) -> &'static str {
        match self {
            Tool::Pen => "Pen",
            Tool::Highlighter => "Highlighter",
            Tool::Arrow => "Arrow",
            Tool::Laser => "Laser pointer",
        }
    }

    /// Its colour, 0xRRGGBB.
    pub fn rgb(self) -> u32 {
        match self {
            Tool::Pen => 0xe0_1b_24,
            Tool::Highlighter => 0xff_e0_00,
            Tool::Arrow => 0x1c_71_d8,
            Tool::Laser => 0xff_00_5c,
        }
    }

    /// Its line width in screen pixels.
    pub fn width(self) -> u16 {
        match self {
            Tool::Pen | Tool::Arrow => 4,
            Tool::Highlighter => 16,
            Tool::Laser => 6,
        }
    }
}

/// What the sharer does to the helper's drawings, from their page (through
/// the server to the device's agent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SharerDrawing {
    /// Every stroke goes.
    Clear,
    /// Every stroke goes and no more are drawn in this session, until On.
    Off,
    On,
}

/// One message on the annotation channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// Tagged on the wire; on wasm32 read and written through crate::tagged.
#[cfg_attr(not(target_arch = "wasm32"), serde(tag = "type"))]
pub enum AnnotationMessage {
    /// Helper → device: points added to stroke `id` (a new id starts a
    /// stroke). An arrow is its first and last point.
    Stroke {
        id: u32,
        tool: Tool,
        points: Vec<(u32, u32)>,
    },
    /// Helper → device: every stroke goes.
    Clear,
    /// Device → helper: whether the device draws strokes now (it has an
    /// overlay, and the organization allows annotation). The console
    /// offers the tools only while it does.
    Available { available: bool },
    /// Device → helper: the strokes went there (the sharer cleared them,
    /// or the sharing paused or stopped), so they go here too.
    Cleared,
}

impl crate::tagged::Tagged for AnnotationMessage {
    const TAG: &'static str = "type";
}

impl AnnotationMessage {
    /// Parses one message, refusing oversized, malformed or out-of-range
    /// ones.
    pub fn parse(bytes: &[u8]) -> Result<Self, MessageError> {
        if bytes.len() > MAX_ANNOTATION_BYTES {
            return Err(MessageError::TooLarge { bytes: bytes.len() });
        }
        let message: AnnotationMessage =
            crate::tagged::from_json(bytes).map_err(|e| MessageError::Malformed(e.to_string()))?;
        match &message {
            AnnotationMessage::Stroke { points, .. }
                if points.is_empty() || points.len() > MAX_POINTS_PER_MESSAGE =>
            {
                Err(MessageError::OutOfRange("stroke points"))
            }
            _ => Ok(message),
        }
    }
}

/// One stroke as drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stroke {
    pub id: u32,
    pub tool: Tool,
    pub points: Vec<(u32, u32)>,
    /// When its last point came, in milliseconds of the drawer's clock.
    pub last_at: u64,
}

/// The strokes on screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sketch {
    strokes: Vec<Stroke>,
    points: usize,
}

impl Sketch {
    /// Adds points to stroke `id` (or starts it) at `now` ms; points past
    /// `size` are clamped onto the screen. False if nothing changed.
    pub fn add(
        &mut self,
        id: u32,
        tool: Tool,
        points: &[(u32, u32)],
        size: (u32, u32),
        now: u64,
    ) -> bool {
        if points.is_empty() || size.0 == 0 || size.1 == 0 {
            return false;
        }
        let clamp = |(x, y): (u32, u32)| (x.min(size.0 - 1), y.min(size.1 - 1));
        let index = match self
            .strokes
            .iter()
            .position(|s| s.id == id && s.tool == tool)
        {
            Some(index) => index,
            None => {
                self.strokes.push(Stroke {
                    id,
                    tool,
                    points: Vec::new(),
                    last_at: now,
                });
                self.strokes.len() - 1
            }
        };
        let stroke = &mut self.strokes[index];
        let before = stroke.points.len();
        if tool == Tool::Arrow {
            // An arrow is where it starts and where it points now.
            let start = stroke.points.first().copied().unwrap_or(clamp(points[0]));
            let end = points.last().copied().map(clamp).unwrap_or(start);
            stroke.points = vec![start, end];
        } else {
            stroke.points.extend(points.iter().copied().map(clamp));
        }
        stroke.last_at = now;
        self.points = self.points + stroke.points.len() - before;
        while self.strokes.len() > MAX_STROKES || self.points > MAX_POINTS {
            let gone = self.strokes.remove(0);
            self.points -= gone.points.len();
        }
        true
    }

    pub fn clear(&mut self) {
        self.strokes.clear();
        self.points = 0;
    }

    /// Drops the laser strokes faded by `now`; true if any went.
    pub fn fade(&mut self, now: u64) -> bool {
        let before = self.strokes.len();
        self.strokes
            .retain(|s| s.tool != Tool::Laser || now.saturating_sub(s.last_at) < LASER_FADE_MILLIS);
        self.points = self.strokes.iter().map(|s| s.points.len()).sum();
        self.strokes.len() != before
    }

    /// Whether a laser stroke is still fading (so the drawer must look
    /// again soon).
    pub fn fading(&self) -> bool {
        self.strokes.iter().any(|s| s.tool == Tool::Laser)
    }

    pub fn strokes(&self) -> &[Stroke] {
        &self.strokes
    }

    pub fn is_empty(&self) -> bool {
        self.strokes.is_empty()
    }

    /// The segments to draw for a stroke: its polyline, and for an arrow
    /// its head too.
    pub fn segments(stroke: &Stroke) -> Vec<((i32, i32), (i32, i32))> {
        let at = |(x, y): (u32, u32)| {
            (
                i32::try_from(x).unwrap_or(i32::MAX),
                i32::try_from(y).unwrap_or(i32::MAX),
            )
        };
        let mut out: Vec<_> = match stroke.points.as_slice() {
            [one] => vec![(at(*one), at(*one))],
            points => points.windows(2).map(|w| (at(w[0]), at(w[1]))).collect(),
        };
        if stroke.tool == Tool::Arrow
            && let [start, end] = stroke.points.as_slice()
        {
            let (s, e) = (at(*start), at(*end));
            let (dx, dy) = (f64::from(e.0 - s.0), f64::from(e.1 - s.1));
            let length = (dx * dx + dy * dy).sqrt();
            if length >= 1.0 {
                let (ux, uy) = (dx / length, dy / length);
                let head = 18.0_f64.min(length / 2.0);
                for side in [-1.0, 1.0] {
                    let x = f64::from(e.0) - head * (ux * 0.866 - side * uy * 0.5);
                    let y = f64::from(e.1) - head * (uy * 0.866 + side * ux * 0.5);
                    out.push((e, (x.round() as i32, y.round() as i32)));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn strokes_grow_clamp_and_stay_bounded() {
        let mut sketch = Sketch::default();
        assert!(sketch.add(1, Tool::Pen, &[(10, 10), (5000, 20)], (100, 100), 0));
        assert_eq!(sketch.strokes()[0].points, vec![(10, 10), (99, 20)]);
        assert!(sketch.add(1, Tool::Pen, &[(30, 30)], (100, 100), 5));
        assert_eq!(sketch.strokes()[0].points.len(), 3);
        assert!(!sketch.add(2, Tool::Pen, &[], (100, 100), 5));
        for id in 0..1000 {
            sketch.add(id + 10, Tool::Pen, &[(1, 1); 100], (100, 100), 6);
        }
        assert!(sketch.strokes().len() <= MAX_STROKES);
        let points: usize = sketch.strokes().iter().map(|s| s.points.len()).sum();
        assert!(points <= MAX_POINTS);
        sketch.clear();
        assert!(sketch.is_empty());
    }

    #[test]
    fn an_arrow_is_its_start_and_its_end_with_a_head() {
        let mut sketch = Sketch::default();
        sketch.add(1, Tool::Arrow, &[(0, 0), (10, 0)], (200, 200), 0);
        sketch.add(1, Tool::Arrow, &[(50, 0), (100, 0)], (200, 200), 1);
        let stroke = &sketch.strokes()[0];
        assert_eq!(stroke.points, vec![(0, 0), (100, 0)]);
        let segments = Sketch::segments(stroke);
        assert_eq!(segments.len(), 3, "the shaft and two sides of the head");
        assert!(
            segments[1..]
                .iter()
                .all(|(from, to)| *from == (100, 0) && to.0 < 100)
        );
    }

    #[test]
    fn the_laser_fades_and_the_pen_stays() {
        let mut sketch = Sketch::default();
        sketch.add(1, Tool::Laser, &[(1, 1), (2, 2)], (10, 10), 1_000);
        sketch.add(2, Tool::Pen, &[(1, 1)], (10, 10), 1_000);
        assert!(sketch.fading());
        assert!(!sketch.fade(1_000 + LASER_FADE_MILLIS - 1));
        assert!(sketch.fade(1_000 + LASER_FADE_MILLIS));
        assert_eq!(sketch.strokes().len(), 1);
        assert!(!sketch.fading());
    }

    #[test]
    fn bad_messages_are_refused() {
        let many = format!(
            r#"{{"type":"stroke","id":1,"tool":"pen","points":[{}]}}"#,
            vec!["[1,1]"; MAX_POINTS_PER_MESSAGE + 1].join(",")
        );
        for bad in [
            &br#"{"type":"stroke","id":1,"tool":"pen","points":[]}"#[..],
            br#"{"type":"stroke","id":1,"tool":"spray","points":[[1,1]]}"#,
            br#"{"type":"stroke","id":1,"tool":"pen","points":[[-1,1]]}"#,
            br#"{"type":"wipe"}"#,
            many.as_bytes(),
            &vec![b' '; MAX_ANNOTATION_BYTES + 1],
        ] {
            assert!(AnnotationMessage::parse(bad).is_err());
        }
        assert!(AnnotationMessage::parse(br#"{"type":"available","available":true}"#).is_ok());
        let fine = AnnotationMessage::Stroke {
            id: 3,
            tool: Tool::Laser,
            points: vec![(1, 2); MAX_POINTS_PER_MESSAGE],
        };
        let bytes = serde_json::to_vec(&fine).unwrap();
        assert!(bytes.len() <= MAX_ANNOTATION_BYTES);
        assert_eq!(AnnotationMessage::parse(&bytes), Ok(fine));
    }
}
