//! A Linux desktop for agent tests: an Xvfb on a display of its own, an
//! xterm on it, and the sharer agent pointed at the test server. Each is
//! stopped (with its process group) when dropped.

use crate::paths::agent_binary;
use crate::process::GroupChild;
use crate::{Browser, HarnessError};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod tools;

/// Makes a helper's page keep every data channel the agent opens (as
/// `window.__channels`), so a test can send input the console itself would
/// not (a rogue peer), or time its own; and keep the agent's latest
/// once-a-second report (`window.__agentStats`, counted in
/// `window.__agentReports`), so a test can see what the agent counted;
/// and the connections themselves (`window.__pcs`), for `getStats`.
/// Run it on the session page before the agent's offer arrives: the page
/// builds its connection with the patched class.
pub const KEEP_CHANNELS: &str = "
    const Original = window.RTCPeerConnection;
    window.__channels = [];
    window.__agentReports = 0;
    const keep = channel => {
        window.__channels.push(channel);
        if (channel.label !== 'control') return;
        channel.addEventListener('message', m => {
            try {
                const message = JSON.parse(m.data);
                if (message.type === 'stats') {
                    window.__agentStats = message.stats;
                    window.__agentReports += 1;
                }
            } catch (_) {}
        });
    };
    window.__pcs = [];
    window.RTCPeerConnection = function (...args) {
        const pc = new Original(...args);
        window.__pcs.push(pc);
        pc.addEventListener('datachannel', e => keep(e.channel));
        return pc;
    };
    window.RTCPeerConnection.prototype = Original.prototype;";

/// Makes a page keep every peer connection it builds (as `window.__pcs`),
/// so a test can read what its senders carry and what its receivers
/// decoded. Run it before the page builds its connection.
pub const KEEP_PEERS: &str = "
    const Original = window.RTCPeerConnection;
    window.__pcs = [];
    window.RTCPeerConnection = function (...args) {
        const pc = new Original(...args);
        window.__pcs.push(pc);
        return pc;
    };
    window.RTCPeerConnection.prototype = Original.prototype;";

/// A new enrollment token, made by `admin` (a browser signed in with
/// Manage devices).
pub async fn enrollment_token(admin: &Browser, label: &str) -> Result<String, HarnessError> {
    let (status, token) = admin
        .fetch_post(
            "/api/admin/enrollment-tokens",
            &serde_json::json!({ "label": label, "valid_days": 1 }),
        )
        .await?;
    match token["token"].as_str() {
        Some(token) if status == 201 => Ok(token.to_owned()),
        _ => Err(HarnessError::NotReady {
            what: "an enrollment token",
            seconds: 0,
            details: format!(" (HTTP {status}: {token})"),
        }),
    }
}

/// Screen size of the test desktop.
pub const SCREEN: (u32, u32) = (1024, 768);

/// An Xvfb server; `display` is like `:57`.
pub struct Xvfb {
    _process: GroupChild,
    pub display: String,
}

/// The second screen of [`Xvfb::two_screens`].
pub const SECOND_SCREEN: (u32, u32) = (800, 600);

impl Xvfb {
    /// One `SCREEN`-sized screen.
    pub fn start() -> Result<Self, HarnessError> {
        Self::start_with(&[])
    }

    /// A `SCREEN` and a `SECOND_SCREEN` joined by Xinerama, with RandR off
    /// so that Wine reads Xinerama: Windows programs see two monitors,
    /// both at the origin (Xvfb does not place its screens side by side).
    pub fn two_screens() -> Result<Self, HarnessError> {
        let (w, h) = SECOND_SCREEN;
        Self::start_with(&[
            "-extension".into(),
            "RANDR".into(),
            "+xinerama".into(),
            "-screen".into(),
            "1".into(),
            format!("{w}x{h}x24"),
        ])
    }

    /// One screen of `width`×`height`.
    pub fn sized(width: u32, height: u32) -> Result<Self, HarnessError> {
        Self::start_sized((width, height), &[])
    }

    fn start_with(extra: &[String]) -> Result<Self, HarnessError> {
        Self::start_sized(SCREEN, extra)
    }

    fn start_sized(size: (u32, u32), extra: &[String]) -> Result<Self, HarnessError> {
        let mut command = Command::new("Xvfb");
        command
            .args(["-displayfd", "1", "-nolisten", "tcp", "-screen", "0"])
            .arg(format!("{}x{}x24", size.0, size.1))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut process = GroupChild::spawn("Xvfb", command)?;
        let mut out = process
            .child_mut()
            .stdout
            .take()
            .ok_or(HarnessError::NotReady {
                what: "Xvfb",
                seconds: 0,
                details: " (no stdout)".into(),
            })?;
        // Xvfb writes the display number, then a newline, once it is ready.
        let mut number = String::new();
        let mut byte = [0u8; 1];
        while out.read(&mut byte)? == 1 && byte[0] != b'\n' {
            number.push(char::from(byte[0]));
        }
        if number.trim().is_empty() {
            return Err(HarnessError::NotReady {
                what: "Xvfb",
                seconds: 0,
                details: " (it printed no display number)".into(),
            });
        }
        Ok(Self {
            _process: process,
            display: format!(":{}", number.trim()),
        })
    }

    /// Starts `program` on this display.
    pub fn run(
        &self,
        name: &'static str,
        program: &str,
        args: &[&str],
    ) -> Result<GroupChild, HarnessError> {
        let mut command = Command::new(program);
        command
            .args(args)
            .env("DISPLAY", &self.display)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        GroupChild::spawn(name, command)
    }

    /// The pointer's position, as xdotool reads it from X ((-1, -1) if
    /// it cannot).
    pub fn pointer(&self) -> (i64, i64) {
        let out = self
            .output("xdotool", &["getmouselocation"])
            .unwrap_or_default();
        let field = |name: &str| {
            out.split_whitespace()
                .find_map(|f| f.strip_prefix(name))
                .and_then(|v| v.parse().ok())
                .unwrap_or(-1)
        };
        (field("x:"), field("y:"))
    }

    /// The keycodes X has down right now (`QueryKeymap`), e.g. 50 for
    /// the left Shift of Xvfb's default map.
    pub fn keys_down(&self) -> Result<Vec<u8>, HarnessError> {
        use x11rb::protocol::xproto::ConnectionExt as _;
        let not_x = |e: &dyn std::fmt::Display| HarnessError::X(e.to_string());
        let (conn, _) = x11rb::connect(Some(&self.display)).map_err(|e| not_x(&e))?;
        let keymap = conn
            .query_keymap()
            .map_err(|e| not_x(&e))?
            .reply()
            .map_err(|e| not_x(&e))?;
        Ok((0..=255u8)
            .filter(|code| keymap.keys[usize::from(code / 8)] & (1 << (code % 8)) != 0)
            .collect())
    }

    /// Runs an X tool to completion and returns its output.
    pub fn output(&self, program: &str, args: &[&str]) -> Result<String, HarnessError> {
        let out = Command::new(program)
            .args(args)
            .env("DISPLAY", &self.display)
            .stdin(Stdio::null())
            .output()?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Saves the whole X screen as `docs/screenshots/NAME.png`.
    pub fn save_png(&self, name: &str) -> Result<std::path::PathBuf, HarnessError> {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        let status = Command::new("import")
            .args(["-window", "root"])
            .arg(&path)
            .env("DISPLAY", &self.display)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if status.success() {
            Ok(path)
        } else {
            Err(HarnessError::NotReady {
                what: "a screenshot of X",
                seconds: 0,
                details: format!(" (import: {status})"),
            })
        }
    }

    pub fn screenshot(&self) -> Result<Screenshot, HarnessError> {
        let out = Command::new("import")
            .args(["-window", "root", "-depth", "8", "ppm:-"])
            .env("DISPLAY", &self.display)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()?;
        Screenshot::from_ppm(&out.stdout).ok_or_else(|| HarnessError::NotReady {
            what: "a screenshot",
            seconds: 0,
            details: format!(" (import wrote {} bytes, not a PPM)", out.stdout.len()),
        })
    }

    /// Where the window named `name` is (x, y, width, height on the
    /// screen), as `xwininfo -root -tree` lists it; `None` if there is
    /// no such window.
    pub fn window(&self, name: &str) -> Option<(i64, i64, u32, u32)> {
        let tree = self.output("xwininfo", &["-root", "-tree"]).ok()?;
        let quoted = format!("\"{name}\":");
        let line = tree.lines().find(|l| l.contains(&quoted))?;
        // `0x… "name": (…)  WxH+x+y  +X+Y`: the size, then the place on
        // the screen.
        let mut fields = line.rsplit(' ').filter(|f| !f.is_empty());
        let absolute = fields.next()?;
        let geometry = fields.next()?;
        let (width, height) = geometry.split_once(['+', '-'])?.0.split_once('x')?;
        let mut at = absolute.split('+').filter(|f| !f.is_empty());
        Some((
            at.next()?.parse().ok()?,
            at.next()?.parse().ok()?,
            width.parse().ok()?,
            height.parse().ok()?,
        ))
    }

    /// Clicks the left button at (`x`, `y`) with xdotool (as a person at
    /// the device would).
    pub fn click(&self, x: i64, y: i64) -> Result<(), HarnessError> {
        let (x, y) = (x.to_string(), y.to_string());
        self.output("xdotool", &["mousemove", "--sync", &x, &y, "click", "1"])
            .map(drop)
    }
}

/// An image of the X screen.
#[derive(Debug, Clone)]
pub struct Screenshot {
    pub width: u32,
    pub height: u32,
    rgb: Vec<u8>,
}

impl Screenshot {
    /// Reads a binary PPM (P6, 8 bits a channel).
    fn from_ppm(bytes: &[u8]) -> Option<Self> {
        // "P6", width, height, maximum, each after white space, then one
        // white space byte and the pixels.
        let mut fields = Vec::new();
        let mut at = 0;
        while fields.len() < 4 {
            while bytes.get(at)?.is_ascii_whitespace() {
                at += 1;
            }
            let start = at;
            while !bytes.get(at)?.is_ascii_whitespace() {
                at += 1;
            }
            fields.push(std::str::from_utf8(&bytes[start..at]).ok()?);
        }
        let (width, height): (u32, u32) = (fields[1].parse().ok()?, fields[2].parse().ok()?);
        if fields[0] != "P6" || fields[3] != "255" {
            return None;
        }
        let rgb = bytes.get(at + 1..)?.to_vec();
        (rgb.len() >= width as usize * height as usize * 3).then_some(Self { width, height, rgb })
    }

    /// The pixel at (x, y) as 0xRRGGBB.
    pub fn pixel(&self, x: u32, y: u32) -> Option<u32> {
        let at = (y as usize * self.width as usize + x as usize) * 3;
        let px = self.rgb.get(at..at + 3)?;
        Some(u32::from_be_bytes([0, px[0], px[1], px[2]]))
    }
}

/// The sharer agent, with everything it printed so far.
pub struct Agent {
    pid: u32,
    process: GroupChild,
    state: tempfile::TempDir,
    lines: Arc<Mutex<Vec<String>>>,
    syslog: Arc<Mutex<Vec<String>>>,
    /// How it was started, to start it again over the same state.
    relaunch: Option<Relaunch>,
}

/// What [`Agent::kill_9_and_restart`] starts the agent with again.
struct Relaunch {
    inside: Option<crate::network::Inside>,
    base_url: String,
    display: String,
}

impl Agent {
    /// Starts `tandem-agent --server BASE --no-browser` on `display`,
    /// enrolled with `token` if given.
    pub fn start(base_url: &str, display: &str, token: Option<&str>) -> Result<Self, HarnessError> {
        Self::start_with(base_url, display, token, &[])
    }

    /// [`Agent::start`] with more environment (e.g. `TANDEM_AGENT_MAX_FPS`).
    pub fn start_with(
        base_url: &str,
        display: &str,
        token: Option<&str>,
        env: &[(&str, &str)],
    ) -> Result<Self, HarnessError> {
        Self::launch(None, base_url, display, token, env)
    }

    /// [`Agent::start`] in a site of a [`crate::network::TestNetwork`].
    pub fn start_in(
        inside: &crate::network::Inside,
        base_url: &str,
        display: &str,
        token: Option<&str>,
    ) -> Result<Self, HarnessError> {
        Self::launch(Some(inside), base_url, display, token, &[])
    }

    fn launch(
        inside: Option<&crate::network::Inside>,
        base_url: &str,
        display: &str,
        token: Option<&str>,
        env: &[(&str, &str)],
    ) -> Result<Self, HarnessError> {
        let state = tempfile::Builder::new().prefix("tandem-agent-").tempdir()?;
        let mut command = agent_command(inside, base_url, display, state.path())?;
        command
            .args(token.map(|t| ["--enroll", t]).into_iter().flatten())
            .envs(env.iter().copied());
        // The agent's syslog goes to a socket of ours, read like a daemon.
        let socket = std::os::unix::net::UnixDatagram::bind(state.path().join("syslog.sock"))?;
        socket.set_read_timeout(Some(Duration::from_millis(250)))?;
        let mut agent = Self::spawn(command, state)?;
        agent.relaunch = Some(Relaunch {
            inside: inside.cloned(),
            base_url: base_url.to_owned(),
            display: display.to_owned(),
        });
        let sink = Arc::downgrade(&agent.syslog);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 8192];
            // Until the agent (and its record) is dropped.
            while let Some(sink) = sink.upgrade() {
                if let Ok(n) = socket.recv(&mut buf)
                    && let Ok(mut lines) = sink.lock()
                {
                    lines.push(String::from_utf8_lossy(&buf[..n]).into_owned());
                }
            }
        });
        Ok(agent)
    }

    /// What the agent wrote to syslog so far, one datagram each.
    pub fn syslog(&self) -> Vec<String> {
        self.syslog.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// `kill -9` of the agent (nothing flushed, no goodbye to the server),
    /// then the same agent again over the same state directory; what it
    /// prints joins what it printed before.
    pub fn kill_9_and_restart(&mut self) -> Result<(), HarnessError> {
        let Some(relaunch) = &self.relaunch else {
            return Err(HarnessError::Spawn {
                what: "tandem-agent",
                source: std::io::Error::other("only an agent the harness started can restart"),
            });
        };
        self.process.kill_now();
        let command = agent_command(
            relaunch.inside.as_ref(),
            &relaunch.base_url,
            &relaunch.display,
            self.state.path(),
        )?;
        self.process = spawn_keeping(command, &self.lines)?;
        self.pid = self.process.id();
        Ok(())
    }

    /// Runs an agent `command` (its options already set) keeping all it
    /// prints; `state` is its state directory, removed on drop.
    pub fn spawn(command: Command, state: tempfile::TempDir) -> Result<Self, HarnessError> {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let mut process = spawn_keeping(command, &lines)?;
        Ok(Self {
            pid: process.child_mut().id(),
            process,
            state,
            lines,
            syslog: Arc::default(),
            relaunch: None,
        })
    }

    /// Waits for a printed line containing `needle`; returns the line.
    pub async fn wait_for_line(
        &self,
        needle: &str,
        timeout: Duration,
    ) -> Result<String, HarnessError> {
        self.wait_for_nth_line(needle, 1, timeout).await
    }

    /// Waits for the `n`th printed line (from 1) containing `needle`.
    pub async fn wait_for_nth_line(
        &self,
        needle: &str,
        n: usize,
        timeout: Duration,
    ) -> Result<String, HarnessError> {
        let deadline = Instant::now() + timeout;
        loop {
            let found = self.lines.lock().ok().and_then(|lines| {
                lines
                    .iter()
                    .filter(|l| l.contains(needle))
                    .nth(n.saturating_sub(1))
                    .cloned()
            });
            if let Some(line) = found {
                return Ok(line);
            }
            if Instant::now() > deadline {
                return Err(HarnessError::Timeout {
                    what: format!(
                        "the agent to print {needle:?} ({n}); it printed:\n{}",
                        self.output()
                    ),
                    seconds: timeout.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The sharer's Downloads folder (made when the first file arrives).
    pub fn downloads(&self) -> std::path::PathBuf {
        self.state.path().join("Downloads")
    }

    /// The agent's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Everything printed so far.
    pub fn output(&self) -> String {
        self.lines.lock().map(|l| l.join("\n")).unwrap_or_default()
    }
}

/// The agent binary with its options, in `inside` if given.
fn agent_command(
    inside: Option<&crate::network::Inside>,
    base_url: &str,
    display: &str,
    state: &std::path::Path,
) -> Result<Command, HarnessError> {
    let mut command = Command::new(agent_binary()?);
    command
        .args(["--server", base_url, "--no-browser", "--state-dir"])
        .arg(state)
        .env("DISPLAY", display)
        .env("TANDEM_SYSLOG_SOCKET", state.join("syslog.sock"))
        // The sharer's Downloads folder, where files from the helper land.
        .env("XDG_DOWNLOAD_DIR", state.join("Downloads"));
    if let Some(inside) = inside {
        inside.wrap(&mut command)?;
    }
    Ok(command)
}

/// Starts an agent `command`, its output lines going to `lines`.
fn spawn_keeping(
    mut command: Command,
    lines: &Arc<Mutex<Vec<String>>>,
) -> Result<GroupChild, HarnessError> {
    command
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut process = GroupChild::spawn("tandem-agent", command)?;
    for stream in [
        process
            .child_mut()
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        process
            .child_mut()
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let lines = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if let Ok(mut lines) = lines.lock() {
                    lines.push(line);
                }
            }
        });
    }
    Ok(process)
}
