//! The root component: auth context, router and the page table.

use crate::auth::provide_auth;
use crate::components::auth::RequireAuth;
use crate::components::layout::Shell;
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
                </Routes>
            </Shell>
        </Router>
    }
}
