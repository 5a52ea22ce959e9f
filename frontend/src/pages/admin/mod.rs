//! The admin console: settings, roles, assignments, access review.

mod access_review;
mod assignments;
mod directory;
mod groups;
mod roles;
mod settings;

pub use access_review::AccessReviewPage;
pub use assignments::AssignmentsPage;
pub(crate) use directory::loading_or_error;
pub use directory::{AdminDevicesPage, UsersPage};
pub use groups::GroupsPage;
pub use roles::RolesPage;
pub use settings::SettingsPage;
