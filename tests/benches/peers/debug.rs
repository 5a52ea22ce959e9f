//! What `TANDEM_PEER_DEBUG=1` adds to a run: the state of the client's
//! page and Tandem's connection details at each phase, each phase's
//! samples as a timeline, and after the run the last figures, the agent's
//! output and the settled text as PGM files in `/tmp`.

use crate::systems::{Running, System};
use crate::{MARGIN, TEXT};

/// Whether `TANDEM_PEER_DEBUG` is set.
pub fn on() -> bool {
    std::env::var_os("TANDEM_PEER_DEBUG").is_some()
}

/// Prints, as phase `name` begins, the picture's state and Tandem's
/// figures (the agent's stages, the media, the tile layer's counters).
pub async fn phase_began(running: &Running, name: &str) {
    let state = running
        .browser
        .eval(
            "const v = document.querySelector(arguments[0]); if (!v) return null;
             const r = v.getBoundingClientRect();
             return [v.paused, v.readyState, v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : -1,
                     r.x, r.y, r.width, r.height, document.visibilityState, (window.__bench||{}).samples.length, JSON.stringify((window.__bench||{}).video),
                     document.activeElement && document.activeElement.id];",
            vec![serde_json::json!(running.picture)],
        )
        .await;
    println!("phase {name}: {state:?}");
    println!(
        "  agent: {:?} media: {:?} tiles: {:?}",
        running.browser.texts("#agent-stats").await.ok(),
        running.browser.texts("#media-stats").await.ok(),
        running
            .browser
            .eval(
                "const t = document.querySelector('#remote-tiles');
                 return t ? [t.dataset.tiles, t.dataset.cleared, t.dataset.drawMs] : null;",
                vec![]
            )
            .await
            .ok()
    );
}

/// One phase's samples as a timeline (ms into the phase, glass-to-glass
/// ms, gap since the previous sample) in
/// `/tmp/peer-timeline-<key>-<phase>.tsv`, and the gaps that show a stall.
pub fn write_timeline(key: &str, name: &str, phase: &str, from: f64, in_phase: &[&(f64, f64)]) {
    let mut out = String::from("at_ms\tg2g_ms\tgap_ms\n");
    let mut stalls = Vec::new();
    let mut previous = from;
    for (t, stamp) in in_phase {
        // Raw, misreads and values shown early (clock skew) included.
        let now = (*t as u64) & 0xFF_FFFF;
        let g2g = (now + 0x100_0000 - (*stamp as u64)) & 0xFF_FFFF;
        let gap = t - previous;
        previous = *t;
        out.push_str(&format!("{:.1}\t{g2g}\t{gap:.1}\n", t - from));
        if gap > 50.0 {
            stalls.push(format!("{:.0}ms@{:.0}", gap, t - from));
        }
    }
    let path = format!("/tmp/peer-timeline-{key}-{phase}.tsv");
    let _ = std::fs::write(&path, out);
    println!(
        "  {name} {phase}: {} gaps over 50 ms: {}",
        stalls.len(),
        stalls.join(" ")
    );
}

/// After a run: the last figures, the agent's last 40 lines, and the
/// source's and the shown settled text as PGM files.
pub async fn after_run(running: &Running, system: System, original: &[u8], shown: &[u8]) {
    for css in ["#media-stats", "#agent-stats", "#session-status"] {
        if let Ok(t) = running.browser.texts(css).await {
            println!("{css}: {t:?}");
        }
    }
    for kept in &running.keep {
        if let Some(agent) = kept.downcast_ref::<tandem_tests::desktop::Agent>() {
            let out = agent.output();
            let tail: Vec<&str> = out.lines().rev().take(40).collect();
            println!(
                "--- agent ---\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
    }
    let pgm = |path: String, (width, height): (i64, i64), grey: &[u8]| {
        let _ = std::fs::write(
            path,
            [format!("P5 {width} {height} 255\n").as_bytes(), grey].concat(),
        );
    };
    pgm("/tmp/peer-source.pgm".into(), (TEXT.2, TEXT.3), original);
    pgm(
        format!("/tmp/peer-{}.pgm", system.name().replace(' ', "_")),
        (TEXT.2 + 2 * MARGIN, TEXT.3 + 2 * MARGIN),
        shown,
    );
}
