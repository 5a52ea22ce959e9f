//! The authorization matrix: every API route × every kind of caller →
//! the expected status. A route without a row fails the test, and so does a
//! row without a route. Object ids are Contoso's, so the other tenant's
//! administrator must get 404 (never data) for them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

#[path = "authz_matrix/access.rs"]
mod access;
mod support;

use axum::http::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use support::{App, app};
use tandem_protocol::routes::*;

/// The callers, in column order.
const CALLERS: [(&str, Option<&str>); 6] = [
    ("anonymous", None),
    ("sharer", Some("lynne@contoso.test")),
    ("view-only helper", Some("alex@contoso.test")),
    ("help desk operator", Some("megan@contoso.test")),
    ("administrator", Some("admin@contoso.test")),
    ("other tenant's admin", Some("admin@fabrikam.test")),
];

/// Ids of Contoso objects the routes are called with.
struct Ids {
    device: String,
    role: String,
    assignment: String,
    help_desk_group: String,
    sales_group: String,
    /// Megan helps Lynne (code redeemed, waiting for Megan's request).
    session: String,
    /// A user with a Tandem account.
    user: String,
    /// An enrollment token the administrator made.
    token: String,
}

impl Ids {
    async fn find(app: &App) -> Ids {
        let admin = app.sign_in("admin@contoso.test").await;
        let by_name = |list: &Value, key: &str, name: &str| -> String {
            list.as_array()
                .unwrap()
                .iter()
                .find(|item| item[key] == name)
                .unwrap_or_else(|| panic!("no {name}"))["id"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        Ids {
            device: by_name(&app.get_json(DEVICES, &admin).await, "name", "LT-LYNNE-01"),
            role: by_name(
                &app.get_json(ADMIN_ROLES, &admin).await,
                "name",
                "Tier 2 (no elevation)",
            ),
            assignment: by_name(
                &app.get_json(ADMIN_ASSIGNMENTS, &admin).await,
                "name",
                "Help desk: everyone",
            ),
            help_desk_group: by_name(
                &app.get_json(ADMIN_GROUPS, &admin).await,
                "name",
                "Help Desk",
            ),
            sales_group: by_name(&app.get_json(ADMIN_GROUPS, &admin).await, "name", "Sales"),
            session: redeemed_session(app).await,
            user: by_name(
                &app.get_json(&format!("{ADMIN_USERS}?q=diego"), &admin)
                    .await["items"],
                "display_name",
                "Diego Siciliani",
            ),
            token: {
                let body = token_body_for_ids();
                let made = app
                    .call(
                        Method::POST,
                        ADMIN_ENROLLMENT_TOKENS,
                        Some(&body),
                        Some(&admin),
                    )
                    .await;
                assert_eq!(made.status(), 201);
                let made: Value = serde_json::from_slice(&support::body_bytes(made).await).unwrap();
                made["id"].as_str().unwrap().to_owned()
            },
        }
    }
}

/// Megan issues a code and Lynne enters it.
async fn redeemed_session(app: &App) -> String {
    let megan = app.sign_in("megan@contoso.test").await;
    let lynne = app.sign_in("lynne@contoso.test").await;
    let issued = app.call(Method::POST, SESSIONS, None, Some(&megan)).await;
    assert_eq!(issued.status(), 201);
    let issued: Value = serde_json::from_slice(&support::body_bytes(issued).await).unwrap();
    let redeem = json!({ "code": issued["code"] });
    let redeemed = app
        .call(Method::POST, SESSION_REDEEM, Some(&redeem), Some(&lynne))
        .await;
    assert_eq!(redeemed.status(), 200);
    issued["session"]["id"].as_str().unwrap().to_owned()
}

type Body = fn(&Ids) -> Value;

struct Row {
    method: Method,
    route: &'static str,
    body: Option<Body>,
    /// Statuses for [`CALLERS`], in order.
    expect: [u16; 6],
}

fn settings_body(_: &Ids) -> Value {
    serde_json::to_value(tandem_protocol::settings::TenantSettings::default()).unwrap()
}

fn role_body(_: &Ids) -> Value {
    json!({ "name": "Matrix role", "permissions": ["view_screen"] })
}

fn assignment_body(ids: &Ids) -> Value {
    json!({
        "name": "Matrix assignment",
        "role_id": "builtin-remote-viewer",
        "admin_groups": [ids.help_desk_group],
        "all_users": true,
    })
}

fn group_body(_: &Ids) -> Value {
    json!({ "name": "Matrix group" })
}

fn members_body(_: &Ids) -> Value {
    json!({ "emails": ["diego@contoso.test"] })
}

fn import_body(_: &Ids) -> Value {
    Value::String(
        "name,os,os_version,primary_user_email,enrolled,compliance\nMATRIX-PC,Windows,11,,true,unknown\n"
            .into(),
    )
}

fn login_body(_: &Ids) -> Value {
    json!({ "email": "megan@contoso.test", "password": tandem_server::seed::DEMO_PASSWORD })
}

fn wrong_code_body(_: &Ids) -> Value {
    json!({ "code": "WRNGC0DE" })
}

fn register_body(_: &Ids) -> Value {
    json!({ "public_key": "not-a-key", "name": "x", "os": "Linux", "os_version": "12",
            "agent_version": "0.1.0", "enrollment_token": null })
}

fn pair_body(_: &Ids) -> Value {
    json!({ "nonce": "not-a-pairing-nonce", "confirm": true })
}

fn token_body(_: &Ids) -> Value {
    token_body_for_ids()
}

fn token_body_for_ids() -> Value {
    json!({ "label": "Matrix kiosks", "valid_days": 7 })
}

fn new_user_body(_: &Ids) -> Value {
    json!({ "email": "matrix@contoso.test", "display_name": "Matrix User" })
}

fn user_body(_: &Ids) -> Value {
    json!({ "email": "diego@contoso.test", "display_name": "Diego S." })
}

fn view_body(_: &Ids) -> Value {
    json!({ "mode": "view" })
}

fn ticket_body(_: &Ids) -> Value {
    json!({ "ticket": "INC-1042" })
}

fn allow_body(_: &Ids) -> Value {
    json!({ "allow": true })
}

/// Only the two participants see a session; everyone else, even an
/// administrator, gets 404.
const PARTICIPANTS: fn(u16, u16) -> [u16; 6] =
    |sharer, helper| [401, sharer, 404, helper, 404, 404];

const ADMIN_ONLY: [u16; 6] = [401, 403, 403, 403, 200, 200];

fn matrix() -> Vec<Row> {
    let row = |method, route, body, expect| Row {
        method,
        route,
        body,
        expect,
    };
    vec![
        row(Method::GET, OPENAPI, None, [200; 6]),
        row(Method::POST, AUTH_LOGIN, Some(login_body as Body), [200; 6]),
        row(Method::POST, AUTH_LOGOUT, None, [204; 6]),
        row(Method::GET, AUTH_ME, None, [401, 200, 200, 200, 200, 200]),
        row(Method::GET, AUTH_PROVIDERS, None, [200; 6]),
        // Browser navigations: they always redirect (here: no such provider,
        // no pending sign-in), never answer with data.
        row(Method::GET, OIDC_START, None, [303; 6]),
        row(Method::GET, OIDC_CALLBACK, None, [303; 6]),
        row(Method::GET, DEVICES, None, [401, 200, 200, 200, 200, 200]),
        // Lynne may not help her own device; Alex's scope (Finance) covers it.
        row(Method::GET, DEVICE, None, [401, 404, 200, 200, 200, 404]),
        // Lynne holds no remote-help role.
        row(Method::POST, SESSIONS, None, [401, 403, 201, 201, 201, 201]),
        row(
            Method::POST,
            SESSION_REDEEM,
            Some(wrong_code_body as Body),
            [401, 400, 400, 400, 400, 400],
        ),
        row(Method::GET, SESSION_GRANT_KEY, None, [200; 6]),
        row(Method::GET, SESSION, None, PARTICIPANTS(200, 200)),
        // The sharer cannot request a mode; the helper can.
        row(
            Method::POST,
            SESSION_REQUEST,
            Some(view_body as Body),
            PARTICIPANTS(409, 200),
        ),
        // Nothing was requested yet, and only the sharer ever consents.
        row(
            Method::POST,
            SESSION_CONSENT,
            Some(allow_body as Body),
            PARTICIPANTS(409, 409),
        ),
        row(Method::POST, SESSION_REVOKE, None, PARTICIPANTS(409, 409)),
        row(Method::POST, SESSION_PAUSE, None, PARTICIPANTS(409, 409)),
        row(Method::POST, SESSION_RESUME, None, PARTICIPANTS(409, 409)),
        row(Method::POST, SESSION_LEAVE, None, PARTICIPANTS(200, 200)),
        // Only the session's helper types its ticket reference.
        row(
            Method::PUT,
            SESSION_TICKET,
            Some(ticket_body as Body),
            [401, 403, 404, 200, 404, 404],
        ),
        // Everyone signed in gets a report: the whole tenant with Read
        // session reports, else their own sessions as helper.
        row(
            Method::GET,
            REPORT_SESSIONS,
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        row(
            Method::GET,
            REPORT_SESSIONS_CSV,
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        // Megan's session: hers, and the administrator's to read.
        row(
            Method::GET,
            REPORT_SESSION,
            None,
            [401, 404, 404, 200, 200, 404],
        ),
        row(Method::GET, REPORT_MONITOR, None, ADMIN_ONLY),
        row(Method::GET, REPORT_LIVE, None, ADMIN_ONLY),
        // Everyone signed in sees their own sessions as the sharer.
        row(
            Method::GET,
            SESSIONS_AS_SHARER,
            None,
            [401, 200, 200, 200, 200, 200],
        ),
        // Ending a live session takes Manage settings in its tenant.
        row(
            Method::POST,
            ADMIN_SESSION_END,
            None,
            [401, 403, 403, 403, 204, 404],
        ),
        // Without upgrade headers: a clear 400 for anyone signed in.
        row(Method::GET, SIGNAL, None, [401, 400, 400, 400, 400, 400]),
        // Lynne and Alex may not offer assistance; Megan may, but the
        // device's agent is offline; Fabrikam's admin does not see it.
        row(
            Method::POST,
            DEVICE_SESSIONS,
            None,
            [401, 403, 403, 409, 409, 404],
        ),
        // Agents, not people: a malformed key is refused for anyone.
        row(
            Method::POST,
            AGENT_REGISTER,
            Some(register_body as Body),
            [400; 6],
        ),
        // Device-authenticated: a session cookie is not a device key.
        row(Method::GET, AGENT_CONNECT, None, [401; 6]),
        row(Method::GET, AGENT_SIGNAL, None, [401; 6]),
        row(
            Method::POST,
            AGENT_PAIR,
            Some(pair_body as Body),
            [401, 410, 410, 410, 410, 410],
        ),
        row(
            Method::POST,
            AGENT_PAIR_PREVIEW,
            Some(pair_body as Body),
            [401, 410, 410, 410, 410, 410],
        ),
        row(Method::GET, ADMIN_ENROLLMENT_TOKENS, None, ADMIN_ONLY),
        row(
            Method::POST,
            ADMIN_ENROLLMENT_TOKENS,
            Some(token_body as Body),
            [401, 403, 403, 403, 201, 201],
        ),
        // Contoso's token is unknown in Fabrikam.
        row(
            Method::POST,
            ADMIN_ENROLLMENT_TOKEN_REVOKE,
            None,
            [401, 403, 403, 403, 200, 404],
        ),
        row(Method::GET, ADMIN_SETTINGS, None, ADMIN_ONLY),
        row(
            Method::PUT,
            ADMIN_SETTINGS,
            Some(settings_body as Body),
            ADMIN_ONLY,
        ),
        row(Method::GET, ADMIN_ROLES, None, ADMIN_ONLY),
        row(
            Method::POST,
            ADMIN_ROLES,
            Some(role_body as Body),
            [401, 403, 403, 403, 201, 201],
        ),
        row(
            Method::PUT,
            ADMIN_ROLE,
            Some(role_body as Body),
            [401, 403, 403, 403, 200, 404],
        ),
        row(
            Method::DELETE,
            ADMIN_ROLE,
            None,
            [401, 403, 403, 403, 204, 404],
        ),
        row(Method::GET, ADMIN_ASSIGNMENTS, None, ADMIN_ONLY),
        // Contoso's group ids are unknown in Fabrikam: refused, nothing created.
        row(
            Method::POST,
            ADMIN_ASSIGNMENTS,
            Some(assignment_body as Body),
            [401, 403, 403, 403, 201, 400],
        ),
        row(
            Method::PUT,
            ADMIN_ASSIGNMENT,
            Some(assignment_body as Body),
            [401, 403, 403, 403, 200, 404],
        ),
        row(
            Method::DELETE,
            ADMIN_ASSIGNMENT,
            None,
            [401, 403, 403, 403, 204, 404],
        ),
        row(Method::GET, ADMIN_GROUPS, None, ADMIN_ONLY),
        row(
            Method::POST,
            ADMIN_GROUPS,
            Some(group_body as Body),
            [401, 403, 403, 403, 201, 201],
        ),
        row(
            Method::DELETE,
            ADMIN_GROUP,
            None,
            [401, 403, 403, 403, 204, 404],
        ),
        row(
            Method::GET,
            ADMIN_GROUP_MEMBERS,
            None,
            [401, 403, 403, 403, 200, 404],
        ),
        row(
            Method::PUT,
            ADMIN_GROUP_MEMBERS,
            Some(members_body as Body),
            [401, 403, 403, 403, 200, 404],
        ),
        row(Method::GET, ADMIN_ACCESS_REVIEW, None, ADMIN_ONLY),
        row(Method::GET, ADMIN_AUDIT, None, ADMIN_ONLY),
        row(Method::GET, ADMIN_AUDIT_LOG, None, ADMIN_ONLY),
        row(Method::GET, ADMIN_USERS, None, ADMIN_ONLY),
        // E-mail addresses are unique across tenants: Fabrikam's admin may
        // create this one as well as Contoso's (one fresh app per cell).
        row(
            Method::POST,
            ADMIN_USERS,
            Some(new_user_body as Body),
            [401, 403, 403, 403, 201, 201],
        ),
        row(
            Method::PUT,
            ADMIN_USER,
            Some(user_body as Body),
            [401, 403, 403, 403, 200, 404],
        ),
        row(Method::GET, ADMIN_GROUP_LIST, None, ADMIN_ONLY),
        row(Method::GET, ADMIN_DEVICES, None, ADMIN_ONLY),
        row(
            Method::POST,
            ADMIN_IMPORT,
            Some(import_body as Body),
            ADMIN_ONLY,
        ),
    ]
}

fn path_for(route: &str, ids: &Ids) -> String {
    let id = match route {
        DEVICE | DEVICE_SESSIONS => &ids.device,
        ADMIN_ROLE => &ids.role,
        ADMIN_ASSIGNMENT => &ids.assignment,
        ADMIN_IMPORT => "devices",
        ADMIN_USER => &ids.user,
        ADMIN_ENROLLMENT_TOKEN_REVOKE => &ids.token,
        ADMIN_GROUP | ADMIN_GROUP_MEMBERS => &ids.sales_group,
        SESSION | SESSION_REQUEST | SESSION_CONSENT | SESSION_REVOKE | SESSION_PAUSE
        | SESSION_RESUME | SESSION_LEAVE | SESSION_TICKET | REPORT_SESSION | ADMIN_SESSION_END => {
            &ids.session
        }
        _ => return route.to_owned(),
    };
    with_id(route, id)
}

#[test]
fn every_route_has_exactly_one_row() {
    let routes: BTreeSet<(String, &str)> = tandem_server::http::api_route_list()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p))
        .collect();
    let rows: Vec<(String, &str)> = matrix()
        .iter()
        .map(|r| (r.method.to_string(), r.route))
        .collect();
    let row_set: BTreeSet<_> = rows.iter().cloned().collect();
    assert_eq!(rows.len(), row_set.len(), "a route has two rows");
    let missing: Vec<_> = routes.difference(&row_set).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the authz matrix: {missing:?}"
    );
    let stale: Vec<_> = row_set.difference(&routes).collect();
    assert!(stale.is_empty(), "matrix rows without a route: {stale:?}");
}

#[tokio::test]
async fn every_caller_gets_the_expected_status_on_every_route() {
    let mut failures = Vec::new();
    // Reads share one app and one sign-in per caller: a GET changes nothing
    // (a GET that did would show here as a mismatch in a later cell).
    let reads = app().await;
    let read_ids = Ids::find(&reads).await;
    let mut read_cookies = Vec::new();
    for (_, email) in CALLERS {
        read_cookies.push(match email {
            Some(email) => Some(reads.sign_in(email).await),
            None => None,
        });
    }
    for row in matrix() {
        for (column, (who, email)) in CALLERS.iter().enumerate() {
            // Any other method gets a fresh app per cell: a DELETE in one
            // cell cannot affect another.
            let (fresh, fresh_ids);
            let (app, ids, cookie) = if row.method == Method::GET {
                (&reads, &read_ids, read_cookies[column].clone())
            } else {
                fresh = app().await;
                fresh_ids = Ids::find(&fresh).await;
                let cookie = match email {
                    Some(email) => Some(fresh.sign_in(email).await),
                    None => None,
                };
                (&fresh, &fresh_ids, cookie)
            };
            let body = row.body.map(|make| make(ids));
            let path = path_for(row.route, ids);
            let status = app
                .call(row.method.clone(), &path, body.as_ref(), cookie.as_deref())
                .await
                .status()
                .as_u16();
            if status != row.expect[column] {
                failures.push(format!(
                    "{} {} as {who}: got {status}, expected {}",
                    row.method, row.route, row.expect[column]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authz matrix mismatches:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn the_other_tenant_sees_none_of_contosos_data() {
    let app = app().await;
    // A Contoso session, so that the reports have something to leak, and
    // an enrollment token.
    redeemed_session(&app).await;
    let admin = app.sign_in("admin@contoso.test").await;
    let token = json!({ "label": "Finance laptops", "valid_days": 1 });
    let made = app
        .call(
            Method::POST,
            ADMIN_ENROLLMENT_TOKENS,
            Some(&token),
            Some(&admin),
        )
        .await;
    assert_eq!(made.status(), 201);
    let fabrikam = app.sign_in("admin@fabrikam.test").await;
    for route in [
        DEVICES,
        ADMIN_ROLES,
        ADMIN_ASSIGNMENTS,
        ADMIN_GROUPS,
        ADMIN_ACCESS_REVIEW,
        ADMIN_AUDIT_LOG,
        ADMIN_USERS,
        ADMIN_ENROLLMENT_TOKENS,
        REPORT_SESSIONS,
        REPORT_MONITOR,
    ] {
        let text = app.get_json(route, &fabrikam).await.to_string();
        for contoso in [
            "LT-LYNNE-01",
            "Tier 2",
            "Help desk: everyone",
            "Finance",
            "Megan",
            "contoso",
        ] {
            assert!(!text.contains(contoso), "{route} leaks {contoso}: {text}");
        }
    }
}
