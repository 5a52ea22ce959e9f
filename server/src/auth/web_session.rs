//! Built-in sign-in over a `tower-sessions` web session: login (with id
//! rotation), logout, idle and absolute timeouts judged by the clock.

use super::throttle::ClientAddress;
use super::{PasswordError, TenantScope};
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::http::ApiJson;
use crate::store::UserRecord;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use tandem_protocol::auth::{LoginRequest, Me, TenantInfo};
use tandem_protocol::{TenantId, UnixMillis, UserId};
use tower_sessions::Session;

const AUTH_KEY: &str = "auth";
/// Activity is written back to the session at most this often.
const TOUCH_EVERY_MILLIS: i64 = 60_000;

/// How long web sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle_millis: i64,
    pub absolute_millis: i64,
}

impl SessionPolicy {
    pub fn from_minutes(idle: u32, absolute: u32) -> Self {
        Self {
            idle_millis: i64::from(idle) * 60_000,
            absolute_millis: i64::from(absolute) * 60_000,
        }
    }

    fn expired(&self, auth: &AuthRecord, now: UnixMillis) -> bool {
        now.millis_since(auth.last_seen_at) > self.idle_millis
            || now.millis_since(auth.signed_in_at) > self.absolute_millis
    }
}

/// What a signed-in web session holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AuthRecord {
    user_id: UserId,
    tenant_id: TenantId,
    signed_in_at: UnixMillis,
    last_seen_at: UnixMillis,
}

/// An authenticated caller. Extracting it rejects anonymous and expired
/// sessions with 401.
#[derive(Debug)]
pub struct CurrentUser {
    pub user: UserRecord,
}

impl CurrentUser {
    /// The key to the caller's own tenant.
    pub fn tenant_scope(&self) -> TenantScope {
        TenantScope {
            tenant_id: self.user.tenant_id.clone(),
        }
    }
}

async fn session_of(parts: &mut Parts, state: &AppState) -> ApiResult<Session> {
    Session::from_request_parts(parts, state)
        .await
        .map_err(|(_, message)| ApiError::Internal(format!("session layer missing: {message}")))
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let session = session_of(parts, state).await?;
        let Some(mut auth) = session.get::<AuthRecord>(AUTH_KEY).await? else {
            return Err(ApiError::Unauthenticated);
        };
        let now = state.clock.now();
        if state.policy.expired(&auth, now) {
            session.flush().await?;
            return Err(ApiError::SessionExpired);
        }
        let Some(user) = state
            .store
            .user_for_session(&auth.user_id, &auth.tenant_id)
            .await?
        else {
            // The account was removed since sign-in.
            session.flush().await?;
            return Err(ApiError::Unauthenticated);
        };
        if now.millis_since(auth.last_seen_at) >= TOUCH_EVERY_MILLIS {
            auth.last_seen_at = now;
            session.insert(AUTH_KEY, &auth).await?;
        }
        Ok(CurrentUser { user })
    }
}

/// Signs `user` in on `session`, under a fresh session id: an id planted
/// before sign-in is worthless after it.
pub(super) async fn start_session(
    state: &AppState,
    session: &Session,
    user: &UserRecord,
) -> ApiResult<()> {
    session.clear().await;
    session.cycle_id().await?;
    let now = state.clock.now();
    let record = AuthRecord {
        user_id: user.id.clone(),
        tenant_id: user.tenant_id.clone(),
        signed_in_at: now,
        last_seen_at: now,
    };
    session.insert(AUTH_KEY, &record).await?;
    Ok(())
}

async fn me_of(state: &AppState, user: &UserRecord) -> ApiResult<Me> {
    let scope = TenantScope {
        tenant_id: user.tenant_id.clone(),
    };
    let policy = state.store.policy(&scope).await?;
    let membership = state.store.user_membership(&scope, &user.id).await?;
    Ok(Me {
        user: user.card.clone(),
        tenant: TenantInfo {
            id: user.tenant_id.clone(),
            name: state.store.tenant_name(&scope).await?,
        },
        admin_permissions: policy.tenant_permissions(&membership),
        help_permissions: policy.held_anywhere(&membership),
    })
}

/// `POST /api/auth/login`: checks the password and starts a fresh session.
pub async fn login(
    State(state): State<AppState>,
    address: ClientAddress,
    session: Session,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult<Json<Me>> {
    request
        .validate()
        .map_err(|message| ApiError::BadRequest(message.to_owned()))?;
    let user = state
        .store
        .user_by_email_for_sign_in(&request.email)
        .await?;
    // The overall limit is per tenant (and one for unknown accounts): a
    // flood in one never locks another out, and a full bucket still lets
    // right passwords in.
    let bucket = user.as_ref().map_or_else(
        || "unknown".to_owned(),
        |u| format!("tenant:{}", u.tenant_id),
    );
    let admission = state
        .throttle
        .attempt_in(&request.email, &address, &bucket)
        .map_err(ApiError::TooManyRequests)?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = state
        .hasher
        .verify(request.password, stored)
        .await
        .map_err(|e| match e {
            PasswordError::Busy => {
                // Not a wrong guess: the server was too busy to check it,
                // so it does not count against the account.
                state.throttle.succeeded(&request.email);
                ApiError::Busy(state.hasher.limits().wait.as_secs().max(1))
            }
            e => ApiError::Internal(e.to_string()),
        })?;
    let known = user.is_some();
    let Some(user) = user.filter(|_| ok) else {
        // A full tenant bucket refuses wrong passwords at once. Unknown
        // e-mails are never right, so their bucket refuses nothing more: a
        // 429 there would tell a prober which e-mails have no account.
        if let (true, Some(wait)) = (known, admission.wrong_answer()) {
            return Err(ApiError::TooManyRequests(wait));
        }
        tracing::info!(email = %tandem_protocol::text::printable(request.email.trim()), address = %address.0, "sign-in refused");
        return Err(ApiError::BadCredentials);
    };
    state.throttle.succeeded(&request.email);
    start_session(&state, &session, &user).await?;
    tracing::info!(user = %user.id, tenant = %user.tenant_id, "signed in");
    Ok(Json(me_of(&state, &user).await?))
}

/// `POST /api/auth/logout`: ends the session. Idempotent.
pub async fn logout(session: Session) -> ApiResult<StatusCode> {
    session.flush().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/auth/me`: who is signed in.
pub async fn me(State(state): State<AppState>, current: CurrentUser) -> ApiResult<Json<Me>> {
    Ok(Json(me_of(&state, &current.user).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(signed_in: i64, last_seen: i64) -> AuthRecord {
        AuthRecord {
            user_id: UserId::from("u"),
            tenant_id: TenantId::from("t"),
            signed_in_at: UnixMillis(signed_in),
            last_seen_at: UnixMillis(last_seen),
        }
    }

    #[test]
    fn idle_and_absolute_limits_each_expire_a_session() {
        let policy = SessionPolicy::from_minutes(30, 600);
        let minute = 60_000;
        assert!(!policy.expired(&record(0, 0), UnixMillis(30 * minute)));
        assert!(policy.expired(&record(0, 0), UnixMillis(30 * minute + 1)));
        // Active all along, but past the absolute limit.
        let busy = record(0, 600 * minute);
        assert!(!policy.expired(&busy, UnixMillis(600 * minute)));
        assert!(policy.expired(&busy, UnixMillis(600 * minute + 1)));
    }
}
