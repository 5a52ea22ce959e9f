//! The root component: auth context, router and the page table.

use crate::auth::provide_auth;
use crate::components::auth::RequireAuth;
use crate::components::layout::Shell;
use crate::pages::admin::{AccessReviewPage, AssignmentsPage, RolesPage, SettingsPage};
use crate::pages::{DevicesPage, NotFoundPage, SignInPage};
use crate::routes::AppRoute;
use leptos::prelude::*;
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;

#[component]
pub fn App() -> impl IntoView {
    provide_auth();
    view! {
        <Router>
            <Shell>
                <Routes fallback=NotFoundPage>
                    <Route
                        path=path!("/")
                        view=|| view! { <Redirect path=AppRoute::Devices.href() /> }
                    />
                    <Route path=path!("/signin") view=SignInPage />
                    <Route
                        path=path!("/devices")
                        view=|| view! { <RequireAuth><DevicesPage /></RequireAuth> }
                    />
                    <Route
                        path=path!("/admin/settings")
                        view=|| view! { <RequireAuth><SettingsPage /></RequireAuth> }
                    />
                    <Route
                        path=path!("/admin/roles")
                        view=|| view! { <RequireAuth><RolesPage /></RequireAuth> }
                    />
                    <Route
                        path=path!("/admin/assignments")
                        view=|| view! { <RequireAuth><AssignmentsPage /></RequireAuth> }
                    />
                    <Route
                        path=path!("/admin/access-review")
                        view=|| view! { <RequireAuth><AccessReviewPage /></RequireAuth> }
                    />
                </Routes>
            </Shell>
        </Router>
    }
}
