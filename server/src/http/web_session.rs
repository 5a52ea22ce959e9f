//! The signed-in state of a `tower-sessions` web session: what it holds,
//! how it is started under a fresh id, and how a request's session becomes
//! a [`Principal`] again (within the idle and absolute limits).

use super::{ApiError, ApiResult, AppState};
use crate::auth::{Principal, resume};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use tandem_protocol::{TenantId, UnixMillis, UserId};
use tower_sessions::Session;

const AUTH_KEY: &str = "auth";
/// Activity is written back to the session at most this often.
const TOUCH_EVERY_MILLIS: i64 = 60_000;

/// What a signed-in web session holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AuthRecord {
    user_id: UserId,
    tenant_id: TenantId,
    signed_in_at: UnixMillis,
    last_seen_at: UnixMillis,
}

async fn session_of(parts: &mut Parts, state: &AppState) -> ApiResult<Session> {
    Session::from_request_parts(parts, state)
        .await
        .map_err(|(_, message)| ApiError::Internal(format!("session layer missing: {message}")))
}

/// The principal of the request's web session, if it is signed in and
/// within the session policy.
pub(super) async fn session_principal(parts: &mut Parts, state: &AppState) -> ApiResult<Principal> {
    let session = session_of(parts, state).await?;
    let Some(mut auth) = session.get::<AuthRecord>(AUTH_KEY).await? else {
        return Err(ApiError::Unauthenticated);
    };
    let now = state.clock.now();
    if state
        .policy
        .expired(auth.signed_in_at, auth.last_seen_at, now)
    {
        session.flush().await?;
        return Err(ApiError::SessionExpired);
    }
    let Some(principal) = resume(&state.store, &auth.user_id, &auth.tenant_id).await? else {
        // The account was removed since sign-in.
        session.flush().await?;
        return Err(ApiError::Unauthenticated);
    };
    if now.millis_since(auth.last_seen_at) >= TOUCH_EVERY_MILLIS {
        auth.last_seen_at = now;
        session.insert(AUTH_KEY, &auth).await?;
    }
    Ok(principal)
}

/// Signs `principal` in on `session`, under a fresh session id: an id
/// planted before sign-in is worthless after it.
pub(super) async fn start_session(
    state: &AppState,
    session: &Session,
    principal: &Principal,
) -> ApiResult<()> {
    session.clear().await;
    session.cycle_id().await?;
    let now = state.clock.now();
    let user = principal.user();
    let record = AuthRecord {
        user_id: user.id.clone(),
        tenant_id: user.tenant_id.clone(),
        signed_in_at: now,
        last_seen_at: now,
    };
    session.insert(AUTH_KEY, &record).await?;
    Ok(())
}
