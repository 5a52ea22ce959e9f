//! Search bar, pager and CSV import panel of the directory pages.

use crate::api;
use crate::routes::{AppRoute, DirectoryKind};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use tandem_protocol::directory::ImportReport;
use wasm_bindgen::JsCast;

/// A search box that puts its text in the URL (page 1).
#[component]
pub fn SearchBar(kind: DirectoryKind, q: Signal<String>, label: &'static str) -> impl IntoView {
    let navigate = use_navigate();
    let text = RwSignal::new(String::new());
    Effect::new(move |_| text.set(q.get()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let route = AppRoute::Directory {
            kind,
            q: Some(text.get_untracked()),
            page: None,
        };
        navigate(&route.href(), NavigateOptions::default());
    };
    view! {
        <form class="filters" role="search" on:submit=submit>
            <div>
                <label for="directory-search">{label}</label>
                <input id="directory-search" type="search" prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev)) />
            </div>
            <button type="submit">"Search"</button>
        </form>
    }
}

/// "Page 2 of 5" with previous/next links that keep the search.
#[component]
pub fn Pager(
    kind: DirectoryKind,
    q: Signal<String>,
    page: u32,
    pages: u32,
    total: u64,
) -> impl IntoView {
    let link = move |to: u32| {
        AppRoute::Directory {
            kind,
            q: Some(q.get_untracked()),
            page: Some(to),
        }
        .href()
    };
    view! {
        <nav class="pager" aria-label="Pages">
            {(page > 1).then(|| view! { <a href=link(page - 1) rel="prev">"Previous"</a> })}
            <span>{format!("Page {page} of {pages} ({total} in all)")}</span>
            {(page < pages).then(|| view! { <a href=link(page + 1) rel="next">"Next"</a> })}
        </nav>
    }
}

/// Paste or choose a CSV file and import it; shows what happened, line by line.
#[component]
pub fn ImportPanel(
    kind: &'static str,
    header: &'static str,
    on_done: Callback<()>,
) -> impl IntoView {
    let csv = RwSignal::new(String::new());
    let report = RwSignal::new(None::<Result<ImportReport, String>>);
    // Users files only: whether password cells may replace the passwords
    // of accounts that already exist. Off by default, and off again after
    // each import, so that it is always a deliberate choice.
    let set_passwords = RwSignal::new(false);
    let file_input = NodeRef::<leptos::html::Input>::new();

    let choose = move |_| {
        let Some(input) = file_input.get() else {
            return;
        };
        let Some(file) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                Ok(text) => csv.set(text.as_string().unwrap_or_default()),
                Err(_) => report.set(Some(Err("The file could not be read.".into()))),
            }
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = csv.get_untracked();
        let passwords = set_passwords.get_untracked();
        spawn_local(async move {
            let result = api::import(kind, text, passwords)
                .await
                .map_err(|e| e.message());
            if matches!(&result, Ok(r) if r.problems.is_empty()) {
                csv.set(String::new());
                set_passwords.set(false);
                on_done.run(());
            }
            report.set(Some(result));
        });
    };
    let outcome = move || {
        report.get().map(|result| match result {
            Ok(r) if r.problems.is_empty() => view! {
                <p class="form-status ok" role="status">
                    {format!("Imported: {} created, {} updated.", r.created, r.updated)}
                </p>
            }
            .into_any(),
            Ok(r) => view! {
                <div class="error" role="alert">
                    <p>"Nothing was imported. Fix these lines and try again:"</p>
                    <ul class="import-problems">
                        {r.problems.into_iter().map(|p| view! {
                            <li>{format!("Line {}: {}", p.line, p.message)}</li>
                        }).collect_view()}
                    </ul>
                </div>
            }
            .into_any(),
            Err(message) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
        })
    };
    let textarea_id = format!("import-{kind}");
    let file_id = format!("import-file-{kind}");
    view! {
        <details class="import">
            <summary>"Import from CSV"</summary>
            <form class="stack" on:submit=submit>
                <p class="muted small">"The first line must be: " <code>{header}</code></p>
                <label for=file_id.clone()>"Choose a file"</label>
                <input id=file_id type="file" accept=".csv,text/csv" node_ref=file_input on:change=choose />
                <label for=textarea_id.clone()>"Or paste the CSV"</label>
                <textarea id=textarea_id rows="6" prop:value=move || csv.get()
                    on:input=move |ev| {
                        if let Some(area) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok()) {
                            csv.set(area.value());
                        }
                    }
                ></textarea>
                {(kind == "users").then(|| view! {
                    <div class="check">
                        <input id="import-set-passwords" type="checkbox"
                            prop:checked=move || set_passwords.get()
                            on:change=move |ev| set_passwords.set(event_target_checked(&ev)) />
                        <label for="import-set-passwords">
                            "Also change the passwords of existing accounts"
                        </label>
                    </div>
                    <p class="muted small">
                        "Without this, a line with a password for an account that already exists is refused. \
                         With it, that password replaces the account's password; the audit log names each account changed."
                    </p>
                })}
                {outcome}
                <button type="submit" class="primary">"Import"</button>
            </form>
        </details>
    }
}
