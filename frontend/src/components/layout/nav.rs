//! The grouped side navigation: only the links the user's permissions
//! allow, the current page marked with `aria-current="page"`.

use crate::routes::{self, AppRoute, DirectoryKind};
use leptos::prelude::*;
use leptos_router::hooks::use_location;
use tandem_protocol::rbac::{Permission, PermissionSet};

/// One link: where it goes, its text, and the path under which it is the
/// current page (the path itself or anything below it).
struct Link {
    href: String,
    label: &'static str,
    section: &'static str,
}

/// A labelled group of links.
struct Group {
    id: &'static str,
    label: &'static str,
    links: Vec<Link>,
}

fn directory(kind: DirectoryKind) -> String {
    AppRoute::Directory {
        kind,
        q: None,
        page: None,
    }
    .href()
}

/// The groups the holder of `admin` sees; empty groups are left out.
/// `helps`: they may help someone (View screen in some scope). Sharers
/// who may not get no devices list or helper's sessions report: their
/// own sessions are on Get help.
fn groups(admin: PermissionSet, helps: bool) -> Vec<Group> {
    let may = |p: Permission| admin.contains(p);
    let link = |allowed: bool, href: String, label, section| {
        allowed.then_some(Link {
            href,
            label,
            section,
        })
    };
    let groups = [
        Group {
            id: "nav-help",
            label: "Remote help",
            links: [
                link(helps, AppRoute::Devices.href(), "Devices", routes::DEVICES),
                link(true, AppRoute::Share.href(), "Get help", routes::SHARE),
                link(
                    helps || may(Permission::ReadSessionReports),
                    AppRoute::Reports(Default::default()).href(),
                    "Sessions",
                    routes::REPORTS,
                ),
                link(
                    may(Permission::ReadSessionReports),
                    AppRoute::Monitor.href(),
                    "Monitor",
                    routes::MONITOR,
                ),
            ]
            .into_iter()
            .flatten()
            .collect(),
        },
        Group {
            id: "nav-tenant",
            label: "Tenant",
            links: [
                link(
                    may(Permission::ManageSettings),
                    AppRoute::AdminSettings.href(),
                    "Settings",
                    routes::ADMIN_SETTINGS,
                ),
                link(
                    may(Permission::ManageRoles),
                    AppRoute::AdminRoles.href(),
                    "Roles",
                    routes::ADMIN_ROLES,
                ),
                link(
                    may(Permission::ManageRoles),
                    AppRoute::AdminAssignments.href(),
                    "Assignments",
                    routes::ADMIN_ASSIGNMENTS,
                ),
                link(
                    may(Permission::ManageRoles),
                    AppRoute::AccessReview {
                        helper: None,
                        target: None,
                    }
                    .href(),
                    "Access review",
                    routes::ACCESS_REVIEW,
                ),
                link(
                    may(Permission::ManageSettings),
                    AppRoute::AdminAudit(Default::default()).href(),
                    "Audit log",
                    routes::ADMIN_AUDIT,
                ),
            ]
            .into_iter()
            .flatten()
            .collect(),
        },
        Group {
            id: "nav-directory",
            label: "Directory",
            links: [
                link(
                    may(Permission::ManageRoles),
                    directory(DirectoryKind::Users),
                    "Users",
                    DirectoryKind::Users.path(),
                ),
                link(
                    may(Permission::ManageRoles),
                    directory(DirectoryKind::Groups),
                    "Groups",
                    DirectoryKind::Groups.path(),
                ),
                link(
                    may(Permission::ManageDevices),
                    directory(DirectoryKind::Devices),
                    "All devices",
                    DirectoryKind::Devices.path(),
                ),
                link(
                    may(Permission::ManageDevices),
                    AppRoute::AdminEnrollment.href(),
                    "Enrollment",
                    routes::ADMIN_ENROLLMENT,
                ),
            ]
            .into_iter()
            .flatten()
            .collect(),
        },
    ];
    groups.into_iter().filter(|g| !g.links.is_empty()).collect()
}

/// Whether `path` is `section` or below it.
fn within(path: &str, section: &str) -> bool {
    path == section
        || path
            .strip_prefix(section)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The side navigation for a user with `admin` permissions who `helps`
/// (or not).
#[component]
pub fn SideNav(admin: PermissionSet, helps: bool) -> impl IntoView {
    let location = use_location();
    let groups = groups(admin, helps)
        .into_iter()
        .map(|group| {
            let links = group
                .links
                .into_iter()
                .map(|link| {
                    let section = link.section;
                    let current =
                        move || within(&location.pathname.read(), section).then_some("page");
                    view! { <li><a href=link.href aria-current=current>{link.label}</a></li> }
                })
                .collect_view();
            view! {
                <div class="nav-group">
                    <span class="nav-heading" id=group.id>{group.label}</span>
                    <ul aria-labelledby=group.id>{links}</ul>
                </div>
            }
        })
        .collect_view();
    view! { <nav class="sidenav" aria-label="Main">{groups}</nav> }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn labels(admin: PermissionSet) -> Vec<(&'static str, Vec<&'static str>)> {
        groups(admin, true)
            .into_iter()
            .map(|g| (g.label, g.links.iter().map(|l| l.label).collect()))
            .collect()
    }

    #[wasm_bindgen_test]
    fn links_follow_the_permissions() {
        assert_eq!(
            labels(PermissionSet::EMPTY),
            [("Remote help", vec!["Devices", "Get help", "Sessions"])]
        );
        let devices: PermissionSet = [Permission::ManageDevices].into_iter().collect();
        assert_eq!(
            labels(devices),
            [
                ("Remote help", vec!["Devices", "Get help", "Sessions"]),
                ("Directory", vec!["All devices", "Enrollment"]),
            ]
        );
        let all = labels(PermissionSet::all());
        assert_eq!(all.len(), 3);
        assert_eq!(
            all[1].1,
            [
                "Settings",
                "Roles",
                "Assignments",
                "Access review",
                "Audit log"
            ]
        );
    }

    #[wasm_bindgen_test]
    fn a_sharer_sees_get_help_only() {
        let sharer: Vec<_> = groups(PermissionSet::EMPTY, false)
            .into_iter()
            .map(|g| g.links.iter().map(|l| l.label).collect::<Vec<_>>())
            .collect();
        assert_eq!(sharer, [vec!["Get help"]]);
    }

    #[wasm_bindgen_test]
    fn the_current_page_is_the_section_or_below_it() {
        assert!(within("/reports", "/reports"));
        assert!(within("/reports/abc", "/reports"));
        assert!(!within("/reportsx", "/reports"));
        assert!(!within("/admin/users", "/admin/user"));
    }
}
