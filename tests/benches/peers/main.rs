//! `cargo xtask bench --peers`: Tandem against x11vnc + noVNC and xpra's
//! HTML5 client, in one run, on one 1920×1080 Xvfb, with the same workload
//! (`tandem-workload`) and the same page script reading each client's
//! picture. Figures only; nothing passes or fails on speed.
//!
//! Per system and run: the workload's phases (idle, still, typing, scroll,
//! motion) run for a fixed time each. Glass-to-glass is the wall clock when
//! the client shows a new clock value minus that value; frames shown per
//! second count new values; bytes are counted on loopback by nftables;
//! CPU and RSS come from /proc for the sending side's and the browser's
//! process groups; key → X pairs each keydown in the page with the key
//! press the workload received; fidelity compares the settled text region
//! the client shows with what the workload drew (PSNR, SSIM).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: a panic is a report

mod debug;
mod figures;
mod page;
mod probes;
mod systems;

use figures::{PhaseFigures, RunFigures, SystemFigures};
use probes::{Counters, Nft};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use systems::{Running, System};
use tandem_tests::desktop::Xvfb;

const PHASES: [&str; 5] = ["idle", "still", "typing", "scroll", "motion"];
const TEXT: (i64, i64, i64, i64) = (40, 80, 960, 480);
/// How far (px) the client's picture may sit from where X drew it.
const MARGIN: i64 = 8;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Writes `bytes` to `benchmarks/<file>` in the repository (a chart, a
/// screenshot for BENCHMARKS.md).
fn write_artifact(file: &str, bytes: &[u8]) -> Result<(), String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../benchmarks")
        .join(file);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn workload_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/release/deps/peers-… → target/release/tandem-workload
    exe.parent()
        .and_then(|d| d.parent())
        .map(|d| d.join("tandem-workload"))
        .unwrap()
}

/// What draws the screen the systems share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    /// `tandem-workload`: a small X client drawing with core requests.
    X11,
    /// `tandem-workload --browser`: a full-screen Chromium page drawing on
    /// every animation frame, as real desktops do.
    Browser,
}

impl Workload {
    fn key(self) -> &'static str {
        match self {
            Workload::X11 => "x11",
            Workload::Browser => "browser",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Workload::X11 => "X client",
            Workload::Browser => "browser page",
        }
    }
}

/// One run of one system; `Err` says why the system could not run.
async fn run_once(
    system: System,
    workload_kind: Workload,
    xvfb: &Xvfb,
    phase_seconds: u64,
) -> Result<RunFigures, String> {
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let source = work.path().join("source.grey");
    let mut command = Command::new(workload_binary());
    if workload_kind == Workload::Browser {
        command.arg("--browser");
    }
    let mut workload = command
        .args(["--phase-seconds", &phase_seconds.to_string(), "--source"])
        .arg(&source)
        .env("DISPLAY", &xvfb.display)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("tandem-workload: {e} (cargo build --release -p tandem-tests)"))?;
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let out = workload.stdout.take().ok_or("no workload stdout")?;
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(60))
        .map_err(|_| "the workload did not start")?;
    if !first.starts_with("ready") {
        return Err(format!("workload said {first:?}"));
    }
    let mut running = systems::start(system, &xvfb.display).await?;
    let browser_group = running.browser.process_group();
    let mut installed = false;
    for _ in 0..100 {
        let ok = running
            .browser
            .eval(
                page::INSTALL,
                vec![
                    serde_json::json!(running.picture),
                    serde_json::json!(running.overlay),
                ],
            )
            .await
            .map_err(|e| e.to_string())?;
        if ok.as_bool() == Some(true) {
            installed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !installed {
        return Err(format!("{} never showed a picture", system.name()));
    }
    // With TANDEM_PEER_DEBUG, Tandem's connection details (the agent's
    // per-stage figures) are opened, to be printed at each phase.
    if debug::on() && running.overlay.is_some() {
        running
            .browser
            .click("#quality-button")
            .await
            .map_err(|e| format!("no connection details in the console: {e}"))?;
    }
    // Focus the client's input: a real click 300 px into the picture,
    // inside the text page and clear of any toolbar over its middle.
    running
        .browser
        .wait_for(running.keys_to)
        .await
        .map_err(|e| format!("no {} to type into: {e}", running.keys_to))?;
    let rect = running
        .browser
        .eval(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect();
             return [r.x, r.y, r.width, r.height];",
            vec![serde_json::json!(running.keys_to)],
        )
        .await
        .map_err(|e| e.to_string())?;
    let at = |i: usize| rect[i].as_f64().unwrap_or(0.0);
    let (x, y) = (
        at(0) + at(2).min(600.0) / 2.0,
        at(1) + at(3).min(600.0) / 2.0,
    );
    {
        use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
        let click = MouseActions::new("mouse".into())
            .then(PointerAction::MoveTo {
                duration: None,
                x,
                y,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        running
            .browser
            .client()
            .perform_actions(click)
            .await
            .map_err(|e| format!("cannot click into {}: {e}", running.keys_to))?;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let nft = Nft::start(&running.wire)?;
    let mut stdin = workload.stdin.take().ok_or("no workload stdin")?;
    writeln!(stdin, "go").map_err(|e| e.to_string())?;
    let mut marks: Vec<(String, f64, Counters)> = Vec::new();
    let mut keys_x: Vec<f64> = Vec::new();
    // When each clock value first reached the X framebuffer.
    let mut seen: std::collections::HashMap<u64, f64> = std::collections::HashMap::new();
    let mut shown_text = None;
    let mut typing_since: Option<Instant> = None;
    let mut next_key = Instant::now();
    let mut still_started: Option<Instant> = None;
    loop {
        let line = match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(line) => Some(line),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => None,
            Err(_) => return Err("the workload stopped".into()),
        };
        if let Some(line) = line {
            let mut parts = line.split_whitespace();
            match (parts.next(), parts.next(), parts.next()) {
                (Some("phase"), Some(name), Some(at)) => {
                    let at: f64 = at.parse().unwrap_or(0.0);
                    let counters = Counters::read(&nft, &running.sender_groups, browser_group);
                    marks.push((name.to_owned(), at, counters));
                    if debug::on() {
                        debug::phase_began(&running, name).await;
                    }
                    typing_since = (name == "typing").then(Instant::now);
                    still_started = (name == "still").then(Instant::now).or(still_started);
                }
                (Some("key"), Some(at), _) => keys_x.push(at.parse().unwrap_or(0.0)),
                (Some("seen"), Some(stamp), Some(at)) => {
                    if let (Ok(stamp), Ok(at)) = (stamp.parse::<u64>(), at.parse::<f64>()) {
                        seen.entry(stamp).or_insert(at);
                    }
                }
                (Some("done"), Some(at), _) => {
                    let at: f64 = at.parse().unwrap_or(0.0);
                    let counters = Counters::read(&nft, &running.sender_groups, browser_group);
                    marks.push(("done".into(), at, counters));
                    break;
                }
                _ => {}
            }
        }
        // Late in `still`, the text has settled: take the client's picture.
        if shown_text.is_none()
            && let Some(since) = still_started
            && since.elapsed() > Duration::from_millis(phase_seconds * 1000 - 800)
        {
            // A margin around the region: a client may draw the picture a
            // few pixels off, which is not a loss of sharpness.
            let (x, y, w, h) = (
                TEXT.0 - MARGIN,
                TEXT.1 - MARGIN,
                TEXT.2 + 2 * MARGIN,
                TEXT.3 + 2 * MARGIN,
            );
            let grey = running
                .browser
                .eval(
                    page::TEXT_REGION,
                    vec![
                        serde_json::json!(running.picture),
                        x.into(),
                        y.into(),
                        w.into(),
                        h.into(),
                        serde_json::json!(running.overlay),
                    ],
                )
                .await
                .map_err(|e| format!("cannot read {}'s text region: {e}", system.name()))?;
            let grey = grey
                .as_str()
                .and_then(|text| {
                    use base64::Engine;
                    base64::engine::general_purpose::STANDARD.decode(text).ok()
                })
                .ok_or_else(|| format!("{} gave no text region", system.name()))?;
            shown_text = Some(Some(grey));
            // What the helper sees while the clock keeps ticking, for
            // BENCHMARKS.md beside the chart.
            if system == System::Tandem {
                let png = running
                    .browser
                    .client()
                    .screenshot()
                    .await
                    .map_err(|e| format!("no screenshot of {}: {e}", system.name()))?;
                let name = match workload_kind {
                    Workload::X11 => "peers-tandem-still.png",
                    Workload::Browser => "peers-browser-tandem-still.png",
                };
                write_artifact(name, &png)?;
            }
        }
        // In `typing`, a key every 300 ms, as a person types.
        if typing_since.is_some() && Instant::now() >= next_key {
            next_key = Instant::now() + Duration::from_millis(300);
            use fantoccini::actions::{InputSource, KeyAction, KeyActions};
            let keys = KeyActions::new("keys".into())
                .then(KeyAction::Down { value: 'k' })
                .then(KeyAction::Up { value: 'k' });
            running
                .browser
                .client()
                .perform_actions(keys)
                .await
                .map_err(|e| format!("cannot type into {}: {e}", system.name()))?;
        }
    }
    let collected = running
        .browser
        .eval(page::COLLECT, vec![])
        .await
        .map_err(|e| e.to_string())?;
    let (Some(samples), Some(keydowns)) = (collected[0].as_array(), collected[1].as_array()) else {
        return Err(format!(
            "the page script of {} is gone: {collected}",
            system.name()
        ));
    };
    let samples: Vec<(f64, f64)> = samples
        .iter()
        .filter_map(|s| Some((s[0].as_f64()?, s[1].as_f64()?)))
        .collect();
    // The moving-region clock: `[shown at, stamp, 0 in the page | 1 in the field]`.
    let moving: Vec<(f64, f64, u64)> = collected[4]
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|s| Some((s[0].as_f64()?, s[1].as_f64()?, s[2].as_u64()?)))
                .collect()
        })
        .unwrap_or_default();
    let keydowns: Vec<f64> = keydowns
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect();
    if samples.is_empty() {
        return Err(format!(
            "no clock value was read from {}'s picture",
            system.name()
        ));
    }
    // Where the time goes on the receiving side (a <video> only).
    let video = &collected[3];
    if let Some(frames) = video["frames"].as_f64().filter(|f| *f > 0.0) {
        let per_frame = |key: &str| video[key].as_f64().unwrap_or(0.0) / frames;
        println!(
            "  {}: {frames} video frames; receive → present {:.1} ms, decode {:.1} ms a frame",
            system.name(),
            per_frame("receiveToPresent"),
            per_frame("processing"),
        );
    }
    if keydowns.is_empty() {
        return Err(format!("no key reached {}'s page", system.name()));
    }
    let mut figures = RunFigures::default();
    for pair in marks.windows(2) {
        let ((name, from, c0), (_, to, c1)) = (&pair[0], &pair[1]);
        let seconds = ((to - from) / 1000.0).max(0.001);
        let in_phase: Vec<&(f64, f64)> = samples
            .iter()
            .filter(|(t, _)| t >= from && t < to)
            .collect();
        let latency: Vec<f64> = in_phase
            .iter()
            .filter_map(|(t, stamp)| figures::glass_to_glass(*t, *stamp))
            .collect();
        // Where the moving-region clock is drawn in this phase.
        let moving_at = match name.as_str() {
            "scroll" => Some(0),
            "motion" => Some(1),
            _ => None,
        };
        let moving: Vec<f64> = moving
            .iter()
            .filter(|(t, _, at)| *t >= *from && *t < *to && Some(*at) == moving_at)
            .filter_map(|(t, stamp, _)| figures::glass_to_glass(*t, *stamp))
            .collect();
        if moving_at.is_some() && moving.is_empty() {
            return Err(format!(
                "no moving-region clock value was read from {}'s picture in {name}",
                system.name()
            ));
        }
        // Above the source's own rendering: shown − first in the framebuffer.
        let added: Vec<f64> = in_phase
            .iter()
            .filter_map(|(t, stamp)| {
                let at = *seen.get(&(*stamp as u64))?;
                let d = t - at;
                (-5.0..5_000.0).contains(&d).then_some(d.max(0.0))
            })
            .collect();
        if debug::on() {
            debug::write_timeline(
                &format!("{}-{}", system.key(), workload_kind.key()),
                system.name(),
                name,
                *from,
                &in_phase,
            );
        }
        figures.phases.push((
            name.clone(),
            PhaseFigures {
                frames_per_second: latency.len() as f64 / seconds,
                latency,
                added,
                moving_per_second: moving.len() as f64 / seconds,
                moving,
                kbit_per_second: (c1.bytes - c0.bytes) as f64 * 8.0 / 1000.0 / seconds,
                sender_cpu_s: c1.sender_cpu_s - c0.sender_cpu_s,
                browser_cpu_s: c1.browser_cpu_s - c0.browser_cpu_s,
            },
        ));
    }
    if let Some(last) = marks.last() {
        figures.sender_rss_mib = last.2.sender_rss_mib;
        figures.browser_rss_mib = last.2.browser_rss_mib;
    }
    let mut used = vec![false; keys_x.len()];
    for k in &keydowns {
        if let Some(i) =
            (0..keys_x.len()).find(|&i| !used[i] && keys_x[i] >= k - 5.0 && keys_x[i] - k < 2000.0)
        {
            used[i] = true;
            figures.key_to_x.push(keys_x[i] - k);
        }
    }
    let Some(Some(shown)) = shown_text else {
        return Err(format!("{}'s settled text was never read", system.name()));
    };
    let original = std::fs::read(&source)
        .map_err(|e| format!("the workload's text ({}): {e}", source.display()))?;
    {
        let aligned = figures::best_aligned(
            &original,
            &shown,
            TEXT.2 as usize,
            TEXT.3 as usize,
            MARGIN as usize,
        );
        figures.psnr_db = Some(figures::psnr(&original, &aligned));
        figures.ssim = Some(figures::ssim(&original, &aligned, TEXT.2 as usize));
    }
    drop(stdin);
    let _ = workload.kill();
    let _ = workload.wait();
    drop(nft);
    if debug::on() {
        debug::after_run(&running, system, &original, &shown).await;
    }
    let Running { browser, .. } = running;
    browser.close().await;
    Ok(figures)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let runs = env_number("TANDEM_PEER_RUNS", 3);
    let phase_seconds = env_number("TANDEM_PEER_PHASE_SECONDS", 6).max(2);
    let xvfb = Xvfb::sized(1920, 1080).unwrap();
    println!(
        "peers: one 1920x1080 Xvfb, {runs} run(s) per system, {phase_seconds} s per phase ({})",
        PHASES.join(", ")
    );
    // TANDEM_PEER_WORKLOADS=x11,browser picks some (both by default).
    let workloads_chosen = std::env::var("TANDEM_PEER_WORKLOADS").unwrap_or_default();
    let workloads: Vec<Workload> = [Workload::X11, Workload::Browser]
        .into_iter()
        .filter(|w| {
            workloads_chosen.is_empty() || workloads_chosen.split(',').any(|c| w.key() == c.trim())
        })
        .collect();
    // TANDEM_PEER_SYSTEMS=tandem,novnc,xpra picks some (all by default).
    let chosen = std::env::var("TANDEM_PEER_SYSTEMS").unwrap_or_default();
    let mut failed = false;
    for workload in workloads {
        println!("\n== workload: {}", workload.name());
        let mut all = Vec::new();
        let systems: Vec<System> = if chosen.is_empty() {
            System::DEFAULT.to_vec()
        } else {
            System::ALL
                .into_iter()
                .filter(|s| chosen.split(',').any(|c| s.key() == c.trim()))
                .collect()
        };
        for system in systems {
            let mut figures = SystemFigures {
                name: system.name().into(),
                runs: Vec::new(),
                failed: None,
            };
            for run in 0..runs {
                match run_once(system, workload, &xvfb, phase_seconds).await {
                    Ok(r) => {
                        let p50 = r
                            .phases
                            .iter()
                            .map(|(p, f)| {
                                format!(
                                    "{p} {:.0} (+{:.0})",
                                    figures::quantile(&f.latency, 0.5).unwrap_or(f64::NAN),
                                    figures::quantile(&f.added, 0.5).unwrap_or(f64::NAN)
                                )
                            })
                            .collect::<Vec<_>>()
                            .join(", ");
                        println!(
                            "{} run {}: g2g p50 ms (added): {p50}",
                            system.name(),
                            run + 1
                        );
                        figures.runs.push(r);
                    }
                    Err(why) => {
                        println!("{} run {}: could not run: {why}", system.name(), run + 1);
                        figures.failed = Some(why);
                        figures.runs.clear();
                        failed = true;
                        break;
                    }
                }
            }
            all.push(figures);
        }
        println!("\n{}", figures::table(&all, &PHASES));
        let chart = figures::chart(&all, &["still", "typing", "scroll", "motion"]);
        let file = match workload {
            Workload::X11 => "peers.svg",
            Workload::Browser => "peers-browser.svg",
        };
        write_artifact(file, chart.as_bytes()).unwrap();
        println!("chart: benchmarks/{file}");
    }
    // A system that could not run is a harness failure, not a figure.
    if failed {
        eprintln!("peers: a system could not run; see above");
        std::process::exit(1);
    }
}
