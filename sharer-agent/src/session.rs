//! One session on the device: its signaling connection, the consent gate,
//! the WebRTC connection to the helper, the capture loop, the gated
//! injector and the sharing indicator on the device's screen. A single
//! loop owns all of them, so the gate is consulted with the latest state
//! before every frame and every input event, and the indicator shows every
//! change of it. The indicator's buttons come back here and go to the
//! server as the sharer's Pause, Resume and Stop.

use crate::capture::{Capturer, Desktop};
use crate::client;
use crate::clipboard::{ClipboardDone, ClipboardWorker};
use crate::encode::{H264Encoder, H264Settings, RealtimeUsage};
use crate::gate::{ConsentState, Gate, Status};
use crate::identity::Identity;
use crate::indicator::{CLICK_QUEUE, OnScreen};
use crate::inject::GatedInjector;
use crate::journal::{DeviceLog, Journal};
use crate::media::addresses::{self, AddressChange, AddressWatch};
use crate::media::stream::{self, StreamEvent, StreamSwitches};
use crate::media::{AgentPeer, Packetizer, PeerEvent};
use crate::overlay::Overlay;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tandem_protocol::agent::{AgentClientMessage, SharerAction};
use tandem_protocol::annotation::ANNOTATION_CHANNEL;
use tandem_protocol::clipboard::{CLIPBOARD_CHANNEL, ClipboardDirection};
use tandem_protocol::files::FILES_CHANNEL;
use tandem_protocol::input::{CONTROL_CHANNEL, Control, CursorShape, Display};
use tandem_protocol::session::SessionView;
use tandem_protocol::signal::{ClientMessage, IceServer, IceTransportPolicy, ServerMessage};
use tandem_protocol::tiles::TILES_CHANNEL;
use tandem_protocol::{SessionId, UnixMillis};
use tokio::sync::{mpsc, watch};
use webrtc::peer_connection::RTCPeerConnectionState;

mod annotation;
mod clipboard;
mod file_desk;
mod file_transfer;
mod files;
mod input;
mod link;
#[cfg(test)]
mod loop_tests;
mod media_out;
mod peer_events;
mod restarts;
mod sharing;
mod signals;

pub use link::follow;
use link::{Heard, Link, Rejoin};
use restarts::Restarts;

/// A connection that could not be set up is tried again this much later.
const PEER_RETRY_AFTER: Duration = Duration::from_secs(2);

/// What a session needs from the agent.
pub struct SessionContext {
    pub server: String,
    pub identity: Arc<Identity>,
    /// Set when the agent stops: the session ends at once.
    pub stop: watch::Receiver<bool>,
    /// Prints a status line on the agent's terminal.
    pub show: fn(&Status),
    /// The device's own log (Event Log, syslog).
    pub log: Arc<dyn DeviceLog>,
    /// How long the sharer is warned before being signed out after a
    /// session that used elevation with full control.
    pub sign_out_after: Duration,
    /// Messages for the server's control connection: the sharer's Pause,
    /// Resume and Stop pressed on the indicator.
    pub to_server: mpsc::Sender<AgentClientMessage>,
    /// The agent's state folder (its device key): never sent to a helper.
    pub state_dir: std::path::PathBuf,
}

/// How a session's task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    Ended,
    /// The sharer pressed Stop on the device: this agent must not follow
    /// the session again, whatever the server still says.
    StoppedOnDevice,
}

/// The connection to the helper and what sending on it needs.
struct Live {
    peer: AgentPeer,
    events: mpsc::Receiver<PeerEvent>,
    packetizer: Option<Packetizer>,
    /// The tiles channel is open.
    tiles_open: bool,
}

struct Session {
    gate: Gate,
    switches: Arc<StreamSwitches>,
    capture: Option<std::thread::JoinHandle<()>>,
    frames_tx: mpsc::Sender<StreamEvent>,
    injector: Option<GatedInjector>,
    live: Option<Live>,
    servers: Vec<IceServer>,
    /// "Relay only" when the organization forbids peer-to-peer traffic.
    ice_policy: IceTransportPolicy,
    ssrc: u32,
    epoch: Instant,
    displays: Vec<Display>,
    current_display: u32,
    desktop: Desktop,
    cursor_shape: Option<CursorShape>,
    counters: media_out::Counters,
    /// Small changes may go as lossless tiles (`TANDEM_AGENT_TILES`, read
    /// once).
    tiles_enabled: bool,
    /// Malformed channel messages so far (dropped, never a panic).
    malformed: u64,
    sent_status: Option<Control>,
    /// When setting up a connection last failed: retried after a pause,
    /// not on every event.
    peer_failed_at: Option<Instant>,
    indicator: OnScreen,
    /// The device's addresses: a change may restart ICE.
    addresses: AddressWatch,
    restarts: Restarts,
    /// While the server says the helper is away: when the session ends
    /// unless they are back (the device's clock).
    helper_back_by: Option<UnixMillis>,
    stopped_on_device: bool,
    /// The helper's input reached an elevation prompt; not yet told to
    /// the server and the journal.
    elevation_unreported: bool,
    clipboard: clipboard::ClipboardDesk,
    /// Made on the first clipboard request.
    clipboard_worker: Option<ClipboardWorker>,
    clipboard_done_tx: mpsc::Sender<ClipboardDone>,
    /// Uses of the clipboard not yet told to the server.
    clipboard_unreported: Vec<ClipboardDirection>,
    files: file_desk::FileDesk,
    /// The Downloads folder, made on first use.
    file_store: Option<Box<dyn crate::files::FileStore>>,
    /// Folders no file is sent from (the agent's own state).
    agent_dirs: Vec<std::path::PathBuf>,
    /// Messages for the server not sent yet: file notices and files
    /// moved, the device's windows and what it shares.
    for_server: Vec<ClientMessage>,
    /// The one window shared, if the sharer picked one.
    window_share: Option<sharing::WindowShare>,
    /// The device's windows, made on first use.
    windows: Option<Box<dyn crate::window::Windows>>,
    annotation: annotation::AnnotationDesk,
    /// Draws the helper's strokes; none where the OS has no overlay.
    overlay: Option<Box<dyn Overlay>>,
}

async fn next_peer_event(live: &mut Option<Live>) -> Option<PeerEvent> {
    match live {
        Some(live) => live.events.recv().await,
        None => std::future::pending().await,
    }
}

fn random_u32() -> u32 {
    let mut bytes = [0u8; 4];
    let _ = getrandom::fill(&mut bytes);
    u32::from_le_bytes(bytes)
}

/// The indicator of this device, or none (said on the terminal).
fn indicator(clicks: mpsc::Sender<SharerAction>) -> OnScreen {
    OnScreen::new(
        crate::platform::indicator(clicks)
            .map_err(|error| {
                println!("tandem-agent: the sharing indicator cannot be shown: {error}");
            })
            .ok(),
    )
}

/// The session's loop, over a joined signaling connection (a WebSocket,
/// or channels in tests), joined again with `rejoin` when it drops (see
/// `link`). A server that cannot be reached again ends it: a session
/// whose server can no longer hear it must not go on sharing.
async fn run<Tx, Rx>(
    context: SessionContext,
    verifying: ed25519_dalek::VerifyingKey,
    session: SessionId,
    sink: Tx,
    signals: Rx,
    rejoin: Option<Rejoin<Tx, Rx>>,
) -> Finish
where
    Tx: futures_util::Sink<ClientMessage> + Unpin,
    Rx: futures_util::Stream<Item = ServerMessage> + Unpin,
{
    let (frames_tx, mut frames) = mpsc::channel(4);
    let (clicks_tx, mut clicks) = mpsc::channel(CLICK_QUEUE);
    let (clipboard_done_tx, mut clipboard_done) = mpsc::channel(4);
    let mut this = Session {
        gate: Gate::new(verifying, session),
        switches: Arc::new(StreamSwitches::new()),
        capture: None,
        frames_tx,
        injector: match crate::platform::injector() {
            Ok(injector) => Some(GatedInjector::new(injector)),
            Err(error) => {
                tracing::warn!(%error, "input injection is unavailable");
                None
            }
        },
        live: None,
        servers: Vec::new(),
        ice_policy: IceTransportPolicy::All,
        ssrc: random_u32(),
        epoch: Instant::now(),
        displays: Vec::new(),
        current_display: 0,
        desktop: Desktop::Normal,
        cursor_shape: None,
        counters: media_out::Counters::default(),
        tiles_enabled: crate::media::tiles::enabled_from_env(),
        malformed: 0,
        sent_status: None,
        peer_failed_at: None,
        helper_back_by: None,
        addresses: AddressWatch::default(),
        restarts: Restarts::default(),
        indicator: indicator(clicks_tx),
        stopped_on_device: false,
        elevation_unreported: false,
        clipboard: clipboard::ClipboardDesk::default(),
        clipboard_worker: None,
        clipboard_done_tx,
        clipboard_unreported: Vec::new(),
        files: file_desk::FileDesk::default(),
        file_store: None,
        agent_dirs: vec![
            context.state_dir.clone(),
            crate::platform::default_state_dir(),
        ],
        for_server: Vec::new(),
        window_share: None,
        windows: None,
        annotation: annotation::AnnotationDesk::default(),
        overlay: match crate::platform::overlay() {
            Ok(overlay) => Some(overlay),
            Err(error) => {
                tracing::info!(%error, "annotation is unavailable");
                None
            }
        },
    };
    let mut stop = context.stop.clone();
    let mut journal = Journal::new(this.gate.session().clone());
    // Whether the helper ever held Elevation in full control here.
    let mut elevation_held = false;
    let mut shown = None;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    // While a laser stroke fades.
    let mut fade = tokio::time::interval(Duration::from_millis(100));
    // While a file transfer is asked about or under way.
    let mut files_clock = tokio::time::interval(Duration::from_millis(20));
    files_clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // While one window is shared: where it is now.
    let mut window_clock = tokio::time::interval(Duration::from_millis(100));
    let mut link = Link::new(sink, signals, rejoin);
    'session: loop {
        tokio::select! {
            heard = link.next() => match heard {
                Heard::Message(message) => {
                    for reply in this.on_signal(message).await {
                        if !link.send(reply).await {
                            break 'session;
                        }
                    }
                }
                // The same WebRTC connection; ICE restarts, if it must,
                // once the server's fresh ICE servers are in (`Joined`).
                Heard::Rejoined => this.restarts.rejoined(),
                Heard::Lost => break 'session,
            },
            event = next_peer_event(&mut this.live) => {
                match event {
                    Some(event) => {
                        if let Some(reply) = this.on_peer(event).await
                            && !link.send(reply).await
                        {
                            break 'session;
                        }
                    }
                    None => this.live = None,
                }
            }
            Some(event) = frames.recv() => this.on_stream(event).await,
            Some(action) = clicks.recv() => this.on_click(action, &context.to_server),
            Some(done) = clipboard_done.recv() => this.on_clipboard_done(done).await,
            _ = fade.tick(), if this.annotation.fading() => this.keep_annotation(),
            _ = files_clock.tick(), if this.files.active() => this.keep_files().await,
            _ = window_clock.tick(), if this.window_share.is_some() => this.keep_window().await,
            _ = stop.changed() => {
                this.gate.end("stopped on the device");
            }
            _ = tick.tick() => {
                this.every_second().await;
                match this.addresses.changed(addresses::local_addresses()) {
                    AddressChange::None => {}
                    // The connection to the server may have used the
                    // address that is gone: join again over a new one,
                    // then restart ICE (`Heard::Rejoined`).
                    AddressChange::Lost => {
                        println!("tandem-agent: the device's network changed; joining again and restarting ICE");
                        this.restarts.address_lost();
                        if !link.rejoin() {
                            break 'session;
                        }
                    }
                    // A new address, with a path that works, changes nothing.
                    AddressChange::Gained if this.restarts.address_gained() => {
                        println!("tandem-agent: the device's network changed; restarting ICE");
                        if let Some(offer) = this.restart_ice().await
                            && !link.send(offer).await
                        {
                            break 'session;
                        }
                    }
                    AddressChange::Gained => {}
                }
            }
        }
        if let Some(offer) = this.sync_gate().await
            && !link.send(offer).await
        {
            break;
        }
        elevation_held |= this.elevated_control();
        if std::mem::take(&mut this.elevation_unreported) {
            // Used, not only held: the record and the device's log say so.
            journal.elevation_used();
            if !link.send(ClientMessage::ElevationUsed).await {
                break;
            }
        }
        this.keep_annotation();
        this.tell_cleared().await;
        if std::mem::take(&mut this.annotation.unreported)
            && !link.send(ClientMessage::AnnotationUsed).await
        {
            break;
        }
        for direction in std::mem::take(&mut this.clipboard_unreported) {
            if !link.send(ClientMessage::ClipboardUsed { direction }).await {
                break 'session;
            }
        }
        for message in std::mem::take(&mut this.for_server) {
            if !link.send(message).await {
                break 'session;
            }
        }
        let now = client::now();
        let status = this.gate.status(now);
        let display = this.displays.iter().find(|d| d.id == this.current_display);
        let left = this
            .helper_back_by
            .map(|by| u64::try_from(by.millis_since(now)).unwrap_or(0));
        this.indicator.set_helper_away(left);
        this.indicator.update(&status, display);
        if shown.as_ref() != Some(&status) {
            (context.show)(&status);
            record(&context, &mut journal, &status);
            shown = Some(status);
        }
        if this.gate.is_ended() {
            break;
        }
    }
    this.indicator.hide();
    // The capture thread may be waiting to hand over a frame: let go first.
    drop(frames);
    this.finish().await;
    let status = this.gate.status(client::now());
    (context.show)(&status);
    record(&context, &mut journal, &status);
    if journal.sign_out_due(this.gate.sign_out_after_elevation()) {
        crate::platform::sign_out(context.sign_out_after, context.stop.clone()).await;
    } else if journal.sign_out_due(true) {
        println!(
            "tandem-agent: elevation was used in this session; your organization does not \
             sign you out after it, so you stay signed in"
        );
    } else if elevation_held {
        println!(
            "tandem-agent: the helper could have answered elevation prompts but answered none, \
             so you stay signed in"
        );
    }
    if this.stopped_on_device {
        Finish::StoppedOnDevice
    } else {
        Finish::Ended
    }
}

/// Writes what the journal says to the device's log.
fn record(context: &SessionContext, journal: &mut Journal, status: &Status) {
    if let Some(entry) = journal.observe(status)
        && let Err(error) = context.log.write(&entry)
    {
        tracing::warn!(%error, "the device log refused an entry");
    }
}

impl Session {
    /// An offer that restarts ICE on the connection there is (or, if it
    /// cannot, a new connection's); none without a connection.
    async fn restart_ice(&mut self) -> Option<ClientMessage> {
        let live = self.live.as_ref()?;
        if !self.restarts.may_restart(Instant::now()) {
            return None;
        }
        match live.peer.restart_ice(&self.servers, self.ice_policy).await {
            Ok(sdp) => {
                self.restarts.offered(Instant::now());
                Some(ClientMessage::Offer { sdp })
            }
            Err(error) => {
                tracing::warn!(%error, "ICE did not restart; starting a new connection");
                self.start_peer().await
            }
        }
    }

    /// Replaces the connection with a new one; returns its offer.
    async fn start_peer(&mut self) -> Option<ClientMessage> {
        // No tiles until the new connection's channel is open.
        self.switches.tiles.store(false, Ordering::Release);
        if let Some(old) = self.live.take() {
            old.peer.close().await;
        }
        let (tx, events) = mpsc::channel(256);
        let peer = match AgentPeer::new(&self.servers, self.ice_policy, self.ssrc, tx).await {
            Ok(peer) => peer,
            Err(error) => {
                tracing::warn!(%error, "cannot set up the connection");
                self.peer_failed_at = Some(Instant::now());
                return None;
            }
        };
        let sdp = match peer.offer().await {
            Ok(sdp) => sdp,
            Err(error) => {
                tracing::warn!(%error, "cannot make an offer");
                return None;
            }
        };
        self.live = Some(Live {
            peer,
            events,
            packetizer: None,
            tiles_open: false,
        });
        self.restarts.connection(false);
        self.restarts.offered(Instant::now());
        Some(ClientMessage::Offer { sdp })
    }

    /// The helper may act on a secure desktop now (never on platforms
    /// without one).
    fn elevated_control(&self) -> bool {
        crate::platform::HAS_SECURE_DESKTOP && self.gate.elevated_control(client::now())
    }

    async fn control(&self, message: &Control) {
        if let Some(live) = &self.live {
            live.peer.send_control(message).await;
        }
    }

    /// Applies the gate to the capture loop and the helper's console;
    /// returns an offer when media has just become allowed.
    async fn sync_gate(&mut self) -> Option<ClientMessage> {
        let now = client::now();
        let allowed = self.gate.media_allowed(now);
        self.switches.allowed.store(allowed, Ordering::Release);
        self.switches
            .secure_desktop
            .store(self.elevated_control(), Ordering::Release);
        if let Some(injector) = &mut self.injector {
            injector.check(&self.gate, now);
        }
        let status = Control::Status {
            mode: self.gate.enforced_mode(now),
            paused: self.gate.paused(),
        };
        if self.sent_status.as_ref() != Some(&status) {
            self.control(&status).await;
            self.sent_status = Some(status);
        }
        if !allowed {
            return None;
        }
        if self.capture.is_none() {
            self.capture = self.start_capture();
        }
        let waiting = self
            .peer_failed_at
            .is_some_and(|t| t.elapsed() < PEER_RETRY_AFTER);
        if self.live.is_none() && !waiting {
            return self.start_peer().await;
        }
        None
    }

    fn start_capture(&self) -> Option<std::thread::JoinHandle<()>> {
        let capturer: Box<dyn Capturer> = match crate::platform::capturer() {
            // One window or the whole screen: masked before anything else.
            Ok(capturer) => Box::new(crate::media::window_mask::MaskedCapturer::new(
                capturer,
                self.switches.clone(),
                crate::platform::desktop_windows().ok(),
            )),
            Err(error) => {
                println!("tandem-agent: cannot capture the screen: {error}");
                return None;
            }
        };
        let max_fps = stream::max_fps_from_env();
        self.switches.max_fps.store(max_fps, Ordering::Release);
        // With tiles, small changes leave the video: it carries mostly
        // motion, which the camera tuning encodes in about half the time.
        let usage = if self.tiles_enabled {
            RealtimeUsage::Camera
        } else {
            RealtimeUsage::Screen
        };
        let encoder = Box::new(H264Encoder::new(H264Settings {
            max_fps: max_fps as f32,
            realtime_usage: RealtimeUsage::from_env(usage),
            ..H264Settings::default()
        }));
        stream::spawn(
            capturer,
            encoder,
            self.switches.clone(),
            self.frames_tx.clone(),
            self.tiles_enabled,
        )
        .map_err(|error| tracing::warn!(%error, "cannot start the capture thread"))
        .ok()
    }

    async fn finish(&mut self) {
        self.switches.allowed.store(false, Ordering::Release);
        self.switches.stop.store(true, Ordering::Release);
        if let Some(injector) = &mut self.injector {
            injector.check(&self.gate, client::now());
        }
        if let Some(live) = self.live.take() {
            live.peer.close().await;
        }
        if let Some(capture) = self.capture.take() {
            let _ = tokio::task::spawn_blocking(move || capture.join()).await;
        }
    }
}
