use crate::api;
use crate::auth::use_auth;
use crate::components::auth::SignInForm;
use crate::routes::AppRoute;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use tandem_protocol::auth::OidcError;
use tandem_protocol::routes::{OIDC_START, with_id};

/// `/auth/oidc/{id}/start`, carrying `next` along.
fn oidc_start_href(provider: &str, next: Option<&str>) -> String {
    let start = with_id(OIDC_START, provider);
    match next {
        Some(next) => format!("{start}?next={}", js_sys::encode_uri_component(next)),
        None => start,
    }
}

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

    let refused = move || {
        query
            .read()
            .get("error")
            .and_then(|code| OidcError::parse(&code))
            .map(|error| view! { <p class="error banner" role="alert">{error.message()}</p> })
    };
    let providers = LocalResource::new(api::providers);
    let buttons = move || {
        let list = providers.get().and_then(Result::ok).unwrap_or_default();
        (!list.is_empty()).then(|| {
            let next = query.read().get("next");
            let links = list
                .into_iter()
                .map(|p| {
                    let href = oidc_start_href(&p.id, next.as_deref());
                    view! {
                        <a class="button primary" rel="external" href=href>
                            {format!("Sign in with {}", p.name)}
                        </a>
                    }
                })
                .collect_view();
            view! {
                <div class="stack providers">{links}</div>
                <p class="divider muted">"or with a Tandem account"</p>
            }
        })
    };

    view! {
        <section class="page narrow" aria-labelledby="signin-title">
            <h1 id="signin-title">"Sign in to Tandem"</h1>
            <p class="muted">"Use your organization account."</p>
            {refused}
            {buttons}
            <SignInForm on_signed_in=Callback::new(move |me| auth.signed_in(me)) />
        </section>
    }
}
