//! The sharer's choice of what her device shares: the whole screen, or
//! one window she picks from the device's list (asked of the agent when
//! she opens it). The agent says what it shares; she sees it here.

use leptos::prelude::*;
use tandem_protocol::sharing::{ShareChoice, Shared, WindowChoice};

/// "You share …", "Share one window…" with the device's windows, and
/// "Share the whole screen" while one window is shared.
#[component]
pub fn SharerShareChoice(
    shared: RwSignal<Shared>,
    windows: RwSignal<Option<Vec<WindowChoice>>>,
    send: Callback<ShareChoice>,
) -> impl IntoView {
    let list = move || {
        let listed = windows.get()?;
        let items = if listed.is_empty() {
            view! { <li>"The device shows no window to pick."</li> }.into_any()
        } else {
            listed
                .into_iter()
                .map(|window| {
                    let id = window.id;
                    view! {
                        <li>
                            <button type="button" class="share-window-choice" data-id=id.to_string()
                                on:click=move |_| {
                                    windows.set(None);
                                    send.run(ShareChoice::Window { id });
                                }>
                                {window.title}
                            </button>
                        </li>
                    }
                })
                .collect_view()
                .into_any()
        };
        Some(view! {
            <ul class="share-windows" id="share-windows" aria-label="The device's windows">{items}</ul>
        })
    };
    view! {
        <div class="share-choice" id="share-choice">
            <p id="share-what">{move || format!("You share {}.", shared.get().text())}</p>
            <button type="button" id="share-window-button"
                on:click=move |_| send.run(ShareChoice::ListWindows)>
                "Share one window…"
            </button>
            {move || matches!(shared.get(), Shared::Window { .. }).then(|| view! {
                <button type="button" id="share-screen-button"
                    on:click=move |_| {
                        windows.set(None);
                        send.run(ShareChoice::Screen);
                    }>
                    "Share the whole screen"
                </button>
            })}
            {list}
        </div>
    }
}
