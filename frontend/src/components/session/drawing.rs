//! The sharer's say over the helper's drawings on their screen (agent
//! sessions, while shared): clear them, or switch drawing off for the
//! session and on again. The device's agent does it and tells the
//! helper's console, which then offers no drawing tools.

use leptos::prelude::*;
use tandem_protocol::annotation::SharerDrawing;

/// The two buttons; `send` takes the sharer's word to the server; `off`:
/// whether drawing is switched off, as the device (or this page, for a
/// browser tab) last said.
#[component]
pub fn SharerDrawingControls(send: Callback<SharerDrawing>, off: RwSignal<bool>) -> impl IntoView {
    let said = RwSignal::new(None::<&'static str>);
    let toggle = move |_| {
        let action = if off.get_untracked() {
            SharerDrawing::On
        } else {
            SharerDrawing::Off
        };
        send.run(action);
        off.set(action == SharerDrawing::Off);
        said.set(Some(if action == SharerDrawing::Off {
            "Asked to stop the helper drawing on your screen."
        } else {
            "Asked to let the helper draw on your screen again."
        }));
    };
    view! {
        <div class="sharer-drawing" role="group" aria-label="The helper's drawings">
            <button type="button" id="drawing-clear" on:click=move |_| {
                send.run(SharerDrawing::Clear);
                said.set(Some("Asked to clear the helper's drawings."));
            }>"Clear the helper's drawings"</button>
            <button type="button" id="drawing-toggle" aria-pressed=move || off.get().to_string() on:click=toggle>
                {move || if off.get() { "Let the helper draw again" } else { "Stop the helper drawing" }}
            </button>
            {move || said.get().map(|text| view! { <span class="muted" role="status" id="drawing-status">{text}</span> })}
        </div>
    }
}
