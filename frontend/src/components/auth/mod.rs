//! Sign-in form and the guard around protected pages.

mod require_auth;
mod sign_in_form;

pub use require_auth::RequireAuth;
pub use sign_in_form::SignInForm;
