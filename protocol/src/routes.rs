//! The REST paths, named once for the server router and the console client.

/// Liveness probe: 200 with `ok` while the process serves requests.
pub const HEALTHZ: &str = "/healthz";
/// `POST` [`crate::auth::LoginRequest`] → [`crate::auth::Me`].
pub const AUTH_LOGIN: &str = "/api/auth/login";
/// `POST` → 204; ends the session.
pub const AUTH_LOGOUT: &str = "/api/auth/logout";
/// `GET` → [`crate::auth::Me`], or 401 when not signed in.
pub const AUTH_ME: &str = "/api/auth/me";
/// `GET` → `Vec<`[`crate::devices::DeviceSummary`]`>` of the caller's tenant.
pub const DEVICES: &str = "/api/devices";
