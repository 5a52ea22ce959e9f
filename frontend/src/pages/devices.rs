use crate::api;
use crate::auth::use_auth;
use crate::components::devices::DeviceTable;
use crate::format::now_ms;
use leptos::prelude::*;

/// `/devices`: the tenant's devices, fetched from the API.
#[component]
pub fn DevicesPage() -> impl IntoView {
    let auth = use_auth();
    let devices = LocalResource::new(api::devices);

    let body = move || match devices.get() {
        None => view! { <p role="status" class="muted">"Loading devices…"</p> }.into_any(),
        Some(Ok(list)) => view! { <DeviceTable devices=list now_ms=now_ms() /> }.into_any(),
        Some(Err(error)) => {
            if error.is_unauthenticated() {
                auth.signed_out();
            }
            view! {
                <div class="error" role="alert">
                    <p>{error.message()}</p>
                    <button type="button" on:click=move |_| devices.refetch()>"Try again"</button>
                </div>
            }
            .into_any()
        }
    };

    view! {
        <section class="page" aria-labelledby="devices-title">
            <h1 id="devices-title">"Devices"</h1>
            <crate::pages::AssistButton />
            {body}
        </section>
    }
}
