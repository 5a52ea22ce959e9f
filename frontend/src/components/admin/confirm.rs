//! Deleting (or revoking) asks first, in place: "Delete role “X”?
//! [Delete] [Cancel]". Opening the question moves focus to Cancel, the
//! safe answer; Cancel or Escape puts it back on the first button.

use leptos::prelude::*;

/// A button that asks before it acts.
#[component]
pub fn ConfirmDelete(
    /// What is deleted, e.g. "role “Night shift”".
    #[prop(into)]
    what: String,
    /// The action's verb, e.g. "Delete", "Revoke".
    #[prop(default = "Delete")]
    verb: &'static str,
    /// Runs when the user confirms.
    on_confirm: Callback<()>,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    // Put focus back on the first button only when coming back from the
    // question, never on first render.
    let refocus = StoredValue::new(false);
    let open_ref = NodeRef::<leptos::html::Button>::new();
    let cancel_ref = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(cancel) = cancel_ref.get() {
            let _ = cancel.focus();
        }
    });
    Effect::new(move |_| {
        if let Some(open) = open_ref.get()
            && refocus.get_value()
        {
            refocus.set_value(false);
            let _ = open.focus();
        }
    });
    let cancel = move || {
        refocus.set_value(true);
        asking.set(false);
    };
    let question_id = format!("confirm-{}", unique_suffix());
    move || {
        if asking.get() {
            let question = format!("{verb} {what}?");
            view! {
                <span class="confirm-delete" role="group" aria-labelledby=question_id.clone()
                    on:keydown=move |ev| if ev.key() == "Escape" { cancel() }>
                    <span class="question" id=question_id.clone()>{question}</span>
                    " "
                    <button type="button" class="danger confirm" on:click=move |_| {
                        asking.set(false);
                        on_confirm.run(());
                    }>{verb}</button>
                    " "
                    <button type="button" node_ref=cancel_ref on:click=move |_| cancel()>"Cancel"</button>
                </span>
            }
            .into_any()
        } else {
            view! {
                <button type="button" class="delete" node_ref=open_ref
                    aria-label=format!("{verb} {what}")
                    on:click=move |_| asking.set(true)>{verb}</button>
            }
            .into_any()
        }
    }
}

/// A number that differs between the confirm questions on a page.
fn unique_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
