//! Every variant of every tagged enum, and the structs that hold one in a
//! field, as the wire carries them (`samples.txt`). [`check`] reads each and writes it back through
//! [`from_json`] and [`to_json`], which must give the same bytes: natively
//! that is serde's internally tagged derive, on wasm32 the adaptors. This
//! crate's tests run it natively and the console's tests on wasm32, so
//! the two agree on every variant.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Tagged, from_json, to_json};
use crate::annotation::AnnotationMessage;
use crate::clipboard::ClipboardMessage;
use crate::files::{FileMessage, FileNotice, FileOutcome};
use crate::input::{Control, Input};
use crate::rbac::{AccessReviewRow, ReviewTarget};
use crate::session::{EndReason, SessionView};
use crate::sharing::{ShareChoice, Shared};
use crate::signal::{ClientMessage, ServerMessage};

const SAMPLES: &str = include_str!("samples.txt");

/// How many samples `samples.txt` holds: the tests want every one checked.
pub const COUNT: usize = 120;

/// Reads and writes back every sample; how many there were, or the first
/// that did not come back the same.
pub fn check() -> Result<usize, String> {
    let mut checked = 0;
    for (index, line) in SAMPLES.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |what: String| format!("samples.txt line {}: {what}", index + 1);
        let (kind, json) = line
            .split_once(' ')
            .ok_or_else(|| at("no type name".into()))?;
        let back = match kind {
            "ServerMessage" => again::<ServerMessage>(json),
            "ClientMessage" => again::<ClientMessage>(json),
            "Input" => again::<Input>(json),
            "Control" => again::<Control>(json),
            "FileMessage" => again::<FileMessage>(json),
            "FileOutcome" => again::<FileOutcome>(json),
            "ClipboardMessage" => again::<ClipboardMessage>(json),
            "AnnotationMessage" => again::<AnnotationMessage>(json),
            "ShareChoice" => again::<ShareChoice>(json),
            "Shared" => again::<Shared>(json),
            "EndReason" => again::<EndReason>(json),
            "ReviewTarget" => again::<ReviewTarget>(json),
            // Structs that hold a tagged enum in a field, as REST bodies
            // and messages carry them: plain serde_json, as gloo's
            // `json()` reads them in the console.
            "SessionView" => plain::<SessionView>(json),
            "FileNotice" => plain::<FileNotice>(json),
            "AccessReviewRow" => plain::<AccessReviewRow>(json),
            other => return Err(at(format!("unknown type {other}"))),
        }
        .map_err(|e| at(e.to_string()))?;
        if back != json {
            return Err(at(format!("wrote back {back}")));
        }
        checked += 1;
    }
    Ok(checked)
}

fn plain<T: Serialize + DeserializeOwned>(json: &str) -> Result<String, serde_json::Error> {
    serde_json::to_string(&serde_json::from_str::<T>(json)?)
}

fn again<T: Serialize + DeserializeOwned + Tagged>(
    json: &str,
) -> Result<String, serde_json::Error> {
    to_json(&from_json::<T>(json.as_bytes())?)
}
