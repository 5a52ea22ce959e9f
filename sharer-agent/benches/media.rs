//! `cargo xtask bench` (media part): the agent's capture-side pipeline on
//! synthetic 1080p desktops, paced exactly as the agent paces a session
//! (changes in real time, one sharp top-off frame once still, rare
//! keep-alives). Prints encode time, bytes per second and quality (luma
//! PSNR of the decoded stream against what was encoded) for a still
//! screen, typing, and scrolling. Figures only; nothing here passes or
//! fails on speed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: a panic is a report

use openh264::decoder::Decoder;
use openh264::formats::{BgraSliceU8, YUVBuffer, YUVSource};
use std::time::{Duration, Instant};
use tandem_agent::capture::Frame;
use tandem_agent::encode::{Encoder, H264Encoder, H264Settings};
use tandem_agent::media::pacer::Pacer;

/// The simulated capture rate (the agent's tick).
const MAX_FPS: u32 = 30;

const WIDTH: u32 = 1920;
const HEIGHT: u32 = 1080;
const SECONDS: u32 = 6;

/// A desktop-like picture: a light window full of dark "text" runs, a
/// title bar, and a darker side panel. `scroll` shifts the text up.
fn paint(frame: &mut Frame, scroll: u32, typed: u32) {
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let (r, g, b) = if x < 280 {
                (40, 44, 52)
            } else if y < 40 {
                (60, 90, 160)
            } else {
                let row = (y + scroll) / 20;
                let col = (x - 280) / 9;
                let in_glyph = (y + scroll) % 20 < 14 && (x - 280) % 9 < 7;
                let line_len = 40 + (row * 37 % 120);
                let is_text = col < line_len && !(row * 31 + col * 7).is_multiple_of(11);
                let typed_here = row == 10 && col < typed;
                if in_glyph && (is_text || typed_here) {
                    (30, 30, 30)
                } else {
                    (250, 250, 250)
                }
            };
            let at = ((y * WIDTH + x) * 4) as usize;
            frame.bgrx[at..at + 4].copy_from_slice(&[b, g, r, 0]);
        }
    }
}

fn psnr(source: &YUVBuffer, decoded: &impl YUVSource) -> f64 {
    let (w, h) = source.dimensions();
    let (stride, _, _) = decoded.strides();
    let (a, b) = (source.y(), decoded.y());
    let mut squared = 0f64;
    for y in 0..h {
        for x in 0..w {
            let d = f64::from(a[y * w + x]) - f64::from(b[y * stride + x]);
            squared += d * d;
        }
    }
    let mse = squared / (w * h) as f64;
    if mse == 0.0 {
        99.0
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    values[((values.len() - 1) as f64 * p).round() as usize]
}

/// Whether the screen changed at a tick: (scroll, characters typed).
type Change = dyn Fn(u32) -> Option<(u32, u32)>;

struct Outcome {
    frames: usize,
    encode_ms: Vec<f64>,
    bytes: usize,
    last_psnr: f64,
    min_psnr: f64,
}

/// Runs `SECONDS` of a scenario at the agent's frame rate; `change(tick)`
/// says whether (and how) the screen changed at that tick.
fn scenario(change: &Change) -> Outcome {
    let mut encoder = H264Encoder::new(H264Settings::default());
    let mut decoder = Decoder::new().unwrap();
    let mut pacer = Pacer::default();
    let mut frame = Frame::new(WIDTH, HEIGHT);
    paint(&mut frame, 0, 0);
    let start = Instant::now();
    let period = Duration::from_secs(1) / MAX_FPS;
    let mut out = Outcome {
        frames: 0,
        encode_ms: Vec::new(),
        bytes: 0,
        last_psnr: 0.0,
        min_psnr: 99.0,
    };
    for tick in 0..SECONDS * MAX_FPS {
        let changed = change(tick);
        if let Some((scroll, typed)) = changed {
            paint(&mut frame, scroll, typed);
        }
        // Simulated time: the pacer sees the agent's clock, not this loop's.
        let Some(quality) = pacer.decide(changed.is_some(), false, start + period * tick) else {
            continue;
        };
        let began = Instant::now();
        let bytes = encoder.encode(&frame, quality).unwrap();
        out.encode_ms.push(began.elapsed().as_secs_f64() * 1000.0);
        if bytes.is_empty() {
            continue;
        }
        out.frames += 1;
        out.bytes += bytes.len();
        let source = YUVBuffer::from_bgra8_source(BgraSliceU8::new(
            &frame.bgrx,
            (WIDTH as usize, HEIGHT as usize),
        ));
        if let Some(decoded) = decoder.decode(&bytes).unwrap() {
            let quality = psnr(&source, &decoded);
            out.last_psnr = quality;
            out.min_psnr = out.min_psnr.min(quality);
        }
    }
    out
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn main() {
    println!(
        "media: {WIDTH}x{HEIGHT}, {SECONDS} s per scenario at up to {MAX_FPS} fps, openh264 Constrained Baseline"
    );
    println!(
        "{:<10} {:>7} {:>10} {:>10} {:>11} {:>10} {:>10}",
        "scenario", "frames", "enc p50", "enc p95", "kbit/s", "PSNR end", "PSNR min"
    );
    let scenarios: [(&str, Box<Change>); 3] = [
        ("still", Box::new(|_| None)),
        // A character every 100 ms.
        ("typing", Box::new(|t| (t % 3 == 0).then_some((0, t / 3)))),
        // A smooth scroll: 8 px per frame.
        ("scrolling", Box::new(|t| Some((t * 8, 0)))),
    ];
    for (name, change) in scenarios {
        let mut out = scenario(change.as_ref());
        let kbps = out.bytes as f64 * 8.0 / 1000.0 / f64::from(SECONDS);
        println!(
            "{:<10} {:>7} {:>8.1}ms {:>8.1}ms {:>11.0} {:>8.1}dB {:>8.1}dB",
            name,
            out.frames,
            percentile(&mut out.encode_ms, 0.5),
            percentile(&mut out.encode_ms, 0.95),
            kbps,
            out.last_psnr,
            out.min_psnr,
        );
    }
    // Where a frame's encode time goes: the BGRX → I420 conversion of the
    // whole frame (inside `encode`, whatever changed) against the rest.
    let mut frame = Frame::new(WIDTH, HEIGHT);
    paint(&mut frame, 0, 0);
    let mut yuv = YUVBuffer::new(WIDTH as usize, HEIGHT as usize);
    let mut convert_ms: Vec<f64> = (0..100)
        .map(|_| {
            let started = Instant::now();
            yuv.read_bgra8(BgraSliceU8::new(
                &frame.bgrx,
                (WIDTH as usize, HEIGHT as usize),
            ));
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    println!(
        "stage: colour conversion of a whole 1080p frame p50 {:.2} ms, p95 {:.2} ms (part of every encode above)",
        percentile(&mut convert_ms, 0.5),
        percentile(&mut convert_ms, 0.95)
    );
    println!("peak RSS of this process: {:.0} MiB", peak_rss_mib());
}
