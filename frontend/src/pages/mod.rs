//! One module per route.

pub mod admin;
mod assist;
mod devices;
mod monitor;
mod not_found;
mod reports;
mod share;
mod share_session;
mod sign_in;

pub use assist::{AssistButton, AssistPage, IssuedCodes, provide_issued_codes};
pub use devices::DevicesPage;
pub use monitor::MonitorPage;
pub use not_found::NotFoundPage;
pub use reports::{ReportDetailPage, ReportsPage};
pub use share::SharePage;
pub use share_session::ShareSessionPage;
pub use sign_in::SignInPage;
