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
/// `GET` → `DeviceSummary` of one device the caller may help; 404 otherwise.
pub const DEVICE: &str = "/api/devices/{id}";
/// `GET`/`PUT` [`crate::settings::TenantSettings`] (Manage settings).
pub const ADMIN_SETTINGS: &str = "/api/admin/settings";
/// `GET` → `Vec<RoleView>`, `POST` [`crate::rbac::RoleDraft`] (Manage roles).
pub const ADMIN_ROLES: &str = "/api/admin/roles";
/// `PUT` [`crate::rbac::RoleDraft`], `DELETE` (Manage roles).
pub const ADMIN_ROLE: &str = "/api/admin/roles/{id}";
/// `GET` → `Vec<AssignmentView>`, `POST` [`crate::rbac::AssignmentDraft`] (Manage roles).
pub const ADMIN_ASSIGNMENTS: &str = "/api/admin/assignments";
/// `PUT` [`crate::rbac::AssignmentDraft`], `DELETE` (Manage roles).
pub const ADMIN_ASSIGNMENT: &str = "/api/admin/assignments/{id}";
/// `GET` → `Vec<GroupRef>` for pickers (Manage roles).
pub const ADMIN_GROUPS: &str = "/api/admin/groups";
/// `GET ?helper=&target=` → `Vec<AccessReviewRow>` (Manage roles).
pub const ADMIN_ACCESS_REVIEW: &str = "/api/admin/access-review";

/// Fills `{id}` in a route with `id`.
pub fn with_id(route: &str, id: &str) -> String {
    route.replace("{id}", id)
}
