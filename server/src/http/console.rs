//! Serving the Trunk-built console. Client routes (`/devices`, ...) fall back
//! to `index.html` so that deep links and reloads work.

use crate::error::ApiError;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, any};
use std::path::Path;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeader;

/// The service for everything that is not the API.
pub fn service(dist_dir: &Path) -> MethodRouter {
    let index = dist_dir.join("index.html");
    if !index.is_file() {
        tracing::warn!(
            dist = %dist_dir.display(),
            "console not found; run `cargo xtask run` to build it"
        );
        return any(|| async { ApiError::ConsoleMissing.into_response() });
    }
    // Always revalidate: Trunk's asset names carry content hashes, and
    // index.html must never be stale after an upgrade.
    let files = ServeDir::new(dist_dir).fallback(ServeFile::new(index));
    any_service(SetResponseHeader::overriding(
        files,
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    ))
}

fn any_service<S>(svc: S) -> MethodRouter
where
    S: tower::Service<
            axum::extract::Request,
            Response = axum::http::Response<tower_http::services::fs::ServeFileSystemResponseBody>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    axum::routing::any_service(svc)
}
