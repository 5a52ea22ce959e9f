//! The REST paths, named once for the server router and the console client.

/// `GET` → the OpenAPI 3.1 document of this API.
pub const OPENAPI: &str = "/api/openapi.json";
/// Liveness probe: 200 with `ok` while the process serves requests and its
/// database answers; 503 problem+json otherwise.
pub const HEALTHZ: &str = "/healthz";
/// Readiness probe: 200 with `ready` while this server takes new sessions;
/// 503 from the moment it drains (SIGTERM) or while its database is down.
pub const READYZ: &str = "/readyz";
/// Prometheus metrics (text format), behind `metrics_token` or on
/// `metrics_bind`; 404 to anyone else.
pub const METRICS: &str = "/metrics";
/// `POST` [`crate::auth::LoginRequest`] → [`crate::auth::Me`].
pub const AUTH_LOGIN: &str = "/api/auth/login";
/// `POST` → 204; ends the session.
pub const AUTH_LOGOUT: &str = "/api/auth/logout";
/// `GET` → [`crate::auth::Me`], or 401 when not signed in.
pub const AUTH_ME: &str = "/api/auth/me";
/// `GET` → `Vec<`[`crate::auth::ProviderInfo`]`>`: organization sign-in options.
pub const AUTH_PROVIDERS: &str = "/api/auth/providers";
/// Browser navigation: redirects to the identity provider `{id}`.
pub const OIDC_START: &str = "/auth/oidc/{id}/start";
/// Browser navigation: where the identity provider sends users back.
pub const OIDC_CALLBACK: &str = "/auth/oidc/callback";
/// The console's sign-in page.
pub const SIGN_IN_PAGE: &str = "/signin";
/// Where users land after signing in when no `next` is given.
pub const DEFAULT_LANDING: &str = "/devices";
/// `GET` → `Vec<`[`crate::devices::DeviceSummary`]`>` of the caller's tenant.
pub const DEVICES: &str = "/api/devices";
/// `GET` → `DeviceSummary` of one device the caller may help; 404 otherwise.
pub const DEVICE: &str = "/api/devices/{id}";
/// `POST` → [`crate::session::IssuedCode`]: "Assist someone" (View screen somewhere).
pub const SESSIONS: &str = "/api/sessions";
/// `POST` [`crate::session::RedeemRequest`] → [`crate::session::SessionView`]: the sharer enters a code.
pub const SESSION_REDEEM: &str = "/api/sessions/redeem";
/// `GET` → [`crate::grant::GrantKey`]: the key grants are signed with.
pub const SESSION_GRANT_KEY: &str = "/api/sessions/grant-key";
/// `GET` → [`crate::session::SessionView`] for a participant; 404 otherwise.
pub const SESSION: &str = "/api/sessions/{id}";
/// `POST` [`crate::session::ModeRequest`]: the helper asks for a mode.
pub const SESSION_REQUEST: &str = "/api/sessions/{id}/request";
/// `POST` [`crate::session::ConsentAnswer`]: the sharer allows or declines.
pub const SESSION_CONSENT: &str = "/api/sessions/{id}/consent";
/// `POST`: the sharer takes control back (full control → view only).
pub const SESSION_REVOKE: &str = "/api/sessions/{id}/revoke";
/// `POST`: the sharer pauses (no pixels, no input).
pub const SESSION_PAUSE: &str = "/api/sessions/{id}/pause";
/// `POST`: the sharer resumes.
pub const SESSION_RESUME: &str = "/api/sessions/{id}/resume";
/// `POST`: either participant leaves; the session ends.
pub const SESSION_LEAVE: &str = "/api/sessions/{id}/leave";
/// `GET` with a WebSocket upgrade: signaling ([`crate::signal`]).
pub const SIGNAL: &str = "/api/signal";
/// Starts a session with a device's signed-in user (device page).
pub const DEVICE_SESSIONS: &str = "/api/devices/{id}/sessions";
/// An agent registers its device key.
pub const AGENT_REGISTER: &str = "/api/agent/register";
/// The agent's control WebSocket (device-authenticated).
pub const AGENT_CONNECT: &str = "/api/agent/connect";
/// The agent's signaling WebSocket for one session (device-authenticated).
pub const AGENT_SIGNAL: &str = "/api/agent/signal";
/// The sharer page redeems a pairing link (with `confirm: true`).
pub const AGENT_PAIR: &str = "/api/agent/pair";
/// `POST` [`crate::agent::PairRequest`] → [`crate::agent::PairingPreview`]:
/// the device a pairing link would pair with, without using the link.
pub const AGENT_PAIR_PREVIEW: &str = "/api/agent/pair/preview";
/// Enrollment tokens (Manage devices).
pub const ADMIN_ENROLLMENT_TOKENS: &str = "/api/admin/enrollment-tokens";
/// `POST` → [`crate::agent::EnrollmentTokenRow`]: revoke a token (Manage devices).
pub const ADMIN_ENROLLMENT_TOKEN_REVOKE: &str = "/api/admin/enrollment-tokens/{id}/revoke";
/// The console's sharer page (code entry).
pub const SHARE_PAGE: &str = "/share";
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
/// `GET` → `Vec<GroupRef>` for pickers; `POST` `GroupDraft` creates one (Manage roles).
pub const ADMIN_GROUPS: &str = "/api/admin/groups";
/// `GET ?helper=&target=` → `Vec<AccessReviewRow>` (Manage roles).
pub const ADMIN_ACCESS_REVIEW: &str = "/api/admin/access-review";

/// `GET` → the newest `AuditEntryView`s first (Manage settings).
pub const ADMIN_AUDIT: &str = "/api/admin/audit";
/// `GET ?q=&kind=&page=&per_page=` → `Page<`[`crate::admin::AuditRecord`]`>`,
/// newest first (Manage settings).
pub const ADMIN_AUDIT_LOG: &str = "/api/admin/audit-log";

/// `DELETE` a group (Manage roles).
pub const ADMIN_GROUP: &str = "/api/admin/groups/{id}";
/// `GET` → `Vec<MemberView>`; `PUT` `MembersDraft` (Manage roles).
pub const ADMIN_GROUP_MEMBERS: &str = "/api/admin/groups/{id}/members";
/// `GET ?q=&page=&per_page=` → `Page<UserRow>`; `POST`
/// [`crate::admin::UserDraft`] → `UserRow` (Manage roles).
pub const ADMIN_USERS: &str = "/api/admin/users";
/// `PUT` [`crate::admin::UserDraft`] → `UserRow` (Manage roles).
pub const ADMIN_USER: &str = "/api/admin/users/{id}";
/// `GET ?q=&page=&per_page=` → `Page<GroupRow>` (Manage roles).
pub const ADMIN_GROUP_LIST: &str = "/api/admin/group-list";
/// `GET ?q=&page=&per_page=` → `Page<DeviceRow>` of all devices (Manage devices).
pub const ADMIN_DEVICES: &str = "/api/admin/devices";
/// `POST` a CSV file (`text/csv`) → `ImportReport`. `{id}` is `users`,
/// `groups` (Manage roles) or `devices` (Manage devices).
pub const ADMIN_IMPORT: &str = "/api/admin/import/{id}";

/// `PUT` [`crate::reports::TicketUpdate`]: the helper's ticket reference.
pub const SESSION_TICKET: &str = "/api/sessions/{id}/ticket";
/// `GET ?from=&to=&helper=&sharer=&device=&outcome=&flag=&sort=&desc=&page=&per_page=`
/// → `Page<`[`crate::reports::SessionReport`]`>` (all with Read session
/// reports, else the caller's own sessions as helper).
pub const REPORT_SESSIONS: &str = "/api/reports/sessions";
/// `GET` with the same filters → the whole selection as CSV.
pub const REPORT_SESSIONS_CSV: &str = "/api/reports/sessions.csv";
/// `GET` → [`crate::reports::SessionReportDetail`].
pub const REPORT_SESSION: &str = "/api/reports/sessions/{id}";
/// `GET` → [`crate::reports::MonitorSummary`] (Read session reports).
pub const REPORT_MONITOR: &str = "/api/reports/monitor";
/// `GET` → server-sent events of [`crate::reports::LiveSessions`] (Read
/// session reports).
pub const REPORT_LIVE: &str = "/api/reports/live";

/// `POST` (Manage settings): end a live session of the tenant ("End
/// session" on the monitor); 204.
pub const ADMIN_SESSION_END: &str = "/api/admin/sessions/{id}/end";

/// `GET` → the caller's own last sessions as the sharer
/// (`Vec<`[`crate::reports::SharerSession`]`>`, newest first, at most 20).
pub const SESSIONS_AS_SHARER: &str = "/api/sessions/as-sharer";

/// Fills `{id}` in a route with `id`.
pub fn with_id(route: &str, id: &str) -> String {
    route.replace("{id}", id)
}

/// Accepts only same-origin absolute paths, so a `next` parameter cannot
/// send a user to another site (`//evil.test`, `https://…`, `/\\evil.test`).
pub fn safe_local_path(path: &str) -> Option<&str> {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.chars().any(char::is_control)
        && !path.starts_with(SIGN_IN_PAGE);
    ok.then_some(path)
}

/// The console comes in three builds, each with the pages one kind of
/// visitor opens, so that each loads only what it shows:
/// - the helper's console (`index.html`): sign-in, devices and the
///   session workspace;
/// - the sharer's console (`share.html`): sign-in and the sharer's pages
///   ("Get help", the session she shares), about a quarter lighter than
///   the helper's: a sharer never loads the helper's workspace;
/// - the full console (`full.html`): every page, with the administration,
///   session records and monitoring.
///
/// The server sends each page the build that has it ([`Console::for_path`]);
/// a link from one build to a page of another loads that page from the
/// server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Console {
    Helper,
    Sharer,
    Full,
}

/// The paths only the full console has (see [`Console`]).
pub const FULL_CONSOLE_PREFIXES: &[&str] = &["/admin", "/reports", "/monitor"];
/// The paths the sharer's console is sent for (see [`Console`]).
pub const SHARER_CONSOLE_PREFIXES: &[&str] = &[SHARE_PAGE];

/// Whether `path` is `prefix` or below it: `/admin/users` is under
/// `/admin`, `/adminx` is not.
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

impl Console {
    /// The build the server sends for the console page at `path` (no
    /// query). Every other path (`/`, `/signin`, `/devices`, an unknown
    /// one) gets the helper's console.
    pub fn for_path(path: &str) -> Console {
        if FULL_CONSOLE_PREFIXES.iter().any(|p| under(path, p)) {
            Console::Full
        } else if SHARER_CONSOLE_PREFIXES.iter().any(|p| under(path, p)) {
            Console::Sharer
        } else {
            Console::Helper
        }
    }

    /// The build's page in the console's directory.
    pub fn page(self) -> &'static str {
        match self {
            Console::Helper => "index.html",
            Console::Sharer => "share.html",
            Console::Full => "full.html",
        }
    }
}

/// Where to go after signing in: `next` if it is a safe local path, else
/// the default landing page.
pub fn after_sign_in(next: Option<&str>) -> String {
    next.and_then(safe_local_path)
        .unwrap_or(DEFAULT_LANDING)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_only_followed_to_local_paths() {
        assert_eq!(after_sign_in(Some("/devices?x=1")), "/devices?x=1");
        for evil in [
            "//evil.test",
            "https://evil.test",
            "/\\evil.test",
            "devices",
            "/signin",
            "/a\nb",
        ] {
            assert_eq!(after_sign_in(Some(evil)), "/devices", "{evil}");
        }
        assert_eq!(after_sign_in(None), "/devices");
    }

    #[test]
    fn the_full_console_takes_its_prefixes_and_nothing_else() {
        for full in [
            "/admin",
            "/admin/users",
            "/reports",
            "/reports/abc",
            "/monitor",
        ] {
            assert_eq!(Console::for_path(full), Console::Full, "{full}");
        }
        for helper in [
            "/",
            "/devices",
            "/sessions/a",
            "/adminx",
            "/reportsx",
            "/signin",
        ] {
            assert_ne!(Console::for_path(helper), Console::Full, "{helper}");
        }
    }

    #[test]
    fn each_path_gets_the_build_that_has_its_page() {
        for (path, console) in [
            ("/", Console::Helper),
            ("/signin", Console::Helper),
            ("/devices", Console::Helper),
            ("/sessions/a", Console::Helper),
            ("/sharex", Console::Helper),
            ("/nowhere", Console::Helper),
            ("/share", Console::Sharer),
            ("/share/0193a", Console::Sharer),
            ("/admin/roles", Console::Full),
            ("/reports/a", Console::Full),
        ] {
            assert_eq!(Console::for_path(path), console, "{path}");
        }
        assert_eq!(Console::Sharer.page(), "share.html");
    }
}
