//! The extractors that turn a request into the domain's proofs: the
//! signed-in [`CurrentUser`], `Authorized<P>`, [`ReportReader`], and the
//! [`ClientAddress`]. Each calls the plain function in `auth` that mints
//! the proof, and maps its refusal to an [`ApiError`].

use super::web_session::session_principal;
use super::{ApiError, ApiResult, AppState};
use crate::auth::throttle::{ClientAddress, client_address};
use crate::auth::{Authorized, Capability, Principal, ReportReader, authorize, report_reader};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::SocketAddr;

/// An authenticated caller. Extracting it rejects anonymous and expired
/// sessions with 401.
#[derive(Debug)]
pub struct CurrentUser(Principal);

impl std::ops::Deref for CurrentUser {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        session_principal(parts, state).await.map(CurrentUser)
    }
}

impl<C: Capability> FromRequestParts<AppState> for Authorized<C> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let current = CurrentUser::from_request_parts(parts, state).await?;
        Ok(authorize(&state.store, &current).await?)
    }
}

impl FromRequestParts<AppState> for ReportReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let current = CurrentUser::from_request_parts(parts, state).await?;
        Ok(report_reader(&state.store, &current).await?)
    }
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        Ok(ClientAddress(client_address(
            peer,
            forwarded,
            &state.trusted_proxies,
        )))
    }
}
