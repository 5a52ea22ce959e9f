//! `cargo xtask bench` (console part): what the helper's browser downloads
//! and how soon the console can be used.
//!
//! - The release WASM and JS from `dist/`, raw, gzipped (`gzip -9`, the
//!   build's `.gz` that the server sends) and as the build's brotli copy.
//!   There are three builds: the helper's console (`tandem-frontend-*`),
//!   the sharer's (`tandem-frontend-share-*`) and the full console with
//!   the administration, records and monitoring (`tandem-frontend-full-*`).
//! - Navigation → first paint (FCP), → the console's first frame, and →
//!   largest paint (LCP) in a fresh headless Chromium, read from the page's
//!   own Paint Timing entries and User Timing marks. The page draws a
//!   static shell (the top bar and "Starting the console…") before the
//!   WASM runs: that is the first paint. The console itself renders on the
//!   client only and attaches its event handlers as it renders; the frame
//!   that first draws it (the mark `tandem:console-frame`, made in the
//!   first animation frame after the mount) is when it can be used. New
//!   browser: the first page a new Chromium process opens (its start-up
//!   included).
//!   Cold: an empty cache in a browser already running (it has opened one
//!   plain response of the server first). Warm: the same browser opening
//!   `/devices` afterwards. Full: then `/reports`, the first page of the
//!   full console, whose WASM is not cached yet. Sharer: then `/share`,
//!   the first page of the sharer's console, its WASM not cached either.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: a panic is a report

use std::path::Path;
use std::process::Command;
use tandem_tests::Env;

const RUNS: usize = 5;

const PAINTS: &str = r#"
    const [done] = [arguments[arguments.length - 1]];
    const nav = performance.getEntriesByType('navigation')[0];
    const wasm = performance.getEntriesByType('resource').find(r => r.name.endsWith('.wasm'));
    const fcp = () => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime;
    let lcp = null;
    new PerformanceObserver(list => {
        for (const e of list.getEntries()) lcp = e.startTime;
    }).observe({type: 'largest-contentful-paint', buffered: true});
    const mark = name => (performance.getEntriesByName(name, 'mark')[0] || {}).startTime;
    const wait = () => {
        if (fcp() !== undefined && lcp !== null && mark('tandem:console-frame') !== undefined) {
            done({fcp: fcp(), lcp, page: nav ? nav.responseEnd : null,
                  dom: nav ? nav.domContentLoadedEventEnd : null,
                  mounted: mark('tandem:console-mounted'),
                  frame: mark('tandem:console-frame'),
                  wasm: wasm ? wasm.responseEnd : null,
                  wasmBytes: wasm ? wasm.transferSize : null});
        } else {
            setTimeout(wait, 20);
        }
    };
    wait();
"#;

fn size(path: &Path) -> (u64, u64) {
    let raw = std::fs::metadata(path).unwrap().len();
    let gz = Command::new("gzip").arg("-9c").arg(path).output().unwrap();
    assert!(gz.status.success());
    (raw, gz.stdout.len() as u64)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

#[tokio::main]
async fn main() {
    let dist = tandem_tests::dist_dir().unwrap();
    println!("console: release build in {}", dist.display());
    for entry in std::fs::read_dir(&dist).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".wasm") || name.ends_with(".js") || name.ends_with(".css") {
            let (raw, gz) = size(&path);
            let kind = name.rsplit('.').next().unwrap_or_default();
            // What the server sends a browser that takes brotli (the
            // build's own `.br`; browsers offer it over https).
            let br = std::fs::metadata(path.with_file_name(format!("{name}.br")))
                .map(|m| format!("{:>7.1} KiB brotli", m.len() as f64 / 1024.0))
                .unwrap_or_else(|_| "no .br built".into());
            println!(
                "{name:>48} {kind:>5}: {:>8.1} KiB raw  {:>7.1} KiB gzipped  {br}",
                raw as f64 / 1024.0,
                gz as f64 / 1024.0
            );
        }
    }

    // Per kind of navigation: first paints, the console's first frames,
    // largest paints, WASM bytes.
    let mut figures: [[Vec<f64>; 4]; 5] = Default::default();
    let mut record = |kind: usize, paints: &serde_json::Value| {
        for (figure, key) in ["fcp", "frame", "lcp", "wasmBytes"].into_iter().enumerate() {
            let value = paints[key].as_f64();
            figures[kind][figure].push(value.unwrap_or_else(|| panic!("no {key} in {paints}")));
        }
    };
    for _ in 0..RUNS {
        let env = Env::start().await.unwrap();
        // The very first page a new browser process opens.
        let browser = &env.browser;
        browser.goto("/signin").await.unwrap();
        browser.wait_for("#signin-email").await.unwrap();
        let fresh = browser.eval_async(PAINTS, vec![]).await.unwrap();
        record(0, &fresh);

        // A browser that is already running (as a user's is), its cache
        // empty: it has opened one plain response of the server, which
        // starts its processes and connection and caches nothing the
        // console uses.
        let browser = tandem_tests::Browser::start(env.server.base_url())
            .await
            .unwrap();
        browser
            .goto(tandem_protocol::routes::HEALTHZ)
            .await
            .unwrap();
        browser.goto("/signin").await.unwrap();
        browser.wait_for("#signin-email").await.unwrap();
        let cold = browser.eval_async(PAINTS, vec![]).await.unwrap();
        record(1, &cold);
        browser.sign_in_as("megan@contoso.test").await.unwrap();
        browser.goto("/devices").await.unwrap();
        browser.wait_for("h1").await.unwrap();
        let warm = browser.eval_async(PAINTS, vec![]).await.unwrap();
        record(2, &warm);
        browser.goto("/reports").await.unwrap();
        browser.wait_for("h1").await.unwrap();
        let full = browser.eval_async(PAINTS, vec![]).await.unwrap();
        record(3, &full);
        browser.goto("/share").await.unwrap();
        browser.wait_for("#share-code").await.unwrap();
        let sharer = browser.eval_async(PAINTS, vec![]).await.unwrap();
        record(4, &sharer);
        println!(
            "run: fresh {fresh}\n     cold {cold}\n     warm {warm}\n     full {full}\n     sharer {sharer}"
        );
        browser.close().await;
        env.browser.close().await;
    }
    println!(
        "\nnavigation → first paint (FCP), the console's first frame (usable), largest paint; median of {RUNS} runs:"
    );
    for (kind, [fcp, frame, lcp, bytes]) in [
        "new browser process, first page (/signin)",
        "running browser, empty cache (/signin)",
        "warm: cached (/devices)",
        "full console, its WASM not cached (/reports)",
        "sharer's console, its WASM not cached (/share)",
    ]
    .into_iter()
    .zip(figures.iter_mut())
    {
        println!(
            "{kind:<46} FCP {:>4.0} ms  console {:>4.0} ms  LCP {:>4.0} ms  WASM {:>7.0} bytes",
            median(fcp),
            median(frame),
            median(lcp),
            median(bytes)
        );
    }
}
