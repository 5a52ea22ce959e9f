use crate::auth::use_auth;
use crate::routes::AppRoute;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate};

/// Renders its children only for a signed-in user; anyone else is sent to
/// sign-in, with the current address as `next` so they come back here.
#[component]
pub fn RequireAuth(children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    let navigate = use_navigate();

    Effect::new(move |_| {
        if auth.checked.get() && auth.me.read().is_none() {
            let here = format!("{}{}", location.pathname.get(), location.search.get());
            navigate(
                &AppRoute::SignIn { next: Some(here) }.href(),
                NavigateOptions {
                    replace: true,
                    ..NavigateOptions::default()
                },
            );
        }
    });

    move || {
        if auth.me.read().is_some() {
            children().into_any()
        } else {
            view! { <p role="status" class="muted">"Checking your sign-in…"</p> }.into_any()
        }
    }
}
