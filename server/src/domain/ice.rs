//! ICE servers for both browsers: static STUN/TURN entries from the config,
//! plus, when configured, a TURN server with ephemeral credentials in the
//! TURN REST style (`username = expiry:user`, `credential =
//! base64(HMAC-SHA1(secret, username))`), which coturn accepts with
//! `use-auth-secret` and the same `static-auth-secret`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use tandem_protocol::signal::IceServer;
use tandem_protocol::{DeviceId, SessionId, UnixMillis, UserId};

/// One `[[ice_servers]]` entry.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticIceServer {
    pub urls: Vec<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub credential: Option<String>,
}

impl std::fmt::Debug for StaticIceServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticIceServer")
            .field("urls", &self.urls)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// `[turn_rest]`: a shared secret with the TURN server.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TurnRest {
    pub urls: Vec<String>,
    pub secret: String,
    /// How long handed-out credentials stay valid.
    #[serde(default = "default_ttl")]
    pub ttl_seconds: u32,
}

fn default_ttl() -> u32 {
    3600
}

impl std::fmt::Debug for TurnRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnRest")
            .field("urls", &self.urls)
            .field("secret", &"<redacted>")
            .field("ttl_seconds", &self.ttl_seconds)
            .finish()
    }
}

/// Where a participant's ICE servers come from.
#[derive(Debug, Clone, Default)]
pub struct IceConfig {
    pub servers: Vec<StaticIceServer>,
    pub turn_rest: Option<TurnRest>,
}

/// Whom TURN credentials are made for: the name in the credential's
/// username, which the TURN server logs.
#[derive(Debug, Clone, Copy)]
pub enum TurnUser<'a> {
    /// A signed-in person: their user id.
    Person(&'a UserId),
    /// A device's agent: `device:` and its device id.
    Device(&'a DeviceId),
}

impl std::fmt::Display for TurnUser<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TurnUser::Person(user) => write!(f, "{user}"),
            TurnUser::Device(device) => write!(f, "device:{device}"),
        }
    }
}

impl IceConfig {
    /// Whether a TURN server every end can use is configured (so "relay
    /// only" can work): a `turn:` URL; the agent cannot use `turns:`.
    pub fn has_turn(&self) -> bool {
        let turn = |url: &String| url.starts_with("turn:");
        self.turn_rest
            .as_ref()
            .is_some_and(|t| t.urls.iter().any(turn))
            || self.servers.iter().any(|s| s.urls.iter().any(turn))
    }

    /// The ICE servers for `who` in `session` at `now`: TURN credentials
    /// name both (`expiry:session:who`), so coturn's log ties every
    /// allocation to a session, and they lapse `ttl_seconds` after the join.
    pub fn servers_for(
        &self,
        who: TurnUser<'_>,
        session: &SessionId,
        now: UnixMillis,
    ) -> Vec<IceServer> {
        let mut servers: Vec<IceServer> = self
            .servers
            .iter()
            .map(|s| IceServer {
                urls: s.urls.clone(),
                username: s.username.clone(),
                credential: s.credential.clone(),
            })
            .collect();
        if let Some(turn) = &self.turn_rest {
            let expiry = now.0 / 1000 + i64::from(turn.ttl_seconds);
            let username = format!("{expiry}:{session}:{who}");
            if let Ok(mut mac) = <Hmac<Sha1> as Mac>::new_from_slice(turn.secret.as_bytes()) {
                mac.update(username.as_bytes());
                servers.push(IceServer {
                    urls: turn.urls.clone(),
                    username: Some(username),
                    credential: Some(STANDARD.encode(mac.finalize().into_bytes())),
                });
            }
        }
        servers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_rest_credentials_follow_the_convention() {
        let config = IceConfig {
            servers: vec![StaticIceServer {
                urls: vec!["stun:stun.contoso.test:3478".into()],
                username: None,
                credential: None,
            }],
            turn_rest: Some(TurnRest {
                urls: vec!["turn:turn.contoso.test:3478?transport=udp".into()],
                secret: "north".into(),
                ttl_seconds: 600,
            }),
        };
        let session = SessionId::from("s1");
        let servers = config.servers_for(
            TurnUser::Person(&UserId::from("u1")),
            &session,
            UnixMillis(1_000_000),
        );
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].username, None);
        let turn = &servers[1];
        assert_eq!(turn.username.as_deref(), Some("1600:s1:u1"));
        // base64(HMAC-SHA1("north", "1600:s1:u1")), computed independently
        // with Python's hmac module.
        assert_eq!(
            turn.credential.as_deref(),
            Some("Itj3YH+x/llaUdG+eYkJVTJ1A+I=")
        );
        // A device's agent is named as a device, never as a person.
        let device = DeviceId::from("d1");
        let servers =
            config.servers_for(TurnUser::Device(&device), &session, UnixMillis(1_000_000));
        assert_eq!(servers[1].username.as_deref(), Some("1600:s1:device:d1"));
        assert_eq!(
            servers[1].credential.as_deref(),
            Some("3t/jAgMjGDUeIkHiX98n3OblgYc=")
        );
    }
}
