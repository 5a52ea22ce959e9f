//! `/api/reports/*` and the session's ticket reference: the sessions
//! report (with Read session reports, every record of the tenant; without,
//! the caller's own sessions as helper), its CSV export, one record with
//! its steps, and the monitor page (Read session reports), live over
//! server-sent events.

use super::ApiPath;
use super::CurrentUser;
use super::{ApiJson, ApiQuery};
use crate::auth::{Authorized, ReadSessionReports, ReportReader};
use crate::domain::local_time as local;
use crate::http::AppState;
use crate::http::{ApiError, ApiResult};
use crate::reports::{csv, live, monitor, steps};
use crate::store::ReportContext;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use std::time::Duration;
use tandem_protocol::SessionId;
use tandem_protocol::directory::Page;
use tandem_protocol::reports::{
    LiveSessions, MAX_EXPORT_ROWS, MonitorSummary, ReportQuery, SessionReport, SessionReportDetail,
    TicketUpdate,
};
use tandem_protocol::session::SessionView;

fn checked(query: &ReportQuery) -> ApiResult<()> {
    query.validate().map_err(ApiError::BadRequest)?;
    for day in [&query.from, &query.to].into_iter().flatten() {
        if !local::valid_day(day) {
            return Err(ApiError::BadRequest(format!(
                "{day} is not a calendar day."
            )));
        }
    }
    Ok(())
}

/// `GET /api/reports/sessions`.
pub async fn sessions(
    State(state): State<AppState>,
    reader: ReportReader,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> ApiResult<Json<Page<SessionReport>>> {
    checked(&query)?;
    let settings = state.store.settings(reader.scope()).await?;
    let ctx = ReportContext {
        now: state.clock.now(),
        settings: &settings,
    };
    Ok(Json(state.store.report_page(&reader, &query, ctx).await?))
}

/// `GET /api/reports/sessions.csv`: the whole selection (bounded), as a
/// download.
pub async fn sessions_csv(
    State(state): State<AppState>,
    reader: ReportReader,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> ApiResult<Response> {
    checked(&query)?;
    let settings = state.store.settings(reader.scope()).await?;
    let ctx = ReportContext {
        now: state.clock.now(),
        settings: &settings,
    };
    // One row more than the bound tells a full export from a cut one.
    let rows = state
        .store
        .report_all(&reader, &query, ctx, MAX_EXPORT_ROWS.saturating_add(1))
        .await?;
    let rows = whole_export(rows, MAX_EXPORT_ROWS)?;
    let body = csv::render(&rows).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"tandem-sessions.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// The rows of an export, or a refusal when the selection holds more than
/// `max`: an export never ends silently part of the way through.
fn whole_export<T>(rows: Vec<T>, max: u32) -> ApiResult<Vec<T>> {
    if rows.len() > usize::try_from(max).unwrap_or(usize::MAX) {
        return Err(ApiError::BadRequest(format!(
            "The selection holds more than {max} sessions, more than one export may hold. \
             Choose a shorter period or more filters, and export each part."
        )));
    }
    Ok(rows)
}

/// `GET /api/reports/sessions/{id}`.
pub async fn session(
    State(state): State<AppState>,
    reader: ReportReader,
    ApiPath(id): ApiPath<SessionId>,
) -> ApiResult<Json<SessionReportDetail>> {
    let settings = state.store.settings(reader.scope()).await?;
    let ctx = ReportContext {
        now: state.clock.now(),
        settings: &settings,
    };
    let (report, logged) = state
        .store
        .report_detail(&reader, &id, ctx)
        .await?
        .ok_or(ApiError::NotFound)?;
    let steps = logged
        .into_iter()
        .map(|(mut step, event)| {
            step.what = steps::describe(&step, &event);
            step
        })
        .collect();
    Ok(Json(SessionReportDetail { report, steps }))
}

/// `GET /api/reports/monitor`.
pub async fn monitor(
    State(state): State<AppState>,
    auth: Authorized<ReadSessionReports>,
) -> ApiResult<Json<MonitorSummary>> {
    Ok(Json(
        monitor::summary(&state.store, &auth, state.clock.now()).await?,
    ))
}

/// How long a burst of changes may take before one list goes out.
const SETTLE: Duration = Duration::from_millis(150);
/// A list goes out at least this often, so durations stay fresh.
const REFRESH_EVERY: Duration = Duration::from_secs(30);
/// A stream ends after this long; the browser's EventSource reconnects by
/// itself, which checks the web session and the permission again, so a
/// revoked role or an expired sign-in stops the feed within this time.
const STREAM_LIFETIME: Duration = Duration::from_secs(300);

/// `GET /api/reports/live`: the sessions not ended, now and after every
/// change in the tenant, as `live` events.
pub async fn live(
    State(state): State<AppState>,
    auth: Authorized<ReadSessionReports>,
) -> Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>> {
    let rx = state.sessions.live_feed().subscribe();
    let until = tokio::time::Instant::now() + STREAM_LIFETIME;
    let feed = stream::unfold(
        (state, auth, rx, true),
        move |(state, auth, mut rx, first)| async move {
            if tokio::time::Instant::now() >= until {
                return None;
            }
            if !first {
                let tenant = auth.scope().tenant_id().clone();
                let woke = tokio::time::timeout(
                    REFRESH_EVERY,
                    live::next_change(&mut rx, &tenant, SETTLE),
                )
                .await;
                if woke == Ok(live::Wake::Closed) || tokio::time::Instant::now() >= until {
                    return None;
                }
            }
            let now = state.clock.now();
            let event = match monitor::live(&state.store, &auth, now).await {
                Ok(active) => Event::default()
                    .event("live")
                    .json_data(LiveSessions { active, at: now })
                    .unwrap_or_else(|_| Event::default().event("error").data("unavailable")),
                Err(error) => {
                    tracing::warn!(%error, "building the live session list failed");
                    Event::default().event("error").data("unavailable")
                }
            };
            Some((Ok(event), (state, auth, rx, false)))
        },
    );
    Sse::new(feed).keep_alive(KeepAlive::default())
}

/// `PUT /api/sessions/{id}/ticket`: the helper's ticket reference.
pub async fn ticket(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<SessionId>,
    ApiJson(body): ApiJson<TicketUpdate>,
) -> ApiResult<Json<SessionView>> {
    let view = state
        .sessions
        .set_ticket(current.user(), &current.tenant_scope(), &id, &body)
        .await?;
    Ok(Json(view))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_over_the_bound_is_refused_not_cut() {
        assert_eq!(whole_export(vec![1, 2, 3], 3).ok(), Some(vec![1, 2, 3]));
        let refused = whole_export(vec![1, 2, 3, 4], 3);
        assert!(
            matches!(&refused, Err(ApiError::BadRequest(m)) if m.contains("more than 3 sessions")),
            "{refused:?}"
        );
    }
}
