//! `/reports`: session records with filters, sorting and paging in the URL,
//! a CSV export of the same selection, and `/reports/:id`, one record with
//! its steps. Everyone signed in may open it: administrators with Read
//! session reports see the whole organization, helpers their own sessions.

use crate::api;
use crate::components::reports::{ExportLink, duration};
use crate::format::iso_time;
use crate::pages::admin::loading_or_error;
use crate::routes::{AppRoute, report_query};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use tandem_protocol::directory::Page;
use tandem_protocol::reports::{Outcome, ReportFlag, ReportQuery, ReportSort, SessionReport};
use tandem_protocol::session::Party;

fn when(ms: i64) -> String {
    // "2026-11-22 14:05" in the browser's local time.
    #[allow(clippy::cast_precision_loss)]
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes()
    )
}

fn modes(r: &SessionReport) -> String {
    let mut parts = Vec::new();
    if r.view_ms > 0 {
        parts.push(format!("view {}", duration(r.view_ms)));
    }
    if r.control_ms > 0 {
        parts.push(format!("control {}", duration(r.control_ms)));
    }
    if r.paused_ms > 0 {
        parts.push(format!("paused {}", duration(r.paused_ms)));
    }
    if parts.is_empty() {
        "–".into()
    } else {
        parts.join(", ")
    }
}

fn flags(r: &SessionReport) -> String {
    let mut f = Vec::new();
    if r.elevation_used {
        f.push("elevation");
    }
    if r.chat_used {
        f.push("chat");
    }
    if r.pause_used {
        f.push("pause");
    }
    if r.annotation_used {
        f.push("annotation");
    }
    if r.clipboard_to_device + r.clipboard_from_device > 0 {
        f.push("clipboard");
    }
    if r.files_to_device + r.files_from_device > 0 {
        f.push("files");
    }
    if r.outside_hours {
        f.push("outside hours");
    }
    f.join(", ")
}

/// A column header that sorts by `sort`, toggling the direction.
fn sort_header(query: &ReportQuery, sort: ReportSort, label: &'static str) -> impl IntoView {
    let current = query.sort.unwrap_or_default();
    let natural_desc = matches!(sort, ReportSort::Started | ReportSort::Duration);
    let desc = query.desc.unwrap_or(natural_desc);
    let active = current == sort;
    let next = ReportQuery {
        sort: Some(sort),
        desc: Some(if active { !desc } else { natural_desc }),
        page: None,
        ..query.clone()
    };
    let aria = match (active, desc) {
        (false, _) => "none",
        (true, true) => "descending",
        (true, false) => "ascending",
    };
    view! {
        <th scope="col" aria-sort=aria>
            <a href=AppRoute::Reports(next).href() class="sort">
                {label} {active.then_some(if desc { " ↓" } else { " ↑" })}
            </a>
        </th>
    }
}

fn filter_link(query: &ReportQuery, change: impl FnOnce(&mut ReportQuery)) -> String {
    let mut next = ReportQuery {
        page: None,
        ..query.clone()
    };
    change(&mut next);
    AppRoute::Reports(next).href()
}

fn table(query: &ReportQuery, page: Page<SessionReport>) -> AnyView {
    let pages = page.pages();
    let link = |to: u32| {
        AppRoute::Reports(ReportQuery {
            page: Some(to),
            ..query.clone()
        })
        .href()
    };
    let rows = page
        .items
        .into_iter()
        .map(|r| {
            let helper = filter_link(query, |q| q.helper = Some(r.helper_id.clone()));
            let sharer = r
                .sharer_id
                .clone()
                .map(|id| filter_link(query, |q| q.sharer = Some(id)));
            let device = r
                .device_id
                .clone()
                .map(|id| filter_link(query, |q| q.device = Some(id)));
            let detail = AppRoute::ReportDetail { id: r.id.clone() }.href();
            view! {
                <tr data-session=r.id.0.clone()>
                    <th scope="row"><a href=detail>
                        <time datetime=iso_time(r.started_at.0)>{when(r.started_at.0)}</time>
                    </a></th>
                    <td><a href=helper>{r.helper_name.clone()}</a></td>
                    <td>{match (sharer, r.sharer_name.clone()) {
                        (Some(href), Some(name)) => view! { <a href=href>{name}</a> }.into_any(),
                        (_, name) => view! { <span>{name.unwrap_or_else(|| "–".into())}</span> }.into_any(),
                    }}</td>
                    <td>{match (device, r.device_name.clone()) {
                        (Some(href), Some(name)) => view! { <a href=href>{name}</a> }.into_any(),
                        (_, name) => view! { <span>{name.unwrap_or_else(|| "–".into())}</span> }.into_any(),
                    }}</td>
                    <td class="num">{duration(r.duration_ms)}</td>
                    <td>{modes(&r)}</td>
                    <td class=format!("outcome {}", r.outcome.as_str())>{r.outcome.label()}</td>
                    <td>{flags(&r)}</td>
                    <td>{r.ticket.clone().unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="data reports" id="report-table">
            <caption>{format!("{} session{}", page.total, if page.total == 1 { "" } else { "s" })}</caption>
            <thead><tr>
                {sort_header(query, ReportSort::Started, "Started")}
                {sort_header(query, ReportSort::Helper, "Helper")}
                {sort_header(query, ReportSort::Sharer, "Sharer")}
                {sort_header(query, ReportSort::Device, "Device")}
                {sort_header(query, ReportSort::Duration, "Duration")}
                <th scope="col">"Modes"</th>
                {sort_header(query, ReportSort::Outcome, "Outcome")}
                <th scope="col">"Used"</th>
                <th scope="col">"Ticket"</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
        <nav class="pager" aria-label="Pages">
            {(page.page > 1).then(|| view! { <a href=link(page.page - 1) rel="prev">"Previous"</a> })}
            <span>{format!("Page {} of {pages}", page.page)}</span>
            {(page.page < pages).then(|| view! { <a href=link(page.page + 1) rel="next">"Next"</a> })}
        </nav>
    }
    .into_any()
}

/// The filter form: dates, outcome and review aid; people and devices are
/// picked by clicking them in the table and shown here to remove.
#[component]
fn Filters(query: Memo<ReportQuery>) -> impl IntoView {
    let navigate = use_navigate();
    let apply = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let form = event_target::<web_sys::HtmlFormElement>(&e);
        let field = |name: &str| -> Option<String> {
            let el = form.elements().named_item(name)?;
            let value = if let Ok(input) =
                wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(el.clone())
            {
                input.value()
            } else {
                wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlSelectElement>(el)
                    .ok()?
                    .value()
            };
            Some(value).filter(|v| !v.is_empty())
        };
        let next = ReportQuery {
            from: field("from"),
            to: field("to"),
            outcome: field("outcome").and_then(|o| Outcome::parse(&o)),
            flag: field("flag").and_then(|f| ReportFlag::parse(&f)),
            page: None,
            ..query.get_untracked()
        };
        navigate(&AppRoute::Reports(next).href(), NavigateOptions::default());
    };
    view! {
        <form class="filters" on:submit=apply aria-label="Filters">
            <label>"From" <input type="date" name="from" id="filter-from"
                prop:value=move || query.get().from.unwrap_or_default() /></label>
            <label>"To" <input type="date" name="to" id="filter-to"
                prop:value=move || query.get().to.unwrap_or_default() /></label>
            <label>"Outcome"
                <select name="outcome" id="filter-outcome"
                    prop:value=move || query.get().outcome.map(|o| o.as_str()).unwrap_or_default()>
                    <option value="">"Any"</option>
                    {Outcome::ALL.into_iter().map(|o| view! {
                        <option value=o.as_str()>{o.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Review aid"
                <select name="flag" id="filter-flag"
                    prop:value=move || query.get().flag.map(|f| f.as_str()).unwrap_or_default()>
                    <option value="">"None"</option>
                    <option value="outside_hours">"Outside working hours"</option>
                    <option value="elevation">"Elevation used"</option>
                </select>
            </label>
            <button type="submit">"Apply"</button>
            {move || {
                let q = query.get();
                let chips = [
                    ("Helper", q.helper.is_some(), filter_link(&q, |q| q.helper = None)),
                    ("Sharer", q.sharer.is_some(), filter_link(&q, |q| q.sharer = None)),
                    ("Device", q.device.is_some(), filter_link(&q, |q| q.device = None)),
                ];
                chips.into_iter().filter(|c| c.1).map(|(what, _, href)| view! {
                    <a class="chip" href=href>{format!("{what} filter ×")}</a>
                }).collect_view()
            }}
            <a href=AppRoute::Reports(ReportQuery::default()).href()>"Clear all"</a>
        </form>
    }
}

#[component]
pub fn ReportsPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(|p| report_query(|k| p.get(k))));
    let data = LocalResource::new(move || {
        let q = query.get();
        async move { api::report_page(&q).await }
    });
    view! {
        <section class="page" aria-labelledby="reports-title">
            <h1 id="reports-title">"Sessions"</h1>
            <Filters query />
            {move || {
                let q = query.get();
                loading_or_error(data.get(), move |page| {
                    view! { <ExportLink query=q.clone() total=page.total /> {table(&q, page)} }.into_any()
                })
            }}
        </section>
    }
}

fn ended_by(r: &SessionReport) -> String {
    match (r.ended_by, &r.ended_by_name) {
        (_, Some(name)) => name.clone(),
        (Some(Party::Helper), None) => "The helper".into(),
        (Some(Party::Sharer), None) => "The sharer".into(),
        (Some(Party::Agent), None) => "The device's agent".into(),
        (Some(Party::System), None) => "Tandem".into(),
        (None, None) => "–".into(),
    }
}

#[component]
pub fn ReportDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = tandem_protocol::SessionId(params.with_untracked(|p| p.get("id").unwrap_or_default()));
    let data = LocalResource::new(move || {
        let id = id.clone();
        async move { api::report_detail(&id).await }
    });
    let body = move || {
        loading_or_error(
            data.get(),
            |d: tandem_protocol::reports::SessionReportDetail| {
                let r = d.report;
                let yes = |b: bool| if b { "Yes" } else { "No" };
                let facts: Vec<(&str, String)> = vec![
                    ("Helper", r.helper_name.clone()),
                    (
                        "Sharer",
                        r.sharer_name.clone().unwrap_or_else(|| "–".into()),
                    ),
                    (
                        "Device",
                        r.device_name.clone().unwrap_or_else(|| "–".into()),
                    ),
                    ("Organization", r.tenant_name.clone()),
                    ("Started", when(r.started_at.0)),
                    (
                        "Ended",
                        r.ended_at
                            .map(|t| when(t.0))
                            .unwrap_or_else(|| "Not yet".into()),
                    ),
                    ("Duration", duration(r.duration_ms)),
                    ("View only", duration(r.view_ms)),
                    ("Full control", duration(r.control_ms)),
                    ("Paused", duration(r.paused_ms)),
                    (
                        "Helper held Elevation in full control",
                        yes(r.elevation_held).into(),
                    ),
                    (
                        "Elevation used (acted on a UAC or secure-desktop prompt)",
                        yes(r.elevation_used).into(),
                    ),
                    ("Chat used", yes(r.chat_used).into()),
                    ("Pause used", yes(r.pause_used).into()),
                    ("Annotation used", yes(r.annotation_used).into()),
                    (
                        "Clipboard (text to the device / read from it)",
                        format!("{} / {}", r.clipboard_to_device, r.clipboard_from_device),
                    ),
                    (
                        "Files (to the device / from it: count, total size)",
                        format!(
                            "{}, {} / {}, {}",
                            r.files_to_device,
                            tandem_protocol::files::size_text(r.file_bytes_to_device),
                            r.files_from_device,
                            tandem_protocol::files::size_text(r.file_bytes_from_device)
                        ),
                    ),
                    (
                        "Outcome",
                        match &r.outcome_detail {
                            Some(detail) => format!("{}: {detail}", r.outcome.label()),
                            None => r.outcome.label().into(),
                        },
                    ),
                    ("Ended by", ended_by(&r)),
                    ("Reconnects", r.reconnects.to_string()),
                    ("Ticket", r.ticket.clone().unwrap_or_else(|| "–".into())),
                    ("Outside working hours", yes(r.outside_hours).into()),
                ];
                view! {
                <dl class="facts" id="report-facts">
                    {facts.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
                </dl>
                <h2>"Steps"</h2>
                <ol class="steps" id="report-steps">
                    {d.steps.into_iter().map(|s| view! {
                        <li><time datetime=iso_time(s.at.0)>{when(s.at.0)}</time> " " {s.what}</li>
                    }).collect_view()}
                </ol>
            }
            .into_any()
            },
        )
    };
    view! {
        <section class="page" aria-labelledby="report-title">
            <h1 id="report-title">"Session record"</h1>
            <p><a href=AppRoute::Reports(ReportQuery::default()).href()>"All sessions"</a></p>
            {body}
        </section>
    }
}
