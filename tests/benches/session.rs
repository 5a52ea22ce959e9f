//! `cargo xtask bench` (session part): a real session, measured end to
//! end on this machine. Xvfb runs an xterm whose screen flips between
//! white and black on every key it gets; the helper's Chromium watches the
//! middle of the decoded video frame by frame (requestVideoFrameCallback).
//!
//! Each sample: the page sends a key on the agent's input channel (time A,
//! the page's wall clock); the shell in the xterm reads it and logs the
//! wall clock (time X, `date +%s%N`) just before it flips the screen; the
//! page sees the flipped frame presented (time S).
//!
//! - keystroke → X: X − A (includes xterm, the pty and one `date` fork);
//! - glass-to-glass: S − X (xterm drawing, capture, encode, network,
//!   decode, Chromium's jitter buffer, presentation);
//! - the round trip S − A, and the agent's CPU time and peak memory.
//!
//! Figures only; nothing here passes or fails on speed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: a panic is a report

use serde_json::json;
use std::time::Duration;
use tandem_tests::Env;
use tandem_tests::desktop::Xvfb;
use tandem_tests::flows::controlled_agent_session;

const SAMPLES: usize = 40;

/// Waits (async script) until the middle of the video is on the other side
/// of mid-grey from `dark`; optionally sends a key first. Answers the wall
/// clock (ms) when the flipped frame was presented, and when the key went.
const WAIT_FLIP: &str = "
    const [dark, sendKey, done] = arguments;
    const v = document.querySelector('#remote-screen');
    const c = document.createElement('canvas');
    c.width = 1; c.height = 1;
    const g = c.getContext('2d', {willReadFrequently: true});
    const epoch = performance.timeOrigin;
    let sentAt = null;
    // The frame counts as shown when the compositor expects it on
    // screen (`expectedDisplayTime`): the callback's own time is the
    // start of a rendering step, which with Chromium's low-latency
    // rendering can come before the frame was even handed over.
    const check = (now, meta) => {
        g.drawImage(v, v.videoWidth / 2, v.videoHeight / 2, 1, 1, 0, 0, 1, 1);
        const [r, gr, b] = g.getImageData(0, 0, 1, 1).data;
        const isDark = r + gr + b < 384;
        if (isDark !== dark) { done([epoch + Math.max(now, meta.expectedDisplayTime), sentAt]); return; }
        v.requestVideoFrameCallback(check);
    };
    v.requestVideoFrameCallback(check);
    if (sendKey) {
        const input = window.__channels.filter(c => c.label === 'input' && c.readyState === 'open').pop();
        sentAt = epoch + performance.now();
        input.send(JSON.stringify({type: 'key', code: 'KeyA', down: true}));
        input.send(JSON.stringify({type: 'key', code: 'KeyA', down: false}));
    }";

const DARKNESS: &str = "
    const v = document.querySelector('#remote-screen');
    if (!v || !v.videoWidth) return null;
    const c = document.createElement('canvas');
    c.width = 1; c.height = 1;
    const g = c.getContext('2d');
    g.drawImage(v, v.videoWidth / 2, v.videoHeight / 2, 1, 1, 0, 0, 1, 1);
    const [r, gr, b] = g.getImageData(0, 0, 1, 1).data;
    return r + gr + b < 384;";

/// The newest wall-clock time (ms) the toggler logged.
fn last_logged(log: &std::path::Path) -> Option<f64> {
    let text = std::fs::read_to_string(log).ok()?;
    let nanos: f64 = text.lines().last()?.trim().parse().ok()?;
    Some(nanos / 1e6)
}

fn summary(name: &str, mut values: Vec<f64>) {
    values.sort_by(|a, b| a.total_cmp(b));
    let at = |p: f64| values[((values.len() - 1) as f64 * p).round() as usize];
    println!(
        "{name:<28} p50 {:>6.1} ms   p95 {:>6.1} ms   ({} samples)",
        at(0.5),
        at(0.95),
        values.len()
    );
}

/// The agent's CPU seconds and peak RSS (MiB), from /proc.
fn agent_usage(pid: u32) -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse::<f64>()
        .ok()?;
    Some((ticks / 100.0, hwm / 1024.0))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let env = Env::start().await.unwrap();
    let xvfb = Xvfb::start().unwrap();
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("keys.log");
    let toggler = format!(
        "stty raw -echo; while :; do \
         dd bs=1 count=1 of=/dev/null 2>/dev/null; date +%s%N >> '{0}'; printf '\\033[?5h'; \
         dd bs=1 count=1 of=/dev/null 2>/dev/null; date +%s%N >> '{0}'; printf '\\033[?5l'; done",
        log.display()
    );
    let _term = xvfb
        .run(
            "xterm",
            "xterm",
            &["-geometry", "170x59+0+0", "-e", "sh", "-c", &toggler],
        )
        .unwrap();
    let helper = &env.browser;
    let (sharer, agent) = controlled_agent_session(helper, env.server.base_url(), &xvfb.display)
        .await
        .unwrap();
    let mut dark = None;
    for _ in 0..100 {
        dark = helper.eval(DARKNESS, vec![]).await.unwrap().as_bool();
        if dark.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut dark = dark.expect("the video shows the screen");
    let usage_before = agent_usage(agent.pid());
    let started = std::time::Instant::now();

    println!("session: 1024x768 Xvfb → release agent → headless Chromium, over loopback");
    let (mut to_x, mut glass, mut round_trip) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..SAMPLES {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let shown = helper
            .eval_async(WAIT_FLIP, vec![json!(dark), json!(true)])
            .await
            .unwrap();
        let (shown, sent) = (shown[0].as_f64().unwrap(), shown[1].as_f64().unwrap());
        let at_x = last_logged(&log).expect("the xterm logged the key");
        to_x.push(at_x - sent);
        glass.push(shown - at_x);
        round_trip.push(shown - sent);
        dark = !dark;
    }
    summary("keystroke → X", to_x);
    summary("glass-to-glass", glass);
    summary("round trip (key → flip shown)", round_trip);
    if let (Some((cpu0, _)), Some((cpu1, rss))) = (usage_before, agent_usage(agent.pid())) {
        let wall = started.elapsed().as_secs_f64();
        println!(
            "agent: {:.0} % of one core while flipping every ~0.4 s, peak RSS {rss:.0} MiB",
            (cpu1 - cpu0) / wall * 100.0
        );
    }
    sharer.close().await;
    env.finish().await;
}
