//! "Type text": a string typed on the device as keystrokes, for fields
//! where pasting is blocked (a password field, a sign-in prompt). The
//! agent types each character with the sharer's layout, so it arrives as
//! written whatever that layout is. The text is never kept: the box is
//! emptied once it is sent.

use leptos::prelude::*;
use tandem_protocol::input::{Input, MAX_TYPED_CHARS, typed};

/// The "Type text…" button and, once pressed, its box. `send` takes each
/// piece to the device (only while the helper has full control).
#[component]
pub fn TypeText(send: Callback<Input>) -> impl IntoView {
    let open = RwSignal::new(false);
    let text = RwSignal::new(String::new());
    let status = RwSignal::new(None::<String>);
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let (pieces, count) = typed(&text.get_untracked());
        if count == 0 {
            status.set(Some("Nothing to type.".into()));
            return;
        }
        for piece in pieces {
            send.run(piece);
        }
        text.set(String::new());
        open.set(false);
        let noun = if count == 1 {
            "character"
        } else {
            "characters"
        };
        status.set(Some(format!("Sent {count} {noun} to type on the device.")));
    };
    let form = move || {
        open.get().then(|| {
            view! {
                <form class="type-text" id="type-text-form" on:submit=submit>
                    <label for="type-text-input">
                        "Text to type on the device, as keystrokes with the sharer's keyboard layout"
                    </label>
                    <textarea id="type-text-input" rows="3" autocomplete="off" spellcheck="false"
                        maxlength=MAX_TYPED_CHARS.to_string()
                        prop:value=move || text.get()
                        on:input=move |e| text.set(event_target_value(&e))></textarea>
                    <button type="submit" id="type-text-send">"Type on the device"</button>
                    <button type="button" on:click=move |_| {
                        text.set(String::new());
                        open.set(false);
                    }>"Cancel"</button>
                </form>
            }
        })
    };
    Effect::new(move |_| {
        if open.get()
            && let Some(input) = document().get_element_by_id("type-text-input")
        {
            use wasm_bindgen::JsCast;
            if let Some(input) = input.dyn_ref::<web_sys::HtmlElement>() {
                let _ = input.focus();
            }
        }
    });
    view! {
        <span class="type-text-tool">
            <button type="button" id="type-text-button" aria-expanded=move || open.get().to_string()
                title="Type a string on the device, for fields where pasting is blocked"
                on:click=move |_| {
                    status.set(None);
                    open.update(|o| *o = !*o);
                }>
                "Type text…"
            </button>
            {move || status.get().map(|s| view! { <span class="ok" role="status" id="type-text-status">{s}</span> })}
            {form}
        </span>
    }
}
