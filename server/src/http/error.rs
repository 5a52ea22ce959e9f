//! The HTTP layer's one error type and its single mapping to RFC 9457
//! problem+json. Internal details are logged here and never sent.

use crate::store::StoreError;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tandem_protocol::Problem;
use tandem_protocol::problem::PROBLEM_JSON;

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
    #[error("store: {0}")]
    Store(#[from] StoreError),
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

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

impl From<tower_sessions::session::Error> for ApiError {
    fn from(error: tower_sessions::session::Error) -> Self {
        ApiError::Internal(format!("session: {error}"))
    }
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str, Option<String>) {
        use ApiError::*;
        match self {
            Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Sign-in required",
                Some("Sign in to continue.".into()),
            ),
            SessionExpired => (
                StatusCode::UNAUTHORIZED,
                "session-expired",
                "Session expired",
                Some("Your session has expired. Sign in again.".into()),
            ),
            BadCredentials => (
                StatusCode::UNAUTHORIZED,
                "bad-credentials",
                "Sign-in failed",
                Some("Wrong e-mail address or password.".into()),
            ),
            BadRequest(detail) => (
                StatusCode::BAD_REQUEST,
                "bad-request",
                "Bad request",
                Some(detail.clone()),
            ),
            PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Request too large",
                Some(format!(
                    "The request body is larger than {} KiB.",
                    crate::http::MAX_API_BODY_BYTES / 1024
                )),
            ),
            UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                Some("Send the body as application/json.".into()),
            ),
            Forbidden(permission) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed",
                Some(format!(
                    "You need the \u{201c}{}\u{201d} permission for this.",
                    permission.label()
                )),
            ),
            CrossSite => (
                StatusCode::FORBIDDEN,
                "cross-site",
                "Cross-site request refused",
                Some("This request came from another site and was refused.".into()),
            ),
            TooManyRequests(seconds) => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-attempts",
                "Too many attempts",
                Some(format!(
                    "Too many sign-in attempts. Try again in {} minute{}.",
                    seconds.div_ceil(60),
                    if seconds.div_ceil(60) == 1 { "" } else { "s" }
                )),
            ),
            Conflict(detail) => (
                StatusCode::CONFLICT,
                "conflict",
                "Conflict",
                Some(detail.clone()),
            ),
            NotFound => (StatusCode::NOT_FOUND, "not-found", "Not found", None),
            MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                None,
            ),
            ConsoleMissing => (
                StatusCode::SERVICE_UNAVAILABLE,
                "console-missing",
                "Console not built",
                Some("The console has not been built. Run `cargo xtask run`.".into()),
            ),
            Busy(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "Server busy",
                Some("The server is busy. Try again in a few seconds.".into()),
            ),
            Session(error) => session_parts(error),
            Store(_) | Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                Some("Something went wrong on the server. It has been logged.".into()),
            ),
        }
    }
}

/// The status and problem type of each session refusal.
fn session_parts(
    error: &crate::sessions::SessionError,
) -> (StatusCode, &'static str, &'static str, Option<String>) {
    use crate::sessions::SessionError::*;
    let (status, kind, title) = match error {
        WrongCode => (StatusCode::BAD_REQUEST, "wrong-code", "Wrong code"),
        CodeExpired => (StatusCode::GONE, "code-expired", "Code expired"),
        CodeUsed => (StatusCode::CONFLICT, "code-used", "Code already used"),
        CodeWithdrawn => (StatusCode::GONE, "code-withdrawn", "Code withdrawn"),
        OwnCode => (StatusCode::BAD_REQUEST, "own-code", "Your own code"),
        CodeLocked(_) => (
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-codes",
            "Too many wrong codes",
        ),
        RegistrationLocked(_) => (
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-registrations",
            "Too many device registrations",
        ),
        DeviceBusy(_) => (
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-device-requests",
            "Too many requests from this device",
        ),
        RemoteHelpDisabled => (
            StatusCode::FORBIDDEN,
            "remote-help-disabled",
            "Remote help is off",
        ),
        NoViewScreen | NoFullControl | HelperOnly => {
            (StatusCode::FORBIDDEN, "forbidden", "Not allowed")
        }
        Invalid(_) => (StatusCode::BAD_REQUEST, "bad-request", "Bad request"),
        Refused(_) => (StatusCode::FORBIDDEN, "session-refused", "Session refused"),
        NotNow(_) | Raced => (StatusCode::CONFLICT, "conflict", "Not possible now"),
        NotFound => return (StatusCode::NOT_FOUND, "not-found", "Not found", None),
        DeviceAuth(_) => (
            StatusCode::UNAUTHORIZED,
            "device-unauthenticated",
            "Device not authenticated",
        ),
        BadEnrollmentToken => (
            StatusCode::FORBIDDEN,
            "bad-enrollment-token",
            "Enrollment token refused",
        ),
        BadAgentRequest(_) => (StatusCode::BAD_REQUEST, "bad-request", "Bad request"),
        PairingExpired => (StatusCode::GONE, "pairing-expired", "Pairing link expired"),
        ForeignDevice => (
            StatusCode::FORBIDDEN,
            "foreign-device",
            "Another organization's device",
        ),
        AgentOffline => (StatusCode::CONFLICT, "agent-offline", "Agent offline"),
        NoOfferAssistance => (StatusCode::FORBIDDEN, "forbidden", "Not allowed"),
        Store(_) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                Some("Something went wrong on the server. It has been logged.".into()),
            );
        }
    };
    (status, kind, title, Some(error.to_string()))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, title, detail) = self.parts();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let problem = Problem {
            kind: format!("/problems/{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
        };
        let retry_after = match self {
            ApiError::TooManyRequests(seconds)
            | ApiError::Busy(seconds)
            | ApiError::Session(
                crate::sessions::SessionError::CodeLocked(seconds)
                | crate::sessions::SessionError::RegistrationLocked(seconds)
                | crate::sessions::SessionError::DeviceBusy(seconds),
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
