//! One module per route.

pub mod admin;
mod devices;
mod not_found;
mod sign_in;

pub use devices::DevicesPage;
pub use not_found::NotFoundPage;
pub use sign_in::SignInPage;
