//! "Tools…": the in-session tools of full control (type text, clipboard),
//! one button in the screen's toolbar that opens a row of them below it,
//! so the toolbar stays one line and the picture keeps its room.

use super::clipboard::ClipboardTool;
use super::type_text::TypeText;
use crate::rtc::remote::Remote;
use leptos::prelude::*;
use tandem_protocol::input::Input;

/// The button and, while open, the row of tools. `clipboard`: the
/// organization's clipboard limit, when it allows the clipboard.
#[component]
pub fn SessionTools(
    send: Callback<Input>,
    remote: Option<StoredValue<Remote, LocalStorage>>,
    clipboard: Memo<Option<u32>>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let row = move || {
        open.get().then(|| {
            let clipboard = move || {
                let limit = clipboard.get()?;
                remote.map(|remote| view! { <ClipboardTool remote limit /> })
            };
            view! {
                <div class="session-tools" id="session-tools" role="group" aria-label="Tools">
                    <TypeText send />
                    {clipboard}
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
