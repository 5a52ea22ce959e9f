//! The root component: auth context, router and the page table. Every page
//! has its own title ("Devices — Tandem").

use crate::auth::provide_auth;
use crate::components::auth::RequireAuth;
use crate::components::layout::{Shell, Titled};
use crate::pages::admin::{
    AccessReviewPage, AdminDevicesPage, AssignmentsPage, AuditPage, EnrollmentPage, GroupsPage,
    RolesPage, SettingsPage, UsersPage,
};
use crate::pages::{
    AssistPage, DevicesPage, MonitorPage, NotFoundPage, ReportDetailPage, ReportsPage, SharePage,
    ShareSessionPage, SignInPage, provide_issued_codes,
};
use crate::routes::AppRoute;
use leptos::prelude::*;
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;

/// `/`: helpers go to their devices, everyone else (sharers) to "Get
/// help"; signed-out visitors to the devices page, which asks them to sign
/// in first.
#[component]
fn HomeRedirect() -> impl IntoView {
    let auth = crate::auth::use_auth();
    move || {
        if !auth.checked.get() {
            return None;
        }
        let helps = auth.me.get().is_none_or(|me| {
            me.help_permissions
                .contains(tandem_protocol::rbac::Permission::ViewScreen)
        });
        let path = if helps {
            AppRoute::Devices.href()
        } else {
            AppRoute::Share.href()
        };
        Some(view! { <Redirect path=path /> })
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_auth();
    provide_issued_codes();
    view! {
        <Router>
            <Shell>
                <Routes fallback=|| view! { <Titled title="Page not found"><NotFoundPage /></Titled> }>
                    <Route
                        path=path!("/")
                        view=HomeRedirect
                    />
                    <Route
                        path=path!("/signin")
                        view=|| view! { <Titled title="Sign in"><SignInPage /></Titled> }
                    />
                    <Route
                        path=path!("/devices")
                        view=|| view! { <Titled title="Devices"><RequireAuth><DevicesPage /></RequireAuth></Titled> }
                    />
                    <Route
                        path=path!("/admin/settings")
                        view=|| view! { <Titled title="Settings"><RequireAuth><SettingsPage /></RequireAuth></Titled> }
                    />
                    <Route
                        path=path!("/admin/roles")
                        view=|| view! { <Titled title="Roles"><RequireAuth><RolesPage /></RequireAuth></Titled> }
                    />
                    <Route
                        path=path!("/admin/assignments")
                        view=|| view! { <Titled title="Assignments"><RequireAuth><AssignmentsPage /></RequireAuth></Titled> }
                    />
                    <Route
                        path=path!("/admin/users")
                        view=|| view! { <Titled title="Users"><RequireAuth><UsersPage /></RequireAuth></Titled> }
                    />
                    <Route
                        path=path!("/admin/groups")
                        view=|| view! { <Titled title="Groups"><RequireAuth><GroupsPage /></RequireAuth></Titled> }
                    />
                    <Route
                        path=path!("/admin/devices")
                        view=|| view! { <Titled title="All devices"><RequireAuth><AdminDevicesPage /></RequireAuth></Titled> }
                    />
                    <Route
                        path=path!("/admin/access-review")
                        view=|| view! { <Titled title="Access review"><RequireAuth><AccessReviewPage /></RequireAuth></Titled> }
                    />
                    <Route
                        path=path!("/admin/audit")
                        view=|| view! { <Titled title="Audit log"><RequireAuth><AuditPage /></RequireAuth></Titled> }
                    />
                    <Route
                        path=path!("/admin/enrollment")
                        view=|| view! { <Titled title="Enrollment"><RequireAuth><EnrollmentPage /></RequireAuth></Titled> }
                    />
                    <Route
                        path=path!("/sessions/:id")
                        view=|| view! { <Titled title="Session"><RequireAuth><AssistPage /></RequireAuth></Titled> }
                    />
                    <Route
                        path=path!("/reports")
                        view=|| view! { <Titled title="Sessions"><RequireAuth><ReportsPage /></RequireAuth></Titled> }
                    />
                    <Route
                        path=path!("/reports/:id")
                        view=|| view! { <Titled title="Session record"><RequireAuth><ReportDetailPage /></RequireAuth></Titled> }
                    />
                    <Route
                        path=path!("/monitor")
                        view=|| view! { <Titled title="Monitor"><RequireAuth><MonitorPage /></RequireAuth></Titled> }
                    />
                    <Route
                        path=path!("/share")
                        view=|| view! { <Titled title="Get help"><RequireAuth><SharePage /></RequireAuth></Titled> }
                    />
                    <Route
                        path=path!("/share/:id")
                        view=|| view! { <Titled title="Help session"><RequireAuth><ShareSessionPage /></RequireAuth></Titled> }
                    />
                </Routes>
            </Shell>
        </Router>
    }
}
