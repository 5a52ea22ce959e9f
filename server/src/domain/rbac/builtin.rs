//! The built-in roles. They live in code, not in the database, so that an
//! upgrade can extend them; assignments refer to them by these fixed ids.

use tandem_protocol::RoleId;
use tandem_protocol::rbac::{Permission, PermissionSet, RoleView};

pub struct BuiltinRole {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub permissions: &'static [Permission],
}

use Permission::*;

pub const BUILTIN_ROLES: &[BuiltinRole] = &[
    BuiltinRole {
        id: "builtin-help-desk-operator",
        name: "Help Desk Operator",
        description: "Every remote-help and remote-task permission.",
        permissions: &[
            ViewScreen,
            TakeFullControl,
            Elevation,
            OfferRemoteAssistance,
        ],
    },
    BuiltinRole {
        id: "builtin-administrator",
        name: "Administrator",
        description: "Everything.",
        permissions: &Permission::ALL,
    },
    BuiltinRole {
        id: "builtin-remote-viewer",
        name: "Remote Help Viewer",
        description: "View-only helper: may see a sharer's screen, never take control.",
        permissions: &[ViewScreen],
    },
];

impl BuiltinRole {
    pub fn permission_set(&self) -> PermissionSet {
        self.permissions.iter().copied().collect()
    }

    pub fn view(&self) -> RoleView {
        RoleView {
            id: RoleId::from(self.id),
            name: self.name.to_owned(),
            description: self.description.to_owned(),
            permissions: self.permission_set(),
            built_in: true,
            version: 0,
        }
    }
}

/// The built-in role with this id, if it is one.
pub fn builtin(id: &RoleId) -> Option<&'static BuiltinRole> {
    BUILTIN_ROLES.iter().find(|r| r.id == id.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_has_every_remote_permission_and_admin_everything() {
        let operator = builtin(&RoleId::from("builtin-help-desk-operator")).unwrap();
        assert!(operator.permission_set().tenant_wide().is_empty());
        assert_eq!(operator.permission_set().scoped().iter().count(), 4);
        let admin = builtin(&RoleId::from("builtin-administrator")).unwrap();
        assert_eq!(admin.permission_set(), PermissionSet::all());
        assert!(builtin(&RoleId::from("custom-x")).is_none());
    }
}
