//! The CSV export link of a report selection.

use crate::api;
use leptos::prelude::*;
use tandem_protocol::reports::{MAX_EXPORT_ROWS, ReportQuery};

/// The CSV export of the selection (`total` sessions), or why there is
/// none: an export holds at most [`MAX_EXPORT_ROWS`] sessions, and the
/// server refuses more rather than cutting the file short.
#[component]
pub fn ExportLink(query: ReportQuery, total: u64) -> impl IntoView {
    if total > u64::from(MAX_EXPORT_ROWS) {
        return view! {
            <p class="muted" id="export-csv-too-large">
                {format!(
                    "This selection holds {total} sessions; an export holds at most {MAX_EXPORT_ROWS}. \
                     Choose a shorter period or more filters to export it in parts."
                )}
            </p>
        }
        .into_any();
    }
    view! {
        <p><a id="export-csv" href=api::report_csv_href(&query) download="tandem-sessions.csv">
            "Export CSV"
        </a></p>
    }
    .into_any()
}
