//! Tenant-local calendar time: which day a session started on, and whether
//! that was within working hours. Days are counted in the tenant's IANA
//! time zone (jiff's bundled database), so a report's "Tuesday" is the
//! organisation's Tuesday, daylight-saving changes included.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use tandem_protocol::UnixMillis;
use tandem_protocol::settings::TenantSettings;

/// When something happened, as the tenant's clock on the wall showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalStart {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// Minutes after local midnight.
    pub minute: u16,
}

/// The tenant's time zone; UTC (with a warning) if the name is unknown.
pub fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or_else(|error| {
        tracing::warn!(%error, timezone = name, "unknown time zone; counting in UTC");
        TimeZone::UTC
    })
}

/// Whether `name` is a time zone the server knows.
pub fn known_zone(name: &str) -> bool {
    TimeZone::get(name).is_ok()
}

fn date_of(zone: &TimeZone, at: UnixMillis) -> Option<jiff::Zoned> {
    jiff::Timestamp::from_millisecond(at.0)
        .ok()
        .map(|t| t.to_zoned(zone.clone()))
}

/// `at` in `zone`.
pub fn local_start(zone: &TimeZone, at: UnixMillis) -> LocalStart {
    match date_of(zone, at) {
        Some(zoned) => LocalStart {
            day: day_text(zoned.date()),
            weekday: u8::try_from(zoned.weekday().to_monday_zero_offset()).unwrap_or(0),
            minute: u16::try_from(i32::from(zoned.hour()) * 60 + i32::from(zoned.minute()))
                .unwrap_or(0),
        },
        // Out of jiff's range (before year -9999): never from a real clock.
        None => LocalStart {
            day: "0000-01-01".into(),
            weekday: 0,
            minute: 0,
        },
    }
}

fn day_text(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

/// Whether a start was outside the tenant's working hours.
pub fn outside_hours(settings: &TenantSettings, weekday: u8, minute: u16) -> bool {
    let working_day = weekday < 7 && settings.working_days & (1 << weekday) != 0;
    !working_day || minute < settings.working_hours_start || minute >= settings.working_hours_end
}

/// The last `count` local days up to the one containing `now`, oldest
/// first.
pub fn last_days(zone: &TimeZone, now: UnixMillis, count: u16) -> Vec<String> {
    let Some(today) = date_of(zone, now).map(|z| z.date()) else {
        return Vec::new();
    };
    (0..i64::from(count))
        .rev()
        .filter_map(|back| today.checked_sub(jiff::Span::new().days(back)).ok())
        .map(day_text)
        .collect()
}

/// Whether `text` is a real calendar day `YYYY-MM-DD`.
pub fn valid_day(text: &str) -> bool {
    tandem_protocol::reports::looks_like_day(text) && text.parse::<Date>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-22 is a Sunday. 23:30 UTC is already Monday 00:30 in Berlin.
    const SUNDAY_2330_UTC: UnixMillis = UnixMillis(1_795_390_200_000);

    #[test]
    fn days_are_counted_in_the_tenant_zone() {
        let utc = local_start(&TimeZone::UTC, SUNDAY_2330_UTC);
        assert_eq!(
            utc,
            LocalStart {
                day: "2026-11-22".into(),
                weekday: 6,
                minute: 23 * 60 + 30
            }
        );
        let berlin = local_start(&zone("Europe/Berlin"), SUNDAY_2330_UTC);
        assert_eq!(
            berlin,
            LocalStart {
                day: "2026-11-23".into(),
                weekday: 0,
                minute: 30
            }
        );
    }

    #[test]
    fn working_hours_are_weekday_and_minute_ranges() {
        let s = TenantSettings::default(); // Mon–Fri 08:00–18:00
        assert!(!outside_hours(&s, 0, 8 * 60));
        assert!(outside_hours(&s, 0, 8 * 60 - 1));
        assert!(outside_hours(&s, 4, 18 * 60));
        assert!(outside_hours(&s, 5, 12 * 60), "Saturday");
        assert!(outside_hours(&s, 9, 12 * 60), "no such weekday");
    }

    #[test]
    fn the_last_days_end_today_and_cross_month_ends() {
        let days = last_days(&TimeZone::UTC, SUNDAY_2330_UTC, 30);
        assert_eq!(days.len(), 30);
        assert_eq!(days.first().map(String::as_str), Some("2026-10-24"));
        assert_eq!(days.last().map(String::as_str), Some("2026-11-22"));
        assert!(valid_day("2026-02-28") && !valid_day("2026-02-30") && !valid_day("2026-2-3"));
        assert!(known_zone("America/New_York") && !known_zone("Mars/Olympus"));
    }
}
