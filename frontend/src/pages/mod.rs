//! One module per route.

pub mod admin;
mod assist;
mod devices;
mod not_found;
mod share;
mod sign_in;

pub use assist::{AssistButton, AssistPage, IssuedCodes, provide_issued_codes};
pub use devices::DevicesPage;
pub use not_found::NotFoundPage;
pub use share::{SharePage, ShareSessionPage};
pub use sign_in::SignInPage;
