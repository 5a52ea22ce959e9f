//! The monitor page: what is live now, and the last 30 days.

use crate::auth::{Authorized, ReadSessionReports};
use crate::domain::local_time::{last_days, zone};
use crate::domain::machine::State;
use crate::store::{PersonDay, ReportContext, Store, StoreResult};
use tandem_protocol::UnixMillis;
use tandem_protocol::reports::{
    ActiveSession, DayCount, MonitorSummary, PatternKind, ReportFlag, ReportQuery, SessionReport,
    UnusualPattern,
};
use tandem_protocol::session::Mode;

/// How many days the charts cover.
pub const WINDOW_DAYS: u16 = 30;

/// Where a live session is, in words.
pub fn status(state: Option<&State>) -> String {
    let mode = |m: &Mode| m.label();
    match state {
        None => "Live".into(),
        Some(State::Created | State::CodeIssued) => "Waiting for the sharer".into(),
        Some(State::Redeemed) => "Sharer joined".into(),
        Some(State::ConsentPending { requested, .. }) => {
            format!("Asking for {}", mode(requested))
        }
        Some(State::Active { mode: m }) => format!("Active: {}", mode(m)),
        Some(State::Paused { .. }) => "Paused".into(),
        Some(State::Ended { .. }) => "Ended".into(),
    }
}

fn active(rows: Vec<(SessionReport, Option<State>)>) -> Vec<ActiveSession> {
    rows.into_iter()
        .map(|(r, state)| ActiveSession {
            id: r.id,
            helper_name: r.helper_name,
            sharer_name: r.sharer_name,
            device_name: r.device_name,
            started_at: r.started_at,
            status: status(state.as_ref()),
        })
        .collect()
}

/// The sessions not ended, for the live list.
pub async fn live(
    store: &Store,
    auth: &Authorized<ReadSessionReports>,
    now: UnixMillis,
) -> StoreResult<Vec<ActiveSession>> {
    let settings = store.settings(auth.scope()).await?;
    let ctx = ReportContext {
        now,
        settings: &settings,
    };
    Ok(active(store.live_reports(auth, ctx).await?))
}

fn day_query(helper: Option<&PersonDay>, day: &str) -> ReportQuery {
    ReportQuery {
        from: Some(day.to_owned()),
        to: Some(day.to_owned()),
        helper: helper.map(|p| p.user_id.clone()),
        ..ReportQuery::default()
    }
}

/// Everything on the monitor page.
pub async fn summary(
    store: &Store,
    auth: &Authorized<ReadSessionReports>,
    now: UnixMillis,
) -> StoreResult<MonitorSummary> {
    let settings = store.settings(auth.scope()).await?;
    let ctx = ReportContext {
        now,
        settings: &settings,
    };
    let days = last_days(&zone(&settings.timezone), now, WINDOW_DAYS);
    let first = days.first().cloned().unwrap_or_default();
    let last = days.last().cloned().unwrap_or_default();
    let counted = store.sessions_per_day(auth, &first).await?;
    let per_day = days
        .iter()
        .map(|day| DayCount {
            day: day.clone(),
            sessions: counted
                .iter()
                .find(|(d, _)| d == day)
                .map_or(0, |(_, n)| *n),
        })
        .collect();
    let window = |flag: Option<ReportFlag>| ReportQuery {
        from: Some(first.clone()),
        to: Some(last.clone()),
        flag,
        ..ReportQuery::default()
    };
    let mut unusual = Vec::new();
    let (outside, elevated) = store.flagged_counts(auth, &first, &settings).await?;
    if outside > 0 {
        unusual.push(UnusualPattern {
            kind: PatternKind::OutsideHours,
            summary: format!(
                "{outside} session{} started outside working hours.",
                plural(outside)
            ),
            count: outside,
            sessions: window(Some(ReportFlag::OutsideHours)),
        });
    }
    for p in store
        .helpers_over_device_limit(auth, &first, settings.unusual_devices_per_day)
        .await?
    {
        unusual.push(UnusualPattern {
            kind: PatternKind::ManyDevices,
            summary: format!("{} reached {} devices on {}.", p.name, p.count, p.day),
            count: p.count,
            sessions: day_query(Some(&p), &p.day),
        });
    }
    for p in store
        .repeated_refusals(auth, &first, settings.unusual_failures_per_day)
        .await?
    {
        unusual.push(UnusualPattern {
            kind: PatternKind::RepeatedRefusals,
            summary: format!(
                "{} was refused by policy {} times on {}.",
                p.name, p.count, p.day
            ),
            count: p.count,
            sessions: ReportQuery {
                outcome: Some(tandem_protocol::reports::Outcome::Refused),
                ..day_query(Some(&p), &p.day)
            },
        });
    }
    for p in store
        .repeated_code_failures(auth, &first, settings.unusual_failures_per_day)
        .await?
    {
        // Another organization's person is not named here, and has no
        // sessions in this tenant to show.
        let outsider = p.user_id.0 == crate::store::OUTSIDER_ID;
        unusual.push(UnusualPattern {
            kind: PatternKind::RepeatedCodeFailures,
            summary: if outsider {
                format!(
                    "Someone of another organization entered {} of this organization's codes \
                     on {} (refused as wrong codes).",
                    p.count, p.day
                )
            } else {
                format!(
                    "{} entered {} codes that did not work on {}.",
                    p.name, p.count, p.day
                )
            },
            count: p.count,
            sessions: ReportQuery {
                sharer: (!outsider).then(|| p.user_id.clone()),
                ..day_query(None, &p.day)
            },
        });
    }
    if elevated > 0 {
        unusual.push(UnusualPattern {
            kind: PatternKind::Elevation,
            summary: format!("{elevated} session{} used elevation.", plural(elevated)),
            count: elevated,
            sessions: window(Some(ReportFlag::Elevation)),
        });
    }
    Ok(MonitorSummary {
        timezone: settings.timezone.clone(),
        active: active(store.live_reports(auth, ctx).await?),
        per_day,
        outcomes: store.outcome_counts(auth, &first).await?,
        average_duration_ms: store.average_duration(auth, &first).await?,
        busiest_helpers: store.busiest_helpers(auth, &first, 5).await?,
        unusual,
    })
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}
