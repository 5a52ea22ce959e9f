//! Signaling: the messages of the one WebSocket endpoint
//! ([`crate::routes::SIGNAL`]). Each message is one JSON text frame, at
//! most [`MAX_MESSAGE_BYTES`]; [`ClientMessage::parse`] refuses anything
//! larger or malformed before the server looks at it.
//!
//! A client first sends [`ClientMessage::Join`]. The server answers
//! [`ServerMessage::Joined`] and then a [`ServerMessage::State`] on every
//! change. SDP and ICE travel only between the two participants of the same
//! session, and only once a mode was consented. The server sends
//! [`ServerMessage::Ping`] every few seconds; a client answers
//! [`ClientMessage::Pong`], and either side treats silence as a dead peer.

use crate::grant::SignedGrant;
use crate::session::{Party, SessionView};
use crate::{Problem, SessionId};
use serde::{Deserialize, Serialize};

/// Largest signaling frame, in bytes (an SDP offer is a few kilobytes).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Largest SDP accepted.
pub const MAX_SDP_BYTES: usize = 48 * 1024;
/// Largest ICE candidate line accepted.
pub const MAX_CANDIDATE_BYTES: usize = 1024;
/// Longest chat message, in characters.
pub const MAX_CHAT_CHARS: usize = 2000;
/// How often the server pings, in seconds.
pub const PING_EVERY_SECONDS: u64 = 5;
/// Silence after which either side gives the connection up, in seconds:
/// three pings missed. A participant cut off the network is counted away
/// (and the reconnect window starts) at most this plus one ping period
/// after the cut.
pub const DEAD_AFTER_SECONDS: u64 = 15;

/// A STUN or TURN server for `RTCPeerConnection`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// Which candidates both ends may use (`RTCIceTransportPolicy`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IceTransportPolicy {
    /// Direct paths first, TURN when they fail.
    #[default]
    All,
    /// Only through the TURN server: for organizations that forbid
    /// peer-to-peer traffic (the tenant setting "relay only").
    Relay,
}

/// One trickled ICE candidate, as `RTCIceCandidateInit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceCandidate {
    pub candidate: String,
    #[serde(default)]
    pub sdp_mid: Option<String>,
    #[serde(default)]
    pub sdp_m_line_index: Option<u16>,
}

/// From a participant to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// Tagged on the wire; on wasm32 read and written through crate::tagged.
#[cfg_attr(not(target_arch = "wasm32"), serde(tag = "type"))]
pub enum ClientMessage {
    /// Attach this connection to a session the caller takes part in.
    Join { session: SessionId },
    /// The sharer's SDP offer, relayed to the helper.
    Offer { sdp: String },
    /// The helper's SDP answer, relayed to the sharer.
    Answer { sdp: String },
    /// A trickled candidate, relayed to the other participant.
    Ice { candidate: IceCandidate },
    /// The helper asks the sharer for a fresh offer (after a reconnect).
    Renegotiate,
    /// The helper, back on the same connection after its network changed,
    /// asks for an offer that restarts ICE on that connection.
    RestartIce,
    /// Answer to [`ServerMessage::Ping`].
    Pong { nonce: u64 },
    /// A chat line for the other person (helper ↔ sharer). The server
    /// passes it on and keeps only the fact that chat was used.
    Chat { text: String },
    /// Agent → server: the helper's input just reached a UAC or
    /// secure-desktop prompt through the agent (elevation *used*, not only
    /// held). Accepted only from the device's agent in full control with a
    /// grant that carries Elevation; recorded once per session.
    ElevationUsed,
    /// Agent → server: the device's clipboard was just set from, or read
    /// for, the helper (the fact, never the text). Accepted only from the
    /// device's agent in full control when the tenant allows the
    /// clipboard; counted, recorded and shown to the sharer.
    ClipboardUsed {
        direction: crate::clipboard::ClipboardDirection,
    },
    /// Agent → server: the helper's strokes were drawn on the device
    /// (the fact, never the strokes). Accepted only from the device's
    /// agent while media flows and the tenant allows annotation.
    AnnotationUsed,
    /// Sharer → (server) → device's agent: clear the helper's drawings, or
    /// switch annotation off or on again for this session.
    SharerDrawing {
        action: crate::annotation::SharerDrawing,
    },
    /// Agent → (server) → sharer's page: a file transfer the sharer decides
    /// on or watches (its name and size; never its bytes). Passed on only
    /// in full control through the agent, when the tenant allows file
    /// transfer; never stored.
    FileNotice { notice: crate::files::FileNotice },
    /// Sharer → (server) → device's agent: accept, decline or cancel
    /// transfer `id`.
    FileAnswer {
        id: u32,
        answer: crate::files::FileAnswer,
    },
    /// Agent → server: a file of `bytes` bytes was moved whole (the fact
    /// and size, never the name or content); counted in the record.
    FileMoved {
        direction: crate::files::FileDirection,
        bytes: u64,
    },
    /// Sharer → (server) → device's agent: list the windows, share one
    /// window, or the whole screen again.
    ShareChoice {
        #[cfg_attr(target_arch = "wasm32", serde(with = "crate::tagged::field"))]
        choice: crate::sharing::ShareChoice,
    },
    /// Agent → (server) → sharer's page: the windows she may pick from.
    Windows {
        windows: Vec<crate::sharing::WindowChoice>,
    },
    /// Agent → (server) → sharer's page: what the device shares now.
    Shared {
        #[cfg_attr(target_arch = "wasm32", serde(with = "crate::tagged::field"))]
        shared: crate::sharing::Shared,
    },
    /// Agent → (server) → sharer's page: whether she has switched the
    /// helper's drawing off (her page shows the switch as it is, after a
    /// reload too).
    DrawingState { off: bool },
}

impl crate::tagged::Tagged for ClientMessage {
    const TAG: &'static str = "type";
}

/// From the server to a participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// Tagged on the wire; on wasm32 read and written through crate::tagged.
#[cfg_attr(not(target_arch = "wasm32"), serde(tag = "type"))]
pub enum ServerMessage {
    /// The connection is attached to the session as `you`.
    Joined {
        you: Party,
        ice_servers: Vec<IceServer>,
        #[serde(default)]
        ice_transport_policy: IceTransportPolicy,
    },
    /// The session changed (or was just joined).
    State {
        session: Box<SessionView>,
    },
    /// Relayed from the sharer.
    Offer {
        sdp: String,
    },
    /// Relayed from the helper.
    Answer {
        sdp: String,
    },
    /// Relayed from the other participant.
    Ice {
        candidate: IceCandidate,
    },
    /// The helper wants a fresh offer.
    Renegotiate,
    /// The helper wants an offer that restarts ICE on the connection there
    /// is (its network changed); a fresh one does too.
    RestartIce,
    /// The sharer's word on the helper's drawings (to the device's agent).
    SharerDrawing {
        action: crate::annotation::SharerDrawing,
    },
    /// A file transfer on the device, for the sharer's page.
    FileNotice {
        notice: crate::files::FileNotice,
    },
    /// The sharer's word on a file transfer (to the device's agent).
    FileAnswer {
        id: u32,
        answer: crate::files::FileAnswer,
    },
    /// The sharer's choice of what to share (to the device's agent).
    ShareChoice {
        #[cfg_attr(target_arch = "wasm32", serde(with = "crate::tagged::field"))]
        choice: crate::sharing::ShareChoice,
    },
    /// The device's windows (to the sharer's page).
    Windows {
        windows: Vec<crate::sharing::WindowChoice>,
    },
    /// What the device shares (to the sharer's page).
    Shared {
        #[cfg_attr(target_arch = "wasm32", serde(with = "crate::tagged::field"))]
        shared: crate::sharing::Shared,
    },
    /// Whether the helper's drawing is switched off (to the sharer's page).
    DrawingState {
        off: bool,
    },
    /// The consented mode, signed by the server; the sharer's agent checks it
    /// before it sends a pixel or injects an event.
    Grant {
        grant: SignedGrant,
    },
    /// The other participant connected or dropped.
    Peer {
        party: Party,
        connected: bool,
    },
    Ping {
        nonce: u64,
    },
    /// A chat line from the other person.
    Chat {
        from: Party,
        text: String,
        at: crate::UnixMillis,
    },
    /// Something the client sent was refused; the connection stays up
    /// unless the problem says otherwise.
    Error {
        problem: Problem,
    },
}

impl crate::tagged::Tagged for ServerMessage {
    const TAG: &'static str = "type";
}

/// Why a frame was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    TooLarge { bytes: usize },
    Malformed(String),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::TooLarge { bytes } => write!(
                f,
                "message of {bytes} bytes is over the limit of {MAX_MESSAGE_BYTES}"
            ),
            FrameError::Malformed(why) => write!(f, "malformed message: {why}"),
        }
    }
}

impl ClientMessage {
    /// Decodes one frame, refusing oversized frames and fields.
    pub fn parse(frame: &str) -> Result<Self, FrameError> {
        if frame.len() > MAX_MESSAGE_BYTES {
            return Err(FrameError::TooLarge { bytes: frame.len() });
        }
        // serde's message may quote what was sent (a chat line in the wrong
        // place), and refusals are logged: name only the kind and place.
        let message: Self = crate::tagged::from_json(frame.as_bytes()).map_err(|e| {
            FrameError::Malformed(format!(
                "{} at line {} column {}",
                match e.classify() {
                    serde_json::error::Category::Io => "unreadable frame",
                    serde_json::error::Category::Syntax => "not JSON",
                    serde_json::error::Category::Data => "not a known message, or a field is wrong",
                    serde_json::error::Category::Eof => "the frame ends early",
                },
                e.line(),
                e.column()
            ))
        })?;
        if let ClientMessage::Chat { text } = &message
            && (text.trim().is_empty() || text.chars().count() > MAX_CHAT_CHARS)
        {
            return Err(FrameError::Malformed(format!(
                "a chat message holds 1 to {MAX_CHAT_CHARS} characters"
            )));
        }
        let too_long = match &message {
            ClientMessage::Offer { sdp } | ClientMessage::Answer { sdp } => {
                sdp.len() > MAX_SDP_BYTES
            }
            ClientMessage::Ice { candidate } => {
                candidate.candidate.len() > MAX_CANDIDATE_BYTES
                    || candidate.sdp_mid.as_ref().is_some_and(|m| m.len() > 64)
            }
            _ => false,
        };
        if too_long {
            return Err(FrameError::Malformed("a field is over its limit".into()));
        }
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_with_a_type_tag() {
        let join = ClientMessage::Join {
            session: SessionId::from("s1"),
        };
        let text = serde_json::to_string(&join).unwrap_or_default();
        assert_eq!(text, r#"{"type":"join","session":"s1"}"#);
        assert_eq!(ClientMessage::parse(&text), Ok(join));
        let ice = r#"{"type":"ice","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 5000 typ host","sdp_mid":"0","sdp_m_line_index":0}}"#;
        assert!(matches!(
            ClientMessage::parse(ice),
            Ok(ClientMessage::Ice { .. })
        ));
    }

    #[test]
    fn refusals_never_quote_what_was_sent() {
        let wrong_place = r#"{"type":"ice","candidate":"SECRET-LINE-42"}"#;
        let Err(FrameError::Malformed(why)) = ClientMessage::parse(wrong_place) else {
            panic!("accepted a candidate that is a string");
        };
        assert!(!why.contains("SECRET"), "{why}");
        assert!(why.contains("column"), "{why}");
        let chat = r#"{"type":"chat","text":"hello"}"#;
        assert_eq!(
            ClientMessage::parse(chat),
            Ok(ClientMessage::Chat {
                text: "hello".into()
            })
        );
        for bad in ["   ".to_owned(), "x".repeat(MAX_CHAT_CHARS + 1)] {
            let frame = serde_json::json!({"type": "chat", "text": bad}).to_string();
            assert!(ClientMessage::parse(&frame).is_err());
        }
    }

    #[test]
    fn oversized_and_malformed_frames_are_refused() {
        let huge = format!(
            r#"{{"type":"offer","sdp":"{}"}}"#,
            "a".repeat(MAX_MESSAGE_BYTES)
        );
        assert!(matches!(
            ClientMessage::parse(&huge),
            Err(FrameError::TooLarge { .. })
        ));
        let long_sdp = format!(
            r#"{{"type":"offer","sdp":"{}"}}"#,
            "a".repeat(MAX_SDP_BYTES + 1)
        );
        assert!(matches!(
            ClientMessage::parse(&long_sdp),
            Err(FrameError::Malformed(_))
        ));
        for bad in ["", "{", r#"{"type":"nope"}"#, r#"{"type":"offer"}"#, "[1]"] {
            assert!(
                matches!(ClientMessage::parse(bad), Err(FrameError::Malformed(_))),
                "{bad}"
            );
        }
    }
}
