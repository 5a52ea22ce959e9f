//! The sign-in handlers: the built-in password login, logout, `me`, and
//! the OIDC start and callback. The checks themselves are `auth`'s; the
//! session they start is `web_session`'s.
//!
//! OIDC failures never show a problem document in the middle of a browser
//! navigation: they redirect to `/signin?error=CODE`, which the console
//! explains.

use super::web_session::start_session;
use super::{ApiError, ApiJson, ApiPath, ApiResult, AppState, CurrentUser};
use crate::auth::oidc::{CallbackQuery, Failure, Pending};
use crate::auth::throttle::ClientAddress;
use crate::auth::{Principal, sign_in_with_password};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use serde::Deserialize;
use tandem_protocol::auth::{LoginRequest, Me, OidcError, ProviderInfo, TenantInfo};
use tandem_protocol::routes;
use tower_sessions::Session;

const PENDING_KEY: &str = "oidc_pending";

async fn me_of(state: &AppState, principal: &Principal) -> ApiResult<Me> {
    let scope = principal.tenant_scope();
    let user = principal.user();
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
    let principal = sign_in_with_password(
        &state.store,
        &state.throttle,
        &state.hasher,
        &address,
        &request.email,
        request.password,
    )
    .await?;
    start_session(&state, &session, &principal).await?;
    let user = principal.user();
    tracing::info!(user = %user.id, tenant = %user.tenant_id, "signed in");
    Ok(Json(me_of(&state, &principal).await?))
}

/// `POST /api/auth/logout`: ends the session. Idempotent.
pub async fn logout(session: Session) -> ApiResult<StatusCode> {
    session.flush().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/auth/me`: who is signed in.
pub async fn me(State(state): State<AppState>, current: CurrentUser) -> ApiResult<Json<Me>> {
    Ok(Json(me_of(&state, &current).await?))
}

/// `GET /api/auth/providers`: the sign-in buttons.
pub async fn oidc_providers(State(state): State<AppState>) -> Json<Vec<ProviderInfo>> {
    Json(state.oidc.list())
}

fn to_signin(error: OidcError) -> Redirect {
    Redirect::to(&format!("/signin?error={}", error.as_str()))
}

#[derive(Debug, Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

/// `GET /auth/oidc/{provider}/start?next=`: off to the IdP.
pub async fn oidc_start(
    State(state): State<AppState>,
    session: Session,
    ApiPath(provider_id): ApiPath<String>,
    Query(query): Query<StartQuery>,
) -> Redirect {
    let now = state.clock.now();
    let (url, pending) = match state.oidc.begin(&provider_id, query.next, now).await {
        Ok(started) => started,
        Err(error) => return to_signin(error),
    };
    if let Err(error) = session.insert(PENDING_KEY, &pending).await {
        tracing::error!(%error, "cannot keep the OIDC state");
        return to_signin(OidcError::Failed);
    }
    Redirect::to(&url)
}

/// `GET /auth/oidc/callback`: back from the IdP.
pub async fn oidc_callback(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<CallbackQuery>,
) -> Redirect {
    // The pending state is single-use: a replayed callback finds none.
    let pending = match session.remove::<Pending>(PENDING_KEY).await {
        Ok(Some(pending)) => pending,
        Ok(None) => return to_signin(OidcError::State),
        Err(error) => {
            tracing::error!(%error, "cannot read the OIDC state");
            return to_signin(OidcError::Failed);
        }
    };
    let now = state.clock.now();
    let signed_in =
        match crate::auth::oidc::complete(&state.oidc, &state.store, now, &pending, &query).await {
            Ok(principal) => start_session(&state, &session, &principal)
                .await
                .map_err(|e| Failure::Internal {
                    context: "session",
                    detail: e.to_string(),
                }),
            Err(failure) => Err(failure),
        };
    match signed_in {
        Ok(()) => Redirect::to(&routes::after_sign_in(pending.next())),
        Err(Failure::Refused(reason)) => {
            tracing::info!(provider = %pending.provider(), ?reason, "OIDC sign-in refused");
            to_signin(reason)
        }
        Err(error) => {
            tracing::error!(provider = %pending.provider(), %error, "OIDC sign-in failed");
            to_signin(OidcError::Failed)
        }
    }
}
