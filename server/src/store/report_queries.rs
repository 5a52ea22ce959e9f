//! Reading session records: the filtered, sorted, paged report, one record
//! with its steps, and the export. Every query is bounded by the reader's
//! tenant and, for a helper without Read session reports, by their own
//! sessions.

use super::party_column::party_from;
use super::{Store, StoreError, StoreResult, flag};
use crate::auth::{ReportReader, TenantScope};
use crate::domain::local_time::outside_hours;
use crate::domain::machine::Event;
use sqlx::Row;
use sqlx::any::AnyRow;
use tandem_protocol::directory::{MAX_PAGE_SIZE, Page};
use tandem_protocol::reports::{
    Outcome, ReportFlag, ReportQuery, ReportSort, SessionReport, SessionStep, SharerSession,
};
use tandem_protocol::settings::TenantSettings;
use tandem_protocol::{DeviceId, SessionId, UnixMillis, UserId};

/// What turns a stored record into what the report shows: the time now
/// (live sessions count until now) and the tenant's working hours.
#[derive(Debug, Clone, Copy)]
pub struct ReportContext<'a> {
    pub now: UnixMillis,
    pub settings: &'a TenantSettings,
}

pub(super) const REPORT_COLUMNS: &str = "r.session_id, r.helper_id, r.helper_name, r.sharer_id, \
    r.sharer_name, r.device_id, r.device_name, t.name AS tenant_name, r.started_at, r.ended_at, \
    r.local_day, r.local_weekday, r.local_minute, r.outcome, r.outcome_detail, r.ended_by, \
    r.ended_by_name, r.view_ms, r.control_ms, r.paused_ms, r.segment, r.segment_since, \
    r.elevation_used, r.elevation_held, r.pause_used, r.chat_used, r.annotation_used, \
    r.clipboard_to_device, r.clipboard_from_device, r.files_to_device, r.files_from_device, \
    r.file_bytes_to_device, r.file_bytes_from_device, r.reconnects, r.ticket";

pub(super) const REPORT_FROM: &str = "FROM session_reports r JOIN tenants t ON t.id = r.tenant_id";

fn corrupt(reason: impl ToString) -> StoreError {
    StoreError::Corrupt {
        table: "session_reports",
        reason: reason.to_string(),
    }
}

pub(super) fn report_from_row(row: &AnyRow, ctx: ReportContext<'_>) -> StoreResult<SessionReport> {
    let outcome: String = row.try_get("outcome")?;
    let ended_at = row.try_get::<Option<i64>, _>("ended_at")?;
    let started_at: i64 = row.try_get("started_at")?;
    let until = ended_at.unwrap_or(ctx.now.0);
    let mut view_ms: i64 = row.try_get("view_ms")?;
    let mut control_ms: i64 = row.try_get("control_ms")?;
    let mut paused_ms: i64 = row.try_get("paused_ms")?;
    // The clock still running in a live session counts until now.
    if ended_at.is_none()
        && let (Some(segment), Some(since)) = (
            row.try_get::<Option<String>, _>("segment")?,
            row.try_get::<Option<i64>, _>("segment_since")?,
        )
    {
        let running = (ctx.now.0 - since).max(0);
        match segment.as_str() {
            "view" => view_ms += running,
            "control" => control_ms += running,
            "paused" => paused_ms += running,
            _ => {}
        }
    }
    let weekday = u8::try_from(row.try_get::<i64, _>("local_weekday")?).map_err(corrupt)?;
    let minute = u16::try_from(row.try_get::<i64, _>("local_minute")?).map_err(corrupt)?;
    Ok(SessionReport {
        id: SessionId(row.try_get("session_id")?),
        helper_id: UserId(row.try_get("helper_id")?),
        helper_name: row.try_get("helper_name")?,
        sharer_id: row.try_get::<Option<String>, _>("sharer_id")?.map(UserId),
        sharer_name: row.try_get("sharer_name")?,
        device_id: row.try_get::<Option<String>, _>("device_id")?.map(DeviceId),
        device_name: row.try_get("device_name")?,
        tenant_name: row.try_get("tenant_name")?,
        started_at: UnixMillis(started_at),
        ended_at: ended_at.map(UnixMillis),
        duration_ms: (until - started_at).max(0),
        view_ms,
        control_ms,
        paused_ms,
        elevation_used: flag(row.try_get("elevation_used")?),
        elevation_held: flag(row.try_get("elevation_held")?),
        pause_used: flag(row.try_get("pause_used")?),
        chat_used: flag(row.try_get("chat_used")?),
        annotation_used: flag(row.try_get("annotation_used")?),
        clipboard_to_device: u32::try_from(row.try_get::<i64, _>("clipboard_to_device")?)
            .map_err(corrupt)?,
        clipboard_from_device: u32::try_from(row.try_get::<i64, _>("clipboard_from_device")?)
            .map_err(corrupt)?,
        files_to_device: u32::try_from(row.try_get::<i64, _>("files_to_device")?)
            .map_err(corrupt)?,
        files_from_device: u32::try_from(row.try_get::<i64, _>("files_from_device")?)
            .map_err(corrupt)?,
        file_bytes_to_device: u64::try_from(row.try_get::<i64, _>("file_bytes_to_device")?)
            .map_err(corrupt)?,
        file_bytes_from_device: u64::try_from(row.try_get::<i64, _>("file_bytes_from_device")?)
            .map_err(corrupt)?,
        outcome: Outcome::parse(&outcome).ok_or_else(|| corrupt(format!("outcome {outcome:?}")))?,
        outcome_detail: row.try_get("outcome_detail")?,
        ended_by: row
            .try_get::<Option<String>, _>("ended_by")?
            .as_deref()
            .and_then(party_from),
        ended_by_name: row.try_get("ended_by_name")?,
        reconnects: u32::try_from(row.try_get::<i64, _>("reconnects")?).map_err(corrupt)?,
        ticket: row.try_get("ticket")?,
        outside_hours: outside_hours(ctx.settings, weekday, minute),
        local_day: row.try_get("local_day")?,
    })
}

/// A value bound to a numbered placeholder.
#[derive(Debug, Clone)]
pub(super) enum Bind {
    Text(String),
    Int(i64),
}

/// `WHERE …` with its binds, numbered from `$1`.
#[derive(Debug, Default)]
pub(super) struct Filter {
    pub conditions: Vec<String>,
    pub binds: Vec<Bind>,
}

impl Filter {
    /// Adds `condition`, in which `?` stands for the next placeholder.
    pub fn push(&mut self, condition: &str, binds: Vec<Bind>) {
        let mut text = String::new();
        let mut next = self.binds.len();
        for piece in condition.split('?').enumerate() {
            if piece.0 > 0 {
                next += 1;
                text.push_str(&format!("${next}"));
            }
            text.push_str(piece.1);
        }
        self.conditions.push(text);
        self.binds.extend(binds);
    }

    pub fn sql(&self) -> String {
        format!("WHERE {}", self.conditions.join(" AND "))
    }

    pub fn apply<'q>(
        &self,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for bind in &self.binds {
            query = match bind {
                Bind::Text(text) => query.bind(text.clone()),
                Bind::Int(n) => query.bind(*n),
            };
        }
        query
    }

    /// The tenant, and the reader's own sessions when that is all they see.
    pub fn of_reader(reader: &ReportReader) -> Self {
        let mut filter = Filter::default();
        filter.push(
            "r.tenant_id = ?",
            vec![Bind::Text(reader.scope().tenant_id().0.clone())],
        );
        if let Some(helper) = reader.only_helper() {
            filter.push("r.helper_id = ?", vec![Bind::Text(helper.0.clone())]);
        }
        filter
    }
}

/// The SQL test for "started outside working hours".
pub(super) fn outside_hours_sql(filter: &mut Filter, settings: &TenantSettings) {
    filter.push(
        "(((? >> CAST(r.local_weekday AS INTEGER)) & 1) = 0 OR r.local_minute < ? OR r.local_minute >= ?)",
        vec![
            Bind::Int(i64::from(settings.working_days)),
            Bind::Int(i64::from(settings.working_hours_start)),
            Bind::Int(i64::from(settings.working_hours_end)),
        ],
    );
}

fn query_filter(reader: &ReportReader, query: &ReportQuery, settings: &TenantSettings) -> Filter {
    let mut filter = Filter::of_reader(reader);
    let text = |s: &str| vec![Bind::Text(s.to_owned())];
    if let Some(from) = &query.from {
        filter.push("r.local_day >= ?", text(from));
    }
    if let Some(to) = &query.to {
        filter.push("r.local_day <= ?", text(to));
    }
    if let Some(helper) = &query.helper {
        filter.push("r.helper_id = ?", text(&helper.0));
    }
    if let Some(sharer) = &query.sharer {
        filter.push("r.sharer_id = ?", text(&sharer.0));
    }
    if let Some(device) = &query.device {
        filter.push("r.device_id = ?", text(&device.0));
    }
    if let Some(outcome) = query.outcome {
        filter.push("r.outcome = ?", text(outcome.as_str()));
    }
    match query.flag {
        Some(ReportFlag::Elevation) => filter.push("r.elevation_used = 1", Vec::new()),
        Some(ReportFlag::OutsideHours) => outside_hours_sql(&mut filter, settings),
        None => {}
    }
    filter
}

fn order_by(query: &ReportQuery, now: UnixMillis) -> String {
    let sort = query.sort.unwrap_or_default();
    let (column, natural_desc) = match sort {
        ReportSort::Started => ("r.started_at".to_owned(), true),
        ReportSort::Duration => (
            format!("(COALESCE(r.ended_at, {}) - r.started_at)", now.0),
            true,
        ),
        ReportSort::Helper => ("lower(r.helper_name)".to_owned(), false),
        ReportSort::Sharer => ("lower(COALESCE(r.sharer_name, ''))".to_owned(), false),
        ReportSort::Device => ("lower(COALESCE(r.device_name, ''))".to_owned(), false),
        ReportSort::Outcome => ("r.outcome".to_owned(), false),
    };
    let direction = if query.desc.unwrap_or(natural_desc) {
        "DESC"
    } else {
        "ASC"
    };
    format!("ORDER BY {column} {direction}, r.started_at DESC, r.session_id")
}

impl Store {
    /// How many records `filter` selects.
    pub(super) async fn count_reports(&self, filter: &Filter) -> StoreResult<u64> {
        let n: i64 = filter
            .apply(sqlx::query(&format!(
                "SELECT COUNT(*) AS n {REPORT_FROM} {}",
                filter.sql()
            )))
            .fetch_one(self.pool())
            .await?
            .try_get("n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// One page of the sessions report.
    pub async fn report_page(
        &self,
        reader: &ReportReader,
        query: &ReportQuery,
        ctx: ReportContext<'_>,
    ) -> StoreResult<Page<SessionReport>> {
        let filter = query_filter(reader, query, ctx.settings);
        let total = self.count_reports(&filter).await?;
        let per_page = query
            .per_page
            .unwrap_or(tandem_protocol::directory::DEFAULT_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE);
        let page = query.page.unwrap_or(1).max(1);
        let offset = i64::from(page - 1) * i64::from(per_page);
        let rows = filter
            .apply(sqlx::query(&format!(
                "SELECT {REPORT_COLUMNS} {REPORT_FROM} {} {} LIMIT {per_page} OFFSET {offset}",
                filter.sql(),
                order_by(query, ctx.now),
            )))
            .fetch_all(self.pool())
            .await?;
        Ok(Page {
            items: rows
                .iter()
                .map(|row| report_from_row(row, ctx))
                .collect::<StoreResult<_>>()?,
            page,
            per_page,
            total,
        })
    }

    /// Every record the query selects, in its order, up to `limit` (the
    /// CSV export).
    pub async fn report_all(
        &self,
        reader: &ReportReader,
        query: &ReportQuery,
        ctx: ReportContext<'_>,
        limit: u32,
    ) -> StoreResult<Vec<SessionReport>> {
        let filter = query_filter(reader, query, ctx.settings);
        let rows = filter
            .apply(sqlx::query(&format!(
                "SELECT {REPORT_COLUMNS} {REPORT_FROM} {} {} LIMIT {limit}",
                filter.sql(),
                order_by(query, ctx.now),
            )))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|row| report_from_row(row, ctx)).collect()
    }

    /// The last `limit` sessions in which `user` was the sharer, newest
    /// first (their own page; nothing of anyone else's).
    pub async fn sessions_as_sharer(
        &self,
        scope: &TenantScope,
        user: &UserId,
        now: UnixMillis,
        limit: u32,
    ) -> StoreResult<Vec<SharerSession>> {
        let rows = sqlx::query(&format!(
            "SELECT session_id, helper_name, device_name, started_at, ended_at, control_ms, \
             segment, outcome FROM session_reports WHERE tenant_id = $1 AND sharer_id = $2 \
             ORDER BY started_at DESC LIMIT {limit}"
        ))
        .bind(scope.tenant_id().0.as_str())
        .bind(user.0.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let started_at: i64 = row.try_get("started_at")?;
                let ended_at: Option<i64> = row.try_get("ended_at")?;
                let outcome: String = row.try_get("outcome")?;
                let segment: Option<String> = row.try_get("segment")?;
                Ok(SharerSession {
                    id: SessionId(row.try_get("session_id")?),
                    helper_name: row.try_get("helper_name")?,
                    device_name: row.try_get("device_name")?,
                    started_at: UnixMillis(started_at),
                    ended_at: ended_at.map(UnixMillis),
                    duration_ms: (ended_at.unwrap_or(now.0) - started_at).max(0),
                    full_control: row.try_get::<i64, _>("control_ms")? > 0
                        || segment.as_deref() == Some("control"),
                    outcome: Outcome::parse(&outcome)
                        .ok_or_else(|| corrupt(format!("outcome {outcome:?}")))?,
                })
            })
            .collect()
    }

    /// One record the reader may see, with its log: each step's actor (named
    /// as they are now, if they still exist) and event.
    pub async fn report_detail(
        &self,
        reader: &ReportReader,
        id: &SessionId,
        ctx: ReportContext<'_>,
    ) -> StoreResult<Option<(SessionReport, Vec<(SessionStep, Event)>)>> {
        let mut filter = Filter::of_reader(reader);
        filter.push("r.session_id = ?", vec![Bind::Text(id.0.clone())]);
        let row = filter
            .apply(sqlx::query(&format!(
                "SELECT {REPORT_COLUMNS} {REPORT_FROM} {}",
                filter.sql()
            )))
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let report = report_from_row(&row, ctx)?;
        let rows = sqlx::query(
            "SELECT e.at, e.actor, e.event, u.display_name FROM session_events e \
             LEFT JOIN users u ON u.id = e.actor_id WHERE e.session_id = $1 ORDER BY e.seq",
        )
        .bind(id.0.as_str())
        .fetch_all(self.pool())
        .await?;
        let mut steps = Vec::with_capacity(rows.len());
        for row in &rows {
            let actor: String = row.try_get("actor")?;
            let event: String = row.try_get("event")?;
            let event: Event = serde_json::from_str(&event).map_err(corrupt)?;
            let step = SessionStep {
                at: UnixMillis(row.try_get("at")?),
                actor: party_from(&actor).ok_or_else(|| corrupt(format!("actor {actor:?}")))?,
                actor_name: row.try_get("display_name")?,
                what: String::new(),
            };
            steps.push((step, event));
        }
        Ok(Some((report, steps)))
    }
}
