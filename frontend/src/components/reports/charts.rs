//! The monitor's charts, drawn as SVG by the console: labelled axes, a
//! title and description for screen readers, a tooltip per bar, and the
//! same figures as a table for those who prefer one.

use leptos::prelude::*;
use tandem_protocol::reports::{DayCount, OutcomeCount};

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 36.0;
const TOP: f64 = 12.0;

/// The top of the value axis: the smallest multiple of 4 at or above
/// `max` (at least 4), so the five gridlines fall on whole numbers.
pub fn axis_top(max: u32) -> u32 {
    max.max(1).div_ceil(4).saturating_mul(4)
}

/// "Nov 22" from "2026-11-22".
pub fn short_day(day: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = day
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)));
    let date = day.get(8..10).map(|d| d.trim_start_matches('0'));
    match (month, date) {
        (Some(m), Some(d)) => format!("{m} {d}"),
        _ => day.to_owned(),
    }
}

fn y_of(value: u32, top: u32) -> f64 {
    let plot = HEIGHT - TOP - BOTTOM;
    HEIGHT - BOTTOM - plot * f64::from(value) / f64::from(top.max(1))
}

/// Sessions per day as columns, oldest left.
#[component]
pub fn DayChart(days: Vec<DayCount>) -> impl IntoView {
    let max = days.iter().map(|d| d.sessions).max().unwrap_or(0);
    let top = axis_top(max);
    let total: u32 = days.iter().map(|d| d.sessions).sum();
    let count = days.len().max(1);
    #[allow(clippy::cast_precision_loss)]
    let slot = (WIDTH - LEFT - 8.0) / count as f64;
    let ticks: Vec<u32> = (0..=4).map(|i| top / 4 * i).collect();
    let first = days.first().map(|d| short_day(&d.day)).unwrap_or_default();
    let last = days.last().map(|d| short_day(&d.day)).unwrap_or_default();
    let description =
        format!("{total} sessions from {first} to {last}; the busiest day had {max}.");
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            #[allow(clippy::cast_precision_loss)]
            let x = LEFT + slot * i as f64 + slot * 0.15;
            let y = y_of(d.sessions, top);
            let label = format!("{}: {} session{}", short_day(&d.day), d.sessions, if d.sessions == 1 { "" } else { "s" });
            let show_label = i % 5 == 0 || i + 1 == count;
            view! {
                <g class="bar" data-day=d.day.clone() data-sessions=d.sessions.to_string()>
                    <rect x=x y=y width=slot * 0.7 height=(HEIGHT - BOTTOM - y).max(0.0)>
                        <title>{label}</title>
                    </rect>
                    {show_label.then(|| view! {
                        <text class="x-label" x=x + slot * 0.35 y=HEIGHT - BOTTOM + 16.0 text-anchor="middle">
                            {short_day(&d.day)}
                        </text>
                    })}
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="chart">
            <svg id="day-chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img"
                aria-labelledby="day-chart-title day-chart-desc">
                <title id="day-chart-title">"Sessions per day, last 30 days"</title>
                <desc id="day-chart-desc">{description}</desc>
                {ticks.into_iter().map(|t| {
                    let y = y_of(t, top);
                    view! {
                        <g class="tick">
                            <line x1=LEFT x2=WIDTH - 4.0 y1=y y2=y />
                            <text x=LEFT - 6.0 y=y + 4.0 text-anchor="end">{t.to_string()}</text>
                        </g>
                    }
                }).collect_view()}
                {bars}
                <text class="axis-title" x=LEFT y=HEIGHT - 2.0>"Day (organization's time zone)"</text>
            </svg>
            <figcaption>"Sessions per day, last 30 days"</figcaption>
        </figure>
        <table class="visually-hidden">
            <caption>"Sessions per day"</caption>
            <thead><tr><th scope="col">"Day"</th><th scope="col">"Sessions"</th></tr></thead>
            <tbody>
                {days.into_iter().map(|d| view! {
                    <tr><th scope="row">{d.day}</th><td>{d.sessions}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Sessions per outcome as labelled horizontal bars.
#[component]
pub fn OutcomeChart(outcomes: Vec<OutcomeCount>) -> impl IntoView {
    let max = outcomes
        .iter()
        .map(|o| o.sessions)
        .max()
        .unwrap_or(0)
        .max(1);
    let row = 28.0;
    #[allow(clippy::cast_precision_loss)]
    let height = row * outcomes.len().max(1) as f64 + 8.0;
    let label_width = 190.0;
    let bar_room = WIDTH - label_width - 60.0;
    let description = outcomes
        .iter()
        .map(|o| format!("{}: {}", o.outcome.label(), o.sessions))
        .collect::<Vec<_>>()
        .join("; ");
    view! {
        <figure class="chart">
            <svg id="outcome-chart" viewBox=format!("0 0 {WIDTH} {height}") role="img"
                aria-labelledby="outcome-chart-title outcome-chart-desc">
                <title id="outcome-chart-title">"Outcomes, last 30 days"</title>
                <desc id="outcome-chart-desc">{if description.is_empty() { "No sessions.".to_owned() } else { description }}</desc>
                {outcomes.into_iter().enumerate().map(|(i, o)| {
                    #[allow(clippy::cast_precision_loss)]
                    let y = 4.0 + row * i as f64;
                    let w = bar_room * f64::from(o.sessions) / f64::from(max);
                    view! {
                        <g class=format!("outcome {}", o.outcome.as_str()) data-outcome=o.outcome.as_str()
                            data-sessions=o.sessions.to_string()>
                            <text x=label_width - 8.0 y=y + 17.0 text-anchor="end">{o.outcome.label()}</text>
                            <rect x=label_width y=y + 4.0 width=w height=row - 10.0>
                                <title>{format!("{}: {}", o.outcome.label(), o.sessions)}</title>
                            </rect>
                            <text x=label_width + w + 6.0 y=y + 17.0>{o.sessions.to_string()}</text>
                        </g>
                    }
                }).collect_view()}
            </svg>
            <figcaption>"Outcomes, last 30 days"</figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn axes_round_up_to_readable_steps() {
        assert_eq!(axis_top(0), 4);
        assert_eq!(axis_top(4), 4);
        assert_eq!(axis_top(7), 8);
        assert_eq!(axis_top(11), 12);
        assert_eq!(axis_top(150), 152);
        assert_eq!(short_day("2026-11-02"), "Nov 2");
        assert_eq!(short_day("bad"), "bad");
    }
}
