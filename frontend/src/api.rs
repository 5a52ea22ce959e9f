//! Typed client for the server's REST API. Request and response types come
//! from `tandem-protocol`; the session travels in the HttpOnly cookie, which
//! this code never sees.

use gloo_net::http::{Request, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tandem_protocol::admin::{AuditQuery, AuditRecord, UserDraft};
use tandem_protocol::agent::{EnrollmentToken, EnrollmentTokenRow, NewEnrollmentToken};
use tandem_protocol::auth::{LoginRequest, Me, ProviderInfo};
use tandem_protocol::devices::DeviceSummary;
use tandem_protocol::directory::{
    GroupDraft, ImportReport, MemberView, MembersDraft, Page, UserRow,
};
use tandem_protocol::rbac::{
    AccessReviewRow, AssignmentDraft, AssignmentView, GroupRef, RoleDraft, RoleView,
};
use tandem_protocol::settings::TenantSettings;
use tandem_protocol::{AssignmentId, GroupId, Problem, RoleId, UserId, routes};

/// Why an API call failed, in words a user can act on.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The server answered with a problem document.
    Problem(Problem),
    /// The server could not be reached.
    Network(String),
    /// The server answered something this console does not understand.
    Unexpected(String),
}

impl ApiError {
    /// True when the caller is not (or no longer) signed in.
    pub fn is_unauthenticated(&self) -> bool {
        matches!(self, ApiError::Problem(p) if p.status == 401)
    }

    /// The message to show.
    pub fn message(&self) -> String {
        match self {
            ApiError::Problem(problem) => problem.message().to_owned(),
            ApiError::Network(_) => {
                "The server cannot be reached. Check your connection and try again.".to_owned()
            }
            ApiError::Unexpected(_) => {
                "The server sent an unexpected answer. Try again.".to_owned()
            }
        }
    }
}

async fn problem_of(response: Response) -> ApiError {
    let status = response.status();
    match response.json::<Problem>().await {
        Ok(problem) => ApiError::Problem(problem),
        Err(_) => ApiError::Problem(Problem {
            kind: "about:blank".to_owned(),
            title: format!("The server answered {status} {}", response.status_text()),
            status,
            detail: None,
        }),
    }
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    if !response.ok() {
        return Err(problem_of(response).await);
    }
    response
        .json::<T>()
        .await
        .map_err(|e| ApiError::Unexpected(e.to_string()))
}

fn network(error: gloo_net::Error) -> ApiError {
    ApiError::Network(error.to_string())
}

/// Signs in with a built-in account.
pub async fn login(request: &LoginRequest) -> Result<Me, ApiError> {
    let response = Request::post(routes::AUTH_LOGIN)
        .json(request)
        .map_err(|e| ApiError::Unexpected(e.to_string()))?
        .send()
        .await
        .map_err(network)?;
    decode(response).await
}

/// Who is signed in; `None` when nobody is.
pub async fn me() -> Result<Option<Me>, ApiError> {
    let response = Request::get(routes::AUTH_ME)
        .send()
        .await
        .map_err(network)?;
    match decode(response).await {
        Ok(me) => Ok(Some(me)),
        Err(error) if error.is_unauthenticated() => Ok(None),
        Err(error) => Err(error),
    }
}

/// Ends the session.
pub async fn logout() -> Result<(), ApiError> {
    let response = Request::post(routes::AUTH_LOGOUT)
        .send()
        .await
        .map_err(network)?;
    if response.ok() {
        Ok(())
    } else {
        Err(problem_of(response).await)
    }
}

async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let response = Request::get(path).send().await.map_err(network)?;
    decode(response).await
}

/// Which HTTP method a write uses.
#[derive(Debug, Clone, Copy)]
enum Write {
    Post,
    Put,
}

async fn send_json<B: Serialize, T: DeserializeOwned>(
    write: Write,
    path: &str,
    body: &B,
) -> Result<T, ApiError> {
    let builder = match write {
        Write::Post => Request::post(path),
        Write::Put => Request::put(path),
    };
    let response = builder
        .json(body)
        .map_err(|e| ApiError::Unexpected(e.to_string()))?
        .send()
        .await
        .map_err(network)?;
    decode(response).await
}

async fn delete(path: &str) -> Result<(), ApiError> {
    no_content(Request::delete(path).send().await.map_err(network)?).await
}

/// An answer with nothing to read: fine, or its problem.
async fn no_content(response: Response) -> Result<(), ApiError> {
    if response.ok() {
        Ok(())
    } else {
        Err(problem_of(response).await)
    }
}

/// One page of a directory listing (`route` is one of the admin listings).
pub async fn directory_page<T: DeserializeOwned>(
    route: &str,
    q: &str,
    page: u32,
) -> Result<Page<T>, ApiError> {
    let page = page.to_string();
    let response = Request::get(route)
        .query([("q", q), ("page", page.as_str())])
        .send()
        .await
        .map_err(network)?;
    decode(response).await
}

/// Imports a CSV file. A file with wrong lines is answered with a report
/// (400) that lists them; that is returned as `Ok` too. With
/// `set_passwords`, password cells may change existing accounts'
/// passwords (users files only).
pub async fn import(
    kind: &str,
    csv: String,
    set_passwords: bool,
) -> Result<ImportReport, ApiError> {
    let route = routes::with_id(routes::ADMIN_IMPORT, kind);
    let mut request = Request::post(&route);
    if set_passwords {
        request = request.query([("set_passwords", "true")]);
    }
    let response = request
        .header("content-type", "text/csv")
        .body(csv)
        .map_err(|e| ApiError::Unexpected(e.to_string()))?
        .send()
        .await
        .map_err(network)?;
    if response.ok() || response.status() == 400 {
        if let Ok(report) = response.json::<ImportReport>().await {
            return Ok(report);
        }
        return Err(ApiError::Unexpected("unreadable import report".into()));
    }
    Err(problem_of(response).await)
}

pub async fn create_group(name: &str) -> Result<GroupRef, ApiError> {
    let draft = GroupDraft {
        name: name.to_owned(),
    };
    send_json(Write::Post, routes::ADMIN_GROUPS, &draft).await
}

pub async fn delete_group(id: &GroupId) -> Result<(), ApiError> {
    delete(&routes::with_id(routes::ADMIN_GROUP, &id.0)).await
}

pub async fn group_members(id: &GroupId) -> Result<Vec<MemberView>, ApiError> {
    get_json(&routes::with_id(routes::ADMIN_GROUP_MEMBERS, &id.0)).await
}

/// Sets the members managed in the console (by e-mail address).
pub async fn set_group_members(
    id: &GroupId,
    emails: Vec<String>,
) -> Result<Vec<MemberView>, ApiError> {
    let path = routes::with_id(routes::ADMIN_GROUP_MEMBERS, &id.0);
    send_json(Write::Put, &path, &MembersDraft { emails }).await
}

/// The organization sign-in options.
pub async fn providers() -> Result<Vec<ProviderInfo>, ApiError> {
    get_json(routes::AUTH_PROVIDERS).await
}

/// The devices the signed-in user may help.
pub async fn devices() -> Result<Vec<DeviceSummary>, ApiError> {
    get_json(routes::DEVICES).await
}

pub async fn settings() -> Result<TenantSettings, ApiError> {
    get_json(routes::ADMIN_SETTINGS).await
}

pub async fn save_settings(settings: &TenantSettings) -> Result<TenantSettings, ApiError> {
    send_json(Write::Put, routes::ADMIN_SETTINGS, settings).await
}

pub async fn roles() -> Result<Vec<RoleView>, ApiError> {
    get_json(routes::ADMIN_ROLES).await
}

pub async fn create_role(draft: &RoleDraft) -> Result<RoleView, ApiError> {
    send_json(Write::Post, routes::ADMIN_ROLES, draft).await
}

pub async fn update_role(id: &RoleId, draft: &RoleDraft) -> Result<RoleView, ApiError> {
    send_json(
        Write::Put,
        &routes::with_id(routes::ADMIN_ROLE, &id.0),
        draft,
    )
    .await
}

pub async fn delete_role(id: &RoleId) -> Result<(), ApiError> {
    delete(&routes::with_id(routes::ADMIN_ROLE, &id.0)).await
}

pub async fn assignments() -> Result<Vec<AssignmentView>, ApiError> {
    get_json(routes::ADMIN_ASSIGNMENTS).await
}

pub async fn create_assignment(draft: &AssignmentDraft) -> Result<AssignmentView, ApiError> {
    send_json(Write::Post, routes::ADMIN_ASSIGNMENTS, draft).await
}

pub async fn update_assignment(
    id: &AssignmentId,
    draft: &AssignmentDraft,
) -> Result<AssignmentView, ApiError> {
    send_json(
        Write::Put,
        &routes::with_id(routes::ADMIN_ASSIGNMENT, &id.0),
        draft,
    )
    .await
}

pub async fn delete_assignment(id: &AssignmentId) -> Result<(), ApiError> {
    delete(&routes::with_id(routes::ADMIN_ASSIGNMENT, &id.0)).await
}

pub async fn groups() -> Result<Vec<GroupRef>, ApiError> {
    get_json(routes::ADMIN_GROUPS).await
}

/// The access review, filtered by helper and/or target (names or ids).
pub async fn access_review(helper: &str, target: &str) -> Result<Vec<AccessReviewRow>, ApiError> {
    let response = Request::get(routes::ADMIN_ACCESS_REVIEW)
        .query([("helper", helper), ("target", target)])
        .send()
        .await
        .map_err(network)?;
    decode(response).await
}

/// "End session" on the monitor (Manage settings).
pub async fn end_session(id: &tandem_protocol::SessionId) -> Result<(), ApiError> {
    no_content(
        Request::post(&routes::with_id(routes::ADMIN_SESSION_END, &id.0))
            .send()
            .await
            .map_err(network)?,
    )
    .await
}

/// The signed-in person's last sessions as the sharer.
pub async fn sessions_as_sharer() -> Result<Vec<tandem_protocol::reports::SharerSession>, ApiError>
{
    get_json(routes::SESSIONS_AS_SHARER).await
}

/// "Assist someone": a new session and its code.
pub async fn assist() -> Result<tandem_protocol::session::IssuedCode, ApiError> {
    send_json(Write::Post, routes::SESSIONS, &serde_json::json!({})).await
}

/// "Offer remote assistance" on a device: a session bound to it, its code,
/// and a help request to its agent.
pub async fn offer_assistance(
    device: &tandem_protocol::DeviceId,
) -> Result<tandem_protocol::session::IssuedCode, ApiError> {
    send_json(
        Write::Post,
        &routes::with_id(routes::DEVICE_SESSIONS, &device.0),
        &serde_json::json!({}),
    )
    .await
}

/// The sharer enters a code; `device` is the device this browser was
/// paired with (its agent then shares the screen).
pub async fn redeem(
    code: &str,
    device: Option<tandem_protocol::DeviceId>,
) -> Result<tandem_protocol::session::SessionView, ApiError> {
    let body = tandem_protocol::session::RedeemRequest {
        code: code.to_owned(),
        device,
    };
    send_json(Write::Post, routes::SESSION_REDEEM, &body).await
}

/// Pairs this browser with the device whose agent opened the link.
/// Pairs this browser with the link's device; the sharer confirmed it.
pub async fn pair(nonce: &str) -> Result<tandem_protocol::agent::Paired, ApiError> {
    let body = tandem_protocol::agent::PairRequest {
        nonce: nonce.to_owned(),
        confirm: true,
    };
    send_json(Write::Post, routes::AGENT_PAIR, &body).await
}

/// The device a pairing link would pair with (the link stays unused).
pub async fn pairing_preview(
    nonce: &str,
) -> Result<tandem_protocol::agent::PairingPreview, ApiError> {
    let body = tandem_protocol::agent::PairRequest {
        nonce: nonce.to_owned(),
        confirm: false,
    };
    send_json(Write::Post, routes::AGENT_PAIR_PREVIEW, &body).await
}

/// A session the caller takes part in.
pub async fn session(
    id: &tandem_protocol::SessionId,
) -> Result<tandem_protocol::session::SessionView, ApiError> {
    get_json(&routes::with_id(routes::SESSION, &id.0)).await
}

/// What a participant does to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionAction {
    Request(tandem_protocol::session::Mode),
    Consent(bool),
    Revoke,
    Pause,
    Resume,
    Leave,
}

/// Sends `action` for session `id`; answers the new view.
pub async fn session_action(
    id: &tandem_protocol::SessionId,
    action: SessionAction,
) -> Result<tandem_protocol::session::SessionView, ApiError> {
    use tandem_protocol::session::{ConsentAnswer, ModeRequest};
    let path = |route| routes::with_id(route, &id.0);
    match action {
        SessionAction::Request(mode) => {
            send_json(
                Write::Post,
                &path(routes::SESSION_REQUEST),
                &ModeRequest { mode },
            )
            .await
        }
        SessionAction::Consent(allow) => {
            send_json(
                Write::Post,
                &path(routes::SESSION_CONSENT),
                &ConsentAnswer { allow },
            )
            .await
        }
        SessionAction::Revoke => send_json(Write::Post, &path(routes::SESSION_REVOKE), &()).await,
        SessionAction::Pause => send_json(Write::Post, &path(routes::SESSION_PAUSE), &()).await,
        SessionAction::Resume => send_json(Write::Post, &path(routes::SESSION_RESUME), &()).await,
        SessionAction::Leave => send_json(Write::Post, &path(routes::SESSION_LEAVE), &()).await,
    }
}

/// Sets (or, blank, clears) the ticket reference of session `id` (helper).
pub async fn set_ticket(
    id: &tandem_protocol::SessionId,
    ticket: &str,
) -> Result<tandem_protocol::session::SessionView, ApiError> {
    let body = tandem_protocol::reports::TicketUpdate {
        ticket: Some(ticket.to_owned()),
    };
    send_json(
        Write::Put,
        &routes::with_id(routes::SESSION_TICKET, &id.0),
        &body,
    )
    .await
}

/// One page of the sessions report.
pub async fn report_page(
    query: &tandem_protocol::reports::ReportQuery,
) -> Result<Page<tandem_protocol::reports::SessionReport>, ApiError> {
    get_json(&with_query(routes::REPORT_SESSIONS, query)).await
}

/// The CSV export of the same selection (a link the browser downloads).
pub fn report_csv_href(query: &tandem_protocol::reports::ReportQuery) -> String {
    let mut all = query.clone();
    all.page = None;
    all.per_page = None;
    with_query(routes::REPORT_SESSIONS_CSV, &all)
}

fn with_query(route: &str, query: &tandem_protocol::reports::ReportQuery) -> String {
    let text = query.to_query_string();
    if text.is_empty() {
        route.to_owned()
    } else {
        format!("{route}?{text}")
    }
}

/// One session record with its steps.
pub async fn report_detail(
    id: &tandem_protocol::SessionId,
) -> Result<tandem_protocol::reports::SessionReportDetail, ApiError> {
    get_json(&routes::with_id(routes::REPORT_SESSION, &id.0)).await
}

/// The monitor page's figures.
pub async fn monitor() -> Result<tandem_protocol::reports::MonitorSummary, ApiError> {
    get_json(routes::REPORT_MONITOR).await
}

/// One page of the audit log, newest first.
pub async fn audit_page(query: &AuditQuery) -> Result<Page<AuditRecord>, ApiError> {
    let text = query.to_query_string();
    if text.is_empty() {
        get_json(routes::ADMIN_AUDIT_LOG).await
    } else {
        get_json(&format!("{}?{text}", routes::ADMIN_AUDIT_LOG)).await
    }
}

/// The tenant's enrollment tokens, newest first.
pub async fn enrollment_tokens() -> Result<Vec<EnrollmentTokenRow>, ApiError> {
    get_json(routes::ADMIN_ENROLLMENT_TOKENS).await
}

/// A new enrollment token; the answer holds the token, shown only once.
pub async fn create_enrollment_token(
    label: &str,
    valid_days: u32,
) -> Result<EnrollmentToken, ApiError> {
    let body = NewEnrollmentToken {
        label: label.to_owned(),
        valid_days,
    };
    send_json(Write::Post, routes::ADMIN_ENROLLMENT_TOKENS, &body).await
}

/// Revokes an enrollment token.
pub async fn revoke_enrollment_token(
    id: &tandem_protocol::EnrollmentTokenId,
) -> Result<EnrollmentTokenRow, ApiError> {
    let path = routes::with_id(routes::ADMIN_ENROLLMENT_TOKEN_REVOKE, &id.0);
    send_json(Write::Post, &path, &()).await
}

/// Creates a user with a Tandem account.
pub async fn create_user(draft: &UserDraft) -> Result<UserRow, ApiError> {
    send_json(Write::Post, routes::ADMIN_USERS, draft).await
}

/// Edits a user with a Tandem account.
pub async fn update_user(id: &UserId, draft: &UserDraft) -> Result<UserRow, ApiError> {
    send_json(
        Write::Put,
        &routes::with_id(routes::ADMIN_USER, &id.0),
        draft,
    )
    .await
}
