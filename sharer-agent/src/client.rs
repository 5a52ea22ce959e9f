//! Talking to the server: registration over HTTP and the device-
//! authenticated WebSockets.

use crate::identity::Identity;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tandem_protocol::agent::{RegisterRequest, Registration};
use tandem_protocol::routes::AGENT_REGISTER;
use tandem_protocol::{Problem, UnixMillis};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the server: {0}")]
    Unreachable(String),
    #[error("the server refused: {0}")]
    Refused(String),
    #[error("the device is not registered")]
    NotRegistered,
    #[error("{0}")]
    Untrusted(String),
}

/// The wall clock, for grants and device authentication.
pub fn now() -> UnixMillis {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    UnixMillis(i64::try_from(millis).unwrap_or(i64::MAX))
}

/// Registers the device key (idempotent: the same key gets the same device).
pub async fn register(
    server: &str,
    identity: &mut Identity,
    enrollment_token: Option<String>,
) -> Result<Registration, ClientError> {
    let (os, os_version) = crate::platform::os();
    let name = crate::platform::device_name();
    let request = RegisterRequest {
        public_key: identity.public_key(),
        name,
        os,
        os_version,
        agent_version: env!("CARGO_PKG_VERSION").into(),
        enrollment_token,
    };
    let response = crate::tls::http_client(server)?
        .post(format!("{server}{AGENT_REGISTER}"))
        .json(&request)
        .send()
        .await
        .map_err(|e| {
            crate::tls::untrusted(&e).unwrap_or_else(|| ClientError::Unreachable(e.to_string()))
        })?;
    if !response.status().is_success() {
        let status = response.status();
        let problem: Option<Problem> = response.json().await.ok();
        return Err(ClientError::Refused(
            problem
                .and_then(|p| p.detail)
                .unwrap_or_else(|| status.to_string()),
        ));
    }
    let registration: Registration = response
        .json()
        .await
        .map_err(|e| ClientError::Unreachable(e.to_string()))?;
    identity
        .save_device(registration.device.clone())
        .map_err(|e| ClientError::Refused(e.to_string()))?;
    Ok(registration)
}

/// Opens a device-authenticated WebSocket to `path` and returns it as a
/// sink of `Out` and a stream of `In` (undecodable frames are skipped and
/// logged).
pub async fn open<Out, In>(
    server: &str,
    path: &str,
    identity: &Identity,
) -> Result<
    (
        impl Sink<Out, Error = ClientError> + Unpin + Send + use<Out, In>,
        impl Stream<Item = In> + Unpin + Send + use<Out, In>,
    ),
    ClientError,
>
where
    Out: Serialize + Send + 'static,
    In: DeserializeOwned + Send + 'static,
{
    let ws = server
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    let mut request = format!("{ws}{path}")
        .into_client_request()
        .map_err(|e| ClientError::Unreachable(e.to_string()))?;
    let header = identity
        .auth_header(path, now())
        .ok_or(ClientError::NotRegistered)?;
    request.headers_mut().insert(
        "authorization",
        header
            .parse()
            .map_err(|_| ClientError::Unreachable("bad header".into()))?,
    );
    // Only wss:// needs the configuration (and, without --ca, the system's
    // roots); ws:// stays plain.
    let connector = if ws.starts_with("wss://") {
        Some(tokio_tungstenite::Connector::Rustls(
            crate::tls::client_config()?,
        ))
    } else {
        None
    };
    let (socket, _) =
        tokio_tungstenite::connect_async_tls_with_config(request, None, true, connector)
            .await
            .map_err(|e| match e {
                tokio_tungstenite::tungstenite::Error::Http(response) => {
                    ClientError::Refused(format!("HTTP {}", response.status()))
                }
                other => crate::tls::untrusted(&other)
                    .unwrap_or_else(|| ClientError::Unreachable(other.to_string())),
            })?;
    let (sink, stream) = socket.split();
    let sink = sink
        .sink_map_err(|e| ClientError::Unreachable(e.to_string()))
        .with(|message: Out| async move {
            let text =
                serde_json::to_string(&message).map_err(|e| ClientError::Refused(e.to_string()))?;
            Ok::<_, ClientError>(Message::Text(text.into()))
        });
    let stream = stream
        .take_while(|frame| {
            let open = matches!(frame, Ok(m) if !m.is_close());
            async move { open }
        })
        .filter_map(|frame| async move {
            let text = frame.ok()?.into_text().ok()?;
            serde_json::from_str(&text)
                .inspect_err(|e| tracing::debug!(%e, "undecodable frame skipped"))
                .ok()
        });
    Ok((Box::pin(sink), Box::pin(stream)))
}
