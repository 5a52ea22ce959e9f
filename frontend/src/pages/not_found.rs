use crate::routes::AppRoute;
use leptos::prelude::*;

/// Shown for any path the console does not know.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section class="page narrow" aria-labelledby="not-found-title">
            <h1 id="not-found-title">"Page not found"</h1>
            <p>"There is no page at this address. It may have moved, or the link may be wrong."</p>
            <p><a href=AppRoute::Devices.href()>"Go to devices"</a></p>
        </section>
    }
}
