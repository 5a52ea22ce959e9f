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
