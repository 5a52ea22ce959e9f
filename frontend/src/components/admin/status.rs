use leptos::prelude::*;

/// The outcome of a form submission, announced to screen readers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Idle,
    Done(String),
    Failed(String),
}

/// Shows an [`Outcome`]: success in a status region, errors in an alert.
/// With an `id`, [`focus_soon`] can move focus to it (e.g. after the row
/// that held the focused button was deleted).
#[component]
pub fn FormStatus(
    outcome: RwSignal<Outcome>,
    #[prop(optional)] id: Option<&'static str>,
) -> impl IntoView {
    move || match outcome.get() {
        Outcome::Idle => {
            view! { <p class="form-status" role="status" id=id tabindex="-1"></p> }.into_any()
        }
        Outcome::Done(text) => {
            view! { <p class="form-status ok" role="status" id=id tabindex="-1">{text}</p> }
                .into_any()
        }
        Outcome::Failed(text) => {
            view! { <p class="form-status error" role="alert" id=id tabindex="-1">{text}</p> }
                .into_any()
        }
    }
}

/// Moves focus to the element with `id` once the current update has been
/// drawn.
pub fn focus_soon(id: &'static str) {
    request_animation_frame(move || {
        if let Some(element) = document().get_element_by_id(id)
            && let Ok(element) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(element)
        {
            let _ = element.focus();
        }
    });
}
