//! Sign-in with built-in accounts, and who is signed in.

use crate::{TenantId, UserId};
use serde::{Deserialize, Serialize};

/// Longest accepted e-mail address (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest accepted password. Bounded so that hashing cost stays bounded.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Body of `POST /api/auth/login`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct TenantInfo {
    pub id: TenantId,
    pub name: String,
}

/// Who is signed in: answer of `GET /api/auth/me` and of a successful login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user: UserCard,
    pub tenant: TenantInfo,
    /// The administration permissions the user holds in the tenant; the
    /// console shows admin pages by these (the server checks them anyway).
    pub admin_permissions: crate::rbac::PermissionSet,
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
