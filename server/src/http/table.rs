//! The API's route table: every route with its handler and what the
//! OpenAPI document says of it (the shape of an entry is `route.rs`). The
//! router, the OpenAPI document and the authorization matrix test are all
//! built from this one list.

use super::route::{Access, ApiRoute, route};
use super::{admin, agents, devices, directory, openapi, reports, sessions, sign_in};

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{delete, get, post, put};
use tandem_protocol::admin::{AuditRecord, UserDraft};
use tandem_protocol::agent::{
    EnrollmentToken, EnrollmentTokenRow, NewEnrollmentToken, PairRequest, Paired, RegisterRequest,
    Registration,
};
use tandem_protocol::auth::{LoginRequest, Me, ProviderInfo};
use tandem_protocol::devices::DeviceSummary;
use tandem_protocol::directory::{
    DeviceRow, GroupDraft, GroupRow, ImportReport, MemberView, MembersDraft, Page, UserRow,
};
use tandem_protocol::grant::GrantKey;
use tandem_protocol::rbac::{
    AccessReviewRow, AssignmentDraft, AssignmentView, GroupRef, Permission, RoleDraft, RoleView,
};
use tandem_protocol::reports::{
    LiveSessions, MonitorSummary, SessionReport, SessionReportDetail, TicketUpdate,
};
use tandem_protocol::routes::*;
use tandem_protocol::session::{
    ConsentAnswer, IssuedCode, ModeRequest, RedeemRequest, SessionView,
};
use tandem_protocol::settings::{AuditEntryView, TenantSettings};

/// Every API route (and the OIDC browser endpoints, which share the web
/// session).
pub fn api_routes() -> Vec<ApiRoute> {
    use Access::*;
    use Permission::{ManageDevices, ManageRoles, ManageSettings, ReadSessionReports};
    let (g, p, u, d) = (Method::GET, Method::POST, Method::PUT, Method::DELETE);
    vec![
        route(
            g.clone(),
            OPENAPI,
            "This document",
            Anyone,
            get(openapi_document),
        )
        .text(),
        route(
            p.clone(),
            AUTH_LOGIN,
            "Sign in with a built-in account",
            Anyone,
            post(sign_in::login),
        )
        .takes::<LoginRequest>()
        .returns::<Me>(200),
        route(
            p.clone(),
            AUTH_LOGOUT,
            "Sign out",
            Anyone,
            post(sign_in::logout),
        ),
        route(
            g.clone(),
            AUTH_ME,
            "Who is signed in",
            SignedIn,
            get(sign_in::me),
        )
        .holds_connection()
        .returns::<Me>(200),
        route(
            g.clone(),
            AUTH_PROVIDERS,
            "Organization sign-in options",
            Anyone,
            get(sign_in::oidc_providers),
        )
        .returns::<Vec<ProviderInfo>>(200),
        route(
            g.clone(),
            OIDC_START,
            "Go to the identity provider (browser navigation)",
            Anyone,
            get(sign_in::oidc_start),
        )
        .redirects(),
        route(
            g.clone(),
            OIDC_CALLBACK,
            "Back from the identity provider (browser navigation)",
            Anyone,
            get(sign_in::oidc_callback),
        )
        .redirects(),
        route(
            g.clone(),
            DEVICES,
            "Devices the caller may help",
            SignedIn,
            get(devices::list),
        )
        .returns::<Vec<DeviceSummary>>(200),
        route(
            g.clone(),
            DEVICE,
            "One device the caller may help",
            SignedIn,
            get(devices::get),
        )
        .returns::<DeviceSummary>(200),
        route(
            p.clone(),
            SESSIONS,
            "Assist someone: a new session and its security code (View screen somewhere)",
            SignedIn,
            post(sessions::issue),
        )
        .holds_connection()
        .returns::<IssuedCode>(201),
        route(
            p.clone(),
            SESSION_REDEEM,
            "Enter a security code (limited per sharer, per address and overall)",
            SignedIn,
            post(sessions::redeem),
        )
        .holds_connection()
        .takes::<RedeemRequest>()
        .returns::<SessionView>(200),
        route(
            g.clone(),
            SESSION_GRANT_KEY,
            "The Ed25519 key session grants are signed with",
            Anyone,
            get(sessions::grant_key),
        )
        .returns::<GrantKey>(200),
        route(
            g.clone(),
            SESSION,
            "A session the caller takes part in",
            SignedIn,
            get(sessions::get),
        )
        .holds_connection()
        .returns::<SessionView>(200),
        route(
            p.clone(),
            SESSION_REQUEST,
            "Helper: ask for view only or full control (Take full control for the latter)",
            SignedIn,
            post(sessions::request),
        )
        .holds_connection()
        .takes::<ModeRequest>()
        .returns::<SessionView>(200),
        route(
            p.clone(),
            SESSION_CONSENT,
            "Sharer: allow or decline the request",
            SignedIn,
            post(sessions::consent),
        )
        .holds_connection()
        .takes::<ConsentAnswer>()
        .returns::<SessionView>(200),
        route(
            p.clone(),
            SESSION_REVOKE,
            "Sharer: take control back (full control to view only)",
            SignedIn,
            post(sessions::revoke),
        )
        .holds_connection()
        .returns::<SessionView>(200),
        route(
            p.clone(),
            SESSION_PAUSE,
            "Sharer: pause (no pixels, no input)",
            SignedIn,
            post(sessions::pause),
        )
        .holds_connection()
        .returns::<SessionView>(200),
        route(
            p.clone(),
            SESSION_RESUME,
            "Sharer: resume",
            SignedIn,
            post(sessions::resume),
        )
        .holds_connection()
        .returns::<SessionView>(200),
        route(
            p.clone(),
            SESSION_LEAVE,
            "Either participant: leave; the session ends",
            SignedIn,
            post(sessions::leave),
        )
        .holds_connection()
        .returns::<SessionView>(200),
        route(
            u.clone(),
            SESSION_TICKET,
            "Helper: set or clear the session's ticket reference (kept with its record)",
            SignedIn,
            put(reports::ticket),
        )
        .takes::<TicketUpdate>()
        .returns::<SessionView>(200),
        route(
            g.clone(),
            REPORT_SESSIONS,
            "Session records (?from=&to=&helper=&sharer=&device=&outcome=&flag=&sort=&desc=&page=&per_page=); \
             all of the tenant with Read session reports, else the caller's own as helper",
            SignedIn,
            get(reports::sessions),
        )
        .returns::<Page<SessionReport>>(200),
        route(
            g.clone(),
            REPORT_SESSIONS_CSV,
            "The same selection as CSV, sorted the same way (at most 50 000 rows)",
            SignedIn,
            get(reports::sessions_csv),
        )
        .csv(),
        route(
            g.clone(),
            REPORT_SESSION,
            "One session record with its steps",
            SignedIn,
            get(reports::session),
        )
        .returns::<SessionReportDetail>(200),
        route(
            g.clone(),
            REPORT_MONITOR,
            "Monitoring: live sessions, the last 30 days, unusual patterns",
            Needs(ReadSessionReports),
            get(reports::monitor),
        )
        .returns::<MonitorSummary>(200),
        route(
            g.clone(),
            REPORT_LIVE,
            "The sessions not ended, as server-sent `live` events on every change",
            Needs(ReadSessionReports),
            get(reports::live),
        )
        .streams::<LiveSessions>(),
        route(
            g.clone(),
            SESSIONS_AS_SHARER,
            "The caller's last sessions as the sharer (newest first, at most 20)",
            SignedIn,
            get(sessions::as_sharer),
        )
        .returns::<Vec<tandem_protocol::reports::SharerSession>>(200),
        route(
            p.clone(),
            ADMIN_SESSION_END,
            "End a live session of the tenant (\"End session\" on the monitor); both sides see why",
            Needs(ManageSettings),
            post(admin::end_session),
        ),
        route(
            g.clone(),
            SIGNAL,
            "Signaling WebSocket (session cookie; same-origin only)",
            SignedIn,
            get(sessions::signal),
        )
        .upgrades(),
        route(
            p.clone(),
            DEVICE_SESSIONS,
            "Offer remote assistance to the device's signed-in user (enrolled device, agent online)",
            SignedIn,
            post(agents::start_for_device),
        )
        .returns::<IssuedCode>(201),
        route(
            p.clone(),
            AGENT_REGISTER,
            "An agent registers its device key (enrolled with a token, unenrolled without)",
            Anyone,
            post(agents::register),
        )
        .takes::<RegisterRequest>()
        .returns::<Registration>(201),
        route(
            g.clone(),
            AGENT_CONNECT,
            "The agent's control WebSocket: presence, pairing links, help requests",
            Device,
            get(agents::connect),
        )
        .upgrades(),
        route(
            g.clone(),
            AGENT_SIGNAL,
            "The agent's signaling WebSocket for sessions bound to its device",
            Device,
            get(agents::signal),
        )
        .upgrades(),
        route(
            p.clone(),
            AGENT_PAIR,
            "The sharer page redeems a one-time pairing link from the agent, after the sharer \
             confirmed the device (`confirm: true`); recorded in the audit log",
            SignedIn,
            post(agents::pair),
        )
        .takes::<PairRequest>()
        .returns::<Paired>(200),
        route(
            p.clone(),
            AGENT_PAIR_PREVIEW,
            "The device a pairing link would pair with (name, OS, enrolled), for the sharer to \
             confirm; the link stays unused",
            SignedIn,
            post(agents::pair_preview),
        )
        .takes::<PairRequest>()
        .returns::<tandem_protocol::agent::PairingPreview>(200),
        route(
            g.clone(),
            ADMIN_ENROLLMENT_TOKENS,
            "Enrollment tokens of the tenant",
            Needs(ManageDevices),
            get(agents::enrollment_tokens),
        )
        .returns::<Vec<EnrollmentTokenRow>>(200),
        route(
            p.clone(),
            ADMIN_ENROLLMENT_TOKENS,
            "A new enrollment token (shown once)",
            Needs(ManageDevices),
            post(agents::new_enrollment_token),
        )
        .takes::<NewEnrollmentToken>()
        .returns::<EnrollmentToken>(201),
        route(
            p.clone(),
            ADMIN_ENROLLMENT_TOKEN_REVOKE,
            "Revoke an enrollment token: no agent can register with it any more",
            Needs(ManageDevices),
            post(admin::revoke_enrollment_token),
        )
        .returns::<EnrollmentTokenRow>(200),
        route(
            g.clone(),
            ADMIN_SETTINGS,
            "Tenant settings",
            Needs(ManageSettings),
            get(admin::get_settings),
        )
        .returns::<TenantSettings>(200),
        route(
            u.clone(),
            ADMIN_SETTINGS,
            "Change tenant settings",
            Needs(ManageSettings),
            put(admin::put_settings),
        )
        .takes::<TenantSettings>()
        .returns::<TenantSettings>(200),
        route(
            g.clone(),
            ADMIN_ROLES,
            "Built-in and custom roles",
            Needs(ManageRoles),
            get(admin::list_roles),
        )
        .returns::<Vec<RoleView>>(200),
        route(
            p.clone(),
            ADMIN_ROLES,
            "Create a custom role",
            Needs(ManageRoles),
            post(admin::create_role),
        )
        .takes::<RoleDraft>()
        .returns::<RoleView>(201),
        route(
            u.clone(),
            ADMIN_ROLE,
            "Edit a custom role",
            Needs(ManageRoles),
            put(admin::update_role),
        )
        .takes::<RoleDraft>()
        .returns::<RoleView>(200),
        route(
            d.clone(),
            ADMIN_ROLE,
            "Delete an unused custom role",
            Needs(ManageRoles),
            delete(admin::delete_role),
        ),
        route(
            g.clone(),
            ADMIN_ASSIGNMENTS,
            "Role assignments",
            Needs(ManageRoles),
            get(admin::list_assignments),
        )
        .returns::<Vec<AssignmentView>>(200),
        route(
            p.clone(),
            ADMIN_ASSIGNMENTS,
            "Create an assignment",
            Needs(ManageRoles),
            post(admin::create_assignment),
        )
        .takes::<AssignmentDraft>()
        .returns::<AssignmentView>(201),
        route(
            u.clone(),
            ADMIN_ASSIGNMENT,
            "Replace an assignment",
            Needs(ManageRoles),
            put(admin::update_assignment),
        )
        .takes::<AssignmentDraft>()
        .returns::<AssignmentView>(200),
        route(
            d.clone(),
            ADMIN_ASSIGNMENT,
            "Delete an assignment",
            Needs(ManageRoles),
            delete(admin::delete_assignment),
        ),
        route(
            g.clone(),
            ADMIN_GROUPS,
            "All groups, for pickers",
            Needs(ManageRoles),
            get(admin::list_groups),
        )
        .returns::<Vec<GroupRef>>(200),
        route(
            p.clone(),
            ADMIN_GROUPS,
            "Create a group",
            Needs(ManageRoles),
            post(admin::create_group),
        )
        .takes::<GroupDraft>()
        .returns::<GroupRef>(201),
        route(
            d.clone(),
            ADMIN_GROUP,
            "Delete a group",
            Needs(ManageRoles),
            delete(admin::delete_group),
        ),
        route(
            g.clone(),
            ADMIN_GROUP_MEMBERS,
            "A group's members",
            Needs(ManageRoles),
            get(admin::group_members),
        )
        .returns::<Vec<MemberView>>(200),
        route(
            u.clone(),
            ADMIN_GROUP_MEMBERS,
            "Set the members managed in the console (IdP memberships stay)",
            Needs(ManageRoles),
            put(admin::set_group_members),
        )
        .takes::<MembersDraft>()
        .returns::<Vec<MemberView>>(200),
        route(
            g.clone(),
            ADMIN_ACCESS_REVIEW,
            "Who can help whom, with what (?helper=&target=)",
            Needs(ManageRoles),
            get(admin::access_review),
        )
        .returns::<Vec<AccessReviewRow>>(200),
        route(
            g.clone(),
            ADMIN_AUDIT,
            "Admin changes, newest first",
            Needs(ManageSettings),
            get(admin::audit),
        )
        .returns::<Vec<AuditEntryView>>(200),
        route(
            g.clone(),
            ADMIN_AUDIT_LOG,
            "Admin changes, newest first, searched and paged (?q=&kind=&page=&per_page=)",
            Needs(ManageSettings),
            get(admin::audit_log),
        )
        .returns::<Page<AuditRecord>>(200),
        route(
            g.clone(),
            ADMIN_USERS,
            "Users (?q=&page=&per_page=)",
            Needs(ManageRoles),
            get(directory::users),
        )
        .returns::<Page<UserRow>>(200),
        route(
            p.clone(),
            ADMIN_USERS,
            "Create a user with a Tandem account",
            Needs(ManageRoles),
            post(directory::create_user),
        )
        .takes::<UserDraft>()
        .returns::<UserRow>(201),
        route(
            u.clone(),
            ADMIN_USER,
            "Edit a user with a Tandem account (a new password is optional)",
            Needs(ManageRoles),
            put(directory::update_user),
        )
        .takes::<UserDraft>()
        .returns::<UserRow>(200),
        route(
            g.clone(),
            ADMIN_GROUP_LIST,
            "Groups with counts (?q=&page=&per_page=)",
            Needs(ManageRoles),
            get(directory::groups),
        )
        .returns::<Page<GroupRow>>(200),
        route(
            g,
            ADMIN_DEVICES,
            "All devices (?q=&page=&per_page=)",
            Needs(ManageDevices),
            get(directory::devices),
        )
        .returns::<Page<DeviceRow>>(200),
        route(
            p,
            ADMIN_IMPORT,
            "Import a CSV file (at most 2 MiB, 10 000 lines) of users, groups or devices; \
             400 lists the refused lines. ?set_passwords=true lets password cells change \
             the passwords of existing accounts (without it such lines are refused)",
            NeedsPerKind,
            post(directory::import).layer(DefaultBodyLimit::max(directory::MAX_IMPORT_BYTES)),
        )
        .takes_csv()
        .flag(
            "set_passwords",
            "Let a users file change the passwords of accounts that already exist; without it \
             a line that would is refused, and so is the file",
        )
        .returns::<ImportReport>(200),
    ]
}

/// `GET /api/openapi.json`: the document of this table, made once.
async fn openapi_document() -> axum::Json<&'static utoipa::openapi::OpenApi> {
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    axum::Json(DOC.get_or_init(|| openapi::document(api_routes())))
}
