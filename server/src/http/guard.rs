//! Cross-site request forgery defence for the API. The session cookie is
//! SameSite=Lax already; on top of that, a state-changing request that a
//! browser marks as coming from another origin is refused, whatever it
//! carries. Non-browser clients (no `Origin`, no `Sec-Fetch-Site`) pass.

use crate::http::ApiError;
use crate::http::AppState;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the Origin check has only the `Host` header to go by (no
/// `public_url`) while the server listens beyond loopback, where a proxy
/// or a client can choose that header.
pub fn origin_trusts_host(bind: std::net::SocketAddr, public_url: Option<&str>) -> bool {
    public_url.is_none() && !bind.ip().is_loopback()
}

/// Logs a warning at start when [`origin_trusts_host`] holds.
pub fn warn_if_origin_trusts_host(bind: std::net::SocketAddr, public_url: Option<&str>) {
    if origin_trusts_host(bind, public_url) {
        tracing::warn!(
            %bind,
            "no public_url is set and the server listens beyond loopback: the cross-site \
             (Origin) check trusts the Host header; set public_url to the address users open"
        );
    }
}

/// Whether the request's browser-set headers say it comes from elsewhere.
/// Our own origin is the configured public URL, or else whatever host the
/// browser is talking to (its `Host` header), under any scheme.
pub fn is_cross_site(request: &Request, public_origin: Option<&str>) -> bool {
    headers_cross_site(request.headers(), public_origin)
}

/// [`is_cross_site`] on headers alone (the WebSocket upgrade checks them
/// even though it is a GET).
pub fn headers_cross_site(headers: &axum::http::HeaderMap, public_origin: Option<&str>) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        // "null" (sandboxed frames, some redirects) is never our origin.
        let Ok(origin) = origin.to_str() else {
            return true;
        };
        if public_origin.is_some_and(|own| own == origin) {
            return false;
        }
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let origin_host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        return !(host.is_some() && origin_host == host);
    }
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| site == "cross-site" || site == "same-site")
}

/// Refuses state-changing cross-site requests with 403.
pub async fn csrf(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !is_safe(request.method()) && is_cross_site(&request, state.public_origin.as_deref()) {
        tracing::warn!(
            method = %request.method(),
            path = %request.uri().path(),
            origin = ?request.headers().get(header::ORIGIN),
            "cross-site request refused"
        );
        return ApiError::CrossSite.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut builder = axum::http::Request::post("/api/x").header("host", "127.0.0.1:8080");
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn without_public_url_only_a_loopback_bind_is_quiet() {
        let at = |a: &str| a.parse::<std::net::SocketAddr>().unwrap();
        assert!(!origin_trusts_host(at("127.0.0.1:8080"), None));
        assert!(!origin_trusts_host(at("[::1]:8080"), None));
        assert!(origin_trusts_host(at("0.0.0.0:8080"), None));
        assert!(origin_trusts_host(at("10.0.0.5:443"), None));
        assert!(!origin_trusts_host(
            at("0.0.0.0:8080"),
            Some("https://help.example.test")
        ));
    }

    #[test]
    fn only_foreign_browser_requests_are_cross_site() {
        let own = "http://127.0.0.1:8080";
        assert!(!is_cross_site(&request(&[]), None), "curl, scripts");
        assert!(
            !is_cross_site(&request(&[("origin", own)]), None),
            "same host"
        );
        assert!(is_cross_site(
            &request(&[("origin", "https://evil.test")]),
            None
        ));
        assert!(is_cross_site(&request(&[("origin", "null")]), None));
        assert!(is_cross_site(
            &request(&[("origin", "http://127.0.0.1:8081")]),
            None
        ));
        assert!(is_cross_site(
            &request(&[("sec-fetch-site", "cross-site")]),
            None
        ));
        assert!(!is_cross_site(
            &request(&[("sec-fetch-site", "same-origin")]),
            None
        ));
        // Behind a proxy that rewrites Host, the configured public URL counts.
        let public = "https://help.example.test";
        assert!(!is_cross_site(
            &request(&[("origin", public)]),
            Some(public)
        ));
        assert!(is_cross_site(
            &request(&[("origin", "https://evil.test")]),
            Some(public)
        ));
    }
}
