//! The agent's side of the router tests: a device key that signs
//! `TandemDevice` headers, and WebSockets against a real listener.
#![allow(dead_code)] // each test binary uses its own subset
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer, SigningKey};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tandem_protocol::agent::{DeviceCredentials, device_auth_message};
use tandem_protocol::{DeviceId, UnixMillis};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Agent {
    pub key: SigningKey,
    pub device: DeviceId,
}

impl Agent {
    pub fn header(&self, at: UnixMillis, nonce: &str, path: &str) -> String {
        let message = device_auth_message(&self.device, at, nonce, "GET", path);
        DeviceCredentials {
            device: self.device.clone(),
            at,
            nonce: nonce.into(),
            signature: URL_SAFE_NO_PAD.encode(self.key.sign(message.as_bytes()).to_bytes()),
        }
        .header_value()
    }
}

pub async fn open(
    addr: std::net::SocketAddr,
    path: &str,
    auth: Option<&str>,
    cookie: Option<&str>,
) -> Socket {
    let mut request = format!("ws://{addr}{path}").into_client_request().unwrap();
    if let Some(auth) = auth {
        request
            .headers_mut()
            .insert("authorization", auth.parse().unwrap());
    }
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

/// The next frame that is not a ping.
pub async fn next(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame in time")
            .unwrap()
            .unwrap();
        let value: Value = serde_json::from_str(frame.to_text().unwrap()).unwrap();
        if value["type"] != "ping" {
            return value;
        }
    }
}

/// The next frame of `kind`, skipping others.
pub async fn next_of(socket: &mut Socket, kind: &str) -> Value {
    loop {
        let value = next(socket).await;
        if value["type"] == kind {
            return value;
        }
    }
}

pub async fn send(socket: &mut Socket, value: Value) {
    socket
        .send(Message::Text(value.to_string().into()))
        .await
        .unwrap();
}
