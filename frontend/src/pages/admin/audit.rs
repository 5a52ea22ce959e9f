//! `/admin/audit`: every administrative change, newest first, in words;
//! searched, filtered by kind and paged, all in the URL.

use crate::api;
use crate::components::admin::{Time, describe};
use crate::routes::{AppRoute, audit_query};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use tandem_protocol::admin::{AUDIT_KINDS, AuditQuery, AuditRecord};
use tandem_protocol::directory::Page;

/// One entry.
#[component]
fn AuditRow(record: AuditRecord) -> impl IntoView {
    let described = describe(&record);
    let details = if described.details.is_empty() {
        view! { <span class="muted">"—"</span> }.into_any()
    } else {
        view! {
            <ul class="changes">
                {described.details.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <tr data-entry-id=record.id.clone() data-action=record.action.clone()>
            <td class="when"><Time ms=record.at.0 /></td>
            <td>{record.actor_name.clone()}</td>
            <th scope="row">{described.action}</th>
            <td class="target">{described.target}</td>
            <td>{details}</td>
        </tr>
    }
}

/// `/admin/audit`.
#[component]
pub fn AuditPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let params = params.read();
        audit_query(|k| params.get(k))
    });
    let data = LocalResource::new(move || {
        let query = query.get();
        async move { api::audit_page(&query).await }
    });
    let text = RwSignal::new(String::new());
    let kind = RwSignal::new(String::new());
    Effect::new(move |_| {
        let query = query.get();
        kind.set(query.kind().unwrap_or_default().to_owned());
        text.set(query.q.unwrap_or_default());
    });
    let navigate = use_navigate();
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let route = AppRoute::AdminAudit(AuditQuery {
            q: Some(text.get_untracked()),
            kind: Some(kind.get_untracked()),
            page: None,
            per_page: None,
        });
        navigate(&route.href(), NavigateOptions::default());
    };
    let page_link = move |page: u32| {
        AppRoute::AdminAudit(AuditQuery {
            page: Some(page),
            ..query.get_untracked()
        })
        .href()
    };

    let table = move || match data.get() {
        None => view! { <p role="status" class="muted">"Loading the audit log…"</p> }.into_any(),
        Some(Err(error)) => {
            view! { <p class="error" role="alert">{error.message()}</p> }.into_any()
        }
        Some(Ok(page)) if page.items.is_empty() => view! {
            <p class="muted" id="audit-result">"No changes match."</p>
        }
        .into_any(),
        Some(Ok(page)) => {
            let Page {
                items,
                page: number,
                total,
                ..
            } = page.clone();
            let pages = page.pages();
            view! {
                <table class="data audit" id="audit-result">
                    <caption>{format!("{total} change{}, newest first", if total == 1 { "" } else { "s" })}</caption>
                    <thead><tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Who"</th>
                        <th scope="col">"What"</th>
                        <th scope="col">"Object"</th>
                        <th scope="col">"Details"</th>
                    </tr></thead>
                    <tbody>
                        {items.into_iter().map(|record| view! { <AuditRow record /> }).collect_view()}
                    </tbody>
                </table>
                <nav class="pager" aria-label="Pages">
                    {(number > 1).then(|| view! { <a href=page_link(number - 1) rel="prev">"Newer"</a> })}
                    <span>{format!("Page {number} of {pages} ({total} in all)")}</span>
                    {(number < pages).then(|| view! { <a href=page_link(number + 1) rel="next">"Older"</a> })}
                </nav>
            }
            .into_any()
        }
    };

    view! {
        <section class="page" aria-labelledby="audit-title">
            <h1 id="audit-title">"Audit log"</h1>
            <p class="muted">"Every change an administrator made to this organization, who made it and when."</p>
            <form class="filters" role="search" on:submit=search>
                <div>
                    <label for="audit-search">"Who or what"</label>
                    <input id="audit-search" type="search" prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev)) />
                </div>
                <div>
                    <label for="audit-kind">"About"</label>
                    <select id="audit-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="" prop:selected=move || kind.get().is_empty()>"Everything"</option>
                        {AUDIT_KINDS.into_iter().map(|(value, name)| view! {
                            <option value=value prop:selected=move || kind.get() == value>{name}</option>
                        }).collect_view()}
                    </select>
                </div>
                <button type="submit">"Search"</button>
            </form>
            {table}
        </section>
    }
}
