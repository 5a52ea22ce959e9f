//! RFC 9457 problem details, the body of every error the API returns.

use serde::{Deserialize, Serialize};

/// Media type of a [`Problem`] body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document. `kind` is serialised as `type`.
///
/// `detail` is always written for the user: the server never puts internal
/// details (SQL, stack traces, file paths) into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI reference naming the problem type, e.g. `/problems/unauthorized`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short, human-readable summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// A human-readable explanation of this occurrence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Problem {
    /// The text to show a user: the detail when there is one, else the title.
    pub fn message(&self) -> &str {
        self.detail.as_deref().unwrap_or(&self.title)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_field_is_named_type_on_the_wire() {
        let p = Problem {
            kind: "/problems/not-found".into(),
            title: "Not found".into(),
            status: 404,
            detail: None,
        };
        let json = serde_json::to_value(&p).unwrap_or_default();
        assert_eq!(json["type"], "/problems/not-found");
        assert!(json.get("detail").is_none(), "absent detail is omitted");
        assert_eq!(p.message(), "Not found");
    }
}
