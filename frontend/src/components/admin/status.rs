use leptos::prelude::*;

/// The outcome of a form submission, announced to screen readers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Idle,
    Done(String),
    Failed(String),
}

/// Shows an [`Outcome`]: success in a status region, errors in an alert.
#[component]
pub fn FormStatus(outcome: RwSignal<Outcome>) -> impl IntoView {
    move || match outcome.get() {
        Outcome::Idle => view! { <p class="form-status" role="status"></p> }.into_any(),
        Outcome::Done(text) => {
            view! { <p class="form-status ok" role="status">{text}</p> }.into_any()
        }
        Outcome::Failed(text) => {
            view! { <p class="form-status error" role="alert">{text}</p> }.into_any()
        }
    }
}
