//! The permission catalogue and role types (product.md, "Permissions and
//! roles").

use serde::{Deserialize, Serialize};

/// Where a permission shows up in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Category {
    RemoteHelp,
    RemoteTasks,
    Administration,
}

impl Category {
    pub fn label(self) -> &'static str {
        match self {
            Category::RemoteHelp => "Remote help",
            Category::RemoteTasks => "Remote tasks",
            Category::Administration => "Administration",
        }
    }
}

/// One permission of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Permission {
    /// May see a sharer's screen in a session.
    ViewScreen,
    /// May request keyboard/mouse control (the sharer must still allow).
    TakeFullControl,
    /// May act on UAC / secure-desktop prompts while in full control.
    Elevation,
    /// May start a session from the console's device page.
    OfferRemoteAssistance,
    ManageSettings,
    ManageRoles,
    ReadSessionReports,
    ManageDevices,
}

impl Permission {
    /// Every permission, in catalogue order.
    pub const ALL: [Permission; 8] = [
        Permission::ViewScreen,
        Permission::TakeFullControl,
        Permission::Elevation,
        Permission::OfferRemoteAssistance,
        Permission::ManageSettings,
        Permission::ManageRoles,
        Permission::ReadSessionReports,
        Permission::ManageDevices,
    ];

    pub fn category(self) -> Category {
        match self {
            Permission::ViewScreen | Permission::TakeFullControl | Permission::Elevation => {
                Category::RemoteHelp
            }
            Permission::OfferRemoteAssistance => Category::RemoteTasks,
            Permission::ManageSettings
            | Permission::ManageRoles
            | Permission::ReadSessionReports
            | Permission::ManageDevices => Category::Administration,
        }
    }

    /// Whether the permission is about helping a particular user or device
    /// (and so is granted per scope), rather than about the tenant.
    pub fn is_scoped(self) -> bool {
        self.category() != Category::Administration
    }

    pub fn label(self) -> &'static str {
        match self {
            Permission::ViewScreen => "View screen",
            Permission::TakeFullControl => "Take full control",
            Permission::Elevation => "Elevation",
            Permission::OfferRemoteAssistance => "Offer remote assistance",
            Permission::ManageSettings => "Manage settings",
            Permission::ManageRoles => "Manage roles",
            Permission::ReadSessionReports => "Read session reports",
            Permission::ManageDevices => "Manage devices",
        }
    }

    /// A bit of its own, for [`PermissionSet`].
    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of permissions. Small and `Copy`; serialised as a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PermissionSet(u16);

impl PermissionSet {
    pub const EMPTY: PermissionSet = PermissionSet(0);

    pub fn all() -> Self {
        Self::from_iter(Permission::ALL)
    }

    pub fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    pub fn insert(&mut self, permission: Permission) {
        self.0 |= permission.bit();
    }

    pub fn union(self, other: PermissionSet) -> PermissionSet {
        PermissionSet(self.0 | other.0)
    }

    pub fn is_subset_of(self, other: PermissionSet) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Only the permissions granted per scope (remote help and tasks).
    pub fn scoped(self) -> PermissionSet {
        self.iter().filter(|p| p.is_scoped()).collect()
    }

    /// Only the tenant-wide (administration) permissions.
    pub fn tenant_wide(self) -> PermissionSet {
        self.iter().filter(|p| !p.is_scoped()).collect()
    }

    /// The permissions, in catalogue order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut set = PermissionSet::EMPTY;
        for permission in iter {
            set.insert(permission);
        }
        set
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for PermissionSet {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(<Permission as utoipa::PartialSchema>::schema())
            .description(Some("A set of permissions, in catalogue order."))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for PermissionSet {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        schemas.push((
            <Permission as utoipa::ToSchema>::name().into_owned(),
            <Permission as utoipa::PartialSchema>::schema(),
        ));
    }
}

impl Serialize for PermissionSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for PermissionSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let list = Vec::<Permission>::deserialize(deserializer)?;
        Ok(list.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_hold_exactly_what_was_inserted() {
        let set: PermissionSet = [Permission::ViewScreen, Permission::ManageRoles]
            .into_iter()
            .collect();
        assert!(set.contains(Permission::ViewScreen));
        assert!(!set.contains(Permission::TakeFullControl));
        assert_eq!(
            set.scoped().iter().collect::<Vec<_>>(),
            [Permission::ViewScreen]
        );
        assert_eq!(
            set.tenant_wide().iter().collect::<Vec<_>>(),
            [Permission::ManageRoles]
        );
        assert!(set.is_subset_of(PermissionSet::all()));
        assert!(!PermissionSet::all().is_subset_of(set));
        assert_eq!(PermissionSet::all().iter().count(), Permission::ALL.len());
    }

    #[test]
    fn sets_serialise_as_lists_of_names() {
        let set: PermissionSet = [Permission::TakeFullControl].into_iter().collect();
        let json = serde_json::to_string(&set).unwrap_or_default();
        assert_eq!(json, r#"["take_full_control"]"#);
        let back: PermissionSet = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, set);
        assert!(serde_json::from_str::<PermissionSet>(r#"["fly"]"#).is_err());
    }
}

/// A role as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleView {
    pub id: crate::RoleId,
    pub name: String,
    pub description: String,
    pub permissions: PermissionSet,
    /// Built-in roles cannot be edited or deleted.
    pub built_in: bool,
    /// How many times the role was saved (0 for built-in roles): an edit
    /// names the version it started from.
    #[serde(default)]
    pub version: u64,
}

/// Body of creating or editing a custom role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleDraft {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub permissions: PermissionSet,
    /// On an edit, the version of the role the form was filled from: if
    /// someone saved the role since, the edit is refused (409) rather
    /// than replacing their change unseen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

/// Longest role or assignment name.
pub const MAX_NAME_LEN: usize = 100;
/// Longest description.
pub const MAX_DESCRIPTION_LEN: usize = 1000;

/// Checks a display name; returns the message to show.
pub fn validate_name(what: &str, name: &str) -> Result<(), String> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(format!("Give the {what} a name."));
    }
    if trimmed.chars().count() > MAX_NAME_LEN {
        return Err(format!(
            "The {what} name is longer than {MAX_NAME_LEN} characters."
        ));
    }
    if name.chars().any(crate::text::is_hidden) {
        return Err(format!(
            "The {what} name contains control characters or invisible characters."
        ));
    }
    Ok(())
}

impl RoleDraft {
    pub fn validate(&self) -> Result<(), String> {
        validate_name("role", &self.name)?;
        if self.description.chars().count() > MAX_DESCRIPTION_LEN {
            return Err(format!(
                "The description is longer than {MAX_DESCRIPTION_LEN} characters."
            ));
        }
        if self.permissions.is_empty() {
            return Err("Choose at least one permission.".to_owned());
        }
        Ok(())
    }
}

/// A group by id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupRef {
    pub id: crate::GroupId,
    pub name: String,
}

/// An assignment as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignmentView {
    pub id: crate::AssignmentId,
    pub name: String,
    pub role_id: crate::RoleId,
    pub role_name: String,
    pub admin_groups: Vec<GroupRef>,
    pub all_users: bool,
    pub all_devices: bool,
    pub scope_groups: Vec<GroupRef>,
}

/// Body of creating or editing an assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignmentDraft {
    pub name: String,
    pub role_id: crate::RoleId,
    pub admin_groups: Vec<crate::GroupId>,
    #[serde(default)]
    pub all_users: bool,
    #[serde(default)]
    pub all_devices: bool,
    #[serde(default)]
    pub scope_groups: Vec<crate::GroupId>,
}

/// Most groups one assignment may name, per list.
pub const MAX_ASSIGNMENT_GROUPS: usize = 200;

impl AssignmentDraft {
    pub fn validate(&self) -> Result<(), String> {
        validate_name("assignment", &self.name)?;
        if self.admin_groups.is_empty() {
            return Err("Choose at least one admin group.".to_owned());
        }
        if !self.all_users && !self.all_devices && self.scope_groups.is_empty() {
            return Err(
                "Choose whom the members may help: a scope group, All users or All devices."
                    .to_owned(),
            );
        }
        if self.admin_groups.len() > MAX_ASSIGNMENT_GROUPS
            || self.scope_groups.len() > MAX_ASSIGNMENT_GROUPS
        {
            return Err(format!(
                "An assignment can name at most {MAX_ASSIGNMENT_GROUPS} groups per list."
            ));
        }
        Ok(())
    }
}

/// Who or what can be helped, in an access-review row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// Tagged on the wire; on wasm32 read and written through crate::tagged.
#[cfg_attr(not(target_arch = "wasm32"), serde(tag = "kind"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReviewTarget {
    User { id: crate::UserId, name: String },
    Device { id: crate::DeviceId, name: String },
}

impl crate::tagged::Tagged for ReviewTarget {
    const TAG: &'static str = "kind";
}

/// One line of the access review: `helper` may do `permissions` to `target`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessReviewRow {
    pub helper_id: crate::UserId,
    pub helper_name: String,
    #[cfg_attr(target_arch = "wasm32", serde(with = "crate::tagged::field"))]
    pub target: ReviewTarget,
    pub permissions: PermissionSet,
}
