use super::nav::SideNav;
use crate::api;
use crate::auth::use_auth;
use crate::routes::AppRoute;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;

/// How many mounted pages asked for the whole viewport (see
/// [`use_full_bleed`]). A count, not a flag: when one such page replaces
/// another, the new one mounts before the old one is cleaned up.
#[derive(Debug, Clone, Copy)]
struct FullBleed(RwSignal<u32>);

/// Called by a page (e.g. the session workspace) that needs the whole
/// viewport: while it is shown, the shell leaves out the side navigation
/// and the layout gets the `full-bleed` class (no width limit, no padding
/// of `main`). The top bar stays.
pub fn use_full_bleed() {
    if let Some(FullBleed(count)) = use_context::<FullBleed>() {
        count.update(|c| *c += 1);
        on_cleanup(move || count.update(|c| *c = c.saturating_sub(1)));
    }
}

/// Top bar (brand, who is signed in, sign-out), the grouped side
/// navigation by permission, and the main landmark.
#[component]
pub fn Shell(children: Children) -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let signing_out = RwSignal::new(false);
    let full_bleed = RwSignal::new(0_u32);
    provide_context(FullBleed(full_bleed));

    let sign_out = move |_| {
        let navigate = navigate.clone();
        signing_out.set(true);
        spawn_local(async move {
            if let Err(error) = api::logout().await {
                leptos::logging::warn!("sign-out failed: {error:?}");
            }
            // Leave the protected page first, so its guard does not add a
            // `next` back to it: signing out is not "come back here later".
            navigate(
                &AppRoute::SignIn { next: None }.href(),
                NavigateOptions::default(),
            );
            auth.signed_out();
            signing_out.set(false);
        });
    };

    let account = move || {
        auth.me.get().map(|me| {
            let sign_out = sign_out.clone();
            view! {
                <div class="account">
                    <span class="who">
                        <span class="name">{me.user.display_name}</span>
                        <span class="tenant muted">{me.tenant.name}</span>
                    </span>
                    <button type="button" on:click=sign_out disabled=move || signing_out.get()>
                        "Sign out"
                    </button>
                </div>
            }
        })
    };
    let nav = move || {
        if full_bleed.get() > 0 {
            return None;
        }
        auth.me
            .with(|me| {
                me.as_ref().map(|me| {
                    (
                        me.admin_permissions,
                        me.help_permissions
                            .contains(tandem_protocol::rbac::Permission::ViewScreen),
                    )
                })
            })
            .map(|(admin, helps)| view! { <SideNav admin helps /> })
    };
    let layout_class = move || {
        let mut class = String::from("layout");
        if auth.me.with(Option::is_some) && full_bleed.get() == 0 {
            class.push_str(" with-nav");
        }
        if full_bleed.get() > 0 {
            class.push_str(" full-bleed");
        }
        class
    };

    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href=AppRoute::Home.href()>"Tandem"</a>
            {account}
        </header>
        <div class=layout_class>
            {nav}
            <main id="main" tabindex="-1">{children()}</main>
        </div>
    }
}
