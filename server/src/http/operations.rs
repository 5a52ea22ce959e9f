//! What operators and load balancers call: `/healthz` (alive, database
//! reachable), `/readyz` (will take new work: not draining, database
//! reachable), `/metrics` (Prometheus text, behind a bearer token or on an
//! address of its own), and the middleware that counts every request.

use super::{ApiError, AppState};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// How long a health check waits for the database.
const DATABASE_WAIT: Duration = Duration::from_secs(2);

/// Who may read `/metrics` on the main address.
#[derive(Debug, Clone, Default)]
pub enum MetricsAccess {
    /// Nobody: `/metrics` is not served there (it may be on its own address).
    #[default]
    Off,
    /// A scraper sending `Authorization: Bearer` with the SHA-256 of this.
    Token([u8; 32]),
    /// Everyone who reaches the address (the metrics listener's own).
    Open,
}

impl MetricsAccess {
    pub fn token(token: &str) -> Self {
        Self::Token(Sha256::digest(token.as_bytes()).into())
    }

    fn allows(&self, headers: &HeaderMap) -> bool {
        match self {
            MetricsAccess::Off => false,
            MetricsAccess::Open => true,
            MetricsAccess::Token(expected) => headers
                .get(header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Bearer "))
                // Comparing digests: no timing tells how much of it matched.
                .is_some_and(|given| {
                    let given: [u8; 32] = Sha256::digest(given.as_bytes()).into();
                    given
                        .iter()
                        .zip(expected)
                        .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                        == 0
                }),
        }
    }
}

/// `GET /healthz`: 200 while the process runs and its database answers.
pub async fn healthz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.store.ping(DATABASE_WAIT).await?;
    Ok("ok")
}

/// `GET /readyz`: 200 while this server takes new sessions; 503 from the
/// moment it starts draining, or while its database does not answer.
pub async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    if state.sessions.is_draining() {
        return Err(crate::sessions::SessionError::Draining.into());
    }
    state.store.ping(DATABASE_WAIT).await?;
    Ok("ready")
}

/// `GET /metrics` in the Prometheus text format, to whom `access` allows.
pub async fn metrics(
    State(state): State<AppState>,
    access: axum::Extension<MetricsAccess>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !access.allows(&headers) {
        // As if it did not exist: a scan learns nothing.
        return Err(ApiError::NotFound);
    }
    let text = crate::metrics::render(&state.store)
        .await
        .map_err(|error| ApiError::Internal(error.to_string()))?;
    let mut response = (StatusCode::OK, text).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}

/// Counts each request by its route template (not its path: ids and
/// junk paths would make a label per request), method and status.
pub async fn count_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |path| path.as_str())
        .to_owned();
    let method = method_label(request.method());
    let response = next.run(request).await;
    crate::metrics::count_request(&route, method, response.status().as_u16());
    response
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_must_match_exactly() {
        let access = MetricsAccess::token("a-token-of-at-least-thirty-two-chars");
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            headers
        };
        assert!(access.allows(&with("Bearer a-token-of-at-least-thirty-two-chars")));
        assert!(!access.allows(&with("Bearer a-token-of-at-least-thirty-two-charx")));
        assert!(!access.allows(&with("a-token-of-at-least-thirty-two-chars")));
        assert!(!access.allows(&HeaderMap::new()));
        assert!(!MetricsAccess::Off.allows(&with("Bearer x")));
        assert!(MetricsAccess::Open.allows(&HeaderMap::new()));
    }
}
