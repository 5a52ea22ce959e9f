//! The helper's ticket reference, kept with the session record.

use crate::api;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_protocol::reports::MAX_TICKET_CHARS;

/// A one-line field that saves the ticket reference of session `id`.
#[component]
pub fn TicketField(id: tandem_protocol::SessionId, initial: Option<String>) -> impl IntoView {
    let value = RwSignal::new(initial.unwrap_or_default());
    let status = RwSignal::new(None::<Result<String, String>>);
    let save = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let (id, ticket) = (id.clone(), value.get_untracked());
        spawn_local(async move {
            status.set(Some(match api::set_ticket(&id, &ticket).await {
                Ok(view) => Ok(match view.ticket {
                    Some(t) => format!("Saved: {t}"),
                    None => "Cleared".into(),
                }),
                Err(e) => Err(e.message()),
            }));
        });
    };
    view! {
        <form class="ticket" on:submit=save>
            <label for="ticket-input">"Ticket reference"</label>
            <input id="ticket-input" type="text" maxlength=MAX_TICKET_CHARS.to_string()
                placeholder="e.g. INC-1042"
                prop:value=move || value.get()
                on:input=move |e| value.set(event_target_value(&e)) />
            <button type="submit">"Save"</button>
            {move || status.get().map(|s| match s {
                Ok(text) => view! { <span class="ok" role="status" id="ticket-status">{text}</span> }.into_any(),
                Err(text) => view! { <span class="error" role="alert">{text}</span> }.into_any(),
            })}
        </form>
    }
}
