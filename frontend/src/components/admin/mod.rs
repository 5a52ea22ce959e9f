//! Building blocks of the admin pages.

mod group_picker;
mod permission_picker;
mod status;

pub use group_picker::GroupPicker;
pub use permission_picker::{PermissionList, PermissionPicker};
pub use status::{FormStatus, Outcome};
