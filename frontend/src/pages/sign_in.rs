use crate::auth::use_auth;
use crate::components::auth::SignInForm;
use crate::routes::AppRoute;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

/// `/signin`: the built-in account form. Goes on to `?next=` (if local) or
/// the devices page once signed in.
#[component]
pub fn SignInPage() -> impl IntoView {
    let auth = use_auth();
    let query = use_query_map();
    let navigate = use_navigate();
    let destination = move || AppRoute::after_sign_in(query.read().get("next").as_deref());

    // Already signed in (or just signed in): move on.
    Effect::new(move |_| {
        if auth.me.read().is_some() {
            navigate(
                &destination(),
                NavigateOptions {
                    replace: true,
                    ..NavigateOptions::default()
                },
            );
        }
    });

    view! {
        <section class="page narrow" aria-labelledby="signin-title">
            <h1 id="signin-title">"Sign in to Tandem"</h1>
            <p class="muted">"Use your organization account."</p>
            <SignInForm on_signed_in=Callback::new(move |me| auth.signed_in(me)) />
        </section>
    }
}
