//! The helper's file tool, in full control when the organization allows
//! it: send a file into the sharer's Downloads folder, or get a file from
//! the device by its path. The sharer accepts each one on their page,
//! seeing its name and size. The transfer itself lives in
//! [`crate::rtc::files::Files`]; this panel shows it (progress, speed,
//! time left) and offers Cancel.

use crate::rtc::files::{Phase, TransferView};
use crate::rtc::remote::Remote;
use leptos::prelude::*;
use std::rc::Rc;
use tandem_protocol::files::{FileDirection, size_text};
use wasm_bindgen::JsCast;

/// "Files…" and its panel. `limit`: the organization's limit in bytes.
#[component]
pub fn FileTool(remote: StoredValue<Remote, LocalStorage>, limit: u64) -> impl IntoView {
    let files = StoredValue::new_local(remote.with_value(|r| r.files().clone()));
    let open = RwSignal::new(false);
    let transfer = RwSignal::new(files.with_value(|f| f.view()));
    let path = RwSignal::new(String::new());
    let now = RwSignal::new(0.0);
    files.with_value(|f| f.listen(Rc::new(move |view| transfer.set(view))));
    // Speed and time left move on while bytes do.
    let ticker = set_interval_with_handle(
        move || {
            if transfer.with_untracked(|t| t.as_ref().is_some_and(|t| t.phase == Phase::Moving)) {
                now.set(window().performance().map(|p| p.now()).unwrap_or_default());
            }
        },
        std::time::Duration::from_millis(250),
    )
    .ok();
    on_cleanup(move || {
        if let Some(ticker) = ticker {
            ticker.clear();
        }
    });
    let choose = move |e: leptos::ev::Event| {
        let Some(input) = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        if let Some(file) = input.files().and_then(|list| list.get(0)) {
            files.with_value(|f| f.send_file(file, limit));
        }
        input.set_value("");
    };
    let get = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let wanted = path.get_untracked().trim().to_owned();
        if !wanted.is_empty() {
            files.with_value(|f| f.request(wanted));
        }
    };
    let busy = move || {
        transfer.with(|t| {
            t.as_ref()
                .is_some_and(|t| !matches!(t.phase, Phase::Over { .. }))
        })
    };
    let progress = move || {
        let view = transfer.get()?;
        let _ = now.get();
        Some(transfer_view(view, files))
    };
    let panel = move || {
        open.get().then(|| {
            view! {
                <div class="files-panel" id="files-panel">
                    <label for="file-send">"Send a file to the sharer's Downloads folder"</label>
                    <input type="file" id="file-send" disabled=busy on:change=choose />
                    <form on:submit=get>
                        <label for="file-path">"Get a file from the device (its full path)"</label>
                        <input type="text" id="file-path" spellcheck="false" autocomplete="off"
                            placeholder="/home/megan/app.log or C:\\Users\\Megan\\app.log"
                            prop:value=move || path.get()
                            on:input=move |e| path.set(event_target_value(&e)) />
                        <button type="submit" id="file-get" disabled=busy>"Get the file"</button>
                    </form>
                    {progress}
                    <p class="hint">{format!(
                        "The sharer accepts each file, seeing its name and size; your keyboard and mouse wait \
                         while she decides. At most {}, one at a time, over the session's encrypted \
                         connection; the server never stores a file.",
                        size_text(limit)
                    )}</p>
                </div>
            }
        })
    };
    view! {
        <span class="files-tool">
            <button type="button" id="files-button" aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)>
                "Files…"
            </button>
            {panel}
        </span>
    }
}

fn transfer_view(
    view: TransferView,
    files: StoredValue<crate::rtc::files::Files, LocalStorage>,
) -> impl IntoView {
    let what = match view.direction {
        FileDirection::ToDevice => format!("\u{201c}{}\u{201d} to the device", view.name),
        FileDirection::FromDevice => format!("\u{201c}{}\u{201d} from the device", view.name),
    };
    let amount = format!("{} of {}", size_text(view.bytes), size_text(view.size));
    let now = window().performance().map(|p| p.now()).unwrap_or_default();
    let (line, class) = match &view.phase {
        Phase::Checking => ("Checking the file (SHA-256)…".to_owned(), ""),
        Phase::Asking => (
            "Waiting for the sharer to accept… (your keyboard and mouse wait meanwhile)".to_owned(),
            "",
        ),
        Phase::Moving => (
            match view.rate(now) {
                Some(rate) => format!("{amount} \u{b7} {rate}"),
                None => amount.clone(),
            },
            "",
        ),
        Phase::Waiting => (
            format!("{amount} \u{b7} the connection dropped; it goes on when it is back"),
            "",
        ),
        Phase::Over { ok: true, message } => (message.clone(), "ok"),
        Phase::Over { ok: false, message } => (message.clone(), "error"),
    };
    let over = matches!(view.phase, Phase::Over { .. });
    let max = view.size.max(1) as f64;
    let value = view.bytes as f64;
    view! {
        <div class="file-transfer" id="file-transfer" data-phase=phase_name(&view.phase)>
            <strong>{what}</strong>
            <progress id="file-progress" max=max value=value></progress>
            <span class=class role="status" id="file-status">{line}</span>
            {(!over).then(|| view! {
                <button type="button" id="file-cancel" on:click=move |_| files.with_value(|f| f.cancel())>"Cancel"</button>
            })}
            {over.then(|| view! {
                <button type="button" id="file-clear" on:click=move |_| files.with_value(|f| f.clear())>"Close"</button>
            })}
        </div>
    }
}

fn phase_name(phase: &Phase) -> &'static str {
    match phase {
        Phase::Checking => "checking",
        Phase::Asking => "asking",
        Phase::Moving => "moving",
        Phase::Waiting => "waiting",
        Phase::Over { ok: true, .. } => "done",
        Phase::Over { ok: false, .. } => "failed",
    }
}
