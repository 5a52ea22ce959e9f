//! Video encoding: the [`Encoder`] trait and its H.264 implementation with
//! openh264 (Constrained Baseline, which Chromium decodes).
//!
//! Two encoders share the stream: a real-time one for motion, and a
//! "top-off" one with a low quantizer that re-sends a still screen once,
//! sharp. Switching between them always starts with an IDR frame, so the
//! browser never decodes against the wrong references.

use crate::capture::Frame;
use openh264::OpenH264API;
use openh264::encoder::{
    BitRate, Complexity, EncoderConfig, FrameRate, IntraFramePeriod, Profile, QpRange,
    RateControlMode, SpsPpsStrategy, UsageType,
};
use openh264::formats::{BgraSliceU8, YUVBuffer};

/// Which kind of frame to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quality {
    Realtime,
    /// A still screen's one sharp frame.
    TopOff,
}

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("the encoder could not be set up: {0}")]
    Setup(String),
    #[error("encoding failed: {0}")]
    Encode(String),
}

/// Turns frames into an H.264 Annex B byte stream.
pub trait Encoder: Send {
    /// Encodes one frame; an empty result means the encoder skipped it.
    fn encode(&mut self, frame: &Frame, quality: Quality) -> Result<Vec<u8>, EncodeError>;
    /// The next frame is a keyframe (the browser lost one, or joined).
    fn request_keyframe(&mut self);
}

/// Encoder settings.
#[derive(Debug, Clone, Copy)]
pub struct H264Settings {
    pub bitrate_bps: u32,
    pub max_fps: f32,
    /// Encoder threads, each with its own slice of the picture.
    pub threads: u16,
    /// openh264's tuning for the real-time encoder (the top-off encoder is
    /// always tuned for screen content).
    pub realtime_usage: RealtimeUsage,
}

/// How the real-time encoder is tuned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RealtimeUsage {
    /// Screen content: cheap for small changes (it skips unchanged
    /// macroblocks), slow for motion.
    Screen,
    /// Camera video: about twice as fast per frame, but a few KB a frame
    /// even for a tiny change. With tiles carrying small changes, the
    /// video sees mostly motion.
    Camera,
}

impl RealtimeUsage {
    /// `TANDEM_AGENT_REALTIME_USAGE=screen|camera` (for measuring), else
    /// `default`.
    pub fn from_env(default: RealtimeUsage) -> RealtimeUsage {
        match std::env::var("TANDEM_AGENT_REALTIME_USAGE").as_deref() {
            Ok("screen") => RealtimeUsage::Screen,
            Ok("camera") => RealtimeUsage::Camera,
            _ => default,
        }
    }
}

/// At most this many encoder threads.
const MAX_THREADS: usize = 4;

impl Default for H264Settings {
    /// One thread per core, up to [`MAX_THREADS`]. Splitting a 1080p frame
    /// in slices shortens each frame's encode when cores are free: alone,
    /// a frame with a moving 480×270 region took 18 ms instead of 23. On
    /// the busy 2-core bench machine it made no difference (BENCHMARKS.md).
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            bitrate_bps: 4_000_000,
            max_fps: crate::media::stream::MAX_FPS as f32,
            threads: u16::try_from(cores.min(MAX_THREADS)).unwrap_or(1),
            realtime_usage: RealtimeUsage::Screen,
        }
    }
}

/// openh264, Constrained Baseline.
pub struct H264Encoder {
    settings: H264Settings,
    size: (u32, u32),
    realtime: Option<openh264::encoder::Encoder>,
    top_off: Option<openh264::encoder::Encoder>,
    last: Option<Quality>,
    keyframe: bool,
    yuv: YUVBuffer,
}

impl std::fmt::Debug for H264Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Encoder")
            .field("settings", &self.settings)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// The real-time encoder's coarsest quantizer. Without frame skipping
/// openh264's rate control holds the bitrate through the quantizer alone.
/// Tuned for camera video and capped at 40, a 640×360 noise field took
/// 19 Mbit/s against a 4 Mbit/s target; at 51 it took 3.3 (BENCHMARKS.md).
/// Screen content keeps 40: it stays within the target there, and sharper.
fn max_qp(usage: RealtimeUsage) -> u8 {
    match usage {
        RealtimeUsage::Screen => 40,
        RealtimeUsage::Camera => 51,
    }
}

fn config(settings: &H264Settings, quality: Quality) -> EncoderConfig {
    let usage = match (quality, settings.realtime_usage) {
        (Quality::Realtime, RealtimeUsage::Camera) => UsageType::CameraVideoRealTime,
        _ => UsageType::ScreenContentRealTime,
    };
    let base = EncoderConfig::new()
        .profile(Profile::Baseline)
        .usage_type(usage)
        .max_frame_rate(FrameRate::from_hz(settings.max_fps))
        .sps_pps_strategy(SpsPpsStrategy::ConstantId)
        .intra_frame_period(IntraFramePeriod::from_num_frames(0))
        .num_threads(settings.threads)
        .skip_frames(false)
        .complexity(Complexity::Low);
    match quality {
        Quality::Realtime => base
            .rate_control_mode(RateControlMode::Bitrate)
            .bitrate(BitRate::from_bps(settings.bitrate_bps))
            .qp(QpRange::new(18, max_qp(settings.realtime_usage))),
        // openh264 ignores the QP range with rate control off (it uses a
        // fixed QP of 26: 38 dB on 1080p text in `cargo xtask bench`). A
        // one-value range under quality control pins QP 14: 57 dB.
        Quality::TopOff => base
            .rate_control_mode(RateControlMode::Quality)
            .bitrate(BitRate::from_bps(settings.bitrate_bps.saturating_mul(10)))
            .qp(QpRange::new(14, 14)),
    }
}

impl H264Encoder {
    pub fn new(settings: H264Settings) -> Self {
        Self {
            settings,
            size: (0, 0),
            realtime: None,
            top_off: None,
            last: None,
            keyframe: true,
            yuv: YUVBuffer::new(2, 2),
        }
    }
}

/// The encoder in `slot`, made on first use.
fn encoder_in<'a>(
    slot: &'a mut Option<openh264::encoder::Encoder>,
    settings: &H264Settings,
    quality: Quality,
) -> Result<&'a mut openh264::encoder::Encoder, EncodeError> {
    if slot.is_none() {
        let encoder = openh264::encoder::Encoder::with_api_config(
            OpenH264API::from_source(),
            config(settings, quality),
        )
        .map_err(|e| EncodeError::Setup(e.to_string()))?;
        *slot = Some(encoder);
    }
    slot.as_mut()
        .ok_or_else(|| EncodeError::Setup("no encoder".into()))
}

impl Encoder for H264Encoder {
    fn encode(&mut self, frame: &Frame, quality: Quality) -> Result<Vec<u8>, EncodeError> {
        let size = (frame.width, frame.height);
        if size != self.size {
            // A new size: fresh encoders (they size themselves on the first frame).
            self.size = size;
            self.realtime = None;
            self.top_off = None;
            self.keyframe = true;
            self.yuv = YUVBuffer::new(frame.width as usize, frame.height as usize);
        }
        let switching = self.last.is_some_and(|last| last != quality);
        let keyframe = self.keyframe || switching;
        self.yuv.read_bgra8(BgraSliceU8::new(
            &frame.bgrx,
            (frame.width as usize, frame.height as usize),
        ));
        let slot = match quality {
            Quality::Realtime => &mut self.realtime,
            Quality::TopOff => &mut self.top_off,
        };
        let encoder = encoder_in(slot, &self.settings, quality)?;
        if keyframe {
            encoder.force_intra_frame();
        }
        let bytes = encoder
            .encode(&self.yuv)
            .map(|stream| stream.to_vec())
            .map_err(|e| EncodeError::Encode(e.to_string()))?;
        if !bytes.is_empty() {
            self.keyframe = false;
            self.last = Some(quality);
        }
        Ok(bytes)
    }

    fn request_keyframe(&mut self) {
        self.keyframe = true;
    }
}

/// Whether an Annex B stream holds an IDR slice (NAL type 5).
pub fn has_idr(stream: &[u8]) -> bool {
    stream
        .windows(4)
        .any(|w| w[0] == 0 && w[1] == 0 && w[2] == 1 && (w[3] & 0x1f) == 5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{Capturer, SyntheticCapturer};

    #[test]
    fn encodes_baseline_with_keyframes_on_request_and_on_switch() {
        let mut capturer = SyntheticCapturer::new(320, 240);
        let mut frame = Frame::new(0, 0);
        let mut encoder = H264Encoder::new(H264Settings::default());
        assert!(capturer.capture(&mut frame).is_ok());
        let first = encoder
            .encode(&frame, Quality::Realtime)
            .unwrap_or_default();
        assert!(has_idr(&first), "the first frame is a keyframe");
        // SPS: profile_idc 66 (Baseline).
        let sps = first
            .windows(5)
            .find(|w| w[..3] == [0, 0, 1] && (w[3] & 0x1f) == 7);
        assert_eq!(sps.map(|w| w[4]), Some(66));
        capturer.advance();
        assert!(capturer.capture(&mut frame).is_ok());
        let second = encoder
            .encode(&frame, Quality::Realtime)
            .unwrap_or_default();
        assert!(!second.is_empty() && !has_idr(&second));
        encoder.request_keyframe();
        let third = encoder
            .encode(&frame, Quality::Realtime)
            .unwrap_or_default();
        assert!(has_idr(&third));
        let sharp = encoder.encode(&frame, Quality::TopOff).unwrap_or_default();
        assert!(
            has_idr(&sharp),
            "switching to the top-off encoder starts with an IDR"
        );
        assert!(sharp.len() > second.len());
    }
}
