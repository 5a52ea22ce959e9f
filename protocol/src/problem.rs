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

/// Every kind of problem the server answers with, over HTTP and on the
/// signaling connection alike: one list, each with its one status and
/// title. On the wire a kind is the `type` URI `/problems/<slug>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    Unauthenticated,
    SessionExpired,
    BadCredentials,
    DeviceUnauthenticated,
    BadRequest,
    BadMessage,
    WrongCode,
    OwnCode,
    Forbidden,
    CrossSite,
    RemoteHelpDisabled,
    SessionRefused,
    BadEnrollmentToken,
    ForeignDevice,
    ChatDisabled,
    ChatUndelivered,
    NotFound,
    MethodNotAllowed,
    Conflict,
    NotNow,
    CodeUsed,
    AgentOffline,
    AlreadyJoined,
    NotJoined,
    NoConsent,
    PeerAbsent,
    WrongParty,
    CodeExpired,
    CodeWithdrawn,
    PairingExpired,
    PayloadTooLarge,
    UnsupportedMediaType,
    TooManyAttempts,
    TooManyCodes,
    TooManyRegistrations,
    TooManyDeviceRequests,
    TooFast,
    Internal,
    Busy,
    /// The database cannot be reached, or this replica is draining.
    Unavailable,
    ConsoleMissing,
}

impl ProblemKind {
    pub const ALL: [ProblemKind; 41] = [
        ProblemKind::Unauthenticated,
        ProblemKind::SessionExpired,
        ProblemKind::BadCredentials,
        ProblemKind::DeviceUnauthenticated,
        ProblemKind::BadRequest,
        ProblemKind::BadMessage,
        ProblemKind::WrongCode,
        ProblemKind::OwnCode,
        ProblemKind::Forbidden,
        ProblemKind::CrossSite,
        ProblemKind::RemoteHelpDisabled,
        ProblemKind::SessionRefused,
        ProblemKind::BadEnrollmentToken,
        ProblemKind::ForeignDevice,
        ProblemKind::ChatDisabled,
        ProblemKind::ChatUndelivered,
        ProblemKind::NotFound,
        ProblemKind::MethodNotAllowed,
        ProblemKind::Conflict,
        ProblemKind::NotNow,
        ProblemKind::CodeUsed,
        ProblemKind::AgentOffline,
        ProblemKind::AlreadyJoined,
        ProblemKind::NotJoined,
        ProblemKind::NoConsent,
        ProblemKind::PeerAbsent,
        ProblemKind::WrongParty,
        ProblemKind::CodeExpired,
        ProblemKind::CodeWithdrawn,
        ProblemKind::PairingExpired,
        ProblemKind::PayloadTooLarge,
        ProblemKind::UnsupportedMediaType,
        ProblemKind::TooManyAttempts,
        ProblemKind::TooManyCodes,
        ProblemKind::TooManyRegistrations,
        ProblemKind::TooManyDeviceRequests,
        ProblemKind::TooFast,
        ProblemKind::Internal,
        ProblemKind::Busy,
        ProblemKind::Unavailable,
        ProblemKind::ConsoleMissing,
    ];

    /// The last segment of the `type` URI.
    pub fn slug(self) -> &'static str {
        match self {
            ProblemKind::Unauthenticated => "unauthenticated",
            ProblemKind::SessionExpired => "session-expired",
            ProblemKind::BadCredentials => "bad-credentials",
            ProblemKind::DeviceUnauthenticated => "device-unauthenticated",
            ProblemKind::BadRequest => "bad-request",
            ProblemKind::BadMessage => "bad-message",
            ProblemKind::WrongCode => "wrong-code",
            ProblemKind::OwnCode => "own-code",
            ProblemKind::Forbidden => "forbidden",
            ProblemKind::CrossSite => "cross-site",
            ProblemKind::RemoteHelpDisabled => "remote-help-disabled",
            ProblemKind::SessionRefused => "session-refused",
            ProblemKind::BadEnrollmentToken => "bad-enrollment-token",
            ProblemKind::ForeignDevice => "foreign-device",
            ProblemKind::ChatDisabled => "chat-disabled",
            ProblemKind::ChatUndelivered => "chat-undelivered",
            ProblemKind::NotFound => "not-found",
            ProblemKind::MethodNotAllowed => "method-not-allowed",
            ProblemKind::Conflict => "conflict",
            ProblemKind::NotNow => "not-now",
            ProblemKind::CodeUsed => "code-used",
            ProblemKind::AgentOffline => "agent-offline",
            ProblemKind::AlreadyJoined => "already-joined",
            ProblemKind::NotJoined => "not-joined",
            ProblemKind::NoConsent => "no-consent",
            ProblemKind::PeerAbsent => "peer-absent",
            ProblemKind::WrongParty => "wrong-party",
            ProblemKind::CodeExpired => "code-expired",
            ProblemKind::CodeWithdrawn => "code-withdrawn",
            ProblemKind::PairingExpired => "pairing-expired",
            ProblemKind::PayloadTooLarge => "payload-too-large",
            ProblemKind::UnsupportedMediaType => "unsupported-media-type",
            ProblemKind::TooManyAttempts => "too-many-attempts",
            ProblemKind::TooManyCodes => "too-many-codes",
            ProblemKind::TooManyRegistrations => "too-many-registrations",
            ProblemKind::TooManyDeviceRequests => "too-many-device-requests",
            ProblemKind::TooFast => "too-fast",
            ProblemKind::Internal => "internal",
            ProblemKind::Busy => "busy",
            ProblemKind::Unavailable => "unavailable",
            ProblemKind::ConsoleMissing => "console-missing",
        }
    }

    /// The HTTP status this kind is answered with.
    pub fn status(self) -> u16 {
        match self {
            ProblemKind::Unauthenticated
            | ProblemKind::SessionExpired
            | ProblemKind::BadCredentials
            | ProblemKind::DeviceUnauthenticated => 401,
            ProblemKind::BadRequest
            | ProblemKind::BadMessage
            | ProblemKind::WrongCode
            | ProblemKind::OwnCode => 400,
            ProblemKind::Forbidden
            | ProblemKind::CrossSite
            | ProblemKind::RemoteHelpDisabled
            | ProblemKind::SessionRefused
            | ProblemKind::BadEnrollmentToken
            | ProblemKind::ForeignDevice
            | ProblemKind::ChatDisabled => 403,
            ProblemKind::NotFound => 404,
            ProblemKind::MethodNotAllowed => 405,
            ProblemKind::Conflict
            | ProblemKind::NotNow
            | ProblemKind::ChatUndelivered
            | ProblemKind::CodeUsed
            | ProblemKind::AgentOffline
            | ProblemKind::AlreadyJoined
            | ProblemKind::NotJoined
            | ProblemKind::NoConsent
            | ProblemKind::PeerAbsent
            | ProblemKind::WrongParty => 409,
            ProblemKind::CodeExpired | ProblemKind::CodeWithdrawn | ProblemKind::PairingExpired => {
                410
            }
            ProblemKind::PayloadTooLarge => 413,
            ProblemKind::UnsupportedMediaType => 415,
            ProblemKind::TooManyAttempts
            | ProblemKind::TooManyCodes
            | ProblemKind::TooManyRegistrations
            | ProblemKind::TooManyDeviceRequests
            | ProblemKind::TooFast => 429,
            ProblemKind::Internal => 500,
            ProblemKind::Busy | ProblemKind::Unavailable | ProblemKind::ConsoleMissing => 503,
        }
    }

    /// A short summary of the kind, the same for every occurrence.
    pub fn title(self) -> &'static str {
        match self {
            ProblemKind::Unauthenticated => "Sign-in required",
            ProblemKind::SessionExpired => "Session expired",
            ProblemKind::BadCredentials => "Sign-in failed",
            ProblemKind::DeviceUnauthenticated => "Device not authenticated",
            ProblemKind::BadRequest => "Bad request",
            ProblemKind::BadMessage => "Bad message",
            ProblemKind::WrongCode => "Wrong code",
            ProblemKind::OwnCode => "Your own code",
            ProblemKind::Forbidden => "Not allowed",
            ProblemKind::CrossSite => "Cross-site request refused",
            ProblemKind::RemoteHelpDisabled => "Remote help is off",
            ProblemKind::SessionRefused => "Session refused",
            ProblemKind::BadEnrollmentToken => "Enrollment token refused",
            ProblemKind::ForeignDevice => "Another organization's device",
            ProblemKind::ChatDisabled => "Chat is off",
            ProblemKind::ChatUndelivered => "Message not delivered",
            ProblemKind::NotFound => "Not found",
            ProblemKind::MethodNotAllowed => "Method not allowed",
            ProblemKind::Conflict => "Conflict",
            ProblemKind::NotNow => "Not possible now",
            ProblemKind::CodeUsed => "Code already used",
            ProblemKind::AgentOffline => "Agent offline",
            ProblemKind::AlreadyJoined => "Already joined",
            ProblemKind::NotJoined => "Not joined",
            ProblemKind::NoConsent => "No consent",
            ProblemKind::PeerAbsent => "The other side is absent",
            ProblemKind::WrongParty => "Not for this participant",
            ProblemKind::CodeExpired => "Code expired",
            ProblemKind::CodeWithdrawn => "Code withdrawn",
            ProblemKind::PairingExpired => "Pairing link expired",
            ProblemKind::PayloadTooLarge => "Request too large",
            ProblemKind::UnsupportedMediaType => "Unsupported media type",
            ProblemKind::TooManyAttempts => "Too many attempts",
            ProblemKind::TooManyCodes => "Too many wrong codes",
            ProblemKind::TooManyRegistrations => "Too many device registrations",
            ProblemKind::TooManyDeviceRequests => "Too many requests from this device",
            ProblemKind::TooFast => "Too many messages",
            ProblemKind::Internal => "Internal error",
            ProblemKind::Busy => "Server busy",
            ProblemKind::Unavailable => "Service unavailable",
            ProblemKind::ConsoleMissing => "Console not built",
        }
    }

    /// The `type` URI.
    pub fn uri(self) -> String {
        format!("/problems/{}", self.slug())
    }
}

impl Problem {
    /// A problem of `kind`, with what the user should read.
    pub fn new(kind: ProblemKind, detail: Option<String>) -> Self {
        Self {
            kind: kind.uri(),
            title: kind.title().to_owned(),
            status: kind.status(),
            detail,
        }
    }

    /// The kind, when the `type` is one of the server's.
    pub fn known_kind(&self) -> Option<ProblemKind> {
        let slug = self.kind.strip_prefix("/problems/")?;
        ProblemKind::ALL.into_iter().find(|k| k.slug() == slug)
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

    #[test]
    fn every_kind_has_its_own_slug_and_reads_back() {
        let mut slugs = std::collections::BTreeSet::new();
        for kind in ProblemKind::ALL {
            assert!(slugs.insert(kind.slug()), "{kind:?} repeats a slug");
            assert!((400..600).contains(&kind.status()));
            let problem = Problem::new(kind, None);
            assert_eq!(problem.known_kind(), Some(kind));
            assert_eq!(problem.message(), kind.title());
        }
        let foreign = Problem {
            kind: "about:blank".into(),
            ..Problem::new(ProblemKind::Internal, None)
        };
        assert_eq!(foreign.known_kind(), None);
    }
}
