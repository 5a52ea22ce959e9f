use crate::api;
use crate::auth::use_auth;
use crate::routes::{AppRoute, DirectoryKind};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use tandem_protocol::rbac::Permission;

/// Header (brand, navigation, who is signed in, sign-out) and the main landmark.
#[component]
pub fn Shell(children: Children) -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let signing_out = RwSignal::new(false);

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
            let admin = me.admin_permissions;
            view! {
                <nav aria-label="Main">
                    <a href=AppRoute::Devices.href()>"Devices"</a>
                    <a href=AppRoute::Share.href()>"Get help"</a>
                    <a href=AppRoute::Reports(Default::default()).href()>"Sessions"</a>
                    {admin.contains(Permission::ReadSessionReports).then(|| view! {
                        <a href=AppRoute::Monitor.href()>"Monitor"</a>
                    })}
                    {admin.contains(Permission::ManageDevices).then(|| view! {
                        <a href=AppRoute::Directory { kind: DirectoryKind::Devices, q: None, page: None }.href()>
                            "All devices"
                        </a>
                    })}
                    {admin.contains(Permission::ManageSettings).then(|| view! {
                        <a href=AppRoute::AdminSettings.href()>"Settings"</a>
                    })}
                    {admin.contains(Permission::ManageRoles).then(|| view! {
                        <a href=AppRoute::Directory { kind: DirectoryKind::Users, q: None, page: None }.href()>"Users"</a>
                        <a href=AppRoute::Directory { kind: DirectoryKind::Groups, q: None, page: None }.href()>"Groups"</a>
                        <a href=AppRoute::AdminRoles.href()>"Roles"</a>
                        <a href=AppRoute::AdminAssignments.href()>"Assignments"</a>
                        <a href=AppRoute::AccessReview { helper: None, target: None }.href()>
                            "Access review"
                        </a>
                    })}
                </nav>
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

    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href=AppRoute::Home.href()>"Tandem"</a>
            {account}
        </header>
        <main id="main" tabindex="-1">{children()}</main>
    }
}
