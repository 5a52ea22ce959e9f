//! Serving the Trunk-built console. Client routes (`/devices`, ...) fall back
//! to `index.html` so that deep links and reloads work. Every console
//! response carries a strict Content-Security-Policy: scripts only from this
//! origin plus Trunk's inline bootstrap (allowed by its hash), and
//! `wasm-unsafe-eval` for the wasm module; nothing else.

use crate::error::ApiError;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, any, any_service};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::path::Path;
use tower::ServiceBuilder;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// The contents of the inline `<script>` elements of an HTML page (those
/// without a `src`), exactly as written.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut scripts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body = &after[tag_end + 1..];
        let Some(close) = body.find("</script>") else {
            break;
        };
        if !tag.contains(" src=") {
            scripts.push(&body[..close]);
        }
        rest = &body[close..];
    }
    scripts
}

/// The console's Content-Security-Policy for `index_html`.
pub fn content_security_policy(index_html: &str) -> String {
    let hashes: Vec<String> = inline_scripts(index_html)
        .into_iter()
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval' {}; \
         style-src 'self'; img-src 'self' data: https:; connect-src 'self'; \
         font-src 'self'; manifest-src 'self'; form-action 'self'; base-uri 'none'; \
         frame-ancestors 'none'; object-src 'none'",
        hashes.join(" ")
    )
}

/// The service for everything that is not the API.
pub fn service(dist_dir: &Path) -> MethodRouter {
    let index = dist_dir.join("index.html");
    let Ok(index_html) = std::fs::read_to_string(&index) else {
        tracing::warn!(
            dist = %dist_dir.display(),
            "console not found; run `cargo xtask run` to build it"
        );
        return any(|| async { ApiError::ConsoleMissing.into_response() });
    };
    let csp = match HeaderValue::from_str(&content_security_policy(&index_html)) {
        Ok(csp) => csp,
        Err(error) => {
            tracing::error!(%error, "cannot build the console's CSP");
            return any(|| async { ApiError::ConsoleMissing.into_response() });
        }
    };
    let files = ServeDir::new(dist_dir).fallback(ServeFile::new(index));
    any_service(
        ServiceBuilder::new()
            // Always revalidate: Trunk's asset names carry content hashes,
            // and index.html must never be stale after an upgrade.
            .layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::CONTENT_SECURITY_POLICY,
                csp,
            ))
            .service(files),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_exactly_the_inline_bootstrap() {
        let html = "<head><script type=\"module\">init()</script>\
                    <script src=\"/a.js\"></script><script>x</script></head>";
        assert_eq!(inline_scripts(html), ["init()", "x"]);
        let csp = content_security_policy(html);
        // sha256("init()") and sha256("x"), base64.
        let init = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"init()"));
        assert!(csp.contains(&format!("'sha256-{init}'")), "{csp}");
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"));
        assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }
}
