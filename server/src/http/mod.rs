//! The router: the JSON API under `/api`, `/healthz`, and the console's
//! static files with a fallback to `index.html` for client routes.

mod admin;
mod agents;
mod console;
mod devices;
mod directory;
pub mod error;
mod extract;
mod guard;
mod openapi;
pub mod operations;
mod reports;
mod route;
mod sessions;
mod sign_in;
mod state;
mod table;
mod web_session;

use crate::store::WebSessionStore;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::routing::{any, get};
use axum::{Json, Router};
use std::path::Path;
use tandem_protocol::routes;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub use error::{ApiError, ApiResult};
pub use extract::CurrentUser;
pub use guard::warn_if_origin_trusts_host;
pub use route::Access;
pub use state::AppState;

/// Largest JSON body the API accepts.
pub const MAX_API_BODY_BYTES: usize = 64 * 1024;
/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "tandem_session";

/// `Json<T>` whose rejection is a problem+json 400, not axum's plain text.
#[derive(Debug, FromRequest)]
#[from_request(via(Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `Query<T>` whose rejection is a problem+json 400, not axum's plain text.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `Path<T>` whose rejection is a problem+json, not axum's plain text: a
/// segment that is not UTF-8 once percent-decoded (`/api/sessions/%FF`)
/// or does not parse is a 400.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// A UTF-8 text body (CSV imports) whose rejection is a problem+json: 400
/// when it is not UTF-8, 413 over the route's body limit.
#[derive(Debug)]
pub struct ApiText(pub String);

impl<S: Send + Sync> FromRequest<S> for ApiText {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match String::from_request(request, state).await {
            Ok(text) => Ok(ApiText(text)),
            Err(rejection) => Err(match rejection.status() {
                axum::http::StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
                _ => ApiError::BadRequest(rejection.body_text()),
            }),
        }
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::PathRejection) -> Self {
        if rejection.status().is_client_error() {
            ApiError::BadRequest(rejection.body_text())
        } else {
            ApiError::Internal(format!("path parameters: {}", rejection.body_text()))
        }
    }
}

/// Cookie and session settings of the router.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    pub secure: bool,
}

/// Builds the whole application; `metrics` says who may read `/metrics`.
pub fn router(
    state: AppState,
    dist_dir: &Path,
    cookies: CookiePolicy,
    metrics: operations::MetricsAccess,
) -> Router {
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

    let api = table::api_routes()
        .into_iter()
        .fold(Router::new(), |router, r| router.route(r.path, r.handler))
        .route("/api", any(api_not_found))
        .route("/api/", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        // After the routes: counted by the template that matched.
        .route_layer(axum::middleware::from_fn(operations::count_requests))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(one_configuration))
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
        .with_state(state.clone());

    let operations = Router::new()
        .route(routes::HEALTHZ, get(operations::healthz))
        .route(routes::READYZ, get(operations::readyz))
        .route(routes::METRICS, get(operations::metrics))
        .route_layer(axum::middleware::from_fn(operations::count_requests))
        .layer(axum::Extension(metrics))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(state);

    Router::new()
        .merge(operations)
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

/// The router of the metrics listener (`metrics_bind`): `/metrics` only,
/// open to whoever reaches that address.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route(routes::METRICS, get(operations::metrics))
        .layer(axum::Extension(operations::MetricsAccess::Open))
        .with_state(state)
}

/// The (method, path) of every API route, for tests.
pub fn api_route_list() -> Vec<(Method, &'static str)> {
    table::api_routes()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect()
}

/// Who the route table says may call each API route, for the
/// authorization matrix to check its expectations against.
pub fn api_route_access() -> Vec<(Method, &'static str, Access)> {
    table::api_routes()
        .into_iter()
        .map(|r| (r.method, r.path, r.access))
        .collect()
}

/// Each API request reads the configuration epoch once (again after its
/// own writes), instead of once per settings or RBAC lookup.
async fn one_configuration(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    crate::store::with_one_epoch(next.run(request)).await
}

/// A route marked `holds_connection` in the table: its statements share
/// one pooled connection, given back when the request ends. The body is
/// read first (within the route's body limit): the handler loads the web
/// session before it reads its body, and a client that sent its headers
/// and then sat on its body would otherwise hold a connection meanwhile.
async fn hold_a_connection(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::extract::FromRequest;
    use axum::response::IntoResponse;
    let (parts, body) = request.into_parts();
    let buffering = axum::extract::Request::from_parts(parts.clone(), body);
    let bytes = match axum::body::Bytes::from_request(buffering, &()).await {
        Ok(bytes) => bytes,
        Err(rejection) => return ApiError::from(rejection).into_response(),
    };
    let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
    crate::store::holding_a_connection(next.run(request)).await
}

async fn api_not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
