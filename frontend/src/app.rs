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
use leptos_router::NavigateOptions;
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;
use tandem_protocol::routes::Console;

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
        // In place of `/`: Back from the page it leads to must not come
        // here again and be sent forward (for a sharer, with a load of
        // her console each time).
        let options = NavigateOptions {
            replace: true,
            ..NavigateOptions::default()
        };
        Some(view! { <Redirect path=path options=options /> })
    }
}

/// The console's page table: home and sign-in in every build, then the
/// groups of pages named (`helper`: devices and sessions; `sharer`: "Get
/// help" and the shared session; `{ ... }`: routes written out), with
/// `$fallback` for the paths no route takes. Written once so that every
/// build shares the routes it has in common; the routes are listed in the
/// source (not chosen at run time) so that a build without a page does
/// not carry its code.
macro_rules! console {
    ($fallback:expr; $($groups:tt)*) => {
        console!(@routes $fallback; []; $($groups)*)
    };
    (@routes $fallback:expr; [$($routes:tt)*]; helper $($groups:tt)*) => {
        console!(@routes $fallback; [$($routes)*
            <Route
                path=path!("/devices")
                view=|| view! { <Titled title="Devices"><RequireAuth><DevicesPage /></RequireAuth></Titled> }
            />
            <Route
                path=path!("/sessions/:id")
                view=|| view! { <Titled title="Session"><RequireAuth><AssistPage /></RequireAuth></Titled> }
            />
        ]; $($groups)*)
    };
    (@routes $fallback:expr; [$($routes:tt)*]; sharer $($groups:tt)*) => {
        console!(@routes $fallback; [$($routes)*
            <Route
                path=path!("/share")
                view=|| view! { <Titled title="Get help"><RequireAuth><SharePage /></RequireAuth></Titled> }
            />
            <Route
                path=path!("/share/:id")
                view=|| view! { <Titled title="Help session"><RequireAuth><ShareSessionPage /></RequireAuth></Titled> }
            />
        ]; $($groups)*)
    };
    (@routes $fallback:expr; [$($routes:tt)*]; { $($more:tt)* } $($groups:tt)*) => {
        console!(@routes $fallback; [$($routes)* $($more)*]; $($groups)*)
    };
    (@routes $fallback:expr; [$($routes:tt)*];) => {
        view! {
            <Router>
                <Shell>
                    <Routes fallback=$fallback>
                        <Route
                            path=path!("/")
                            view=HomeRedirect
                        />
                        <Route
                            path=path!("/signin")
                            view=|| view! { <Titled title="Sign in"><SignInPage /></Titled> }
                        />
                        $($routes)*
                    </Routes>
                </Shell>
            </Router>
        }
    };
}

/// The helper's console (`index.html`): sign-in, devices and sessions. A
/// page of another build reached from here (a link in the navigation,
/// say) is loaded from the server, which sends the build that has it.
#[component]
pub fn App() -> impl IntoView {
    provide_auth();
    provide_issued_codes();
    remember_loaded_path();
    console! { || view! { <ElsewhereFallback here=Console::Helper /> }; helper }
}

/// The sharer's console (`share.html`): sign-in, "Get help" and the
/// session she shares. Other pages are loaded from the server.
#[component]
pub fn SharerApp() -> impl IntoView {
    provide_auth();
    remember_loaded_path();
    console! { || view! { <ElsewhereFallback here=Console::Sharer /> }; sharer }
}

/// The full console (`full.html`): every page, the administration,
/// session records and monitoring included.
#[component]
pub fn FullApp() -> impl IntoView {
    provide_auth();
    provide_issued_codes();
    console! { NotFound; helper sharer {
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
    } }
}

thread_local! {
    /// The path this page was loaded at: a page of another build that the
    /// server sent this build for is not reloaded again.
    static LOADED_PATH: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

fn remember_loaded_path() {
    let path = window().location().pathname().ok();
    LOADED_PATH.with(|loaded| *loaded.borrow_mut() = path);
}

#[component]
fn NotFound() -> impl IntoView {
    view! { <Titled title="Page not found"><NotFoundPage /></Titled> }
}

/// A path no route of this build takes (the helper's or the sharer's
/// console). A page of another build, reached by a link from here, is
/// loaded from the server, which sends the build that has it. If the
/// server sent this build for such a page (that build is missing), the
/// page says so instead of reloading; a path of this build's own is not
/// found.
#[component]
fn ElsewhereFallback(here: Console) -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let path = location.pathname.get_untracked();
    if Console::for_path(&path) == here {
        return view! { <NotFound /> }.into_any();
    }
    let loaded_here = LOADED_PATH.with(|loaded| loaded.borrow().as_deref() == Some(path.as_str()));
    if loaded_here {
        return view! {
            <Titled title="Page unavailable">
                <section class="page narrow" aria-labelledby="unavailable-title">
                    <h1 id="unavailable-title">"Page unavailable"</h1>
                    <p>"This page is part of another build of the console, which the server did not send. Reload the page; if this stays, the console's build on the server is incomplete."</p>
                </section>
            </Titled>
        }
        .into_any();
    }
    let search = location.search.get_untracked();
    let hash = location.hash.get_untracked();
    let query = if search.is_empty() {
        String::new()
    } else {
        format!("?{search}")
    };
    let target = format!("{path}{query}{hash}");
    // The router puts the new address in the history only once this view
    // is built: load it from the server after that, so that Back returns
    // to the page the link was on. If the address has not changed by then
    // (the router has not put it there), go to it instead.
    let before = window().location().href().ok();
    set_timeout(
        move || {
            let address = window().location();
            let result = if address.href().ok() != before {
                address.reload()
            } else {
                address.assign(&target)
            };
            if let Err(error) = result {
                leptos::logging::error!("cannot load {target}: {error:?}");
            }
        },
        std::time::Duration::ZERO,
    );
    view! { <p class="muted" role="status">"Loading…"</p> }.into_any()
}
