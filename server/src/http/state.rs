//! Shared state handed to every handler.

use crate::auth::SessionPolicy;
use crate::clock::Clock;
use crate::store::Store;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub policy: SessionPolicy,
    pub oidc: crate::auth::oidc::OidcProviders,
    pub throttle: Arc<crate::auth::throttle::LoginThrottle>,
    /// Password checks of sign-ins, a few at a time.
    pub hasher: Arc<crate::auth::PasswordHasher>,
    /// Remote-help sessions and signaling.
    pub sessions: crate::sessions::Sessions,
    /// The configured public URL, if any; the CSRF guard accepts browsers'
    /// `Origin` equal to it (as well as to the `Host` they talk to).
    pub public_origin: Option<Arc<str>>,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<[std::net::IpAddr]>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}
