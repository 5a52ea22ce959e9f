//! `/monitor` (Read session reports): the sessions live now, kept current
//! by the server's event stream without a reload, and the last 30 days:
//! sessions per day, outcomes, mean duration, busiest helpers and unusual
//! patterns, each linking to its sessions.

use crate::api;
use crate::components::reports::{DayChart, OutcomeChart, duration};
use crate::format::{now_ms, relative_time};
use crate::pages::admin::loading_or_error;
use crate::routes::AppRoute;
use leptos::prelude::*;
use tandem_protocol::reports::{ActiveSession, LiveSessions, MonitorSummary, ReportQuery};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// Whether the live feed is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    Connecting,
    Live,
    Retrying,
}

/// Subscribes to `GET /api/reports/live`; every `live` event replaces the
/// list. EventSource reconnects by itself after a drop.
#[allow(
    clippy::disallowed_methods,
    reason = "LiveSessions holds no tagged enum: plain serde_json reads it as the server writes it"
)]
fn follow_live(active: RwSignal<Option<Vec<ActiveSession>>>, feed: RwSignal<Feed>) {
    let Ok(source) = web_sys::EventSource::new(tandem_protocol::routes::REPORT_LIVE) else {
        feed.set(Feed::Retrying);
        return;
    };
    let on_live =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Some(text) = e.data().as_string()
                && let Ok(live) = serde_json::from_str::<LiveSessions>(&text)
            {
                active.set(Some(live.active));
                feed.set(Feed::Live);
            }
        });
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| feed.set(Feed::Retrying));
    let _ = source.add_event_listener_with_callback("live", on_live.as_ref().unchecked_ref());
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let cleanup = send_wrapper::SendWrapper::new((source, on_live, on_error));
    on_cleanup(move || cleanup.0.close());
}

/// "End session" with a confirmation step: ends a live session for both
/// sides (recorded with who ended it). The live feed then drops the row.
#[component]
fn EndSession(id: tandem_protocol::SessionId, who: String) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let end = {
        let id = id.clone();
        move |_| {
            let id = id.clone();
            busy.set(true);
            leptos::task::spawn_local(async move {
                if let Err(e) = api::end_session(&id).await {
                    error.set(Some(e.message()));
                }
                busy.set(false);
                confirming.set(false);
            });
        }
    };
    let label = format!("End the session of {who}");
    view! {
        {move || if confirming.get() {
            let end = end.clone();
            view! {
                <span class="confirm" role="group" aria-label="Confirm">
                    "End it for both sides? "
                    <button type="button" class="danger end-confirm" disabled=move || busy.get() on:click=end>"End session"</button>
                    <button type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                </span>
            }.into_any()
        } else {
            view! {
                <button type="button" class="end-session" aria-label=label.clone() on:click=move |_| confirming.set(true)>
                    "End session"
                </button>
            }.into_any()
        }}
        {move || error.get().map(|e| view! { <span class="error" role="alert">{e}</span> })}
    }
}

fn active_table(list: Vec<ActiveSession>, now: i64) -> impl IntoView {
    let count = list.len();
    let can_end = crate::auth::use_auth()
        .me
        .get_untracked()
        .is_some_and(|me| {
            me.admin_permissions
                .contains(tandem_protocol::rbac::Permission::ManageSettings)
        });
    view! {
        <p class="big-number" id="active-count" aria-live="polite">
            {format!("{count} active session{}", if count == 1 { "" } else { "s" })}
        </p>
        {(count > 0).then(|| view! {
            <table class="data" id="active-table">
                <caption>"Sessions not ended"</caption>
                <thead><tr>
                    <th scope="col">"Helper"</th><th scope="col">"Sharer"</th>
                    <th scope="col">"Device"</th><th scope="col">"Status"</th>
                    <th scope="col">"Started"</th>
                    {can_end.then(|| view! { <th scope="col">"Actions"</th> })}
                </tr></thead>
                <tbody>
                    {list.into_iter().map(|s| {
                        let who = format!("{} and {}", s.helper_name, s.sharer_name.clone().unwrap_or_else(|| "nobody yet".into()));
                        view! {
                        <tr data-session=s.id.0.clone()>
                            <th scope="row"><a href=AppRoute::ReportDetail { id: s.id.clone() }.href()>{s.helper_name.clone()}</a></th>
                            <td>{s.sharer_name.unwrap_or_else(|| "–".into())}</td>
                            <td>{s.device_name.unwrap_or_else(|| "–".into())}</td>
                            <td>{s.status}</td>
                            <td>{relative_time(now, s.started_at.0)}</td>
                            {can_end.then(|| view! { <td><EndSession id=s.id.clone() who=who /></td> })}
                        </tr>
                    }}).collect_view()}
                </tbody>
            </table>
        })}
    }
}

#[allow(
    clippy::disallowed_methods,
    reason = "a pattern's kind is a plain enum: plain serde_json names it as the server does"
)]
fn history(m: MonitorSummary) -> AnyView {
    let window = ReportQuery {
        from: m.per_day.first().map(|d| d.day.clone()),
        to: m.per_day.last().map(|d| d.day.clone()),
        ..ReportQuery::default()
    };
    view! {
        <section aria-labelledby="history-title">
            <h2 id="history-title">"Last 30 days"</h2>
            <p class="muted">{format!("Days are counted in {}.", m.timezone)}</p>
            <DayChart days=m.per_day />
            <div class="figures">
                <div>
                    <h3>"Average duration"</h3>
                    <p class="big-number" id="average-duration">
                        {m.average_duration_ms.map(duration).unwrap_or_else(|| "–".into())}
                    </p>
                </div>
                <div>
                    <h3>"Busiest helpers"</h3>
                    <ol id="busiest-helpers">
                        {m.busiest_helpers.into_iter().map(|h| {
                            let href = AppRoute::Reports(ReportQuery {
                                helper: Some(h.helper_id),
                                ..window.clone()
                            }).href();
                            view! { <li><a href=href>{h.helper_name}</a> {format!(" ({})", h.sessions)}</li> }
                        }).collect_view()}
                    </ol>
                </div>
            </div>
            <h3>"Outcomes"</h3>
            <OutcomeChart outcomes=m.outcomes />
        </section>
        <section aria-labelledby="unusual-title">
            <h2 id="unusual-title">"Unusual patterns"</h2>
            {if m.unusual.is_empty() {
                view! { <p class="muted">"Nothing unusual in the last 30 days."</p> }.into_any()
            } else {
                view! {
                    <ul id="unusual" class="unusual">
                        {m.unusual.into_iter().map(|p| view! {
                            <li data-kind=serde_json::to_string(&p.kind).unwrap_or_default().replace('"', "")>
                                {p.summary} " "
                                <a href=AppRoute::Reports(p.sessions).href()>"Show sessions"</a>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}

#[component]
pub fn MonitorPage() -> impl IntoView {
    let data = LocalResource::new(api::monitor);
    let active = RwSignal::new(None::<Vec<ActiveSession>>);
    let feed = RwSignal::new(Feed::Connecting);
    follow_live(active, feed);
    // "3 min ago" stays true without a reload.
    let now = RwSignal::new(now_ms());
    if let Ok(handle) = set_interval_with_handle(
        move || now.set(now_ms()),
        std::time::Duration::from_secs(15),
    ) {
        on_cleanup(move || handle.clear());
    }
    let live_list = move || {
        let list = active
            .get()
            .or_else(|| data.get().and_then(Result::ok).map(|m| m.active));
        list.map(|l| active_table(l, now.get()))
    };
    view! {
        <section class="page monitor" aria-labelledby="monitor-title">
            <h1 id="monitor-title">"Monitor"</h1>
            <section aria-labelledby="now-title">
                <h2 id="now-title">"Now"</h2>
                <p class="muted" id="feed-state" role="status">
                    {move || match feed.get() {
                        Feed::Connecting => "Connecting to the live feed…",
                        Feed::Live => "Live: updates as sessions change.",
                        Feed::Retrying => "The live feed dropped; reconnecting…",
                    }}
                </p>
                {live_list}
            </section>
            {move || loading_or_error(data.get(), history)}
            <p><a href=AppRoute::Reports(ReportQuery::default()).href()>"All sessions"</a></p>
        </section>
    }
}
