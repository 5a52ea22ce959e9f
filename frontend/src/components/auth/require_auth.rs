use crate::auth::use_auth;
use crate::routes::{self, AppRoute};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate};

/// The page's address from its path and query string. The router gives
/// the query without its `?`: pasted on as it was, `/share?pair=X` came
/// back from sign-in as `/sharepair=X`.
pub fn current_address(path: &str, search: &str) -> String {
    let query = search.trim_start_matches('?');
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// Renders its children only for a signed-in user; anyone else is sent to
/// sign-in, with the current address as `next` so they come back here.
#[component]
pub fn RequireAuth(children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    let navigate = use_navigate();

    // Only the sign-in state is tracked. Tracking the location too would
    // re-run this on its own redirect, and redirect again, forever.
    Effect::new(move |_| {
        if auth.checked.get() && auth.me.read().is_none() {
            let path = location.pathname.get_untracked();
            if path.starts_with(routes::SIGN_IN) {
                // Already on the way to sign-in (e.g. after signing out).
                return;
            }
            let here = current_address(&path, &location.search.get_untracked());
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

#[cfg(test)]
mod tests {
    use super::current_address;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn the_address_keeps_its_question_mark() {
        assert_eq!(current_address("/share", "pair=X"), "/share?pair=X");
        assert_eq!(current_address("/share", "?pair=X"), "/share?pair=X");
        assert_eq!(current_address("/devices", ""), "/devices");
    }
}
