//! Session reports and monitoring (product.md, "Reports and privacy").
//!
//! A session record holds facts only: who, which device, when, which
//! modes for how long, which features were used (a flag each) and how it
//! ended. Never a screen image, a keystroke, chat text or clipboard
//! content.

use crate::session::Party;
use crate::{DeviceId, SessionId, UnixMillis, UserId};
use serde::{Deserialize, Serialize};

/// Longest ticket reference a helper may type.
pub const MAX_TICKET_CHARS: usize = 64;
/// Most rows a CSV export holds (a bounded answer; narrow the filter for more).
pub const MAX_EXPORT_ROWS: u32 = 50_000;

/// How a session ended (or that it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Outcome {
    /// Not ended yet.
    Active,
    /// Someone clicked Leave.
    Completed,
    /// The sharer declined the first request.
    Declined,
    /// A policy check refused it.
    Refused,
    /// Something broke.
    Failed,
    /// A participant dropped and did not come back in time.
    Disconnected,
    /// The code expired before it was used.
    Expired,
}

impl Outcome {
    pub const ALL: [Outcome; 7] = [
        Outcome::Active,
        Outcome::Completed,
        Outcome::Declined,
        Outcome::Refused,
        Outcome::Failed,
        Outcome::Disconnected,
        Outcome::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Active => "active",
            Outcome::Completed => "completed",
            Outcome::Declined => "declined",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
            Outcome::Disconnected => "disconnected",
            Outcome::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }

    /// How the console names it.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Active => "Active",
            Outcome::Completed => "Completed",
            Outcome::Declined => "Declined by the sharer",
            Outcome::Refused => "Refused by policy",
            Outcome::Failed => "Failed",
            Outcome::Disconnected => "Disconnected",
            Outcome::Expired => "Code expired",
        }
    }
}

/// The session record, as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionReport {
    pub id: SessionId,
    /// The helper (provider).
    pub helper_id: UserId,
    pub helper_name: String,
    /// The sharer (recipient); none while the code is unused, or when a
    /// sharer of another organization tried it.
    pub sharer_id: Option<UserId>,
    pub sharer_name: Option<String>,
    pub device_id: Option<DeviceId>,
    pub device_name: Option<String>,
    pub tenant_name: String,
    pub started_at: UnixMillis,
    pub ended_at: Option<UnixMillis>,
    /// End minus start; for a live session, until now.
    pub duration_ms: i64,
    /// Time in view only, full control and paused (live sessions until now).
    pub view_ms: i64,
    pub control_ms: i64,
    pub paused_ms: i64,
    /// The agent followed a UAC or secure-desktop prompt for the helper in
    /// full control.
    pub elevation_used: bool,
    /// The helper held Elevation while in full control through the agent
    /// (whether or not a prompt came up).
    #[serde(default)]
    pub elevation_held: bool,
    pub pause_used: bool,
    pub chat_used: bool,
    pub annotation_used: bool,
    /// Clipboard text put on the device, and read from it, for the helper
    /// (how often; never the text).
    #[serde(default)]
    pub clipboard_to_device: u32,
    #[serde(default)]
    pub clipboard_from_device: u32,
    /// Files moved whole to the device and from it: how many, and their
    /// total size in bytes (never names or content).
    #[serde(default)]
    pub files_to_device: u32,
    #[serde(default)]
    pub files_from_device: u32,
    #[serde(default)]
    pub file_bytes_to_device: u64,
    #[serde(default)]
    pub file_bytes_from_device: u64,
    pub outcome: Outcome,
    /// The policy's reason or the error, for refused and failed sessions.
    pub outcome_detail: Option<String>,
    /// Who ended it: a participant, or the server (expiry, drop, policy).
    pub ended_by: Option<Party>,
    pub ended_by_name: Option<String>,
    pub reconnects: u32,
    pub ticket: Option<String>,
    /// Started outside the tenant's working hours (in its time zone).
    pub outside_hours: bool,
    /// The tenant-local calendar day it started on, `YYYY-MM-DD`.
    pub local_day: String,
}

/// One step of a session, for the detail view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionStep {
    pub at: UnixMillis,
    pub actor: Party,
    pub actor_name: Option<String>,
    /// What happened, in words ("The sharer allowed full control.").
    pub what: String,
}

/// A session record with its steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionReportDetail {
    pub report: SessionReport,
    pub steps: Vec<SessionStep>,
}

/// What the report can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReportSort {
    #[default]
    Started,
    Duration,
    Helper,
    Sharer,
    Device,
    Outcome,
}

impl ReportSort {
    pub const ALL: [ReportSort; 6] = [
        ReportSort::Started,
        ReportSort::Duration,
        ReportSort::Helper,
        ReportSort::Sharer,
        ReportSort::Device,
        ReportSort::Outcome,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportSort::Started => "started",
            ReportSort::Duration => "duration",
            ReportSort::Helper => "helper",
            ReportSort::Sharer => "sharer",
            ReportSort::Device => "device",
            ReportSort::Outcome => "outcome",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A review aid the report can be narrowed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReportFlag {
    /// Started outside working hours.
    OutsideHours,
    /// Elevation was used.
    Elevation,
}

impl ReportFlag {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportFlag::OutsideHours => "outside_hours",
            ReportFlag::Elevation => "elevation",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [ReportFlag::OutsideHours, ReportFlag::Elevation]
            .into_iter()
            .find(|f| f.as_str() == text)
    }
}

/// `?from=&to=&helper=&sharer=&device=&outcome=&flag=&sort=&desc=&page=&per_page=`
/// of the sessions report. Days are the tenant's local days, `YYYY-MM-DD`,
/// both ends included.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helper: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharer: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<ReportFlag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<ReportSort>,
    /// Descending (the default for `started`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desc: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
}

/// Whether `text` is a calendar day `YYYY-MM-DD` (digits and dashes in
/// place; the server checks the calendar).
pub fn looks_like_day(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
}

impl ReportQuery {
    /// Checks the day filters; returns the message to show.
    pub fn validate(&self) -> Result<(), String> {
        for (name, day) in [("from", &self.from), ("to", &self.to)] {
            if let Some(day) = day
                && !looks_like_day(day)
            {
                return Err(format!("`{name}` must be a day written YYYY-MM-DD."));
            }
        }
        if let (Some(from), Some(to)) = (&self.from, &self.to)
            && from > to
        {
            return Err("`from` must not be after `to`.".into());
        }
        Ok(())
    }

    /// The query string (without `?`), only the fields that are set.
    pub fn to_query_string(&self) -> String {
        let mut parts: Vec<(&str, String)> = Vec::new();
        let mut push = |k, v: Option<String>| {
            if let Some(v) = v {
                parts.push((k, v));
            }
        };
        push("from", self.from.clone());
        push("to", self.to.clone());
        push("helper", self.helper.as_ref().map(|h| h.0.clone()));
        push("sharer", self.sharer.as_ref().map(|s| s.0.clone()));
        push("device", self.device.as_ref().map(|d| d.0.clone()));
        push("outcome", self.outcome.map(|o| o.as_str().to_owned()));
        push("flag", self.flag.map(|f| f.as_str().to_owned()));
        push("sort", self.sort.map(|s| s.as_str().to_owned()));
        push("desc", self.desc.map(|d| d.to_string()));
        push("page", self.page.map(|p| p.to_string()));
        push("per_page", self.per_page.map(|p| p.to_string()));
        parts
            .into_iter()
            .map(|(k, v)| format!("{k}={}", encode_component(&v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The helper's ticket reference (`PUT /api/sessions/{id}/ticket`); `None`
/// or blank clears it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketUpdate {
    pub ticket: Option<String>,
}

impl TicketUpdate {
    /// The trimmed ticket, or why it is refused.
    pub fn normalized(&self) -> Result<Option<String>, String> {
        let Some(ticket) = self.ticket.as_deref().map(str::trim) else {
            return Ok(None);
        };
        if ticket.is_empty() {
            return Ok(None);
        }
        if ticket.chars().count() > MAX_TICKET_CHARS {
            return Err(format!(
                "A ticket reference has at most {MAX_TICKET_CHARS} characters."
            ));
        }
        if ticket.chars().any(char::is_control) {
            return Err("A ticket reference is one line of text.".into());
        }
        Ok(Some(ticket.to_owned()))
    }
}

/// A session not ended yet, for the monitor page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActiveSession {
    pub id: SessionId,
    pub helper_name: String,
    pub sharer_name: Option<String>,
    pub device_name: Option<String>,
    pub started_at: UnixMillis,
    /// Where it is: waiting for the sharer, active (view only), paused, …
    pub status: String,
}

/// Sessions that started on one tenant-local day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayCount {
    pub day: String,
    pub sessions: u32,
}

/// Sessions with one outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutcomeCount {
    pub outcome: Outcome,
    pub sessions: u32,
}

/// A helper and how many sessions they ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HelperCount {
    pub helper_id: UserId,
    pub helper_name: String,
    pub sessions: u32,
}

/// Which review aid found something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PatternKind {
    OutsideHours,
    ManyDevices,
    RepeatedRefusals,
    RepeatedCodeFailures,
    Elevation,
}

/// One of the caller's own sessions as the sharer, for their "Get help"
/// page: who helped, on what, when, how long, whether anyone had full
/// control, and how it ended. `GET /api/sessions/as-sharer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SharerSession {
    pub id: SessionId,
    pub helper_name: String,
    pub device_name: Option<String>,
    pub started_at: UnixMillis,
    pub ended_at: Option<UnixMillis>,
    pub duration_ms: i64,
    /// The helper had keyboard and mouse at some point.
    pub full_control: bool,
    pub outcome: Outcome,
}

/// Something unusual, with the report filter that shows its sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnusualPattern {
    pub kind: PatternKind,
    /// One sentence ("Megan Bowen reached 12 devices on 2026-11-20.").
    pub summary: String,
    pub count: u32,
    /// The sessions report filtered to these sessions.
    pub sessions: ReportQuery,
}

/// The monitor page: now, and the last 30 days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonitorSummary {
    /// The tenant's time zone, in which days are counted.
    pub timezone: String,
    pub active: Vec<ActiveSession>,
    /// One entry per day, oldest first, zeros included.
    pub per_day: Vec<DayCount>,
    pub outcomes: Vec<OutcomeCount>,
    /// Mean duration of the ended sessions in which the screen was shared.
    pub average_duration_ms: Option<i64>,
    /// Most sessions first, at most five.
    pub busiest_helpers: Vec<HelperCount>,
    pub unusual: Vec<UnusualPattern>,
}

/// The live part of the monitor page, pushed by `GET /api/reports/live`
/// (server-sent events) on every change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveSessions {
    pub active: Vec<ActiveSession>,
    pub at: UnixMillis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_round_trip_through_their_query_string() {
        let query = ReportQuery {
            from: Some("2026-11-01".into()),
            helper: Some(UserId::from("u 1&x")),
            outcome: Some(Outcome::Refused),
            flag: Some(ReportFlag::Elevation),
            sort: Some(ReportSort::Duration),
            desc: Some(false),
            page: Some(2),
            ..ReportQuery::default()
        };
        let text = query.to_query_string();
        assert!(text.contains("helper=u%201%26x"), "{text}");
        assert!(text.starts_with("from=2026-11-01&"), "{text}");
        assert_eq!(ReportQuery::default().to_query_string(), "");
    }

    #[test]
    fn day_filters_are_checked() {
        let ok = ReportQuery {
            from: Some("2026-11-01".into()),
            to: Some("2026-11-30".into()),
            ..ReportQuery::default()
        };
        assert_eq!(ok.validate(), Ok(()));
        for (from, to) in [("2026-1-01", "2026-11-30"), ("2026-12-01", "2026-11-30")] {
            let bad = ReportQuery {
                from: Some(from.into()),
                to: Some(to.into()),
                ..ReportQuery::default()
            };
            assert!(bad.validate().is_err(), "{from}..{to}");
        }
    }

    #[test]
    fn tickets_are_one_short_line() {
        let t = |s: &str| TicketUpdate {
            ticket: Some(s.into()),
        };
        assert_eq!(t("  INC-42 ").normalized(), Ok(Some("INC-42".into())));
        assert_eq!(t("   ").normalized(), Ok(None));
        assert!(t("a\nb").normalized().is_err());
        assert!(t(&"x".repeat(MAX_TICKET_CHARS + 1)).normalized().is_err());
        assert_eq!(TicketUpdate { ticket: None }.normalized(), Ok(None));
    }

    #[test]
    fn outcomes_and_sorts_parse_what_they_print() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
        for s in ReportSort::ALL {
            assert_eq!(ReportSort::parse(s.as_str()), Some(s));
        }
        assert_eq!(Outcome::parse("nope"), None);
    }
}
