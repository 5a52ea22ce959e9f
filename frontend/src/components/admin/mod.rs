//! Building blocks of the admin pages.

mod audit;
mod confirm;
mod directory;
mod group_picker;
mod permission_picker;
mod status;
mod time;
mod user_form;

pub use audit::{Described, describe};
pub use confirm::ConfirmDelete;
pub use directory::{ImportPanel, Pager, SearchBar};
pub use group_picker::GroupPicker;
pub use permission_picker::{PermissionList, PermissionPicker};
pub use status::{FormStatus, Outcome, focus_soon};
pub use time::{Time, readable_date, readable_time};
pub use user_form::UserForm;
