//! The HTTP layer's one error type and its single mapping to RFC 9457
//! problem+json. Internal details are logged here and never sent.

use crate::store::StoreError;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tandem_protocol::Problem;
use tandem_protocol::problem::{PROBLEM_JSON, ProblemKind};

/// Every way an API request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("sign-in required")]
    Unauthenticated,
    #[error("your session has expired")]
    SessionExpired,
    #[error("wrong e-mail or password")]
    BadCredentials,
    #[error("{0}")]
    BadRequest(String),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("expected a JSON body")]
    UnsupportedMediaType,
    #[error("forbidden: needs {0:?}")]
    Forbidden(tandem_protocol::rbac::Permission),
    #[error("{0}")]
    Conflict(String),
    #[error("cross-site request refused")]
    CrossSite,
    #[error("too many sign-in attempts; retry in {0} s")]
    TooManyRequests(u64),
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Too many requests waited for a scarce resource (password checks);
    /// retry in this many seconds.
    #[error("server busy; retry in {0} s")]
    Busy(u64),
    #[error("the console has not been built")]
    ConsoleMissing,
    #[error("{0}")]
    Session(#[from] crate::sessions::SessionError),
    #[error("{0}")]
    Device(#[from] crate::auth::device::DeviceError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The database cannot be reached.
    #[error("the database cannot be reached")]
    Unavailable,
    #[error("internal: {0}")]
    Internal(String),
}

impl From<crate::auth::AuthError> for ApiError {
    fn from(error: crate::auth::AuthError) -> Self {
        use crate::auth::AuthError;
        match error {
            AuthError::BadCredentials => ApiError::BadCredentials,
            AuthError::TooManyAttempts(wait) => ApiError::TooManyRequests(wait),
            AuthError::Busy(wait) => ApiError::Busy(wait),
            AuthError::Forbidden(permission) => ApiError::Forbidden(permission),
            AuthError::Password(e) => ApiError::Internal(e.to_string()),
            AuthError::Store(e) => ApiError::Store(e),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
            _ => ApiError::BadRequest(rejection.body_text()),
        }
    }
}

impl From<axum::extract::rejection::BytesRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::BytesRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            _ => ApiError::BadRequest(rejection.body_text()),
        }
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

impl From<tower_sessions::session::Error> for ApiError {
    fn from(error: tower_sessions::session::Error) -> Self {
        use tower_sessions::session::Error as SessionError;
        use tower_sessions::session_store::Error as StoreError;
        match &error {
            SessionError::Store(StoreError::Backend(why))
                if why == crate::store::web_sessions::DATABASE_UNAVAILABLE =>
            {
                ApiError::Unavailable
            }
            _ => ApiError::Internal(format!("session: {error}")),
        }
    }
}

impl ApiError {
    /// The problem kind, and what the user should read (never internals).
    fn parts(&self) -> (ProblemKind, Option<String>) {
        use ApiError::*;
        match self {
            Unauthenticated => (
                ProblemKind::Unauthenticated,
                Some("Sign in to continue.".into()),
            ),
            SessionExpired => (
                ProblemKind::SessionExpired,
                Some("Your session has expired. Sign in again.".into()),
            ),
            BadCredentials => (
                ProblemKind::BadCredentials,
                Some("Wrong e-mail address or password.".into()),
            ),
            BadRequest(detail) => (ProblemKind::BadRequest, Some(detail.clone())),
            PayloadTooLarge => (
                ProblemKind::PayloadTooLarge,
                Some(format!(
                    "The request body is larger than {} KiB.",
                    super::MAX_API_BODY_BYTES / 1024
                )),
            ),
            UnsupportedMediaType => (
                ProblemKind::UnsupportedMediaType,
                Some("Send the body as application/json.".into()),
            ),
            Forbidden(permission) => (
                ProblemKind::Forbidden,
                Some(format!(
                    "You need the \u{201c}{}\u{201d} permission for this.",
                    permission.label()
                )),
            ),
            CrossSite => (
                ProblemKind::CrossSite,
                Some("This request came from another site and was refused.".into()),
            ),
            TooManyRequests(seconds) => (
                ProblemKind::TooManyAttempts,
                Some(format!(
                    "Too many sign-in attempts. Try again in {} minute{}.",
                    seconds.div_ceil(60),
                    if seconds.div_ceil(60) == 1 { "" } else { "s" }
                )),
            ),
            Conflict(detail) => (ProblemKind::Conflict, Some(detail.clone())),
            NotFound => (ProblemKind::NotFound, None),
            MethodNotAllowed => (ProblemKind::MethodNotAllowed, None),
            ConsoleMissing => (
                ProblemKind::ConsoleMissing,
                Some("The console has not been built. Run `cargo xtask run`.".into()),
            ),
            Busy(_) => (
                ProblemKind::Busy,
                Some("The server is busy. Try again in a few seconds.".into()),
            ),
            Unavailable => unavailable(),
            Store(error) if error.is_unavailable() => unavailable(),
            Session(crate::sessions::SessionError::Store(error))
            | Device(crate::auth::device::DeviceError::Store(error))
                if error.is_unavailable() =>
            {
                unavailable()
            }
            Session(error) => session_parts(error),
            Device(error) => device_parts(error),
            Store(_) | Internal(_) => (ProblemKind::Internal, Some(INTERNAL_DETAIL.into())),
        }
    }
}

/// The database cannot be reached: a 503, never a hang or a 500.
fn unavailable() -> (ProblemKind, Option<String>) {
    (
        ProblemKind::Unavailable,
        Some("The database cannot be reached. Try again in a moment.".into()),
    )
}

/// What a user reads about a failure on the server.
const INTERNAL_DETAIL: &str = "Something went wrong on the server. It has been logged.";

/// The problem kind of each refusal of a device.
fn device_parts(error: &crate::auth::device::DeviceError) -> (ProblemKind, Option<String>) {
    use crate::auth::device::DeviceError::*;
    let kind = match error {
        Unauthenticated(_) => ProblemKind::DeviceUnauthenticated,
        Busy(_) => ProblemKind::TooManyDeviceRequests,
        RegistrationLocked(_) => ProblemKind::TooManyRegistrations,
        BadEnrollmentToken => ProblemKind::BadEnrollmentToken,
        BadRequest(_) => ProblemKind::BadRequest,
        Store(_) => return (ProblemKind::Internal, Some(INTERNAL_DETAIL.into())),
    };
    (kind, Some(error.to_string()))
}

/// The problem kind of each session refusal.
fn session_parts(error: &crate::sessions::SessionError) -> (ProblemKind, Option<String>) {
    use crate::sessions::SessionError::*;
    let kind = match error {
        WrongCode => ProblemKind::WrongCode,
        CodeExpired => ProblemKind::CodeExpired,
        CodeUsed => ProblemKind::CodeUsed,
        CodeWithdrawn => ProblemKind::CodeWithdrawn,
        OwnCode => ProblemKind::OwnCode,
        CodeLocked(_) => ProblemKind::TooManyCodes,

        RemoteHelpDisabled => ProblemKind::RemoteHelpDisabled,
        NoViewScreen | NoFullControl | HelperOnly | NoOfferAssistance => ProblemKind::Forbidden,
        Invalid(_) => ProblemKind::BadRequest,
        Refused(_) => ProblemKind::SessionRefused,
        NotNow(_) | Raced => ProblemKind::Conflict,
        NotFound => return (ProblemKind::NotFound, None),
        PairingExpired => ProblemKind::PairingExpired,
        ForeignDevice => ProblemKind::ForeignDevice,
        AgentOffline => ProblemKind::AgentOffline,
        Draining => ProblemKind::Unavailable,
        Store(_) => return (ProblemKind::Internal, Some(INTERNAL_DETAIL.into())),
    };
    (kind, Some(error.to_string()))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (kind, detail) = self.parts();
        let status =
            StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        self.count(kind);
        let problem = Problem::new(kind, detail);
        let retry_after = match self {
            ApiError::TooManyRequests(seconds)
            | ApiError::Busy(seconds)
            | ApiError::Session(crate::sessions::SessionError::CodeLocked(seconds))
            | ApiError::Device(
                crate::auth::device::DeviceError::RegistrationLocked(seconds)
                | crate::auth::device::DeviceError::Busy(seconds),
            ) => Some(seconds),
            _ => None,
        };
        let mut response = (status, Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl ApiError {
    /// Moves the refusal and lockout counters of `/metrics`; `kind` is
    /// this error's problem kind.
    fn count(&self, kind: ProblemKind) {
        use crate::metrics::{CODE_AND_PERMISSION_REFUSALS, Lockout, count_lockout, count_refusal};
        use crate::sessions::SessionError;
        match self {
            ApiError::TooManyRequests(_) => count_lockout(Lockout::Login),
            ApiError::Session(SessionError::CodeLocked(_)) => count_lockout(Lockout::Code),
            ApiError::Device(crate::auth::device::DeviceError::RegistrationLocked(_)) => {
                count_lockout(Lockout::Registration);
            }
            ApiError::Session(SessionError::Refused(reason)) => count_refusal(reason.name()),
            // A session request's code or permission problem, by its kind
            // (the closed list the registry starts with).
            ApiError::Session(_) if CODE_AND_PERMISSION_REFUSALS.contains(&kind) => {
                count_refusal(kind.slug());
            }
            _ => {}
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn internal_errors_send_no_details() {
        let secret = "SELECT password_hash FROM users";
        let response = ApiError::Internal(secret.into()).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains(secret));
        let problem: Problem = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem.kind, "/problems/internal");
        assert_eq!(problem.status, 500);
    }

    #[tokio::test]
    async fn busy_is_a_503_with_retry_after_and_no_details() {
        let response = ApiError::Busy(7).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let problem: Problem = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem.kind, "/problems/busy");
        assert_eq!(problem.status, 503);
        assert!(!problem.detail.unwrap_or_default().contains("password"));
    }
}
