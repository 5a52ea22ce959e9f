//! Agent endpoints: registration, the device-authenticated control and
//! signaling WebSockets, pairing a sharer's browser, sessions started from
//! the device page, and enrollment tokens.

use super::ApiJson;
use super::ApiPath;
use super::CurrentUser;
use crate::auth::throttle::ClientAddress;
use crate::auth::{Authorized, ManageDevices, TenantScope};
use crate::http::AppState;
use crate::http::{ApiError, ApiResult};
use crate::metrics::SocketKind;
use crate::sessions::signaling::{Caller, Heartbeat, serve_connection};
use crate::sessions::{SessionError, serve_agent};
use crate::store::DeviceKeyRecord;
use axum::Json;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use serde::Serialize;
use tandem_protocol::DeviceId;
use tandem_protocol::agent::{
    EnrollmentToken, EnrollmentTokenRow, MAX_AGENT_FRAME_BYTES, NewEnrollmentToken, PairRequest,
    Paired, RegisterRequest, Registration,
};
use tandem_protocol::routes::{AGENT_CONNECT, AGENT_SIGNAL};
use tandem_protocol::session::IssuedCode;
use tandem_protocol::signal::{FrameError, MAX_MESSAGE_BYTES};

/// `POST /api/agent/register`.
pub async fn register(
    State(state): State<AppState>,
    address: ClientAddress,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<Registration>)> {
    let registration = state
        .sessions
        .devices()
        .register(&request, &address)
        .await?;
    Ok((StatusCode::CREATED, Json(registration)))
}

async fn device(state: &AppState, headers: &HeaderMap, path: &str) -> ApiResult<DeviceKeyRecord> {
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    state
        .sessions
        .devices()
        .authenticate(header, "GET", path)
        .await
        .inspect_err(|error| tracing::info!(%error, "device authentication refused"))
        .map_err(ApiError::from)
}

fn upgrade_or_400(
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<WebSocketUpgrade> {
    upgrade.map_err(|rejection| {
        ApiError::BadRequest(format!("expected a WebSocket upgrade: {rejection}"))
    })
}

/// Every WebSocket of the server carries small, rare JSON messages up to
/// `max_bytes`. It reads in 4 KiB steps and writes each message at once:
/// tungstenite's defaults (128 KiB read and write buffers) made an idle
/// socket cost about 140 KiB of server memory (`cargo xtask bench`).
pub(super) fn small_messages(upgrade: WebSocketUpgrade, max_bytes: usize) -> WebSocketUpgrade {
    upgrade
        .max_message_size(max_bytes)
        .max_frame_size(max_bytes)
        .read_buffer_size(READ_STEP_BYTES)
        .write_buffer_size(0)
}

/// What a WebSocket reads from its TCP stream at a time.
const READ_STEP_BYTES: usize = 4 * 1024;

/// Adapts a socket to a `Sink` of JSON messages and a `Stream` of text
/// frames (binary frames are refused, a close ends the stream).
pub(super) fn json_socket<T: Serialize + Send + 'static>(
    socket: WebSocket,
) -> (
    impl Sink<T> + Unpin,
    impl Stream<Item = Result<String, FrameError>> + Unpin,
) {
    let (sink, stream) = socket.split();
    let sink = sink.with(|message: T| async move {
        let text = serde_json::to_string(&message).map_err(axum::Error::new)?;
        Ok::<_, axum::Error>(Message::Text(text.into()))
    });
    let stream = stream
        .take_while(|frame| {
            let open = matches!(frame, Ok(m) if !matches!(m, Message::Close(_)));
            async move { open }
        })
        .filter_map(|frame| async move {
            match frame {
                Ok(Message::Text(text)) => Some(Ok(text.to_string())),
                Ok(Message::Binary(_)) => Some(Err(FrameError::Malformed(
                    "binary frames are not accepted".into(),
                ))),
                _ => None,
            }
        });
    (Box::pin(sink), Box::pin(stream))
}

/// `GET /api/agent/connect`: the agent's control WebSocket.
pub async fn connect(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let key = device(&state, &headers, AGENT_CONNECT).await?;
    let upgrade = upgrade_or_400(upgrade)?;
    let hold = state.sessions.hold_socket(SocketKind::Agent)?;
    let sessions = state.sessions.clone();
    Ok(
        small_messages(upgrade, MAX_AGENT_FRAME_BYTES).on_upgrade(move |socket| async move {
            let _hold = hold;
            let (sink, stream) = json_socket(socket);
            serve_agent(sessions, key, sink, stream, Heartbeat::default()).await;
        }),
    )
}

/// `GET /api/agent/signal`: signaling for sessions bound to this device.
pub async fn signal(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let key = device(&state, &headers, AGENT_SIGNAL).await?;
    let Some(tenant) = key.tenant_id.clone() else {
        // Not paired yet: no session can be bound to it.
        return Err(SessionError::NotFound.into());
    };
    let upgrade = upgrade_or_400(upgrade)?;
    let hold = state.sessions.hold_socket(SocketKind::Signaling)?;
    let sessions = state.sessions.clone();
    Ok(
        small_messages(upgrade, MAX_MESSAGE_BYTES).on_upgrade(move |socket| async move {
            let _hold = hold;
            let (sink, stream) = json_socket(socket);
            let scope = TenantScope::of_record(&tenant);
            serve_connection(
                sessions,
                Caller::Agent(key),
                scope,
                sink,
                stream,
                Heartbeat::default(),
            )
            .await;
        }),
    )
}

/// `POST /api/agent/pair`: the sharer page redeems a pairing link, once
/// the sharer confirmed the device.
pub async fn pair(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiJson(request): ApiJson<PairRequest>,
) -> ApiResult<Json<Paired>> {
    Ok(Json(
        state
            .sessions
            .pair(current.user(), &request.nonce, request.confirm)
            .await?,
    ))
}

/// `POST /api/agent/pair/preview`: what the link would pair with.
pub async fn pair_preview(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiJson(request): ApiJson<PairRequest>,
) -> ApiResult<Json<tandem_protocol::agent::PairingPreview>> {
    Ok(Json(
        state
            .sessions
            .pairing_preview(current.user(), &request.nonce)
            .await?,
    ))
}

/// `POST /api/devices/{id}/sessions`: help the device's signed-in user.
pub async fn start_for_device(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<DeviceId>,
) -> ApiResult<(StatusCode, Json<IssuedCode>)> {
    let issued = state
        .sessions
        .start_for_device(current.user(), &current.tenant_scope(), &id)
        .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// `POST /api/admin/enrollment-tokens`.
pub async fn new_enrollment_token(
    State(state): State<AppState>,
    auth: Authorized<ManageDevices>,
    ApiJson(request): ApiJson<NewEnrollmentToken>,
) -> ApiResult<(StatusCode, Json<EnrollmentToken>)> {
    let now = state.clock.now();
    let token = crate::enrollment::new_token(&state.store, &auth, &request, now).await?;
    Ok((StatusCode::CREATED, Json(token)))
}

/// `GET /api/admin/enrollment-tokens`.
pub async fn enrollment_tokens(
    State(state): State<AppState>,
    auth: Authorized<ManageDevices>,
) -> ApiResult<Json<Vec<EnrollmentTokenRow>>> {
    Ok(Json(state.store.enrollment_tokens(&auth).await?))
}
