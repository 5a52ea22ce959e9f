//! The systems under test, each started against the same X display, with
//! a headless Chromium showing its client: Tandem (release agent → the
//! console), x11vnc + websockify + noVNC, and xpra's HTML5 client.

use std::process::{Command, Stdio};
use std::time::Duration;
use tandem_tests::flows::controlled_agent_session_with;
use tandem_tests::{Browser, GroupChild, TestServer, free_port};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Tandem,
    /// Tandem without tiles (`TANDEM_AGENT_TILES=0`): every change through
    /// H.264, as before the tiles lever.
    TandemVideo,
    /// Tandem as before adaptive frame rates: at most 30 fps (the same
    /// build, `TANDEM_AGENT_MAX_FPS=30`), so a lever's before and after
    /// are measured in the same run.
    Tandem30,
    /// Tandem asking the browser for a playout delay of up to 50 ms
    /// (`TANDEM_AGENT_PLAYOUT_MAX_MS=50`) instead of 0: libwebrtc's decode
    /// pacing treats max > 0 differently (issue 19 asks to measure it).
    /// Not in the default run; `TANDEM_PEER_SYSTEMS=tandem,playout50`.
    TandemPlayout50,
    /// Tandem with the real-time encoder tuned for screen content
    /// (`TANDEM_AGENT_REALTIME_USAGE=screen`), as before the video was
    /// tuned for camera video once tiles took the small changes.
    TandemScreen,
    NoVnc,
    Xpra,
}

impl System {
    pub const ALL: [System; 7] = [
        System::Tandem,
        System::TandemVideo,
        System::Tandem30,
        System::TandemPlayout50,
        System::TandemScreen,
        System::NoVnc,
        System::Xpra,
    ];
    /// What a run without `TANDEM_PEER_SYSTEMS` compares.
    pub const DEFAULT: [System; 5] = [
        System::Tandem,
        System::TandemVideo,
        System::TandemScreen,
        System::NoVnc,
        System::Xpra,
    ];

    /// How `TANDEM_PEER_SYSTEMS` names it.
    pub fn key(self) -> &'static str {
        match self {
            System::Tandem => "tandem",
            System::TandemVideo => "tandem-video",
            System::Tandem30 => "tandem30",
            System::TandemPlayout50 => "playout50",
            System::TandemScreen => "tandem-screen",
            System::NoVnc => "novnc",
            System::Xpra => "xpra",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            System::Tandem => "Tandem",
            System::TandemVideo => "Tandem, video only (before tiles)",
            System::Tandem30 => "Tandem at 30 fps (before)",
            System::TandemPlayout50 => "Tandem, playout delay max 50 ms",
            System::TandemScreen => "Tandem, video tuned for screen content (before)",
            System::NoVnc => "x11vnc + noVNC",
            System::Xpra => "xpra HTML5",
        }
    }
}

/// How the traffic of a system is counted on loopback (nftables).
#[derive(Debug, Clone)]
pub enum Wire {
    /// All UDP (WebRTC media and its RTCP; nothing else uses UDP here).
    Udp,
    /// Both directions of one TCP port (the browser's WebSocket).
    TcpPort(u16),
}

/// One system, up and shown in `browser`.
pub struct Running {
    pub browser: Browser,
    /// What the client draws into.
    pub picture: &'static str,
    /// A canvas the client draws over the picture (Tandem's tiles).
    pub overlay: Option<&'static str>,
    /// Where keys are sent.
    pub keys_to: &'static str,
    /// Process groups of the sending side.
    pub sender_groups: Vec<u32>,
    pub wire: Wire,
    /// What must live as long as the system runs (servers, agents, the
    /// sharer's browser).
    pub keep: Vec<Box<dyn std::any::Any>>,
}

fn spawn(
    name: &'static str,
    program: &str,
    args: &[&str],
    display: &str,
    env: &[(&str, &str)],
) -> Result<GroupChild, String> {
    let mut command = Command::new(program);
    command
        .args(args)
        .envs(env.iter().copied())
        .env("DISPLAY", display)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    GroupChild::spawn(name, command).map_err(|e| format!("{program}: {e}"))
}

async fn wait_for_port(port: u16, what: &str) -> Result<(), String> {
    for _ in 0..150 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{what} did not listen on {port} within 15 s"))
}

fn installed(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub async fn start(system: System, display: &str) -> Result<Running, String> {
    match system {
        System::Tandem => tandem(display, &[]).await,
        System::TandemVideo => tandem(display, &[("TANDEM_AGENT_TILES", "0")]).await,
        System::Tandem30 => tandem(display, &[("TANDEM_AGENT_MAX_FPS", "30")]).await,
        System::TandemPlayout50 => tandem(display, &[("TANDEM_AGENT_PLAYOUT_MAX_MS", "50")]).await,
        System::TandemScreen => tandem(display, &[("TANDEM_AGENT_REALTIME_USAGE", "screen")]).await,
        System::NoVnc => novnc(display).await,
        System::Xpra => xpra(display).await,
    }
}

async fn tandem(display: &str, agent_env: &[(&str, &str)]) -> Result<Running, String> {
    let server = TestServer::start().await.map_err(|e| e.to_string())?;
    let base = server.base_url().to_owned();
    let helper = Browser::start(&base).await.map_err(|e| e.to_string())?;
    let (sharer, agent) = controlled_agent_session_with(&helper, &base, display, agent_env)
        .await
        .map_err(|e| e.to_string())?;
    // The picture at its own size: 1:1, so text is compared pixel for pixel.
    helper
        .client()
        .set_window_size(2000, 1300)
        .await
        .map_err(|e| format!("cannot size the helper's window: {e}"))?;
    helper
        .click_label("Actual size (1:1)")
        .await
        .map_err(|e| format!("no \"Actual size (1:1)\" choice in the console: {e}"))?;
    let checked = helper
        .eval(
            "const r = [...document.querySelectorAll('input[name=screen-scale]')]
                 .find(i => i.parentElement.textContent.trim() === 'Actual size (1:1)');
             return !!(r && r.checked);",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    if checked.as_bool() != Some(true) {
        return Err("the console did not switch to Actual size (1:1)".into());
    }
    let agent_group = agent.pid();
    Ok(Running {
        browser: helper,
        picture: "#remote-screen",
        overlay: Some("#remote-tiles"),
        keys_to: "#remote-surface",
        sender_groups: vec![agent_group],
        wire: Wire::Udp,
        keep: vec![Box::new(sharer), Box::new(agent), Box::new(server)],
    })
}

async fn novnc(display: &str) -> Result<Running, String> {
    for program in ["x11vnc", "websockify"] {
        if !installed(program) {
            return Err(format!(
                "{program} is not installed (apt-get install x11vnc websockify novnc)"
            ));
        }
    }
    if !std::path::Path::new("/usr/share/novnc/vnc.html").exists() {
        return Err("noVNC is not installed (apt-get install novnc)".into());
    }
    let (vnc_port, web_port) = (
        free_port().map_err(|e| e.to_string())?,
        free_port().map_err(|e| e.to_string())?,
    );
    // Tuned as its users tune it for latency (x11vnc(1)): poll every 5 ms
    // and send after 5 ms (defaults 20 and 20), never nap when idle, no
    // client-side cache, no RECORD, no wireframe or scroll heuristics (which
    // trade smoothness for requests). DAMAGE stays on: Xvfb has it, and
    // x11vnc uses its rectangles to find changes sooner than by polling.
    let vnc = spawn(
        "x11vnc",
        "x11vnc",
        &[
            "-display",
            display,
            "-rfbport",
            &vnc_port.to_string(),
            "-localhost",
            "-nopw",
            "-forever",
            "-shared",
            "-quiet",
            "-wait",
            "5",
            "-defer",
            "5",
            "-nonap",
            "-ncache",
            "0",
            "-noxrecord",
            "-nowf",
            "-noscr",
        ],
        display,
        &[],
    )?;
    wait_for_port(vnc_port, "x11vnc").await?;
    let web = spawn(
        "websockify",
        "websockify",
        &[
            "--web",
            "/usr/share/novnc",
            &format!("127.0.0.1:{web_port}"),
            &format!("127.0.0.1:{vnc_port}"),
        ],
        display,
        &[],
    )?;
    wait_for_port(web_port, "websockify").await?;
    let base = format!("http://127.0.0.1:{web_port}");
    let browser = Browser::start(&base).await.map_err(|e| e.to_string())?;
    browser
        .client()
        .set_window_size(2000, 1300)
        .await
        .map_err(|e| format!("cannot size the noVNC window: {e}"))?;
    browser
        .goto(&format!("/vnc.html?autoconnect=true&resize=off&reconnect=true&host=127.0.0.1&port={web_port}&path=websockify"))
        .await
        .map_err(|e| e.to_string())?;
    browser
        .wait_for("#noVNC_container canvas")
        .await
        .map_err(|e| e.to_string())?;
    let groups = vec![pid_of(&vnc), pid_of(&web)];
    Ok(Running {
        browser,
        picture: "#noVNC_container canvas",
        overlay: None,
        keys_to: "#noVNC_container canvas",
        sender_groups: groups,
        wire: Wire::TcpPort(web_port),
        keep: vec![Box::new(vnc), Box::new(web)],
    })
}

async fn xpra(display: &str) -> Result<Running, String> {
    if !installed("xpra") || !std::path::Path::new("/usr/share/xpra/www/index.html").exists() {
        return Err("xpra with its HTML5 client is not installed (apt-get install xpra)".into());
    }
    let port = free_port().map_err(|e| e.to_string())?;
    let bind = format!("--bind-tcp=127.0.0.1:{port}");
    let server = spawn(
        "xpra",
        "xpra",
        &[
            "shadow",
            display,
            &bind,
            "--html=on",
            "--daemon=no",
            "--mdns=no",
            "--notifications=no",
            "--webcam=no",
            "--pulseaudio=no",
            "--speaker=off",
            "--microphone=off",
            "--printing=no",
            "--dbus-proxy=no",
            "--dbus-control=no",
            "--systemd-run=no",
            "--file-transfer=no",
            "--clipboard=no",
            // Encode for speed, always (xpra(1)).
            "--speed=100",
            "--min-speed=100",
        ],
        display,
        // Its delays as low as xpra 3.1 allows (read from its source):
        // shadow servers poll the screen every 50 ms and batch updates
        // for at least 50 ms; here, every 16 ms (one 60 Hz frame), with no
        // minimum batch delay and no forced batching.
        &[
            ("XPRA_SHADOW_REFRESH_DELAY", "16"),
            ("XPRA_BATCH_MIN_DELAY", "0"),
            ("XPRA_BATCH_DELAY", "0"),
            ("XPRA_BATCH_ALWAYS", "0"),
            ("XPRA_FORCE_BATCH", "0"),
        ],
    )?;
    wait_for_port(port, "xpra").await?;
    let base = format!("http://127.0.0.1:{port}");
    let browser = Browser::start(&base).await.map_err(|e| e.to_string())?;
    browser
        .client()
        .set_window_size(2000, 1300)
        .await
        .map_err(|e| format!("cannot size the xpra window: {e}"))?;
    browser
        .goto(&format!("/index.html?server=127.0.0.1&port={port}&sound=false&floating_menu=false&clipboard=false&printing=false&file_transfer=false"))
        .await
        .map_err(|e| e.to_string())?;
    browser
        .wait_for(".window canvas")
        .await
        .map_err(|e| format!("the xpra client showed no window: {e}"))?;
    Ok(Running {
        browser,
        picture: ".window canvas",
        overlay: None,
        keys_to: "body",
        sender_groups: vec![pid_of(&server)],
        wire: Wire::TcpPort(port),
        keep: vec![Box::new(server)],
    })
}

fn pid_of(child: &GroupChild) -> u32 {
    child.id()
}
