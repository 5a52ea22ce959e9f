//! Why a policy refused a session or a step in it: one closed list, so
//! the event log and the records hold a reason, never free text.

use serde::{Deserialize, Serialize};

/// A policy's refusal. The wire and the store carry the snake_case name;
/// [`Refusal::text`] is what people read. The aliases read rows written
/// before the list existed, when the sentence itself was stored.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// A sharer of another organization (told nothing more).
    #[serde(alias = "this session is not available")]
    NotAvailable,
    #[serde(alias = "remote help is turned off for this organization")]
    RemoteHelpOff,
    /// The helper's roles do not cover the sharer.
    #[serde(alias = "the helper's roles do not cover this sharer (out of scope)")]
    OutOfScope,
    #[serde(alias = "help to unenrolled devices is turned off for this organization")]
    UnenrolledDevicesOff,
    /// The helper lost View screen on the sharer since the session began.
    #[serde(alias = "the helper no longer holds View screen for this sharer")]
    ViewScreenLost,
    /// Unattended access was turned off during an unattended session.
    #[serde(alias = "unattended access has been turned off for this organization")]
    UnattendedOff,
    /// "Offer remote assistance" needs an enrolled device.
    #[serde(
        alias = "only enrolled devices can be helped from the device page; use a security code"
    )]
    DevicePageNeedsEnrollment,
    /// Nobody is signed in on the device, and unattended access is off.
    #[serde(
        alias = "nobody is signed in to Tandem on this device, and unattended access is off for this organization"
    )]
    NobodySignedIn,
    /// The sharer's browser is not paired with the device it names.
    #[serde(
        alias = "this browser is not paired with the device; open the link the Tandem agent shows"
    )]
    NotPaired,
    /// Pause or Resume in a session nobody consented to in person.
    #[serde(alias = "this session has no sharer to pause or resume it")]
    NoSharer,
}

impl Refusal {
    pub const ALL: [Refusal; 10] = [
        Refusal::NotAvailable,
        Refusal::RemoteHelpOff,
        Refusal::OutOfScope,
        Refusal::UnenrolledDevicesOff,
        Refusal::ViewScreenLost,
        Refusal::UnattendedOff,
        Refusal::DevicePageNeedsEnrollment,
        Refusal::NobodySignedIn,
        Refusal::NotPaired,
        Refusal::NoSharer,
    ];

    /// The snake_case name the wire and the store carry.
    pub fn name(self) -> &'static str {
        match self {
            Refusal::NotAvailable => "not_available",
            Refusal::RemoteHelpOff => "remote_help_off",
            Refusal::OutOfScope => "out_of_scope",
            Refusal::UnenrolledDevicesOff => "unenrolled_devices_off",
            Refusal::ViewScreenLost => "view_screen_lost",
            Refusal::UnattendedOff => "unattended_off",
            Refusal::DevicePageNeedsEnrollment => "device_page_needs_enrollment",
            Refusal::NobodySignedIn => "nobody_signed_in",
            Refusal::NotPaired => "not_paired",
            Refusal::NoSharer => "no_sharer",
        }
    }

    /// The sentence both participants and the reports read.
    pub fn text(self) -> &'static str {
        match self {
            Refusal::NotAvailable => "this session is not available",
            Refusal::RemoteHelpOff => "remote help is turned off for this organization",
            Refusal::OutOfScope => "the helper's roles do not cover this sharer (out of scope)",
            Refusal::UnenrolledDevicesOff => {
                "help to unenrolled devices is turned off for this organization"
            }
            Refusal::ViewScreenLost => "the helper no longer holds View screen for this sharer",
            Refusal::UnattendedOff => "unattended access has been turned off for this organization",
            Refusal::DevicePageNeedsEnrollment => {
                "only enrolled devices can be helped from the device page; use a security code"
            }
            Refusal::NobodySignedIn => {
                "nobody is signed in to Tandem on this device, and unattended access is off \
                 for this organization"
            }
            Refusal::NotPaired => {
                "this browser is not paired with the device; open the link the Tandem agent shows"
            }
            Refusal::NoSharer => "this session has no sharer to pause or resume it",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_round_trips_and_reads_its_old_sentence() {
        for refusal in Refusal::ALL {
            let json = serde_json::to_string(&refusal).unwrap();
            assert!(
                json.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c == '"')
            );
            assert_eq!(serde_json::from_str::<Refusal>(&json).unwrap(), refusal);
            assert_eq!(json, format!("\"{}\"", refusal.name()));
            // A row written when the sentence itself was stored.
            let old = serde_json::to_string(refusal.text()).unwrap();
            assert_eq!(serde_json::from_str::<Refusal>(&old).unwrap(), refusal);
        }
        assert!(serde_json::from_str::<Refusal>("\"anything else\"").is_err());
    }
}
