use crate::api;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_protocol::auth::{LoginRequest, Me};

/// E-mail and password form. Checks the fields itself first, then asks the
/// server; shows any error in an alert next to the form.
#[component]
pub fn SignInForm(on_signed_in: Callback<Me>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let request = LoginRequest {
            email: email.get_untracked().trim().to_owned(),
            password: password.get_untracked(),
        };
        if let Err(message) = request.validate() {
            error.set(Some(message.to_owned()));
            return;
        }
        error.set(None);
        pending.set(true);
        spawn_local(async move {
            match api::login(&request).await {
                Ok(me) => {
                    password.set(String::new());
                    on_signed_in.run(me);
                }
                Err(e) => error.set(Some(e.message())),
            }
            pending.set(false);
        });
    };

    view! {
        <form class="stack" on:submit=submit novalidate=true aria-describedby="signin-error">
            <label for="signin-email">"E-mail address"</label>
            <input
                id="signin-email"
                name="email"
                type="email"
                autocomplete="username"
                required=true
                prop:value=move || email.get()
                on:input=move |ev| email.set(event_target_value(&ev))
            />
            <label for="signin-password">"Password"</label>
            <input
                id="signin-password"
                name="password"
                type="password"
                autocomplete="current-password"
                required=true
                prop:value=move || password.get()
                on:input=move |ev| password.set(event_target_value(&ev))
            />
            <p id="signin-error" class="error" role="alert">
                {move || error.get()}
            </p>
            <button type="submit" class="primary" disabled=move || pending.get()>
                {move || if pending.get() { "Signing in…" } else { "Sign in" }}
            </button>
        </form>
    }
}
