//! Tandem's console, a Leptos CSR app.
//!
//! - [`routes`]: the typed route enum; every link and redirect goes through it.
//! - [`api`]: the typed client for the server's REST API, using `protocol` types.
//! - [`auth`]: who is signed in, as context.
//! - [`pages`]: one module per route; [`components`]: building blocks by feature.

pub mod api;
pub mod app;
pub mod auth;
pub mod components;
pub mod format;
pub mod pages;
pub mod routes;
pub mod rtc;

use leptos::prelude::{IntoView, document, request_animation_frame, window};

/// Starts a console (`main.rs`, `share.rs`, `full.rs`): mounts `app`,
/// then takes away the page's static shell (`#boot` in each page, drawn
/// before the WASM runs), in the same task, so no frame shows both.
/// Should the mount fail, the shell stays, and its script says that the
/// console could not start. User Timing marks record when the console was mounted and when
/// the frame that draws it began (`cargo xtask bench --console` reads
/// them).
pub fn start<F, N>(app: F)
where
    F: FnOnce() -> N + 'static,
    N: IntoView,
{
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app);
    if let Some(boot) = document().get_element_by_id("boot") {
        boot.remove();
    }
    mark("tandem:console-mounted");
    request_animation_frame(|| mark("tandem:console-frame"));
}

fn mark(name: &str) {
    if let Some(performance) = window().performance()
        && let Err(error) = performance.mark(name)
    {
        leptos::logging::warn!("performance.mark({name}) failed: {error:?}");
    }
}
