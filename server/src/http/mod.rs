//! The router: the JSON API under `/api`, `/healthz`, and the console's
//! static files with a fallback to `index.html` for client routes.

mod console;
mod devices;

use crate::app::AppState;
use crate::auth;
use crate::error::ApiError;
use crate::store::WebSessionStore;
use axum::extract::{DefaultBodyLimit, FromRequest};
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use std::path::Path;
use tandem_protocol::routes;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// Largest JSON body the API accepts.
pub const MAX_API_BODY_BYTES: usize = 64 * 1024;
/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "tandem_session";

/// `Json<T>` whose rejection is a problem+json 400, not axum's plain text.
#[derive(Debug, FromRequest)]
#[from_request(via(Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// Cookie and session settings of the router.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    pub secure: bool,
}

/// Builds the whole application.
pub fn router(state: AppState, dist_dir: &Path, cookies: CookiePolicy) -> Router {
    let sessions = SessionManagerLayer::new(WebSessionStore::new(
        state.store.clone(),
        state.clock.clone(),
    ))
    .with_name(SESSION_COOKIE)
    .with_http_only(true)
    .with_same_site(SameSite::Lax)
    .with_secure(cookies.secure)
    .with_path("/")
    .with_expiry(Expiry::OnInactivity(time::Duration::milliseconds(
        state.policy.idle_millis,
    )));

    let api = Router::new()
        .route(routes::AUTH_LOGIN, post(auth::login))
        .route(routes::AUTH_LOGOUT, post(auth::logout))
        .route(routes::AUTH_ME, get(auth::me))
        .route(routes::DEVICES, get(devices::list))
        .route("/api", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_API_BODY_BYTES))
        .layer(sessions)
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(state);

    Router::new()
        .route(routes::HEALTHZ, get(|| async { "ok" }))
        .merge(api)
        .fallback_service(console::service(dist_dir))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
        .layer(TraceLayer::new_for_http())
}

async fn api_not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
