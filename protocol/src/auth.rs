//! Sign-in with built-in accounts, and who is signed in.

use crate::{TenantId, UserId};
use serde::{Deserialize, Serialize};

/// Longest accepted e-mail address (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest accepted password. Bounded so that hashing cost stays bounded.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Body of `POST /api/auth/login`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl LoginRequest {
    /// Checks the shape of the request before it reaches the server's
    /// credential check. Returns the message to show the user.
    pub fn validate(&self) -> Result<(), &'static str> {
        let email = self.email.trim();
        if email.is_empty() {
            return Err("Enter your e-mail address.");
        }
        if email.len() > MAX_EMAIL_LEN || !email.contains('@') {
            return Err("Enter a valid e-mail address.");
        }
        if self.password.is_empty() {
            return Err("Enter your password.");
        }
        if self.password.len() > MAX_PASSWORD_LEN {
            return Err("That password is too long.");
        }
        Ok(())
    }
}

/// The identity card of a directory user, as others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserCard {
    pub id: UserId,
    pub display_name: String,
    pub email: String,
    pub job_title: Option<String>,
    pub company: Option<String>,
    pub verified_domain: Option<String>,
    pub photo_url: Option<String>,
}

/// The tenant a signed-in user belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantInfo {
    pub id: TenantId,
    pub name: String,
}

/// Who is signed in: answer of `GET /api/auth/me` and of a successful login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub user: UserCard,
    pub tenant: TenantInfo,
    /// The administration permissions the user holds in the tenant; the
    /// console shows admin pages by these (the server checks them anyway).
    pub admin_permissions: crate::rbac::PermissionSet,
    /// The remote-help permissions the user holds for anyone at all (View
    /// screen, …): the console shows helpers their devices and sharers
    /// their "Get help" page.
    #[serde(default)]
    pub help_permissions: crate::rbac::PermissionSet,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(email: &str, password: &str) -> LoginRequest {
        LoginRequest {
            email: email.into(),
            password: password.into(),
        }
    }

    #[test]
    fn validation_names_the_missing_field() {
        assert_eq!(req("", "x").validate(), Err("Enter your e-mail address."));
        assert_eq!(req("a@b", "").validate(), Err("Enter your password."));
        assert_eq!(
            req("nobody", "x").validate(),
            Err("Enter a valid e-mail address.")
        );
        let long = "x".repeat(MAX_PASSWORD_LEN + 1);
        assert_eq!(
            req("a@b", &long).validate(),
            Err("That password is too long.")
        );
        assert_eq!(req(" a@b ", "pw").validate(), Ok(()));
    }

    #[test]
    fn debug_never_prints_the_password() {
        let text = format!("{:?}", req("a@b", "hunter2"));
        assert!(!text.contains("hunter2"));
        assert!(text.contains("a@b"));
    }
}

/// An organization identity provider offered on the sign-in page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderInfo {
    /// Used in `/auth/oidc/{id}/start`.
    pub id: String,
    /// "Sign in with {name}".
    pub name: String,
}

/// Why an organization sign-in was refused; travels as `/signin?error=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OidcError {
    UnknownProvider,
    State,
    Issuer,
    Token,
    Tenant,
    Account,
    Failed,
}

impl OidcError {
    const ALL: [OidcError; 7] = [
        OidcError::UnknownProvider,
        OidcError::State,
        OidcError::Issuer,
        OidcError::Token,
        OidcError::Tenant,
        OidcError::Account,
        OidcError::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OidcError::UnknownProvider => "oidc_unknown_provider",
            OidcError::State => "oidc_state",
            OidcError::Issuer => "oidc_issuer",
            OidcError::Token => "oidc_token",
            OidcError::Tenant => "oidc_tenant",
            OidcError::Account => "oidc_account",
            OidcError::Failed => "oidc_failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == text)
    }

    /// What the sign-in page tells the user.
    pub fn message(self) -> &'static str {
        match self {
            OidcError::UnknownProvider => "That sign-in option does not exist.",
            OidcError::State => {
                "The sign-in attempt expired or did not match this browser. Start again."
            }
            OidcError::Issuer | OidcError::Token => {
                "The identity provider's answer could not be verified, so you were not signed in."
            }
            OidcError::Tenant => "Your organization is not allowed to use this Tandem server.",
            OidcError::Account => {
                "Your account cannot be used here: it has no e-mail address, or the address belongs to another organization."
            }
            OidcError::Failed => {
                "Signing in with your organization failed. Try again, or ask your administrator."
            }
        }
    }
}

#[cfg(test)]
mod oidc_error_tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_are_none() {
        for error in OidcError::ALL {
            assert_eq!(OidcError::parse(error.as_str()), Some(error));
            assert!(!error.message().is_empty());
        }
        assert_eq!(OidcError::parse("<script>"), None);
    }
}
