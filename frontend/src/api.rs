//! Typed client for the server's REST API. Request and response types come
//! from `tandem-protocol`; the session travels in the HttpOnly cookie, which
//! this code never sees.

use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use tandem_protocol::auth::{LoginRequest, Me};
use tandem_protocol::devices::DeviceSummary;
use tandem_protocol::{Problem, routes};

/// Why an API call failed, in words a user can act on.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The server answered with a problem document.
    Problem(Problem),
    /// The server could not be reached.
    Network(String),
    /// The server answered something this console does not understand.
    Unexpected(String),
}

impl ApiError {
    /// True when the caller is not (or no longer) signed in.
    pub fn is_unauthenticated(&self) -> bool {
        matches!(self, ApiError::Problem(p) if p.status == 401)
    }

    /// The message to show.
    pub fn message(&self) -> String {
        match self {
            ApiError::Problem(problem) => problem.message().to_owned(),
            ApiError::Network(_) => {
                "The server cannot be reached. Check your connection and try again.".to_owned()
            }
            ApiError::Unexpected(_) => {
                "The server sent an unexpected answer. Try again.".to_owned()
            }
        }
    }
}

async fn problem_of(response: Response) -> ApiError {
    let status = response.status();
    match response.json::<Problem>().await {
        Ok(problem) => ApiError::Problem(problem),
        Err(_) => ApiError::Problem(Problem {
            kind: "about:blank".to_owned(),
            title: format!("The server answered {status} {}", response.status_text()),
            status,
            detail: None,
        }),
    }
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    if !response.ok() {
        return Err(problem_of(response).await);
    }
    response
        .json::<T>()
        .await
        .map_err(|e| ApiError::Unexpected(e.to_string()))
}

fn network(error: gloo_net::Error) -> ApiError {
    ApiError::Network(error.to_string())
}

/// Signs in with a built-in account.
pub async fn login(request: &LoginRequest) -> Result<Me, ApiError> {
    let response = Request::post(routes::AUTH_LOGIN)
        .json(request)
        .map_err(|e| ApiError::Unexpected(e.to_string()))?
        .send()
        .await
        .map_err(network)?;
    decode(response).await
}

/// Who is signed in; `None` when nobody is.
pub async fn me() -> Result<Option<Me>, ApiError> {
    let response = Request::get(routes::AUTH_ME)
        .send()
        .await
        .map_err(network)?;
    match decode(response).await {
        Ok(me) => Ok(Some(me)),
        Err(error) if error.is_unauthenticated() => Ok(None),
        Err(error) => Err(error),
    }
}

/// Ends the session.
pub async fn logout() -> Result<(), ApiError> {
    let response = Request::post(routes::AUTH_LOGOUT)
        .send()
        .await
        .map_err(network)?;
    if response.ok() {
        Ok(())
    } else {
        Err(problem_of(response).await)
    }
}

/// The devices of the signed-in user's tenant.
pub async fn devices() -> Result<Vec<DeviceSummary>, ApiError> {
    let response = Request::get(routes::DEVICES)
        .send()
        .await
        .map_err(network)?;
    decode(response).await
}
