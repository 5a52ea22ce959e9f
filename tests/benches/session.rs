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
//! The same again across the test network (`tandem_tests::network`, as
//! root): direct between two sites, relayed through coturn between two
//! NATed sites, relayed over TCP where the sharer's site drops UDP, and
//! relayed at 5 % loss and 100 ms round trip; with the
//! frames shown per second while the screen flips at 30 Hz; and, relayed
//! with and without loss, the longest a clock ticking at 20 Hz in a
//! corner stood still on the helper's picture (the recovery time after a
//! loss).
//!
//! Figures only; nothing here passes or fails on speed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: a panic is a report

use serde_json::json;
use std::time::Duration;
use tandem_tests::desktop::Xvfb;
use tandem_tests::flows::controlled_agent_session;
use tandem_tests::network::{Impairment, Site};
use tandem_tests::sites::{Layout, Sites};
use tandem_tests::{Browser, Env};

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

/// The xterm's program: flip the screen on every key, logging the wall
/// clock (ns) to `log` just before each flip.
fn toggler(log: &std::path::Path) -> String {
    format!(
        "stty raw -echo; while :; do \
         dd bs=1 count=1 of=/dev/null 2>/dev/null; date +%s%N >> '{0}'; printf '\\033[?5h'; \
         dd bs=1 count=1 of=/dev/null 2>/dev/null; date +%s%N >> '{0}'; printf '\\033[?5l'; done",
        log.display()
    )
}

/// Presented frames per second while the page flips the screen with a key
/// every 33 ms for 3 s (a full-screen change at 30 Hz).
const FPS_UNDER_FLIPS: &str = "
    const done = arguments[arguments.length - 1];
    const v = document.querySelector('#remote-screen');
    const input = window.__channels.filter(c => c.label === 'input' && c.readyState === 'open').pop();
    let frames = 0, running = true;
    const count = () => { frames++; if (running) v.requestVideoFrameCallback(count); };
    v.requestVideoFrameCallback(count);
    const keys = setInterval(() => {
        input.send(JSON.stringify({type: 'key', code: 'KeyA', down: true}));
        input.send(JSON.stringify({type: 'key', code: 'KeyA', down: false}));
    }, 33);
    setTimeout(() => { clearInterval(keys); running = false; done(frames / 3); }, 3000);";

/// Key → X → shown, `SAMPLES` times, and the frame rate under flips: the
/// figures for one path.
async fn measure(helper: &Browser, log: &std::path::Path) {
    let mut dark = None;
    for _ in 0..100 {
        dark = helper.eval(DARKNESS, vec![]).await.unwrap().as_bool();
        if dark.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut dark = dark.expect("the video shows the screen");
    let (mut to_x, mut glass, mut round_trip) = (Vec::new(), Vec::new(), Vec::new());
    let mut missed = 0;
    for _ in 0..SAMPLES {
        tokio::time::sleep(Duration::from_millis(400)).await;
        // A flip not shown within the script's 15 s is a figure too (a
        // frozen picture), not the end of the run.
        let Ok(shown) = helper
            .eval_async(WAIT_FLIP, vec![json!(dark), json!(true)])
            .await
        else {
            missed += 1;
            tokio::time::sleep(Duration::from_secs(2)).await;
            dark = helper
                .eval(DARKNESS, vec![])
                .await
                .ok()
                .and_then(|d| d.as_bool())
                .unwrap_or(!dark);
            continue;
        };
        let (shown, sent) = (shown[0].as_f64().unwrap(), shown[1].as_f64().unwrap());
        let at_x = last_logged(log).expect("the xterm logged the key");
        to_x.push(at_x - sent);
        glass.push(shown - at_x);
        round_trip.push(shown - sent);
        dark = !dark;
    }
    if missed > 0 {
        println!(
            "{:<28} {missed} of {SAMPLES} flips",
            "not shown within 15 s"
        );
    }
    summary("keystroke → X", to_x);
    summary("glass-to-glass", glass);
    summary("round trip (key → flip shown)", round_trip);
    let fps = helper.eval_async(FPS_UNDER_FLIPS, vec![]).await.unwrap();
    println!(
        "{:<28} {:.1} frames shown per second",
        "flipping at 30 Hz",
        fps.as_f64().unwrap_or(0.0)
    );
}

/// The selected pair's candidate types, as the console's getStats has it.
const PATH: &str = "
    const done = arguments[arguments.length - 1];
    const pc = (window.__pcs || []).find(p => p.connectionState === 'connected');
    if (!pc) { done(null); return; }
    pc.getStats().then(r => {
        let pair = null;
        r.forEach(s => { if (s.type === 'transport') pair = r.get(s.selectedCandidatePairId); });
        done(pair ? [r.get(pair.localCandidateId).candidateType, r.get(pair.remoteCandidateId).candidateType,
                     Math.round(pair.currentRoundTripTime * 1000)] : null);
    });";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let env = Env::start().await.unwrap();
    let xvfb = Xvfb::start().unwrap();
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("keys.log");
    let _term = xvfb
        .run(
            "xterm",
            "xterm",
            &["-geometry", "170x59+0+0", "-e", "sh", "-c", &toggler(&log)],
        )
        .unwrap();
    let helper = &env.browser;
    let (sharer, agent) = controlled_agent_session(helper, env.server.base_url(), &xvfb.display)
        .await
        .unwrap();
    let usage_before = agent_usage(agent.pid());
    let started = std::time::Instant::now();
    println!("session: 1024x768 Xvfb → release agent → headless Chromium, over loopback");
    measure(helper, &log).await;
    if let (Some((cpu0, _)), Some((cpu1, rss))) = (usage_before, agent_usage(agent.pid())) {
        let wall = started.elapsed().as_secs_f64();
        println!(
            "agent: {:.0} % of one core while flipping every ~0.4 s, peak RSS {rss:.0} MiB",
            (cpu1 - cpu0) / wall * 100.0
        );
    }
    sharer.close().await;
    env.finish().await;

    // The same across the test network (tests/src/network.rs): two sites,
    // the server and coturn on a public segment. Needs root.
    let lossy = Impairment {
        delay: Duration::from_millis(25),
        loss_percent: 2.5,
    };
    // (what, open between the sites, the sharer's site without UDP, impairment)
    let variants = [
        (
            "direct (the two sites reach each other)",
            true,
            false,
            Impairment::default(),
        ),
        (
            "relayed (both sites behind NAT, through coturn)",
            false,
            false,
            Impairment::default(),
        ),
        (
            "relayed over TCP (the sharer's site drops UDP)",
            false,
            true,
            Impairment::default(),
        ),
        (
            "relayed, 5 % loss and 100 ms round trip between the sites",
            false,
            false,
            lossy,
        ),
    ];
    for (what, open_between_sites, tcp_only_sharer, impairment) in variants {
        let layout = Layout {
            open_between_sites,
            tcp_only_sharer,
            terminal: Some(Box::new(|work| toggler(&work.join("keys.log")))),
            ..Layout::default()
        };
        let sites = Sites::start(layout).await;
        let log = sites.work.path().join("keys.log");
        let (sharer, _agent) = sites.controlled().await;
        sites.network.impair(Site::Helper, impairment).unwrap();
        sites.network.impair(Site::Sharer, impairment).unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let path = sites.helper.eval_async(PATH, vec![]).await.unwrap();
        println!(
            "\nsession across the test network, {what}: selected pair (local, remote, RTT ms) {path}"
        );
        measure(&sites.helper, &log).await;
        sharer.close().await;
        sites.helper.close().await;
    }

    // Small changes (tiles) under loss: a clock ticking at 20 Hz in a
    // corner, watched on the helper's picture for 10 s. The longest it
    // stands still is how long the picture takes to recover from a loss.
    for (what, impairment) in [
        ("relayed", Impairment::default()),
        ("relayed, 5 % loss and 100 ms round trip", lossy),
    ] {
        let sites = Sites::start(Layout {
            clock: true,
            ..Layout::default()
        })
        .await;
        let (sharer, _agent) = sites.controlled().await;
        sites.network.impair(Site::Helper, impairment).unwrap();
        sites.network.impair(Site::Sharer, impairment).unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut still = Vec::new();
        // The console's tile counts run from the start of the session.
        let (mut late_before, mut tiles_before) = (0, 0);
        for _ in 0..3 {
            let clock = sites.clock_over(10).await;
            let late = clock["late_tiles"].as_u64().unwrap_or(0);
            let tiles = clock["tiles"].as_u64().unwrap_or(0);
            println!(
                "clock ticking at 20 Hz, {what}: longest still {} ms over 10 s, {} changes, {} of {} tiles out of order",
                clock["longest_still_ms"],
                clock["changes"],
                late - late_before,
                tiles - tiles_before
            );
            (late_before, tiles_before) = (late, tiles);
            still.push(clock["longest_still_ms"].as_f64().unwrap_or(f64::NAN));
        }
        summary(&format!("clock longest still ({what})"), still);
        sharer.close().await;
        sites.helper.close().await;
    }
}
