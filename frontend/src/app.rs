//! The root component: auth context, router and the page table.

use crate::auth::provide_auth;
use crate::components::auth::RequireAuth;
use crate::components::layout::Shell;
use crate::pages::admin::{
    AccessReviewPage, AdminDevicesPage, AssignmentsPage, GroupsPage, RolesPage, SettingsPage,
    UsersPage,
};
use crate::pages::{
    AssistPage, DevicesPage, MonitorPage, NotFoundPage, ReportDetailPage, ReportsPage, SharePage,
    ShareSessionPage, SignInPage, provide_issued_codes,
};
use crate::routes::AppRoute;
use leptos::prelude::*;
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;

#[component]
pub fn App() -> impl IntoView {
    provide_auth();
    provide_issued_codes();
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
                        path=path!("/admin/users")
                        view=|| view! { <RequireAuth><UsersPage /></RequireAuth> }
                    />
                    <Route
                        path=path!("/admin/groups")
                        view=|| view! { <RequireAuth><GroupsPage /></RequireAuth> }
                    />
                    <Route
                        path=path!("/admin/devices")
                        view=|| view! { <RequireAuth><AdminDevicesPage /></RequireAuth> }
                    />
                    <Route
                        path=path!("/admin/access-review")
                        view=|| view! { <RequireAuth><AccessReviewPage /></RequireAuth> }
                    />
                    <Route
                        path=path!("/sessions/:id")
                        view=|| view! { <RequireAuth><AssistPage /></RequireAuth> }
                    />
                    <Route
                        path=path!("/reports")
                        view=|| view! { <RequireAuth><ReportsPage /></RequireAuth> }
                    />
                    <Route
                        path=path!("/reports/:id")
                        view=|| view! { <RequireAuth><ReportDetailPage /></RequireAuth> }
                    />
                    <Route
                        path=path!("/monitor")
                        view=|| view! { <RequireAuth><MonitorPage /></RequireAuth> }
                    />
                    <Route
                        path=path!("/share")
                        view=|| view! { <RequireAuth><SharePage /></RequireAuth> }
                    />
                    <Route
                        path=path!("/share/:id")
                        view=|| view! { <RequireAuth><ShareSessionPage /></RequireAuth> }
                    />
                </Routes>
            </Shell>
        </Router>
    }
}
