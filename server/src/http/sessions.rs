//! Session endpoints: "Assist someone", code redemption, the participants'
//! actions, the grant key, and the signaling WebSocket.

use super::ApiJson;
use super::ApiPath;
use super::CurrentUser;
use super::guard::headers_cross_site;
use crate::auth::throttle::ClientAddress;
use crate::http::AppState;
use crate::http::{ApiError, ApiResult};
use crate::sessions::signaling::{Caller, Heartbeat, serve_connection};
use crate::sessions::{Action, Sessions};
use axum::Json;
use axum::extract::State;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tandem_protocol::SessionId;
use tandem_protocol::grant::GrantKey;
use tandem_protocol::session::{
    ConsentAnswer, IssuedCode, ModeRequest, RedeemRequest, SessionView,
};
use tandem_protocol::signal::MAX_MESSAGE_BYTES;

/// `POST /api/sessions`: "Assist someone".
pub async fn issue(
    State(state): State<AppState>,
    current: CurrentUser,
) -> ApiResult<(StatusCode, Json<IssuedCode>)> {
    let issued = state
        .sessions
        .issue(current.user(), &current.tenant_scope())
        .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// `GET /api/sessions/as-sharer`: the caller's last sessions as the sharer.
pub async fn as_sharer(
    State(state): State<AppState>,
    current: CurrentUser,
) -> ApiResult<Json<Vec<tandem_protocol::reports::SharerSession>>> {
    Ok(Json(
        state
            .store
            .sessions_as_sharer(
                &current.tenant_scope(),
                &current.user().id,
                state.clock.now(),
                20,
            )
            .await?,
    ))
}

/// `POST /api/sessions/redeem`: the sharer enters the code.
pub async fn redeem(
    State(state): State<AppState>,
    current: CurrentUser,
    address: ClientAddress,
    ApiJson(request): ApiJson<RedeemRequest>,
) -> ApiResult<Json<SessionView>> {
    if request.code.len() > 64 {
        return Err(crate::sessions::SessionError::WrongCode.into());
    }
    let view = state
        .sessions
        .redeem(
            current.user(),
            &request.code,
            request.device.as_ref(),
            &address,
        )
        .await
        .inspect_err(|error| {
            tracing::info!(user = %current.user().id, address = %address.0, %error, "code refused");
        })?;
    Ok(Json(view))
}

/// `GET /api/sessions/{id}`.
pub async fn get(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<SessionId>,
) -> ApiResult<Json<SessionView>> {
    let view = state
        .sessions
        .view(current.user(), &current.tenant_scope(), &id)
        .await?;
    Ok(Json(view))
}

async fn act(
    state: &AppState,
    current: &CurrentUser,
    id: SessionId,
    action: Action,
) -> ApiResult<Json<SessionView>> {
    let view = state
        .sessions
        .act(current.user(), &current.tenant_scope(), &id, action)
        .await?;
    Ok(Json(view))
}

/// `POST /api/sessions/{id}/request`: Screen sharing or Request full control.
pub async fn request(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<SessionId>,
    ApiJson(body): ApiJson<ModeRequest>,
) -> ApiResult<Json<SessionView>> {
    act(&state, &current, id, Action::Request(body.mode)).await
}

/// `POST /api/sessions/{id}/consent`: Allow or Decline.
pub async fn consent(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<SessionId>,
    ApiJson(body): ApiJson<ConsentAnswer>,
) -> ApiResult<Json<SessionView>> {
    act(&state, &current, id, Action::Consent { allow: body.allow }).await
}

macro_rules! plain_action {
    ($name:ident, $action:expr, $doc:literal) => {
        #[doc = $doc]
        pub async fn $name(
            State(state): State<AppState>,
            current: CurrentUser,
            ApiPath(id): ApiPath<SessionId>,
        ) -> ApiResult<Json<SessionView>> {
            act(&state, &current, id, $action).await
        }
    };
}

plain_action!(revoke, Action::Revoke, "`POST /api/sessions/{id}/revoke`.");
plain_action!(pause, Action::Pause, "`POST /api/sessions/{id}/pause`.");
plain_action!(resume, Action::Resume, "`POST /api/sessions/{id}/resume`.");
plain_action!(leave, Action::Leave, "`POST /api/sessions/{id}/leave`.");

/// `GET /api/sessions/grant-key`: the public key grants are signed with.
pub async fn grant_key(State(state): State<AppState>) -> Json<GrantKey> {
    Json(state.sessions.keys().public())
}

/// `GET /api/signal`: the signaling WebSocket. Browsers authenticate with
/// the session cookie; a foreign `Origin` is refused before the upgrade.
pub async fn signal(
    State(state): State<AppState>,
    current: CurrentUser,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    if headers_cross_site(&headers, state.public_origin.as_deref()) {
        tracing::warn!(origin = ?headers.get("origin"), "cross-site WebSocket refused");
        return Err(ApiError::CrossSite);
    }
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::BadRequest(format!("expected a WebSocket upgrade: {rejection}"))
    })?;
    let hold = state
        .sessions
        .hold_socket(crate::metrics::SocketKind::Signaling)?;
    let sessions = state.sessions.clone();
    Ok(super::agents::small_messages(upgrade, MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| run_socket(sessions, current, socket, hold)))
}

async fn run_socket(
    sessions: Sessions,
    current: CurrentUser,
    socket: WebSocket,
    _hold: crate::sessions::SocketHold,
) {
    let (sink, stream) = super::agents::json_socket(socket);
    let scope = current.tenant_scope();
    serve_connection(
        sessions,
        Caller::User(current.user().clone()),
        scope,
        sink,
        stream,
        Heartbeat::default(),
    )
    .await;
}
