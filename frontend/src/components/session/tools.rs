//! "Tools…": the in-session tools (annotation whenever the device draws;
//! type text, clipboard and files in full control), one button in the screen's
//! toolbar that opens a row of them below it, so the toolbar stays one
//! line and the picture keeps its room.

use super::annotate::{AnnotateTools, Annotation};
use super::clipboard::ClipboardTool;
use super::files::FileTool;
use super::type_text::TypeText;
use crate::rtc::remote::Remote;
use leptos::prelude::*;
use tandem_protocol::input::Input;

/// The button and, while open, the row of tools. `clipboard` and `files`:
/// the organization's limits, when it allows the clipboard or files.
#[component]
pub fn SessionTools(
    send: Callback<Input>,
    remote: Option<StoredValue<Remote, LocalStorage>>,
    clipboard: Memo<Option<u32>>,
    files: Memo<Option<u64>>,
    controlling: Memo<bool>,
    annotation: Option<Annotation>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    // Closing the row puts the pointer back to controlling the device.
    Effect::new(move |_| {
        if !open.get()
            && let Some(annotation) = annotation
        {
            annotation.tool.set(None);
        }
    });
    let row = move || {
        open.get().then(|| {
            let clipboard = move || {
                let limit = clipboard.get()?;
                remote.map(|remote| view! { <ClipboardTool remote limit /> })
            };
            let annotate = move || {
                let annotation = annotation.filter(|a| a.available.get())?;
                remote.map(|remote| view! { <AnnotateTools annotation remote /> })
            };
            let typing = move || controlling.get().then(|| view! { <TypeText send /> });
            let file_tool = move || {
                let limit = files.get()?;
                remote.map(|remote| view! { <FileTool remote limit /> })
            };
            view! {
                <div class="session-tools" id="session-tools" role="group" aria-label="Tools">
                    {annotate}
                    {typing}
                    {clipboard}
                    {file_tool}
                </div>
            }
        })
    };
    view! {
        <button type="button" id="tools-button" aria-expanded=move || open.get().to_string()
            aria-controls="session-tools"
            on:click=move |_| open.update(|o| *o = !*o)>
            "Tools…"
        </button>
        {row}
    }
}
