//! The test network laid out for a session (`crate::network`): coturn
//! and the server in the server site, the helper's browser in hers, and
//! the device's X screen (its agent starts with the session, in the
//! sharer's site). Shared by the network suites and the session bench.
#![allow(clippy::unwrap_used, clippy::expect_used)] // harness: a panic is a failure report

use crate::desktop::{Agent, Xvfb};
use crate::flows::controlled_agent_session_in;
use crate::network::{SERVER_ADDRESS, Site, TestNetwork};
use crate::turn::{Coturn, TURN_PORT, TURN_TCP_PORT};
use crate::{Browser, GroupChild, ServerOptions, TEST_TIMEOUT, TestServer};

/// The secret the server and coturn share for TURN REST credentials.
pub const TURN_SECRET: &str = "e2e-turn-secret";

/// The server's `[turn_rest]`, pointing at the test's coturn (and at the
/// second one, over TCP on 443, if `tcp`).
pub fn turn_config(tcp: bool) -> String {
    let tcp = if tcp {
        format!(", \"turn:{SERVER_ADDRESS}:{TURN_TCP_PORT}?transport=tcp\"")
    } else {
        String::new()
    };
    format!(
        "[turn_rest]\nurls = [\"turn:{SERVER_ADDRESS}:{TURN_PORT}?transport=udp\"{tcp}]\n\
         secret = \"{TURN_SECRET}\"\nttl_seconds = 600\n"
    )
}

/// The three sites with the server and coturn, the helper's browser in
/// its site, and the device's X screen with an xterm whose shell runs in
/// `work` (the agent starts with the session).
pub struct Sites {
    pub helper: Browser,
    pub server: TestServer,
    pub turn: Coturn,
    /// The second coturn, for TURN over TCP.
    pub turn_tcp: Option<Coturn>,
    pub work: tempfile::TempDir,
    _windows: Vec<GroupChild>,
    pub xvfb: Xvfb,
    pub network: TestNetwork,
}

/// What the device's xterm runs (`sh -c`), given the work directory.
pub type Terminal = Box<dyn Fn(&std::path::Path) -> String>;

/// How the sites are laid out.
#[derive(Default)]
pub struct Layout {
    /// The sites can reach each other directly.
    pub open_between_sites: bool,
    /// A clock ticks in a corner of the device's screen.
    pub clock: bool,
    /// The server's reconnect window, if not its default.
    pub reconnect_seconds: Option<u32>,
    /// The sharer's site drops all UDP; a second coturn takes TURN over
    /// TCP on 443.
    pub tcp_only_sharer: bool,
    /// What the xterm runs (`sh -c`), given the work directory; a shell
    /// there if `None`.
    pub terminal: Option<Terminal>,
}

impl Sites {
    pub async fn start(layout: Layout) -> Self {
        let network = TestNetwork::build().unwrap();
        if layout.open_between_sites {
            network.open_between_sites().unwrap();
        }
        let turn = Coturn::start(&network.site(Site::Server), TURN_SECRET).unwrap();
        let turn_tcp = layout.tcp_only_sharer.then(|| {
            network.drop_udp(Site::Sharer).unwrap();
            Coturn::start_on(
                &network.site(Site::Server),
                TURN_SECRET,
                TURN_TCP_PORT,
                (49400, 49600),
            )
            .unwrap()
        });
        let mut config = turn_config(layout.tcp_only_sharer);
        if let Some(seconds) = layout.reconnect_seconds {
            config = format!("reconnect_seconds = {seconds}\n{config}");
        }
        let server = TestServer::start_with(ServerOptions {
            config_toml: Some(config),
            inside: Some(network.site(Site::Server)),
            ..ServerOptions::default()
        })
        .await
        .unwrap();
        let helper = Browser::start_in(&network.site(Site::Helper), server.base_url())
            .await
            .unwrap();
        let work = tempfile::tempdir().unwrap();
        let xvfb = Xvfb::start().unwrap();
        let shell = match &layout.terminal {
            Some(program) => program(work.path()),
            None => format!("cd '{}' && exec sh", work.path().display()),
        };
        // Beside the clock, never over it (the two map in either order).
        let geometry = if layout.clock {
            "120x40+0+0"
        } else {
            "170x59+0+0"
        };
        let mut windows = vec![
            xvfb.run(
                "xterm",
                "xterm",
                &["-ut", "-geometry", geometry, "-e", "sh", "-c", &shell],
            )
            .unwrap(),
        ];
        if layout.clock {
            let tick = "while :; do date +%T.%N; sleep 0.05; done";
            let args = ["-ut", "-geometry", "30x3+760+680", "-e", "sh", "-c", tick];
            windows.push(xvfb.run("xterm", "xterm", &args).unwrap());
        }
        Self {
            helper,
            server,
            turn,
            turn_tcp,
            work,
            _windows: windows,
            xvfb,
            network,
        }
    }

    /// A full-control session: the agent and the sharer's browser in the
    /// sharer's site, the helper in hers.
    pub async fn controlled(&self) -> (Browser, Agent) {
        controlled_agent_session_in(
            &self.helper,
            self.server.base_url(),
            &self.xvfb.display,
            &self.network.site(Site::Sharer),
        )
        .await
        .unwrap()
    }

    /// The clock ([`Layout::clock`]) on the helper's picture over
    /// `seconds`: see [`PICTURE_OVER_TIME`].
    pub async fn clock_over(&self, seconds: u32) -> serde_json::Value {
        let [x, y, width, height] = CLOCK;
        let args = [seconds, x, y, width, height]
            .into_iter()
            .map(serde_json::Value::from)
            .collect();
        self.helper
            .eval_async(PICTURE_OVER_TIME, args)
            .await
            .unwrap()
    }

    /// Runs `test`, failing it after [`TEST_TIMEOUT`]; then closes up.
    pub async fn run(self, test: impl AsyncFnOnce(&Sites)) {
        let outcome = tokio::time::timeout(TEST_TIMEOUT, test(&self)).await;
        self.helper.close().await;
        assert!(outcome.is_ok(), "the test took over {TEST_TIMEOUT:?}");
    }
}

/// The helper's picture of the ticking clock ([`Layout::clock`]) (the video with the tile
/// layer over it) sampled every 50 ms for `arguments[0]` seconds: how often
/// it changed, the longest it stood still (ms), the receiver's NACK and
/// PLI counts, and the tiles that arrived after a newer one.
pub const PICTURE_OVER_TIME: &str = r#"
    const [seconds, x, y, w, h] = arguments;
    const done = arguments[arguments.length - 1];
    const v = document.querySelector('#remote-screen');
    const t = document.querySelector('#remote-tiles');
    const pc = (window.__pcs || []).find(p => p.connectionState === 'connected');
    if (!v || !pc) { done(null); return; }
    const c = document.createElement('canvas');
    [c.width, c.height] = [w, h];
    const g = c.getContext('2d', { willReadFrequently: true });
    const sample = () => {
        g.drawImage(v, x, y, w, h, 0, 0, w, h);
        if (t && t.width === v.videoWidth) g.drawImage(t, x, y, w, h, 0, 0, w, h);
        const px = g.getImageData(0, 0, w, h).data;
        let hash = 0;
        for (let i = 0; i < px.length; i += 4) hash = (hash * 31 + px[i] + px[i + 1] * 7 + px[i + 2] * 13) | 0;
        return hash;
    };
    const start = performance.now();
    let [last, lastAt, changes, longest] = [sample(), start, 0, 0];
    const tick = () => {
        const now = performance.now();
        const hash = sample();
        if (hash !== last) {
            longest = Math.max(longest, now - lastAt);
            [last, lastAt, changes] = [hash, now, changes + 1];
        }
        if (now - start < seconds * 1000) { setTimeout(tick, 50); return; }
        longest = Math.max(longest, now - lastAt);
        pc.getStats().then(r => {
            let s = null;
            r.forEach(e => { if (e.type === 'inbound-rtp' && e.kind === 'video') s = e; });
            done({ changes, longest_still_ms: Math.round(longest),
                   nacks: s ? s.nackCount : 0, plis: s ? s.pliCount : 0,
                   tiles: t ? Number(t.dataset.tiles || 0) : 0,
                   late_tiles: t ? Number(t.dataset.late || 0) : 0,
                   agent: window.__agentStats || null, reports: window.__agentReports || 0 });
        });
    };
    setTimeout(tick, 50);
"#;

/// Where the clock ticks on the X screen (`-geometry 30x3+760+680`).
pub const CLOCK: [u32; 4] = [770, 685, 120, 30];
