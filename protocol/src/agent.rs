//! The sharer agent's side of the server: registration, device
//! authentication, the control WebSocket and pairing.
//!
//! - An agent registers once ([`RegisterRequest`]) with a device key pair it
//!   generated; with an enrollment token the device is enrolled in the
//!   token's tenant, without one it is unenrolled and joins the tenant of the
//!   first sharer who pairs with it.
//! - Every later request carries a [`DEVICE_AUTH_SCHEME`] `Authorization`
//!   header: the device id, a time, a fresh nonce, and an Ed25519 signature
//!   over [`device_auth_message`]. The server refuses old times and reused
//!   nonces, so a captured header cannot be replayed.
//! - The agent keeps one control WebSocket ([`crate::routes::AGENT_CONNECT`])
//!   open: it is how the device is online, how it gets pairing links, and how
//!   it learns that a session was bound to it. Each such session's signaling
//!   then runs on its own socket ([`crate::routes::AGENT_SIGNAL`]) with the
//!   frames of [`crate::signal`].

use crate::grant::GrantKey;
use crate::session::IdentityCard;
use crate::{DeviceId, EnrollmentTokenId, SessionId, UnixMillis};
use serde::{Deserialize, Serialize};

/// The `Authorization` scheme of device-authenticated requests.
pub const DEVICE_AUTH_SCHEME: &str = "TandemDevice";
/// Prefix of every signed device-authentication message.
pub const DEVICE_AUTH_DOMAIN: &str = "tandem-device-auth-v1";
/// How far a device's clock may be from the server's.
pub const DEVICE_AUTH_SKEW_MILLIS: i64 = 60_000;
/// The largest control frame either side accepts.
pub const MAX_AGENT_FRAME_BYTES: usize = 16 * 1024;
/// A pairing link works this long, once.
pub const PAIRING_LIFETIME_MILLIS: i64 = 10 * 60_000;

/// The bytes a device signs to authenticate one request.
pub fn device_auth_message(
    device: &DeviceId,
    at: UnixMillis,
    nonce: &str,
    method: &str,
    path: &str,
) -> String {
    format!(
        "{DEVICE_AUTH_DOMAIN}\n{}\n{}\n{nonce}\n{method} {path}",
        device.0, at.0
    )
}

/// The parts of a device `Authorization` header value (after the scheme).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCredentials {
    pub device: DeviceId,
    pub at: UnixMillis,
    pub nonce: String,
    /// base64url Ed25519 signature of [`device_auth_message`].
    pub signature: String,
}

impl DeviceCredentials {
    /// `TandemDevice id.at.nonce.signature`
    pub fn header_value(&self) -> String {
        format!(
            "{DEVICE_AUTH_SCHEME} {}.{}.{}.{}",
            self.device.0, self.at.0, self.nonce, self.signature
        )
    }

    /// The bytes these credentials sign for `method path`
    /// ([`device_auth_message`]).
    pub fn message(&self, method: &str, path: &str) -> String {
        device_auth_message(&self.device, self.at, &self.nonce, method, path)
    }

    /// Parses a header value; `None` if it is not this scheme or malformed.
    pub fn parse(header: &str) -> Option<Self> {
        let rest = header.strip_prefix(DEVICE_AUTH_SCHEME)?.strip_prefix(' ')?;
        if rest.len() > 512 {
            return None;
        }
        let mut parts = rest.split('.');
        let (device, at, nonce, signature) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let token = |s: &str| {
            !s.is_empty()
                && s.len() <= 128
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if parts.next().is_some() || !token(device) || !token(nonce) || !token(signature) {
            return None;
        }
        Some(Self {
            device: DeviceId(device.to_owned()),
            at: UnixMillis(at.parse().ok()?),
            nonce: nonce.to_owned(),
            signature: signature.to_owned(),
        })
    }
}

/// First contact of an agent.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// The device's Ed25519 public key, 32 bytes, base64url without padding.
    pub public_key: String,
    pub name: String,
    pub os: String,
    pub os_version: String,
    pub agent_version: String,
    /// An enrollment token from an administrator.
    pub enrollment_token: Option<String>,
}

/// Limits of [`RegisterRequest`] fields.
pub const MAX_DEVICE_FIELD_CHARS: usize = 128;

/// The registration's outcome. Registering the same key again returns the
/// same device.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub device: DeviceId,
    pub enrolled: bool,
}

/// A new enrollment token (shown once).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentToken {
    pub id: EnrollmentTokenId,
    pub token: String,
    pub label: String,
    pub expires_at: UnixMillis,
}

/// An enrollment token as listed (the token itself is shown only once).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentTokenRow {
    pub id: EnrollmentTokenId,
    pub label: String,
    pub created_at: UnixMillis,
    pub expires_at: UnixMillis,
    pub revoked: bool,
    /// Who made it (their name), if they still exist.
    #[serde(default)]
    pub created_by: Option<String>,
    /// How many agent registrations presented it.
    #[serde(default)]
    pub uses: u64,
    /// When an agent last registered with it.
    #[serde(default)]
    pub last_used_at: Option<UnixMillis>,
}

/// Asks for an enrollment token.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEnrollmentToken {
    pub label: String,
    /// 1 to 365 days.
    pub valid_days: u32,
}

/// The sharer page redeems a pairing link.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairRequest {
    pub nonce: String,
    /// The sharer confirmed the device shown by the preview. Without it
    /// nothing is paired: opening a link must never be enough.
    #[serde(default)]
    pub confirm: bool,
}

/// What a pairing link would pair with, for the sharer to confirm first.
/// `POST /api/agent/pair/preview` (the link stays unused).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairingPreview {
    pub device_name: String,
    pub os: String,
    pub os_version: String,
    /// Enrolled by an administrator of the organization. An unenrolled
    /// device's name, OS and version are whatever was typed on it.
    pub enrolled: bool,
}

/// A paired browser: the device it is on, and the session that asked for
/// this sharer, if the pairing came with a help request.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paired {
    pub device: DeviceId,
    pub device_name: String,
    pub session: Option<SessionId>,
}

/// Control frames from the server to an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentServerMessage {
    /// The connection is authenticated.
    Welcome {
        device: DeviceId,
        device_name: String,
        enrolled: bool,
        /// Set when this agent's version is older than the tenant requires.
        required_version: Option<String>,
        /// The key grants are signed with.
        grant_key: GrantKey,
    },
    /// A one-time link (a path on the server) that binds the browser's
    /// signed-in sharer to this device. The agent opens it.
    Pairing {
        path: String,
        expires_at: UnixMillis,
    },
    /// A helper asked to help this device's user: open `path` (a pairing
    /// link that leads to the session's sharer page).
    HelpRequest {
        session: SessionId,
        helper: IdentityCard,
        path: String,
    },
    /// A session was bound to this device: join its signaling.
    SessionBound {
        session: SessionId,
    },
    Ping {
        nonce: u64,
    },
    /// Something was refused; the connection stays open.
    Error {
        message: String,
    },
}

/// What the sharer did with the buttons of the sharing indicator on their
/// device's own screen (the same as the sharer page's buttons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SharerAction {
    /// Pause: no pixel leaves, no input is injected, until Resume.
    Pause,
    Resume,
    /// Stop sharing: the session ends ("The sharer stopped sharing on
    /// their device").
    Stop,
}

/// Control frames from an agent to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentClientMessage {
    /// Asks for a fresh pairing link.
    Pair,
    Pong {
        nonce: u64,
    },
    /// The sharer pressed a button of the indicator on the device, in a
    /// session bound to this device. Pause and Resume are the sharer's own
    /// (as on the sharer page); Stop ends the session as the agent. The
    /// server answers only a refusal ([`AgentServerMessage::Error`]); the
    /// new state arrives on the session's signaling socket.
    Act {
        session: SessionId,
        action: SharerAction,
    },
}

impl AgentClientMessage {
    /// Parses a frame, refusing oversized or malformed ones.
    pub fn parse(frame: &str) -> Result<Self, crate::signal::FrameError> {
        if frame.len() > MAX_AGENT_FRAME_BYTES {
            return Err(crate::signal::FrameError::TooLarge { bytes: frame.len() });
        }
        serde_json::from_str(frame).map_err(|e| crate::signal::FrameError::Malformed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_round_trip_through_the_header() {
        let c = DeviceCredentials {
            device: DeviceId("dev-1".into()),
            at: UnixMillis(1_700_000_000_000),
            nonce: "abcDEF_-12".into(),
            signature: "c2ln".into(),
        };
        assert_eq!(DeviceCredentials::parse(&c.header_value()), Some(c));
    }

    #[test]
    fn malformed_headers_are_refused() {
        for bad in [
            "",
            "Bearer x",
            "TandemDevice ",
            "TandemDevice a.b.c.d",
            "TandemDevice a.1.c",
            "TandemDevice a.1.c.d.e",
            "TandemDevice a b.1.c.d",
            "TandemDevice a.1.c.d=",
        ] {
            assert_eq!(DeviceCredentials::parse(bad), None, "{bad:?}");
        }
        let long = format!("TandemDevice {}.1.c.d", "a".repeat(600));
        assert_eq!(DeviceCredentials::parse(&long), None);
    }

    #[test]
    fn the_signed_message_names_everything() {
        let m = device_auth_message(
            &DeviceId("d".into()),
            UnixMillis(5),
            "n",
            "GET",
            "/api/agent/connect",
        );
        assert_eq!(m, "tandem-device-auth-v1\nd\n5\nn\nGET /api/agent/connect");
    }

    #[test]
    fn client_frames_parse_within_limits() {
        assert_eq!(
            AgentClientMessage::parse(r#"{"type":"pair"}"#).ok(),
            Some(AgentClientMessage::Pair)
        );
        assert!(AgentClientMessage::parse(r#"{"type":"nope"}"#).is_err());
        let big = format!(r#"{{"type":"pair","x":"{}"}}"#, "a".repeat(20_000));
        assert!(AgentClientMessage::parse(&big).is_err());
        assert_eq!(
            AgentClientMessage::parse(r#"{"type":"act","session":"s1","action":"pause"}"#).ok(),
            Some(AgentClientMessage::Act {
                session: SessionId::from("s1"),
                action: SharerAction::Pause
            })
        );
        assert!(
            AgentClientMessage::parse(r#"{"type":"act","session":"s1","action":"allow"}"#).is_err(),
            "an agent cannot consent for the sharer"
        );
    }

    #[test]
    fn agent_frames_over_the_limit_are_refused() {
        let frame =
            |pad: usize| format!(r#"{{"type":"pong","nonce":1,"p":"{}"}}"#, "x".repeat(pad));
        let over = frame(MAX_AGENT_FRAME_BYTES);
        assert!(matches!(
            AgentClientMessage::parse(&over),
            Err(crate::signal::FrameError::TooLarge { .. })
        ));
        // Under the limit, the same frame is judged on its content.
        assert!(matches!(
            AgentClientMessage::parse(&frame(10)),
            Err(crate::signal::FrameError::Malformed(_)) | Ok(_)
        ));
    }
}
