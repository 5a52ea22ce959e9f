//! The agent's side of one WebRTC connection to the helper's browser: an
//! H.264 video track and the four data channels (`input`, `pointer`,
//! `control`, and `tiles` for small changes sent losslessly). The agent always offers. Everything the connection reports
//! comes out as [`PeerEvent`]s on one channel, so the session task stays a
//! single loop.

use super::keyframes::KeyframeRequests;
use super::runtime::AgentRuntime;
use super::turn_tcp::{self, TcpTurnBytes};
use bytes::BytesMut;
use rtc::data_channel::RTCDataChannelInit;
use rtc::ice::mdns::MulticastDnsMode;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_H264, MediaEngine};
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters,
    RTCRtpEncodingParameters, RTCRtpHeaderExtensionCapability, RtpCodecKind,
};
use std::net::SocketAddr;
use std::sync::Arc;
use tandem_protocol::annotation::ANNOTATION_CHANNEL;
use tandem_protocol::clipboard::CLIPBOARD_CHANNEL;
use tandem_protocol::files::FILES_CHANNEL;
use tandem_protocol::input::{CONTROL_CHANNEL, Control, INPUT_CHANNEL, POINTER_CHANNEL};
use tandem_protocol::signal::{IceCandidate, IceServer, IceTransportPolicy};
use tandem_protocol::tiles::{self, TILES_CHANNEL};
use tokio::sync::mpsc;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceCandidateInit, RTCIceServer, RTCIceTransportPolicy, RTCPeerConnectionIceEvent,
    RTCPeerConnectionState, RTCSessionDescription, Registry, SettingEngineBuilder,
    register_default_interceptors,
};
use webrtc::rtp_transceiver::RtpSender;
use webrtc::runtime::default_runtime;

/// The payload type the agent proposes; the browser's answer may settle on
/// another, so the sender reads the negotiated one.
const H264_PAYLOAD_TYPE: u8 = 102;

/// The playout-delay RTP header extension (see [`super::rtp`]).
pub const PLAYOUT_DELAY_URI: &str = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";

/// What the answer settled for the video track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    pub payload_type: u8,
    pub playout_delay_id: Option<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("WebRTC: {0}")]
    WebRtc(#[from] webrtc::error::Error),
    #[error("no async runtime for WebRTC")]
    NoRuntime,
    #[error("the browser negotiated no video codec")]
    NoCodec,
}

/// What the connection reports to the session task.
#[derive(Debug)]
pub enum PeerEvent {
    /// A local candidate to trickle to the helper.
    Candidate(IceCandidate),
    Connection(RTCPeerConnectionState),
    /// A data channel opened.
    Open(&'static str),
    /// A message on a data channel.
    Message {
        channel: &'static str,
        bytes: BytesMut,
    },
    /// The browser asked for a keyframe (PLI or FIR).
    Keyframe,
}

struct Handler {
    events: mpsc::Sender<PeerEvent>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        let Ok(init) = event.candidate.to_json() else {
            return;
        };
        let _ = self
            .events
            .send(PeerEvent::Candidate(IceCandidate {
                candidate: init.candidate,
                sdp_mid: init.sdp_mid,
                sdp_m_line_index: init.sdp_mline_index,
            }))
            .await;
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.events.send(PeerEvent::Connection(state)).await;
    }
}

fn h264() -> RTCRtpCodec {
    let feedback = |typ: &str, parameter: &str| RTCPFeedback {
        typ: typ.to_owned(),
        parameter: parameter.to_owned(),
    };
    RTCRtpCodec {
        mime_type: MIME_TYPE_H264.to_owned(),
        clock_rate: 90_000,
        channels: 0,
        // Constrained Baseline: what openh264 makes and Chromium decodes.
        sdp_fmtp_line: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
            .to_owned(),
        rtcp_feedback: vec![
            feedback("nack", ""),
            feedback("nack", "pli"),
            feedback("ccm", "fir"),
        ],
    }
}

/// How long resolving a TURN server's name may hold up a connection.
const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// The stack's ICE servers, with `turn:…?transport=tcp` URLs turned into
/// UDP ones the stack gathers with; and the addresses of those servers,
/// whose datagrams the runtime carries over TCP (`turn_tcp.rs`).
fn transport_policy(policy: IceTransportPolicy) -> RTCIceTransportPolicy {
    match policy {
        IceTransportPolicy::All => RTCIceTransportPolicy::All,
        IceTransportPolicy::Relay => RTCIceTransportPolicy::Relay,
    }
}

async fn ice_servers(servers: &[IceServer]) -> (Vec<RTCIceServer>, Vec<SocketAddr>) {
    // A server the stack reaches over UDP too (TURN over UDP, or STUN) is
    // left to UDP: the runtime routes by address, and cannot tell two
    // transports to one address apart.
    let over_udp: Vec<String> = servers
        .iter()
        .flat_map(|s| &s.urls)
        .filter(|u| turn_tcp::tcp_turn_url(u).is_none())
        .filter_map(|u| turn_tcp::udp_server(u))
        .collect();
    let mut over_tcp = Vec::new();
    let mut stack = Vec::new();
    for server in servers {
        let mut urls = Vec::new();
        for url in &server.urls {
            let Some((as_udp, host_port)) =
                turn_tcp::tcp_turn_url(url).filter(|(_, host_port)| !over_udp.contains(host_port))
            else {
                urls.push(url.clone());
                continue;
            };
            let lookup = tokio::net::lookup_host(host_port.as_str());
            match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
                Ok(Ok(found)) => {
                    over_tcp.extend(found.filter(SocketAddr::is_ipv4));
                    urls.push(as_udp);
                }
                Ok(Err(error)) => tracing::warn!(%error, %url, "cannot resolve a TURN server"),
                Err(_) => tracing::warn!(%url, "resolving a TURN server timed out"),
            }
        }
        stack.push(RTCIceServer {
            urls,
            username: server.username.clone().unwrap_or_default(),
            credential: server.credential.clone().unwrap_or_default(),
        });
    }
    (stack, over_tcp)
}

/// One connection to the helper.
pub struct AgentPeer {
    pc: Arc<dyn PeerConnection>,
    track: Arc<TrackLocalStaticRTP>,
    sender: Arc<dyn RtpSender>,
    ssrc: u32,
    control: Arc<dyn DataChannel>,
    pub(super) clipboard: Arc<dyn DataChannel>,
    pub(super) annotation: Arc<dyn DataChannel>,
    pub(super) files: Arc<dyn DataChannel>,
    tiles: Arc<dyn DataChannel>,
    /// The number of the last tile message sent (`tandem_protocol::tiles`
    /// numbers them, from 1, in the order they leave).
    tiles_sent: std::sync::atomic::AtomicU32,
    tcp_turn_bytes: Arc<TcpTurnBytes>,
}

/// Tile bytes waiting to leave, past which tiles stop (the video carries
/// every change until the channel has caught up, and repaints what a
/// dropped tile would have shown). The agent itself stops routing to
/// tiles well before (`tiles::ROUTE_BACKLOG`).
pub const TILES_BACKLOG_MAX: usize = 4 * 1024 * 1024;

/// What became of a tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileSent {
    Sent,
    /// Not sent: the channel is closed or too far behind.
    Dropped,
}

impl AgentPeer {
    /// Builds the connection with its track and channels; events go to
    /// `events` until the connection is closed.
    pub async fn new(
        servers: &[IceServer],
        policy: IceTransportPolicy,
        ssrc: u32,
        events: mpsc::Sender<PeerEvent>,
    ) -> Result<Self, MediaError> {
        let mut media = MediaEngine::default();
        media.register_codec(
            RTCRtpCodecParameters {
                rtp_codec: h264(),
                payload_type: H264_PAYLOAD_TYPE,
            },
            RtpCodecKind::Video,
        )?;
        media.register_header_extension(
            RTCRtpHeaderExtensionCapability {
                uri: PLAYOUT_DELAY_URI.to_owned(),
            },
            RtpCodecKind::Video,
            None,
        )?;
        let registry = register_default_interceptors(Registry::new(), &mut media)?
            .with(KeyframeRequests::slot(), KeyframeRequests::default());
        // mDNS off: a device with only loopback (or a locked-down network)
        // has no multicast socket, and the browser's .local names resolve
        // as peer-reflexive candidates anyway.
        // A helper unheard for 3 s (keep-alives every second) is shown as
        // disconnected on the device's bar; failing stays at the stack's 25 s.
        let settings = SettingEngineBuilder::new()
            .with_multicast_dns_mode(MulticastDnsMode::Disabled)
            .with_ice_timeouts(
                Some(std::time::Duration::from_secs(3)),
                Some(std::time::Duration::from_secs(25)),
                Some(std::time::Duration::from_secs(1)),
            )
            // An ICE restart binds its sockets again, on the addresses
            // there are then, and gathers from those alone: the restart
            // after a network change must not offer the address that went.
            .with_discard_local_candidates_during_ice_restart(true)
            .build();
        let (servers, over_tcp) = ice_servers(servers).await;
        let config = RTCConfigurationBuilder::new()
            .with_ice_servers(servers)
            .with_ice_transport_policy(transport_policy(policy))
            .build();
        let tcp_turn_bytes = Arc::new(TcpTurnBytes::default());
        let runtime = Arc::new(AgentRuntime::with_tcp_turn(
            default_runtime().ok_or(MediaError::NoRuntime)?,
            Arc::from(over_tcp),
            tcp_turn_bytes.clone(),
        ));
        let pc: Arc<dyn PeerConnection> = Arc::new(
            PeerConnectionBuilder::new()
                .with_configuration(config)
                .with_media_engine(media)
                .with_setting_engine(settings)
                .with_interceptor_registry(registry)
                .with_handler(Arc::new(Handler {
                    events: events.clone(),
                }))
                .with_runtime(runtime)
                // The wildcard address skips loopback; name it too.
                .with_udp_addrs(vec!["127.0.0.1:0".to_owned(), "0.0.0.0:0".to_owned()])
                .build()
                .await?,
        );
        let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            "tandem-screen".to_owned(),
            "tandem-screen-video".to_owned(),
            "screen".to_owned(),
            RtpCodecKind::Video,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                codec: h264(),
                ..Default::default()
            }],
        )));
        let sender = pc.add_track(track.clone() as Arc<dyn TrackLocal>).await?;
        spawn_keyframe_watch(track.clone(), events.clone());

        // Keys and clicks: ordered and reliable. Pointer motion: the newest
        // position matters, a late one does not (no retransmits, unordered).
        let input = pc
            .create_data_channel(
                INPUT_CHANNEL,
                Some(RTCDataChannelInit {
                    ordered: true,
                    ..Default::default()
                }),
            )
            .await?;
        let pointer = pc
            .create_data_channel(
                POINTER_CHANNEL,
                Some(RTCDataChannelInit {
                    ordered: false,
                    max_retransmits: Some(0),
                    ..Default::default()
                }),
            )
            .await?;
        let control = pc
            .create_data_channel(
                CONTROL_CHANNEL,
                Some(RTCDataChannelInit {
                    ordered: true,
                    ..Default::default()
                }),
            )
            .await?;
        // Tiles: reliable, so none is lost, but unordered, so one lost
        // packet does not hold back every tile behind it for a
        // retransmission timeout; their numbers put them in order (see
        // `tandem_protocol::tiles`).
        let tiles = pc
            .create_data_channel(
                TILES_CHANNEL,
                Some(RTCDataChannelInit {
                    ordered: false,
                    ..Default::default()
                }),
            )
            .await?;
        // Clipboard text, helper ↔ device: ordered and reliable, its
        // pieces in order.
        let clipboard = pc
            .create_data_channel(
                CLIPBOARD_CHANNEL,
                Some(RTCDataChannelInit {
                    ordered: true,
                    ..Default::default()
                }),
            )
            .await?;
        spawn_channel_watch(CLIPBOARD_CHANNEL, clipboard.clone(), events.clone());
        // The helper's strokes: ordered and reliable, so a stroke is drawn
        // as it was made.
        let annotation = pc
            .create_data_channel(
                ANNOTATION_CHANNEL,
                Some(RTCDataChannelInit {
                    ordered: true,
                    ..Default::default()
                }),
            )
            .await?;
        spawn_channel_watch(ANNOTATION_CHANNEL, annotation.clone(), events.clone());
        // Files, helper ↔ device: ordered and reliable, chunks in order.
        let files = pc
            .create_data_channel(
                FILES_CHANNEL,
                Some(RTCDataChannelInit {
                    ordered: true,
                    ..Default::default()
                }),
            )
            .await?;
        spawn_channel_watch(FILES_CHANNEL, files.clone(), events.clone());
        spawn_channel_watch(TILES_CHANNEL, tiles.clone(), events.clone());
        spawn_channel_watch(INPUT_CHANNEL, input, events.clone());
        spawn_channel_watch(POINTER_CHANNEL, pointer, events.clone());
        spawn_channel_watch(CONTROL_CHANNEL, control.clone(), events);
        Ok(Self {
            pc,
            track,
            sender,
            ssrc,
            control,
            clipboard,
            annotation,
            files,
            tiles,
            tiles_sent: std::sync::atomic::AtomicU32::new(0),
            tcp_turn_bytes,
        })
    }

    /// Makes the offer and sets it locally; returns its SDP.
    pub async fn offer(&self) -> Result<String, MediaError> {
        let offer = self.pc.create_offer(None).await?;
        let sdp = offer.sdp.clone();
        self.pc.set_local_description(offer).await?;
        Ok(sdp)
    }

    /// An offer that restarts ICE on this connection (new credentials,
    /// candidates gathered again from the addresses there are now); the
    /// media, channels and DTLS session stay.
    /// It gathers with `servers` (fresh TURN credentials from the last
    /// join), when the connection takes them.
    pub async fn restart_ice(
        &self,
        servers: &[IceServer],
        policy: IceTransportPolicy,
    ) -> Result<String, MediaError> {
        let current = self.pc.get_configuration().await;
        let (fresh, _) = ice_servers(servers).await;
        let config = RTCConfigurationBuilder::new()
            .with_ice_servers(fresh)
            .with_ice_transport_policy(transport_policy(policy))
            .with_certificates(current.certificates().to_vec())
            .with_bundle_policy(current.bundle_policy())
            .with_rtcp_mux_policy(current.rtcp_mux_policy())
            .build();
        if let Err(error) = self.pc.set_configuration(config).await {
            tracing::warn!(%error, "the fresh ICE servers were not taken; restarting with the old ones");
        }
        self.pc.restart_ice().await?;
        self.offer().await
    }

    pub async fn accept_answer(&self, sdp: String) -> Result<(), MediaError> {
        let answer = RTCSessionDescription::answer(sdp)?;
        self.pc.set_remote_description(answer).await?;
        Ok(())
    }

    pub async fn add_candidate(&self, candidate: IceCandidate) -> Result<(), MediaError> {
        self.pc
            .add_ice_candidate(RTCIceCandidateInit {
                candidate: candidate.candidate,
                sdp_mid: candidate.sdp_mid,
                sdp_mline_index: candidate.sdp_m_line_index,
                username_fragment: None,
                url: None,
            })
            .await?;
        Ok(())
    }

    /// What the browser accepted: the payload type for H.264 and, if it
    /// takes the playout-delay extension, that extension's id.
    pub async fn negotiated(&self) -> Result<Negotiated, MediaError> {
        let parameters = self.sender.get_parameters().await?.rtp_parameters;
        let payload_type = parameters
            .codecs
            .first()
            .map(|codec| codec.payload_type)
            .ok_or(MediaError::NoCodec)?;
        let playout_delay_id = parameters
            .header_extensions
            .iter()
            .find(|extension| extension.uri == PLAYOUT_DELAY_URI)
            .and_then(|extension| u8::try_from(extension.id).ok());
        Ok(Negotiated {
            payload_type,
            playout_delay_id,
        })
    }

    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Bytes exchanged with TURN servers over TCP since the last call.
    pub fn take_tcp_turn_bytes(&self) -> u64 {
        self.tcp_turn_bytes.take()
    }

    pub fn track(&self) -> &Arc<TrackLocalStaticRTP> {
        &self.track
    }

    /// Sends a control message; dropped (and logged) if the channel is not
    /// open yet.
    pub async fn send_control(&self, message: &Control) {
        let Ok(text) = serde_json::to_string(message) else {
            return;
        };
        if let Err(error) = self.control.send_text(&text).await {
            tracing::debug!(%error, "control message not sent");
        }
    }

    /// Sends one tile message, unless the channel is more than
    /// [`TILES_BACKLOG_MAX`] behind.
    pub async fn send_tile(&self, message: &[u8]) -> TileSent {
        match self.tiles.outstanding_bytes().await {
            Ok(backlog) if backlog + message.len() <= TILES_BACKLOG_MAX => {}
            _ => return TileSent::Dropped,
        }
        // Numbered as it leaves; a number is used only once it has (0 is
        // never one). Tiles are sent by one task, one at a time.
        let seq = self
            .tiles_sent
            .load(std::sync::atomic::Ordering::Acquire)
            .wrapping_add(1)
            .max(1);
        let mut numbered = BytesMut::from(message);
        tiles::stamp(&mut numbered, seq);
        match self.tiles.send(numbered).await {
            Ok(()) => {
                self.tiles_sent
                    .store(seq, std::sync::atomic::Ordering::Release);
                TileSent::Sent
            }
            Err(error) => {
                tracing::debug!(%error, "a tile was not sent");
                TileSent::Dropped
            }
        }
    }

    /// Tile bytes waiting to leave (the bound, if the channel is gone).
    pub async fn tiles_backlog(&self) -> usize {
        self.tiles
            .outstanding_bytes()
            .await
            .unwrap_or(TILES_BACKLOG_MAX)
    }

    pub async fn close(&self) {
        if let Err(error) = self.pc.close().await {
            tracing::debug!(%error, "closing the peer connection");
        }
    }
}

fn spawn_channel_watch(
    label: &'static str,
    channel: Arc<dyn DataChannel>,
    events: mpsc::Sender<PeerEvent>,
) {
    tokio::spawn(async move {
        while let Some(event) = channel.poll().await {
            let forwarded = match event {
                DataChannelEvent::OnOpen => PeerEvent::Open(label),
                DataChannelEvent::OnMessage(message) => PeerEvent::Message {
                    channel: label,
                    bytes: message.data,
                },
                DataChannelEvent::OnClose => break,
                _ => continue,
            };
            if events.send(forwarded).await.is_err() {
                break;
            }
        }
    });
}

fn spawn_keyframe_watch(track: Arc<TrackLocalStaticRTP>, events: mpsc::Sender<PeerEvent>) {
    tokio::spawn(async move {
        // Only PLI and FIR are delivered here (see `KeyframeRequests`).
        while let Some(TrackLocalEvent::OnRtcpPacket(_)) = track.poll().await {
            if events.send(PeerEvent::Keyframe).await.is_err() {
                break;
            }
        }
    });
}
