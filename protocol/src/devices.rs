//! Devices as the console lists them.

use crate::{DeviceId, UnixMillis};
use serde::{Deserialize, Serialize};

/// A device's compliance state. Unenrolled devices are always non-compliant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Compliance {
    Compliant,
    NonCompliant,
    Unknown,
}

impl Compliance {
    /// The label the console shows.
    pub fn label(self) -> &'static str {
        match self {
            Compliance::Compliant => "Compliant",
            Compliance::NonCompliant => "Non-compliant",
            Compliance::Unknown => "Unknown",
        }
    }

    /// The state as a phrase of its own, e.g. "Compliance: unknown".
    pub fn sentence(self) -> String {
        format!("Compliance: {}", self.label().to_lowercase())
    }

    /// The stable wire/storage spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Compliance::Compliant => "compliant",
            Compliance::NonCompliant => "non_compliant",
            Compliance::Unknown => "unknown",
        }
    }

    /// Parses [`Compliance::as_str`]'s spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "compliant" => Some(Compliance::Compliant),
            "non_compliant" => Some(Compliance::NonCompliant),
            "unknown" => Some(Compliance::Unknown),
            _ => None,
        }
    }
}

/// One row of the devices list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceSummary {
    pub id: DeviceId,
    pub name: String,
    pub os: String,
    pub os_version: String,
    /// Display name of the device's primary user, if it has one.
    pub primary_user: Option<String>,
    pub enrolled: bool,
    pub compliance: Compliance,
    /// When the agent last talked to the server; `None` if never.
    pub last_seen: Option<UnixMillis>,
    pub agent_version: Option<String>,
    /// The device's agent is connected now (it can be offered help).
    #[serde(default)]
    pub online: bool,
    /// The caller holds "Offer remote assistance" on this device (with the
    /// user signed in to Tandem on it now, as the offer itself is checked).
    #[serde(default)]
    pub can_offer: bool,
}

impl DeviceSummary {
    /// The name as it should be shown: an unenrolled device named itself,
    /// and nothing vouches for that, so it says so.
    pub fn shown_name(&self) -> String {
        if self.enrolled {
            self.name.clone()
        } else {
            format!("{} (self-reported)", self.name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compliance_spelling_round_trips() {
        for c in [
            Compliance::Compliant,
            Compliance::NonCompliant,
            Compliance::Unknown,
        ] {
            assert_eq!(Compliance::parse(c.as_str()), Some(c));
            let json = serde_json::to_string(&c).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
        assert_eq!(Compliance::parse("COMPLIANT"), None);
        assert_eq!(Compliance::Unknown.sentence(), "Compliance: unknown");
        assert_eq!(
            Compliance::NonCompliant.sentence(),
            "Compliance: non-compliant"
        );
    }
}
