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
    /// After a session in which the helper actually used elevation (acted
    /// on a UAC or secure-desktop prompt) with full control, the agent signs
    /// the sharer out of the device, so no elevated rights linger.
    #[serde(default = "default_true")]
    pub sign_out_after_elevation: bool,
    /// IANA time zone in which days and working hours are counted.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Working hours, minutes after local midnight: start included, end not.
    #[serde(default = "default_hours_start")]
    pub working_hours_start: u16,
    #[serde(default = "default_hours_end")]
    pub working_hours_end: u16,
    /// Working days as bits, Monday = 1, Tuesday = 2, … Sunday = 64.
    #[serde(default = "default_working_days")]
    pub working_days: u8,
    /// A helper reaching more distinct devices than this in a day is unusual.
    #[serde(default = "default_devices_per_day")]
    pub unusual_devices_per_day: u16,
    /// This many refusals (or wrong codes) in a day for one person is unusual.
    #[serde(default = "default_failures_per_day")]
    pub unusual_failures_per_day: u16,
    /// Media and input only through the TURN server, never peer to peer
    /// (needs a TURN server in the server's configuration).
    #[serde(default)]
    pub relay_only: bool,
    /// Clipboard text between the helper and the device, in full control
    /// (each direction an explicit act of the helper's, shown to the
    /// sharer).
    #[serde(default)]
    pub clipboard_enabled: bool,
    /// The helper may draw over the sharer's screen (pen, highlighter,
    /// arrow, laser), in view only or full control.
    #[serde(default = "default_true")]
    pub annotation_enabled: bool,
    /// The most text one clipboard act carries, in bytes.
    #[serde(default = "default_clipboard_bytes")]
    pub clipboard_max_bytes: u32,
    /// Files between the helper and the sharer's device, in full control,
    /// each one consented by the sharer.
    #[serde(default)]
    pub file_transfer_enabled: bool,
    /// The largest file one transfer carries, in MiB.
    #[serde(default = "default_file_mib")]
    pub file_max_mib: u32,
}

fn default_file_mib() -> u32 {
    mib(crate::files::DEFAULT_FILE_LIMIT)
}

/// Bytes in whole MiB.
const fn mib(bytes: u64) -> u32 {
    (bytes / (1024 * 1024)) as u32
}

fn default_true() -> bool {
    true
}
fn default_clipboard_bytes() -> u32 {
    crate::clipboard::MAX_CLIPBOARD_BYTES
}
fn default_timezone() -> String {
    "UTC".into()
}
fn default_hours_start() -> u16 {
    8 * 60
}
fn default_hours_end() -> u16 {
    18 * 60
}
fn default_working_days() -> u8 {
    0b001_1111
}
fn default_devices_per_day() -> u16 {
    10
}
fn default_failures_per_day() -> u16 {
    3
}

/// Minutes in a day.
pub const MINUTES_PER_DAY: u16 = 24 * 60;

/// Whether `text` could name an IANA time zone (the server checks it
/// against its time-zone database).
pub fn plausible_timezone(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'))
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
            sign_out_after_elevation: true,
            timezone: default_timezone(),
            working_hours_start: default_hours_start(),
            working_hours_end: default_hours_end(),
            working_days: default_working_days(),
            unusual_devices_per_day: default_devices_per_day(),
            unusual_failures_per_day: default_failures_per_day(),
            relay_only: false,
            clipboard_enabled: false,
            annotation_enabled: true,
            clipboard_max_bytes: default_clipboard_bytes(),
            file_transfer_enabled: false,
            file_max_mib: default_file_mib(),
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
        if !plausible_timezone(&self.timezone) {
            return Err("The time zone must be an IANA name such as Europe/Berlin.".into());
        }
        if self.working_hours_start >= self.working_hours_end
            || self.working_hours_end > MINUTES_PER_DAY
        {
            return Err("Working hours must start before they end, within one day.".into());
        }
        if self.working_days > 0b111_1111 {
            return Err("Working days name the seven days of the week only.".into());
        }
        if self.unusual_devices_per_day == 0 || self.unusual_failures_per_day == 0 {
            return Err("The thresholds for unusual patterns must be at least 1.".into());
        }
        use crate::clipboard::{MAX_CLIPBOARD_BYTES, MIN_CLIPBOARD_BYTES};
        if !(MIN_CLIPBOARD_BYTES..=MAX_CLIPBOARD_BYTES).contains(&self.clipboard_max_bytes) {
            return Err(format!(
                "The clipboard limit must be between {} and {} KiB.",
                MIN_CLIPBOARD_BYTES / 1024,
                MAX_CLIPBOARD_BYTES / 1024
            ));
        }
        use crate::files::{MAX_FILE_LIMIT, MIN_FILE_LIMIT};
        if !(mib(MIN_FILE_LIMIT)..=mib(MAX_FILE_LIMIT)).contains(&self.file_max_mib) {
            return Err(format!(
                "The file limit must be between {} and {} MiB.",
                mib(MIN_FILE_LIMIT),
                mib(MAX_FILE_LIMIT)
            ));
        }
        Ok(())
    }

    /// The file limit in bytes.
    pub fn file_max_bytes(&self) -> u64 {
        u64::from(self.file_max_mib) * 1024 * 1024
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
        for bad in [
            TenantSettings {
                timezone: "Europe/Berlin; DROP".into(),
                ..TenantSettings::default()
            },
            TenantSettings {
                working_hours_start: 600,
                working_hours_end: 600,
                ..TenantSettings::default()
            },
            TenantSettings {
                file_max_mib: 0,
                ..TenantSettings::default()
            },
            TenantSettings {
                file_max_mib: 2049,
                ..TenantSettings::default()
            },
            TenantSettings {
                working_hours_end: MINUTES_PER_DAY + 1,
                ..TenantSettings::default()
            },
            TenantSettings {
                working_days: 0b1000_0000,
                ..TenantSettings::default()
            },
            TenantSettings {
                unusual_devices_per_day: 0,
                ..TenantSettings::default()
            },
            TenantSettings {
                clipboard_max_bytes: 1023,
                ..TenantSettings::default()
            },
            TenantSettings {
                clipboard_max_bytes: 1024 * 1024 + 1,
                ..TenantSettings::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn settings_saved_before_working_hours_existed_still_read() {
        let json = r#"{"remote_help_enabled":true,"allow_unenrolled":false,"allow_unattended":false,
            "code_lifetime_minutes":5,"retention_days":30,"helper_name_display":"full",
            "chat_enabled":true}"#;
        let s: TenantSettings = serde_json::from_str(json).unwrap_or_default();
        assert_eq!((s.timezone.as_str(), s.working_days), ("UTC", 31));
        assert!(
            s.sign_out_after_elevation,
            "signing out is the safe default"
        );
        assert_eq!(s.code_lifetime_minutes, 5);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let json = r#"{"remote_help_enabled":true,"allow_unenrolled":false,"allow_unattended":false,
            "code_lifetime_minutes":5,"retention_days":30,"helper_name_display":"full",
            "chat_enabled":true,"typo":1}"#;
        assert!(serde_json::from_str::<TenantSettings>(json).is_err());
        // Settings for what the product does not do (it never records
        // the screen) are not offered, so a client that sends one is told.
        let json = r#"{"remote_help_enabled":true,"allow_unenrolled":false,"allow_unattended":false,
            "code_lifetime_minutes":5,"retention_days":30,"helper_name_display":"full",
            "chat_enabled":true,"screen_recording_enabled":true}"#;
        assert!(serde_json::from_str::<TenantSettings>(json).is_err());
        // File transfer is built: its switch is read.
        let json = r#"{"remote_help_enabled":true,"allow_unenrolled":false,"allow_unattended":false,
            "code_lifetime_minutes":5,"retention_days":30,"helper_name_display":"full",
            "chat_enabled":true,"file_transfer_enabled":true,"file_max_mib":20}"#;
        let settings = serde_json::from_str::<TenantSettings>(json).unwrap();
        assert!(settings.file_transfer_enabled);
        assert_eq!(settings.file_max_bytes(), 20 * 1024 * 1024);
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
