//! The admin console: settings, roles, assignments, access review, the
//! audit log, the directory and enrollment tokens.

mod access_review;
mod assignments;
mod audit;
mod directory;
mod enrollment;
mod groups;
mod roles;
mod settings;

pub use access_review::AccessReviewPage;
pub use assignments::AssignmentsPage;
pub use audit::AuditPage;
pub(crate) use directory::loading_or_error;
pub use directory::{AdminDevicesPage, UsersPage};
pub use enrollment::EnrollmentPage;
pub use groups::GroupsPage;
pub use roles::RolesPage;
pub use settings::SettingsPage;
