//! The router: the JSON API under `/api`, `/healthz`, and the console's
//! static files with a fallback to `index.html` for client routes.

mod admin;
mod console;
mod devices;
mod directory;
mod guard;

use crate::app::AppState;
use crate::auth;
use crate::error::ApiError;
use crate::store::WebSessionStore;
use axum::extract::{DefaultBodyLimit, FromRequest};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::routing::{MethodRouter, any, delete, get, post, put};
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

    let api = api_routes()
        .into_iter()
        .fold(Router::new(), |router, (_, path, handler)| {
            router.route(path, handler)
        })
        .route("/api", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_API_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::csrf,
        ))
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

/// Every API route (and the OIDC browser endpoints, which share the web
/// session): method, path, handler. The router is built from this
/// list, and the authorization matrix test fails for a route without a row.
fn api_routes() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    use routes::*;
    vec![
        (Method::POST, AUTH_LOGIN, post(auth::login)),
        (Method::POST, AUTH_LOGOUT, post(auth::logout)),
        (Method::GET, AUTH_ME, get(auth::me)),
        (Method::GET, AUTH_PROVIDERS, get(auth::oidc::providers)),
        (Method::GET, OIDC_START, get(auth::oidc::start)),
        (Method::GET, OIDC_CALLBACK, get(auth::oidc::callback)),
        (Method::GET, DEVICES, get(devices::list)),
        (Method::GET, DEVICE, get(devices::get)),
        (Method::GET, ADMIN_SETTINGS, get(admin::get_settings)),
        (Method::PUT, ADMIN_SETTINGS, put(admin::put_settings)),
        (Method::GET, ADMIN_ROLES, get(admin::list_roles)),
        (Method::POST, ADMIN_ROLES, post(admin::create_role)),
        (Method::PUT, ADMIN_ROLE, put(admin::update_role)),
        (Method::DELETE, ADMIN_ROLE, delete(admin::delete_role)),
        (Method::GET, ADMIN_ASSIGNMENTS, get(admin::list_assignments)),
        (
            Method::POST,
            ADMIN_ASSIGNMENTS,
            post(admin::create_assignment),
        ),
        (Method::PUT, ADMIN_ASSIGNMENT, put(admin::update_assignment)),
        (
            Method::DELETE,
            ADMIN_ASSIGNMENT,
            delete(admin::delete_assignment),
        ),
        (Method::GET, ADMIN_GROUPS, get(admin::list_groups)),
        (Method::GET, ADMIN_ACCESS_REVIEW, get(admin::access_review)),
        (Method::GET, ADMIN_AUDIT, get(admin::audit)),
        (Method::GET, ADMIN_USERS, get(directory::users)),
        (Method::GET, ADMIN_GROUP_LIST, get(directory::groups)),
        (Method::GET, ADMIN_DEVICES, get(directory::devices)),
        (
            Method::POST,
            ADMIN_IMPORT,
            post(directory::import).layer(DefaultBodyLimit::max(directory::MAX_IMPORT_BYTES)),
        ),
    ]
}

/// Where to send a user after sign-in (`next` only if local).
pub fn safe_next(next: Option<&str>) -> String {
    routes::after_sign_in(next)
}

/// The (method, path) of every API route, for tests.
pub fn api_route_list() -> Vec<(Method, &'static str)> {
    api_routes()
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect()
}

async fn api_not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
