//! The effective-permission resolver: a pure function of (policy, helper,
//! target). No I/O, no clock.

use std::collections::{BTreeMap, BTreeSet};
use tandem_protocol::rbac::PermissionSet;
use tandem_protocol::{GroupId, RoleId, TenantId};

/// The users and devices an assignment's members may help.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub all_users: bool,
    pub all_devices: bool,
    pub groups: BTreeSet<GroupId>,
}

impl Scope {
    /// Whether this scope covers the sharer or the device of `target`.
    fn covers(&self, target: &Target) -> bool {
        (self.all_users && target.user.is_some())
            || (self.all_devices && target.device.is_some())
            || target.groups().any(|g| self.groups.contains(g))
    }
}

/// A role bound to admin groups (whose members get it) over a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub role: RoleId,
    pub admin_groups: BTreeSet<GroupId>,
    pub scope: Scope,
}

/// The groups someone or something is a member of, in a tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Membership {
    pub groups: BTreeSet<GroupId>,
}

/// Whom a helper wants to help: the sharer, the device, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub tenant: TenantId,
    pub user: Option<Membership>,
    pub device: Option<Membership>,
}

impl Target {
    fn groups(&self) -> impl Iterator<Item = &GroupId> {
        self.user
            .iter()
            .chain(self.device.iter())
            .flat_map(|m| m.groups.iter())
    }
}

/// One tenant's roles and assignments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub tenant: TenantId,
    pub roles: BTreeMap<RoleId, PermissionSet>,
    pub assignments: Vec<Assignment>,
}

impl Policy {
    /// The assignments that apply to `helper` (through an admin group).
    fn assignments_of<'a>(
        &'a self,
        helper: &'a Membership,
    ) -> impl Iterator<Item = &'a Assignment> {
        self.assignments
            .iter()
            .filter(|a| a.admin_groups.iter().any(|g| helper.groups.contains(g)))
    }

    fn role(&self, id: &RoleId) -> PermissionSet {
        self.roles.get(id).copied().unwrap_or_default()
    }

    /// The remote-help and remote-task permissions `helper` holds on
    /// `target`: the union, over the helper's assignments whose scope covers
    /// the target, of their roles' scoped permissions. A target of another
    /// tenant gets nothing, whatever is configured.
    pub fn resolve(&self, helper: &Membership, target: &Target) -> PermissionSet {
        if target.tenant != self.tenant {
            return PermissionSet::EMPTY;
        }
        self.assignments_of(helper)
            .filter(|a| a.scope.covers(target))
            .fold(PermissionSet::EMPTY, |acc, a| {
                acc.union(self.role(&a.role).scoped())
            })
    }

    /// The remote-help permissions `helper` holds over at least one scope
    /// (whether "Assist someone" makes sense at all; redemption still checks
    /// the actual sharer).
    pub fn held_anywhere(&self, helper: &Membership) -> PermissionSet {
        self.assignments_of(helper)
            .fold(PermissionSet::EMPTY, |acc, a| {
                acc.union(self.role(&a.role).scoped())
            })
    }

    /// The administration permissions `helper` holds in this tenant: the
    /// union of the tenant-wide permissions of all of the helper's roles.
    pub fn tenant_permissions(&self, helper: &Membership) -> PermissionSet {
        self.assignments_of(helper)
            .fold(PermissionSet::EMPTY, |acc, a| {
                acc.union(self.role(&a.role).tenant_wide())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tandem_protocol::rbac::Permission;

    const GROUPS: [&str; 5] = ["g0", "g1", "g2", "g3", "g4"];

    fn group_set() -> impl Strategy<Value = BTreeSet<GroupId>> {
        proptest::collection::btree_set(proptest::sample::select(&GROUPS[..]), 0..3)
            .prop_map(|s| s.into_iter().map(GroupId::from).collect())
    }

    fn permission_set() -> impl Strategy<Value = PermissionSet> {
        proptest::collection::vec(proptest::sample::select(&Permission::ALL[..]), 0..5)
            .prop_map(|v| v.into_iter().collect())
    }

    fn membership() -> impl Strategy<Value = Membership> {
        group_set().prop_map(|groups| Membership { groups })
    }

    fn assignment() -> impl Strategy<Value = Assignment> {
        (
            0..3u8,
            group_set(),
            any::<bool>(),
            any::<bool>(),
            group_set(),
        )
            .prop_map(
                |(role, admin_groups, all_users, all_devices, groups)| Assignment {
                    role: RoleId(format!("r{role}")),
                    admin_groups,
                    scope: Scope {
                        all_users,
                        all_devices,
                        groups,
                    },
                },
            )
    }

    fn policy() -> impl Strategy<Value = Policy> {
        (
            proptest::collection::vec(permission_set(), 3),
            proptest::collection::vec(assignment(), 0..5),
        )
            .prop_map(|(roles, assignments)| Policy {
                tenant: TenantId::from("t"),
                roles: roles
                    .into_iter()
                    .enumerate()
                    .map(|(i, p)| (RoleId(format!("r{i}")), p))
                    .collect(),
                assignments,
            })
    }

    fn target() -> impl Strategy<Value = Target> {
        (
            proptest::option::of(membership()),
            proptest::option::of(membership()),
            prop_oneof![9 => Just("t"), 1 => Just("other")],
        )
            .prop_map(|(user, device, tenant)| Target {
                tenant: TenantId::from(tenant),
                user,
                device,
            })
    }

    proptest! {
        /// Never grant a permission in a scope where no assignment grants it.
        #[test]
        fn every_granted_permission_has_an_assignment_behind_it(
            policy in policy(), helper in membership(), target in target(),
        ) {
            let granted = policy.resolve(&helper, &target);
            for permission in granted.iter() {
                prop_assert!(permission.is_scoped());
                prop_assert_eq!(&target.tenant, &policy.tenant);
                let justified = policy.assignments.iter().any(|a| {
                    a.admin_groups.iter().any(|g| helper.groups.contains(g))
                        && a.scope.covers(&target)
                        && policy.role(&a.role).contains(permission)
                });
                prop_assert!(justified, "{permission:?} granted without an assignment");
            }
        }

        /// Adding an assignment never removes a permission.
        #[test]
        fn adding_an_assignment_never_removes_a_permission(
            policy in policy(), extra in assignment(), helper in membership(), target in target(),
        ) {
            let before = policy.resolve(&helper, &target);
            let before_tenant = policy.tenant_permissions(&helper);
            let mut more = policy.clone();
            more.assignments.push(extra);
            prop_assert!(before.is_subset_of(more.resolve(&helper, &target)));
            prop_assert!(before_tenant.is_subset_of(more.tenant_permissions(&helper)));
        }

        /// Nothing crosses tenants.
        #[test]
        fn other_tenants_targets_get_nothing(
            policy in policy(), helper in membership(), mut target in target(),
        ) {
            target.tenant = TenantId::from("other");
            prop_assert!(policy.resolve(&helper, &target).is_empty());
        }

        /// Administration permissions are never scoped, and scoped ones never
        /// come from `tenant_permissions`.
        #[test]
        fn scoped_and_tenant_wide_permissions_stay_apart(
            policy in policy(), helper in membership(), target in target(),
        ) {
            prop_assert!(policy.resolve(&helper, &target).tenant_wide().is_empty());
            prop_assert!(policy.tenant_permissions(&helper).scoped().is_empty());
        }
    }

    fn set(ps: &[Permission]) -> PermissionSet {
        ps.iter().copied().collect()
    }

    fn groups(names: &[&str]) -> BTreeSet<GroupId> {
        names.iter().map(|n| GroupId::from(*n)).collect()
    }

    #[test]
    fn permissions_combine_per_scope() {
        use Permission::*;
        let policy = Policy {
            tenant: TenantId::from("t"),
            roles: [
                (RoleId::from("viewer"), set(&[ViewScreen])),
                (
                    RoleId::from("operator"),
                    set(&[ViewScreen, TakeFullControl, ManageDevices]),
                ),
            ]
            .into_iter()
            .collect(),
            assignments: vec![
                Assignment {
                    role: RoleId::from("viewer"),
                    admin_groups: groups(&["helpdesk"]),
                    scope: Scope {
                        all_users: true,
                        ..Scope::default()
                    },
                },
                Assignment {
                    role: RoleId::from("operator"),
                    admin_groups: groups(&["helpdesk"]),
                    scope: Scope {
                        groups: groups(&["finance"]),
                        ..Scope::default()
                    },
                },
            ],
        };
        let helper = Membership {
            groups: groups(&["helpdesk"]),
        };
        let user = |g: &[&str]| Target {
            tenant: TenantId::from("t"),
            user: Some(Membership { groups: groups(g) }),
            device: None,
        };
        assert_eq!(
            policy.resolve(&helper, &user(&["sales"])),
            set(&[ViewScreen])
        );
        assert_eq!(
            policy.resolve(&helper, &user(&["finance"])),
            set(&[ViewScreen, TakeFullControl])
        );
        // A device-only target (unattended) is not covered by "All users".
        let kiosk = Target {
            tenant: TenantId::from("t"),
            user: None,
            device: Some(Membership::default()),
        };
        assert!(policy.resolve(&helper, &kiosk).is_empty());
        assert_eq!(policy.tenant_permissions(&helper), set(&[ManageDevices]));
        // Not a member of the admin group: nothing.
        assert!(
            policy
                .resolve(&Membership::default(), &user(&["finance"]))
                .is_empty()
        );
    }
}
