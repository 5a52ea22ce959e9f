//! The monitor page's figures: sessions not ended, counts per day and
//! outcome, the mean duration, the busiest helpers, and the unusual
//! patterns. All need Read session reports (`&Authorized<…>`).

use super::report_queries::{Bind, Filter, REPORT_COLUMNS, REPORT_FROM, ReportContext};
use super::{Store, StoreResult};
use crate::auth::{Authorized, ReadSessionReports};
use crate::domain::machine::State;
use sqlx::Row;
use tandem_protocol::UserId;
use tandem_protocol::reports::{HelperCount, Outcome, OutcomeCount, SessionReport};

/// A person on a day, and how many times something happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonDay {
    pub user_id: UserId,
    pub name: String,
    pub day: String,
    pub count: u32,
}

fn count(row: &sqlx::any::AnyRow) -> StoreResult<u32> {
    Ok(u32::try_from(row.try_get::<i64, _>("n")?).unwrap_or(u32::MAX))
}

fn tenant(auth: &Authorized<ReadSessionReports>) -> Filter {
    let mut filter = Filter::default();
    filter.push(
        "r.tenant_id = ?",
        vec![Bind::Text(auth.scope().tenant_id().0.clone())],
    );
    filter
}

fn since(auth: &Authorized<ReadSessionReports>, first_day: &str) -> Filter {
    let mut filter = tenant(auth);
    filter.push("r.local_day >= ?", vec![Bind::Text(first_day.to_owned())]);
    filter
}

impl Store {
    /// Sessions not ended, newest first, with their state.
    pub async fn live_reports(
        &self,
        auth: &Authorized<ReadSessionReports>,
        ctx: ReportContext<'_>,
    ) -> StoreResult<Vec<(SessionReport, Option<State>)>> {
        let mut filter = tenant(auth);
        filter.push("r.ended_at IS NULL", Vec::new());
        let rows = filter
            .apply(sqlx::query(&format!(
                "SELECT {REPORT_COLUMNS}, s.state {REPORT_FROM} \
                 LEFT JOIN remote_sessions s ON s.id = r.session_id {} \
                 ORDER BY r.started_at DESC LIMIT 500",
                filter.sql()
            )))
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                let state = row
                    .try_get::<Option<String>, _>("state")?
                    .and_then(|s| serde_json::from_str(&s).ok());
                Ok((super::report_queries::report_from_row(row, ctx)?, state))
            })
            .collect()
    }

    /// Sessions per local day from `first_day` on (days without any are absent).
    pub async fn sessions_per_day(
        &self,
        auth: &Authorized<ReadSessionReports>,
        first_day: &str,
    ) -> StoreResult<Vec<(String, u32)>> {
        let filter = since(auth, first_day);
        let rows = filter
            .apply(sqlx::query(&format!(
                "SELECT r.local_day, COUNT(*) AS n {REPORT_FROM} {} GROUP BY r.local_day",
                filter.sql()
            )))
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("local_day")?, count(row)?)))
            .collect()
    }

    /// Sessions per outcome from `first_day` on, in the outcomes' order.
    pub async fn outcome_counts(
        &self,
        auth: &Authorized<ReadSessionReports>,
        first_day: &str,
    ) -> StoreResult<Vec<OutcomeCount>> {
        let filter = since(auth, first_day);
        let rows = filter
            .apply(sqlx::query(&format!(
                "SELECT r.outcome, COUNT(*) AS n {REPORT_FROM} {} GROUP BY r.outcome",
                filter.sql()
            )))
            .fetch_all(self.pool())
            .await?;
        let mut counts = Vec::new();
        for row in &rows {
            let outcome: String = row.try_get("outcome")?;
            if let Some(outcome) = Outcome::parse(&outcome) {
                counts.push(OutcomeCount {
                    outcome,
                    sessions: count(row)?,
                });
            }
        }
        counts.sort_by_key(|c| c.outcome);
        Ok(counts)
    }

    /// Mean duration of ended sessions in which the screen was shared.
    pub async fn average_duration(
        &self,
        auth: &Authorized<ReadSessionReports>,
        first_day: &str,
    ) -> StoreResult<Option<i64>> {
        let mut filter = since(auth, first_day);
        filter.push(
            "r.ended_at IS NOT NULL AND r.view_ms + r.control_ms > 0",
            Vec::new(),
        );
        // The sum and the count, divided here: AVG is a float in SQLite
        // and a numeric in PostgreSQL, and the casts round differently.
        let row = filter
            .apply(sqlx::query(&format!(
                "SELECT CAST(SUM(r.ended_at - r.started_at) AS BIGINT) AS total, \
                 COUNT(*) AS n {REPORT_FROM} {}",
                filter.sql()
            )))
            .fetch_one(self.pool())
            .await?;
        let total = row.try_get::<Option<i64>, _>("total")?;
        let n = row.try_get::<i64, _>("n")?;
        Ok(total.filter(|_| n > 0).map(|total| total / n))
    }

    /// The helpers with the most sessions, at most `limit`.
    pub async fn busiest_helpers(
        &self,
        auth: &Authorized<ReadSessionReports>,
        first_day: &str,
        limit: u32,
    ) -> StoreResult<Vec<HelperCount>> {
        let filter = since(auth, first_day);
        let rows = filter
            .apply(sqlx::query(&format!(
                "SELECT r.helper_id, MAX(r.helper_name) AS name, COUNT(*) AS n {REPORT_FROM} {} \
                 GROUP BY r.helper_id ORDER BY n DESC, name LIMIT {limit}",
                filter.sql()
            )))
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(HelperCount {
                    helper_id: UserId(row.try_get("helper_id")?),
                    helper_name: row.try_get("name")?,
                    sessions: count(row)?,
                })
            })
            .collect()
    }

    /// How many sessions since `first_day` started outside working hours,
    /// and how many used elevation.
    pub async fn flagged_counts(
        &self,
        auth: &Authorized<ReadSessionReports>,
        first_day: &str,
        settings: &tandem_protocol::settings::TenantSettings,
    ) -> StoreResult<(u32, u32)> {
        let mut outside = since(auth, first_day);
        super::report_queries::outside_hours_sql(&mut outside, settings);
        let mut elevated = since(auth, first_day);
        elevated.push("r.elevation_used = 1", Vec::new());
        let n = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        Ok((
            n(self.count_reports(&outside).await?),
            n(self.count_reports(&elevated).await?),
        ))
    }

    /// Helpers who reached more than `limit` distinct devices on one day.
    pub async fn helpers_over_device_limit(
        &self,
        auth: &Authorized<ReadSessionReports>,
        first_day: &str,
        limit: u16,
    ) -> StoreResult<Vec<PersonDay>> {
        let mut filter = since(auth, first_day);
        filter.push("r.device_id IS NOT NULL", Vec::new());
        self.person_days(
            &filter,
            "r.helper_id",
            "r.helper_name",
            "COUNT(DISTINCT r.device_id)",
            i64::from(limit) + 1,
        )
        .await
    }

    /// Helpers whose sessions were refused by policy at least `limit` times
    /// on one day.
    pub async fn repeated_refusals(
        &self,
        auth: &Authorized<ReadSessionReports>,
        first_day: &str,
        limit: u16,
    ) -> StoreResult<Vec<PersonDay>> {
        let mut filter = since(auth, first_day);
        filter.push("r.outcome = 'refused'", Vec::new());
        self.person_days(
            &filter,
            "r.helper_id",
            "r.helper_name",
            "COUNT(*)",
            i64::from(limit),
        )
        .await
    }

    /// People who entered a code that did not work at least `limit` times
    /// on one day.
    pub async fn repeated_code_failures(
        &self,
        auth: &Authorized<ReadSessionReports>,
        first_day: &str,
        limit: u16,
    ) -> StoreResult<Vec<PersonDay>> {
        let rows = sqlx::query(
            "SELECT user_id, MAX(user_name) AS name, local_day, COUNT(*) AS n \
             FROM code_failures WHERE tenant_id = $1 AND local_day >= $2 \
             GROUP BY user_id, local_day \
             HAVING COUNT(*) >= (CASE WHEN user_id = $4 THEN 1 ELSE $3 END) \
             ORDER BY local_day DESC, n DESC LIMIT 50",
        )
        .bind(auth.scope().tenant_id().0.as_str())
        .bind(first_day)
        .bind(i64::from(limit))
        .bind(super::report_writes::OUTSIDER_ID)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(person_day).collect()
    }

    async fn person_days(
        &self,
        filter: &Filter,
        who: &str,
        name: &str,
        measure: &str,
        at_least: i64,
    ) -> StoreResult<Vec<PersonDay>> {
        let threshold = format!("${}", filter.binds.len() + 1);
        let rows = filter
            .apply(sqlx::query(&format!(
                "SELECT {who} AS user_id, MAX({name}) AS name, r.local_day, {measure} AS n \
                 {REPORT_FROM} {} GROUP BY {who}, r.local_day HAVING {measure} >= {threshold} \
                 ORDER BY r.local_day DESC, n DESC LIMIT 50",
                filter.sql()
            )))
            .bind(at_least)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(person_day).collect()
    }
}

fn person_day(row: &sqlx::any::AnyRow) -> StoreResult<PersonDay> {
    Ok(PersonDay {
        user_id: UserId(row.try_get("user_id")?),
        name: row.try_get("name")?,
        day: row.try_get("local_day")?,
        count: count(row)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::TenantScope;
    use crate::domain::local_time::LocalStart;
    use tandem_protocol::UnixMillis;

    #[tokio::test]
    async fn a_helper_reaching_more_devices_than_the_limit_is_found_per_day() {
        let store = Store::open_scratch().await.unwrap();
        crate::seed::seed_demo(&store, UnixMillis(1_000))
            .await
            .unwrap();
        let megan = store
            .user_by_email_for_sign_in("megan@contoso.test")
            .await
            .unwrap()
            .unwrap();
        let scope = TenantScope::for_tests(megan.tenant_id.clone());
        let devices: Vec<_> = store
            .list_devices(&scope)
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .take(3)
            .collect();
        assert_eq!(devices.len(), 3);
        let day = |d: &str| LocalStart {
            day: d.into(),
            weekday: 0,
            minute: 600,
        };
        // Two devices on the 23rd (one of them twice), one on the 24th.
        for (n, (device, d)) in [
            (&devices[0], "2026-11-23"),
            (&devices[1], "2026-11-23"),
            (&devices[1], "2026-11-23"),
            (&devices[2], "2026-11-24"),
        ]
        .into_iter()
        .enumerate()
        {
            store
                .create_session(
                    &scope,
                    &megan.id,
                    (&format!("hash{n}"), UnixMillis(9_000)),
                    Some(device),
                    UnixMillis(2_000),
                    &day(d),
                )
                .await
                .unwrap();
        }
        let auth = Authorized::<ReadSessionReports>::system(megan.tenant_id.clone(), "test");
        let found = store
            .helpers_over_device_limit(&auth, "2026-11-01", 1)
            .await
            .unwrap();
        assert_eq!(
            found,
            vec![PersonDay {
                user_id: megan.id.clone(),
                name: "Megan Bowen".into(),
                day: "2026-11-23".into(),
                count: 2,
            }]
        );
        assert!(
            store
                .helpers_over_device_limit(&auth, "2026-11-01", 2)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .helpers_over_device_limit(&auth, "2026-11-24", 1)
                .await
                .unwrap()
                .is_empty(),
            "the window starts on the 24th"
        );
    }
}
