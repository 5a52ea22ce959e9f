//! Serving the Trunk-built console. Client routes fall back to the page of
//! the build that has them ([`Console::for_path`]), so that deep links and
//! reloads work: the full console's `full.html` for administration,
//! records and monitoring, the sharer's console `share.html` for the
//! sharer's pages, the helper's console `index.html` for every other
//! (`/devices`, ...). Every console
//! response carries a strict Content-Security-Policy: scripts only from this
//! origin plus the pages' inline scripts (Trunk's bootstrap and the boot
//! shell's status script, each allowed by its hash), and `wasm-unsafe-eval`
//! for the wasm module; nothing else.

use crate::http::ApiError;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, any, any_service};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::path::Path;
use tandem_protocol::routes::Console;
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
            // The browser hashes the script as its HTML parser read it,
            // with every CR LF and lone CR made LF: a page checked out
            // with CR LF line ends must still match.
            let script = script.replace("\r\n", "\n").replace('\r', "\n");
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
    let index = dist_dir.join(Console::Helper.page());
    let Ok(index_html) = std::fs::read_to_string(&index) else {
        tracing::warn!(
            dist = %dist_dir.display(),
            "console not found; run `cargo xtask run` to build it"
        );
        return any(|| async { ApiError::ConsoleMissing.into_response() });
    };
    // Without the sharer's or the full console, their pages get the
    // helper's console, which says that the page is unavailable.
    let mut pages = index_html;
    let mut built = Vec::new();
    for console in [Console::Sharer, Console::Full] {
        match std::fs::read_to_string(dist_dir.join(console.page())) {
            Ok(html) => {
                pages.push_str(&html);
                built.push(console);
            }
            Err(_) => tracing::warn!(
                dist = %dist_dir.display(),
                page = console.page(),
                "a console build is missing: its pages will not load"
            ),
        }
    }
    let csp = match HeaderValue::from_str(&content_security_policy(&pages)) {
        Ok(csp) => csp,
        Err(error) => {
            tracing::error!(%error, "cannot build the console's CSP");
            return any(|| async { ApiError::ConsoleMissing.into_response() });
        }
    };
    // The build writes `.br` and `.gz` beside each asset (Trunk.toml's
    // post-build hook); they are sent to browsers that accept them.
    let files = ServeDir::new(dist_dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(
            ServeFile::new(index)
                .precompressed_br()
                .precompressed_gzip(),
        );
    any_service(
        ServiceBuilder::new()
            .map_request(move |request| the_build_for_its_page(request, &built))
            .layer(axum::middleware::from_fn_with_state(
                BuiltAssets::read(dist_dir),
                cache_control,
            ))
            .layer(SetResponseHeaderLayer::appending(
                header::VARY,
                HeaderValue::from_static("accept-encoding"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::CONTENT_SECURITY_POLICY,
                csp,
            ))
            .service(files),
    )
}

/// A page of the sharer's or the full console is answered with that
/// build's page (when built): the request's path becomes that file's, its
/// query is kept. Every other path goes on to the files, and from there
/// to the helper's `index.html`.
fn the_build_for_its_page(
    mut request: axum::extract::Request,
    built: &[Console],
) -> axum::extract::Request {
    let console = Console::for_path(request.uri().path());
    if console != Console::Helper && built.contains(&console) {
        let query = request
            .uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        if let Ok(uri) = format!("/{}{query}", console.page()).parse() {
            *request.uri_mut() = uri;
        }
    }
    request
}

/// The file name, when `path` names one of Trunk's content-hashed assets
/// at the root (`/name-<16 hex digits>.ext`, or `…_bg.wasm`): its content
/// never changes under that name.
pub fn content_hashed_name(path: &str) -> Option<&str> {
    let name = path.strip_prefix('/')?;
    let (stem, _extension) = name.split_once('.')?;
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    let (base, hash) = stem.rsplit_once('-')?;
    let hashed = !base.is_empty()
        && !name.contains('/')
        && hash.len() == 16
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    hashed.then_some(name)
}

/// The file names at the top of the console's directory, read once at
/// start (like its CSP): a content-hashed name is answered from this set,
/// without a file-system lookup per request.
#[derive(Clone)]
struct BuiltAssets(std::sync::Arc<std::collections::HashSet<String>>);

impl BuiltAssets {
    fn read(dist_dir: &Path) -> Self {
        let names = std::fs::read_dir(dist_dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|entry| entry.file_name().into_string().ok())
            .collect();
        Self(std::sync::Arc::new(names))
    }
}

/// Hashed assets are cached for a year and never revalidated; everything
/// else (index.html, deep links, the favicon) is revalidated every time,
/// so an upgrade is seen at once. A hashed name that does not exist is a
/// 404, not the console's page (which would then be cached as the asset).
async fn cache_control(
    axum::extract::State(built): axum::extract::State<BuiltAssets>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let hashed = content_hashed_name(request.uri().path()).map(|name| built.0.contains(name));
    let mut response = match hashed {
        Some(false) => ApiError::NotFound.into_response(),
        _ => next.run(request).await,
    };
    let value = if hashed == Some(true) && response.status().is_success() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
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

    #[test]
    fn a_script_with_cr_lf_line_ends_is_hashed_as_the_browser_reads_it() {
        let read = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"a\nb\nc"));
        for written in ["<script>a\r\nb\rc</script>", "<script>a\nb\nc</script>"] {
            let csp = content_security_policy(written);
            assert!(csp.contains(&format!("'sha256-{read}'")), "{csp}");
        }
    }

    #[test]
    fn only_trunks_hashed_names_count_as_immutable() {
        for hashed in [
            "/tandem-frontend-37528cbebc424c4a_bg.wasm",
            "/tandem-frontend-37528cbebc424c4a.js",
            "/main-a1cde568ebc1aa2e.css",
        ] {
            assert!(content_hashed_name(hashed).is_some(), "{hashed}");
        }
        for plain in [
            "/",
            "/index.html",
            "/public/favicon.svg",
            "/share",
            "/admin/users-0123",
            "/x-37528CBEBC424C4A.js",
            "/-37528cbebc424c4a.js",
            "/tandem-frontend-37528cbebc424c4a",
            "/public/x-37528cbebc424c4a.js",
            "/../x-37528cbebc424c4a.js",
        ] {
            assert_eq!(content_hashed_name(plain), None, "{plain}");
        }
    }
}
