//! Tenant settings (product.md, "Tenant settings").

use serde::{Deserialize, Serialize};

/// Longest a security code may live.
pub const MAX_CODE_LIFETIME_MINUTES: u8 = 10;
/// Longest session records may be kept (ten years).
pub const MAX_RETENTION_DAYS: u16 = 3650;

/// What the sharer sees of the helper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum HelperNameDisplay {
    /// The full identity card.
    #[default]
    Full,
    /// "First name + last initial".
    Abbreviated,
}

impl HelperNameDisplay {
    pub fn as_str(self) -> &'static str {
        match self {
            HelperNameDisplay::Full => "full",
            HelperNameDisplay::Abbreviated => "abbreviated",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "full" => Some(HelperNameDisplay::Full),
            "abbreviated" => Some(HelperNameDisplay::Abbreviated),
            _ => None,
        }
    }
}

/// One tenant's settings. `GET`/`PUT /api/admin/settings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantSettings {
    /// When off, no session can start, and helpers and sharers see why.
    pub remote_help_enabled: bool,
    pub allow_unenrolled: bool,
    pub allow_unattended: bool,
    pub code_lifetime_minutes: u8,
    pub retention_days: u16,
    pub helper_name_display: HelperNameDisplay,
    pub chat_enabled: bool,
    pub annotation_enabled: bool,
    pub clipboard_enabled: bool,
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            remote_help_enabled: true,
            allow_unenrolled: false,
            allow_unattended: false,
            code_lifetime_minutes: MAX_CODE_LIFETIME_MINUTES,
            retention_days: 30,
            helper_name_display: HelperNameDisplay::Full,
            chat_enabled: true,
            annotation_enabled: true,
            clipboard_enabled: false,
        }
    }
}

impl TenantSettings {
    /// Checks the ranges; returns the message to show.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=MAX_CODE_LIFETIME_MINUTES).contains(&self.code_lifetime_minutes) {
            return Err(format!(
                "The code lifetime must be between 1 and {MAX_CODE_LIFETIME_MINUTES} minutes."
            ));
        }
        if !(1..=MAX_RETENTION_DAYS).contains(&self.retention_days) {
            return Err(format!(
                "Retention must be between 1 and {MAX_RETENTION_DAYS} days."
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_product_and_are_valid() {
        let s = TenantSettings::default();
        assert!(s.remote_help_enabled && !s.allow_unenrolled && !s.allow_unattended);
        assert_eq!((s.code_lifetime_minutes, s.retention_days), (10, 30));
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn out_of_range_values_are_refused_with_a_reason() {
        let mut s = TenantSettings {
            code_lifetime_minutes: 11,
            ..TenantSettings::default()
        };
        assert!(s.validate().unwrap_err().contains("between 1 and 10"));
        s.code_lifetime_minutes = 0;
        assert!(s.validate().is_err());
        s = TenantSettings {
            retention_days: 0,
            ..TenantSettings::default()
        };
        assert!(s.validate().unwrap_err().contains("Retention"));
    }

    #[test]
    fn unknown_fields_are_refused() {
        let json = r#"{"remote_help_enabled":true,"allow_unenrolled":false,"allow_unattended":false,
            "code_lifetime_minutes":5,"retention_days":30,"helper_name_display":"full",
            "chat_enabled":true,"annotation_enabled":true,"clipboard_enabled":false,"typo":1}"#;
        assert!(serde_json::from_str::<TenantSettings>(json).is_err());
    }
}

/// One entry of the admin audit log. `GET /api/admin/audit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntryView {
    pub at: crate::UnixMillis,
    pub actor_id: crate::UserId,
    pub actor_name: String,
    /// e.g. `role.create`, `settings.update`.
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    /// The object before the change, as JSON text; `None` when created.
    pub before: Option<String>,
    /// The object after the change, as JSON text; `None` when deleted.
    pub after: Option<String>,
}
