//! The console's routes as a typed enum. Paths are written here and only here.

use tandem_protocol::SessionId;
use tandem_protocol::admin::AuditQuery;
use tandem_protocol::reports::{Outcome, ReportFlag, ReportQuery, ReportSort};
use tandem_protocol::routes::Console;

/// Every page the console can show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppRoute {
    /// `/`: sends signed-in users to their devices.
    Home,
    /// `/signin`, optionally with the page to return to afterwards.
    SignIn { next: Option<String> },
    /// `/devices`: the devices the user may help.
    Devices,
    /// `/admin/settings`: tenant settings.
    AdminSettings,
    /// `/admin/roles`: built-in and custom roles.
    AdminRoles,
    /// `/admin/assignments`: role assignments.
    AdminAssignments,
    /// `/admin/users`, `/admin/groups`, `/admin/devices`, with search and page.
    Directory {
        kind: DirectoryKind,
        q: Option<String>,
        page: Option<u32>,
    },
    /// `/admin/access-review`, optionally filtered: who can help whom, with what.
    AccessReview {
        helper: Option<String>,
        target: Option<String>,
    },
    /// `/sessions/:id`: the helper's view of a session.
    Session { id: SessionId },
    /// `/share`: the sharer enters a code.
    Share,
    /// `/share/:id`: the sharer's view of a session.
    ShareSession { id: SessionId },
    /// `/reports?…`: session records, filters, sort and page in the query.
    Reports(ReportQuery),
    /// `/reports/:id`: one session record with its steps.
    ReportDetail { id: SessionId },
    /// `/monitor`: live sessions and the last 30 days.
    Monitor,
    /// `/admin/audit?q=&kind=&page=`: the audit log, searched and paged.
    AdminAudit(AuditQuery),
    /// `/admin/enrollment`: enrollment tokens for agents.
    AdminEnrollment,
}

/// Which directory listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryKind {
    Users,
    Groups,
    Devices,
}

impl DirectoryKind {
    pub fn path(self) -> &'static str {
        match self {
            DirectoryKind::Users => "/admin/users",
            DirectoryKind::Groups => "/admin/groups",
            DirectoryKind::Devices => "/admin/devices",
        }
    }
}

pub const HOME: &str = "/";
pub const SIGN_IN: &str = tandem_protocol::routes::SIGN_IN_PAGE;
pub const DEVICES: &str = "/devices";
pub const ADMIN_SETTINGS: &str = "/admin/settings";
pub const ADMIN_ROLES: &str = "/admin/roles";
pub const ADMIN_ASSIGNMENTS: &str = "/admin/assignments";
pub const ACCESS_REVIEW: &str = "/admin/access-review";
pub const SESSIONS: &str = "/sessions";
pub const SHARE: &str = tandem_protocol::routes::SHARE_PAGE;
pub const REPORTS: &str = "/reports";
pub const MONITOR: &str = "/monitor";
pub const ADMIN_AUDIT: &str = "/admin/audit";
pub const ADMIN_ENROLLMENT: &str = "/admin/enrollment";

/// The audit log's search, kind and page from the page's query parameters.
pub fn audit_query(get: impl Fn(&str) -> Option<String>) -> AuditQuery {
    let text = |k: &str| get(k).filter(|v| !v.is_empty());
    AuditQuery {
        q: text("q"),
        kind: text("kind"),
        page: text("page").and_then(|p| p.parse().ok()).filter(|p| *p > 1),
        per_page: None,
    }
}

/// The report's filters from the page's query parameters; anything that
/// does not parse is left out.
pub fn report_query(get: impl Fn(&str) -> Option<String>) -> ReportQuery {
    let text = |k: &str| get(k).filter(|v| !v.is_empty());
    ReportQuery {
        from: text("from"),
        to: text("to"),
        helper: text("helper").map(tandem_protocol::UserId),
        sharer: text("sharer").map(tandem_protocol::UserId),
        device: text("device").map(tandem_protocol::DeviceId),
        outcome: text("outcome").and_then(|o| Outcome::parse(&o)),
        flag: text("flag").and_then(|f| ReportFlag::parse(&f)),
        sort: text("sort").and_then(|s| ReportSort::parse(&s)),
        desc: text("desc").and_then(|d| d.parse().ok()),
        page: text("page").and_then(|p| p.parse().ok()).filter(|p| *p > 1),
        per_page: text("per_page").and_then(|p| p.parse().ok()),
    }
}

impl AppRoute {
    /// The URL of this route, query included.
    pub fn href(&self) -> String {
        match self {
            AppRoute::Home => HOME.to_owned(),
            AppRoute::SignIn { next: None } => SIGN_IN.to_owned(),
            AppRoute::SignIn { next: Some(next) } => {
                format!("{SIGN_IN}?next={}", percent_encode(next))
            }
            AppRoute::Devices => DEVICES.to_owned(),
            AppRoute::AdminSettings => ADMIN_SETTINGS.to_owned(),
            AppRoute::AdminRoles => ADMIN_ROLES.to_owned(),
            AppRoute::AdminAssignments => ADMIN_ASSIGNMENTS.to_owned(),
            AppRoute::Directory { kind, q, page } => {
                let mut query = Vec::new();
                if let Some(q) = q.as_deref().filter(|q| !q.is_empty()) {
                    query.push(format!("q={}", percent_encode(q)));
                }
                if let Some(page) = page.filter(|p| *p > 1) {
                    query.push(format!("page={page}"));
                }
                if query.is_empty() {
                    kind.path().to_owned()
                } else {
                    format!("{}?{}", kind.path(), query.join("&"))
                }
            }
            AppRoute::Session { id } => format!("{SESSIONS}/{}", percent_encode(&id.0)),
            AppRoute::Share => SHARE.to_owned(),
            AppRoute::ShareSession { id } => format!("{SHARE}/{}", percent_encode(&id.0)),
            AppRoute::Reports(query) => match query.to_query_string() {
                text if text.is_empty() => REPORTS.to_owned(),
                text => format!("{REPORTS}?{text}"),
            },
            AppRoute::ReportDetail { id } => format!("{REPORTS}/{}", percent_encode(&id.0)),
            AppRoute::Monitor => MONITOR.to_owned(),
            AppRoute::AdminAudit(query) => match query.to_query_string() {
                text if text.is_empty() => ADMIN_AUDIT.to_owned(),
                text => format!("{ADMIN_AUDIT}?{text}"),
            },
            AppRoute::AdminEnrollment => ADMIN_ENROLLMENT.to_owned(),
            AppRoute::AccessReview { helper, target } => {
                let query: Vec<String> = [("helper", helper), ("target", target)]
                    .into_iter()
                    .filter_map(|(k, v)| {
                        v.as_deref()
                            .filter(|v| !v.is_empty())
                            .map(|v| format!("{k}={}", percent_encode(v)))
                    })
                    .collect();
                if query.is_empty() {
                    ACCESS_REVIEW.to_owned()
                } else {
                    format!("{ACCESS_REVIEW}?{}", query.join("&"))
                }
            }
        }
    }

    /// The build the server sends for this page
    /// (`tandem_protocol::routes::Console`). The match is exhaustive so
    /// that a new page must say which build has it; a test checks that the
    /// server's prefixes agree.
    pub fn console(&self) -> Console {
        match self {
            AppRoute::Home
            | AppRoute::SignIn { .. }
            | AppRoute::Devices
            | AppRoute::Session { .. } => Console::Helper,
            AppRoute::Share | AppRoute::ShareSession { .. } => Console::Sharer,
            AppRoute::AdminSettings
            | AppRoute::AdminRoles
            | AppRoute::AdminAssignments
            | AppRoute::Directory { .. }
            | AppRoute::AccessReview { .. }
            | AppRoute::Reports(_)
            | AppRoute::ReportDetail { .. }
            | AppRoute::Monitor
            | AppRoute::AdminAudit(_)
            | AppRoute::AdminEnrollment => Console::Full,
        }
    }

    /// Where to go after signing in: `next` if it is a safe local path,
    /// else the devices page.
    pub fn after_sign_in(next: Option<&str>) -> String {
        tandem_protocol::routes::after_sign_in(next)
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters and `/`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(char::from(byte));
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// One route of every kind.
    fn every_route() -> Vec<AppRoute> {
        let id = SessionId("0193a".into());
        vec![
            AppRoute::Home,
            AppRoute::SignIn {
                next: Some("/admin/roles".into()),
            },
            AppRoute::Devices,
            AppRoute::AdminSettings,
            AppRoute::AdminRoles,
            AppRoute::AdminAssignments,
            AppRoute::Directory {
                kind: DirectoryKind::Users,
                q: Some("a b".into()),
                page: Some(2),
            },
            AppRoute::Directory {
                kind: DirectoryKind::Groups,
                q: None,
                page: None,
            },
            AppRoute::Directory {
                kind: DirectoryKind::Devices,
                q: None,
                page: None,
            },
            AppRoute::AccessReview {
                helper: Some("Alex".into()),
                target: None,
            },
            AppRoute::Session { id: id.clone() },
            AppRoute::Share,
            AppRoute::ShareSession { id: id.clone() },
            AppRoute::Reports(ReportQuery::default()),
            AppRoute::ReportDetail { id },
            AppRoute::Monitor,
            AppRoute::AdminAudit(AuditQuery::default()),
            AppRoute::AdminEnrollment,
        ]
    }

    #[wasm_bindgen_test]
    fn the_server_sends_each_page_the_build_that_has_it() {
        for route in every_route() {
            let href = route.href();
            let path = href.split('?').next().unwrap_or_default();
            assert_eq!(Console::for_path(path), route.console(), "{href}");
        }
    }

    #[wasm_bindgen_test]
    fn hrefs() {
        assert_eq!(AppRoute::Home.href(), "/");
        assert_eq!(AppRoute::Devices.href(), "/devices");
        assert_eq!(AppRoute::SignIn { next: None }.href(), "/signin");
        let next = Some("/devices?q=a b&x=1".to_owned());
        assert_eq!(
            AppRoute::SignIn { next }.href(),
            "/signin?next=/devices%3Fq%3Da%20b%26x%3D1"
        );
    }

    #[wasm_bindgen_test]
    fn session_pages() {
        let id = SessionId::from("0b5e-4c");
        assert_eq!(
            AppRoute::Session { id: id.clone() }.href(),
            "/sessions/0b5e-4c"
        );
        assert_eq!(AppRoute::Share.href(), "/share");
        assert_eq!(AppRoute::ShareSession { id }.href(), "/share/0b5e-4c");
    }

    #[wasm_bindgen_test]
    fn directory_search_and_page_live_in_the_query() {
        let first = AppRoute::Directory {
            kind: DirectoryKind::Users,
            q: None,
            page: Some(1),
        };
        assert_eq!(first.href(), "/admin/users");
        let found = AppRoute::Directory {
            kind: DirectoryKind::Devices,
            q: Some("LT 1".into()),
            page: Some(3),
        };
        assert_eq!(found.href(), "/admin/devices?q=LT%201&page=3");
    }

    #[wasm_bindgen_test]
    fn report_filters_live_in_the_query_and_read_back() {
        let query = ReportQuery {
            from: Some("2026-11-01".into()),
            outcome: Some(Outcome::Refused),
            flag: Some(ReportFlag::OutsideHours),
            sort: Some(ReportSort::Duration),
            desc: Some(false),
            page: Some(3),
            ..ReportQuery::default()
        };
        let href = AppRoute::Reports(query.clone()).href();
        assert_eq!(
            href,
            "/reports?from=2026-11-01&outcome=refused&flag=outside_hours&sort=duration&desc=false&page=3"
        );
        let params: Vec<(String, String)> = href
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or_default()
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let back = report_query(|k| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()));
        assert_eq!(back, query);
        assert_eq!(AppRoute::Reports(ReportQuery::default()).href(), "/reports");
        let junk = report_query(|k| (k == "outcome" || k == "page").then(|| "nope".to_owned()));
        assert_eq!(junk, ReportQuery::default());
        assert_eq!(
            AppRoute::ReportDetail { id: "a b".into() }.href(),
            "/reports/a%20b"
        );
        assert_eq!(AppRoute::Monitor.href(), "/monitor");
    }

    #[wasm_bindgen_test]
    fn audit_search_kind_and_page_live_in_the_query() {
        let query = audit_query(|k| match k {
            "q" => Some("Megan B".into()),
            "kind" => Some("role".into()),
            "page" => Some("3".into()),
            _ => None,
        });
        assert_eq!(
            AppRoute::AdminAudit(query).href(),
            "/admin/audit?q=Megan%20B&kind=role&page=3"
        );
        let junk = audit_query(|k| (k == "kind" || k == "page").then(|| "1".to_owned()));
        assert_eq!(AppRoute::AdminAudit(junk).href(), "/admin/audit");
        assert_eq!(AppRoute::AdminEnrollment.href(), "/admin/enrollment");
    }

    #[wasm_bindgen_test]
    fn access_review_filters_live_in_the_query() {
        let none = AppRoute::AccessReview {
            helper: None,
            target: Some(String::new()),
        };
        assert_eq!(none.href(), "/admin/access-review");
        let both = AppRoute::AccessReview {
            helper: Some("Megan B".into()),
            target: Some("LT-1".into()),
        };
        assert_eq!(
            both.href(),
            "/admin/access-review?helper=Megan%20B&target=LT-1"
        );
    }
}
