//! Building blocks of the admin pages.

mod directory;
mod group_picker;
mod permission_picker;
mod status;

pub use directory::{ImportPanel, Pager, SearchBar};
pub use group_picker::GroupPicker;
pub use permission_picker::{PermissionList, PermissionPicker};
pub use status::{FormStatus, Outcome};
