//! Organization sign-in with OpenID Connect: authorization code flow with
//! PKCE (S256), state and nonce; the RFC 9207 `iss` parameter is compared
//! when present (and required when the provider advertises it). The ID
//! token's signature, issuer, audience, expiry and nonce are verified by
//! `openidconnect`; the user's organization must be on the provider's
//! allow-list.
//!
//! This is the domain half: discovery, the authorization URL, and the
//! callback's checks up to a [`Principal`]. The handlers, which keep
//! [`Pending`] in the web session and redirect, are `http/oidc.rs`.

use super::Principal;
use crate::config::OidcProviderConfig;
use crate::store::{IdpProfile, IdpUserError, Store};
use base64::Engine;
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, reqwest,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_protocol::auth::{OidcError, ProviderInfo};
use tandem_protocol::{TenantId, UnixMillis};
use tokio::sync::RwLock;

/// How long a user may take at the IdP.
const PENDING_MAX_MILLIS: i64 = 10 * 60_000;
/// The path the IdP sends users back to.
pub const CALLBACK_PATH: &str = "/auth/oidc/callback";

/// The configured providers, with discovery documents cached.
#[derive(Clone)]
pub struct OidcProviders {
    providers: Arc<Vec<OidcProviderConfig>>,
    redirect_uri: String,
    http: reqwest::Client,
    metadata: Arc<RwLock<BTreeMap<String, Discovered>>>,
}

/// A provider's discovery document as openidconnect reads it, plus the
/// RFC 9207 flag it does not model.
#[derive(Clone)]
struct Discovered {
    metadata: CoreProviderMetadata,
    iss_parameter_supported: bool,
}

/// A client built from discovery, with a redirect URI.
type OidcClient = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

impl std::fmt::Debug for OidcProviders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProviders")
            .field("providers", &self.providers)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// What the web session remembers between start and callback.
#[derive(Debug, Serialize, Deserialize)]
pub struct Pending {
    provider: String,
    state: String,
    nonce: String,
    pkce_verifier: String,
    next: Option<String>,
    started_at: UnixMillis,
}

/// Claims of the ID token beyond the standard ones (Entra ID's names).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ExtraClaims {
    oid: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(rename = "jobTitle")]
    job_title: Option<String>,
    #[serde(rename = "companyName")]
    company_name: Option<String>,
    verified_domain: Option<String>,
    #[serde(flatten)]
    rest: BTreeMap<String, serde_json::Value>,
}

/// Why a callback did not sign anyone in.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{0:?}")]
    Refused(OidcError),
    #[error("{context}: {detail}")]
    Internal {
        context: &'static str,
        detail: String,
    },
}

fn internal(context: &'static str) -> impl FnOnce(String) -> Failure {
    move |detail| Failure::Internal { context, detail }
}

impl OidcProviders {
    pub fn new(providers: Vec<OidcProviderConfig>, base_url: &str) -> Result<Self, String> {
        let http = reqwest::ClientBuilder::new()
            // Following redirects from an IdP opens the server up to SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(15))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            providers: Arc::new(providers),
            redirect_uri: format!("{base_url}{CALLBACK_PATH}"),
            http,
            metadata: Arc::default(),
        })
    }

    /// The providers, for the sign-in page.
    pub fn list(&self) -> Vec<ProviderInfo> {
        self.providers
            .iter()
            .map(|p| ProviderInfo {
                id: p.id.clone(),
                name: p.name.clone(),
            })
            .collect()
    }

    fn provider(&self, id: &str) -> Option<&OidcProviderConfig> {
        self.providers.iter().find(|p| p.id == id)
    }

    async fn discovered(&self, provider: &OidcProviderConfig) -> Result<Discovered, Failure> {
        if let Some(cached) = self.metadata.read().await.get(&provider.id) {
            return Ok(cached.clone());
        }
        let issuer = IssuerUrl::new(provider.issuer.clone())
            .map_err(|e| internal("issuer URL")(e.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| internal("discovery")(e.to_string()))?;
        // openidconnect does not model RFC 9207's flag: read it from the document.
        let raw = self
            .http
            .get(format!(
                "{}/.well-known/openid-configuration",
                provider.issuer
            ))
            .send()
            .await
            .map_err(|e| internal("discovery")(e.to_string()))?
            .bytes()
            .await
            .map_err(|e| internal("discovery")(e.to_string()))?;
        let raw: serde_json::Value =
            serde_json::from_slice(&raw).map_err(|e| internal("discovery")(e.to_string()))?;
        let discovered = Discovered {
            metadata,
            iss_parameter_supported: raw["authorization_response_iss_parameter_supported"]
                .as_bool()
                .unwrap_or(false),
        };
        self.metadata
            .write()
            .await
            .insert(provider.id.clone(), discovered.clone());
        Ok(discovered)
    }

    /// The client for `provider`, and whether it sends RFC 9207's `iss`.
    async fn client(&self, provider: &OidcProviderConfig) -> Result<(OidcClient, bool), Failure> {
        let discovered = self.discovered(provider).await?;
        let redirect = RedirectUrl::new(self.redirect_uri.clone())
            .map_err(|e| internal("redirect URL")(e.to_string()))?;
        let client = CoreClient::from_provider_metadata(
            discovered.metadata,
            ClientId::new(provider.client_id.clone()),
            Some(ClientSecret::new(provider.client_secret.clone())),
        )
        .set_redirect_uri(redirect);
        Ok((client, discovered.iss_parameter_supported))
    }
}

/// Compares secrets without leaking where they first differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Pending {
    /// The provider the sign-in started with.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Where the user wanted to go, as given (not yet checked).
    pub fn next(&self) -> Option<&str> {
        self.next.as_deref()
    }
}

impl OidcProviders {
    /// Starts a sign-in with `provider_id`: the IdP's authorization URL,
    /// and what to keep until the callback.
    pub async fn begin(
        &self,
        provider_id: &str,
        next: Option<String>,
        now: UnixMillis,
    ) -> Result<(String, Pending), OidcError> {
        let Some(provider) = self.provider(provider_id) else {
            return Err(OidcError::UnknownProvider);
        };
        let (client, _) = self.client(provider).await.map_err(|error| {
            tracing::error!(provider = %provider_id, %error, "cannot start OIDC sign-in");
            OidcError::Failed
        })?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, csrf, nonce) = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let pending = Pending {
            provider: provider_id.to_owned(),
            state: csrf.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            next,
            started_at: now,
        };
        Ok((url.to_string(), pending))
    }
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    pub(crate) code: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) iss: Option<String>,
    pub(crate) error: Option<String>,
}

/// The first checks of a callback, before anything is fetched: the state
/// must be the pending sign-in's (CSRF), and the IdP must not report an
/// error.
pub(crate) fn check_callback_state(
    query: &CallbackQuery,
    expected_state: &str,
) -> Result<(), OidcError> {
    if !query
        .state
        .as_deref()
        .is_some_and(|s| same_secret(s, expected_state))
    {
        return Err(OidcError::State);
    }
    if let Some(error) = &query.error {
        // The IdP's text is logged: no control characters reach the log.
        let error = tandem_protocol::text::printable(error);
        tracing::info!(%error, "the IdP returned an error");
        return Err(OidcError::Failed);
    }
    Ok(())
}

/// The authorization code to exchange, once the issuer is the provider's.
/// RFC 9207: a mix-up attack shows as a foreign or missing `iss`.
pub(crate) fn check_callback_code<'q>(
    query: &'q CallbackQuery,
    issuer: &str,
    iss_supported: bool,
) -> Result<&'q str, OidcError> {
    match &query.iss {
        Some(iss) if iss != issuer => return Err(OidcError::Issuer),
        None if iss_supported => return Err(OidcError::Issuer),
        _ => {}
    }
    match query.code.as_deref() {
        Some(code) if !code.is_empty() => Ok(code),
        _ => Err(OidcError::Failed),
    }
}

/// Completes a sign-in from the IdP's callback: checks the state, the
/// issuer and the ID token, and finds or makes the user.
pub async fn complete(
    providers: &OidcProviders,
    store: &Store,
    now: UnixMillis,
    pending: &Pending,
    query: &CallbackQuery,
) -> Result<Principal, Failure> {
    let refused = |e| Err(Failure::Refused(e));
    if now.millis_since(pending.started_at) > PENDING_MAX_MILLIS {
        return refused(OidcError::State);
    }
    check_callback_state(query, &pending.state).map_err(Failure::Refused)?;
    let provider = providers
        .provider(&pending.provider)
        .ok_or(Failure::Refused(OidcError::UnknownProvider))?;
    let (client, iss_supported) = providers.client(provider).await?;
    let code = check_callback_code(query, &provider.issuer, iss_supported)
        .map_err(Failure::Refused)?
        .to_owned();
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| internal("token endpoint")(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
        .request_async(&providers.http)
        .await
        .map_err(|e| internal("code exchange")(e.to_string()))?;
    let id_token = token.id_token().ok_or(Failure::Refused(OidcError::Token))?;
    let claims = id_token
        .claims(
            &client.id_token_verifier(),
            &Nonce::new(pending.nonce.clone()),
        )
        .map_err(|e| {
            tracing::warn!(error = %e, "ID token rejected");
            Failure::Refused(OidcError::Token)
        })?;
    // The signature is verified: the same payload's other claims can be read.
    let extra = extra_claims(&id_token.to_string());
    let idp_tenant = extra
        .rest
        .get(&provider.tenant_claim)
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let Some(tenant) = provider.tenants.get(idp_tenant) else {
        return refused(OidcError::Tenant);
    };
    let email = claims
        .email()
        .map(|e| e.as_str().to_owned())
        .unwrap_or_default();
    if email.is_empty() {
        return refused(OidcError::Account);
    }
    // Names from the IdP are shown on the sharer's terminal and written
    // to logs: control and invisible characters are neutralised here
    // rather than refusing the sign-in (the user cannot fix their IdP).
    let clean = |text: &str| {
        Some(tandem_protocol::text::sanitize(
            text,
            tandem_protocol::admin::MAX_USER_FIELD_CHARS,
        ))
        .filter(|t| !t.is_empty())
    };
    let name = |n: Option<&openidconnect::LocalizedClaim<openidconnect::EndUserName>>| {
        n.and_then(|n| n.get(None)).and_then(|n| clean(n.as_str()))
    };
    let profile = IdpProfile {
        issuer: provider.issuer.clone(),
        subject: extra
            .oid
            .clone()
            .unwrap_or_else(|| claims.subject().as_str().to_owned()),
        display_name: name(claims.name())
            .or_else(|| clean(&email))
            .unwrap_or_else(|| email.clone()),
        email,
        given_name: claims
            .given_name()
            .and_then(|n| n.get(None))
            .and_then(|n| clean(n.as_str())),
        family_name: claims
            .family_name()
            .and_then(|n| n.get(None))
            .and_then(|n| clean(n.as_str())),
        job_title: extra.job_title.as_deref().and_then(clean),
        company: extra.company_name.as_deref().and_then(clean),
        verified_domain: extra.verified_domain.as_deref().and_then(clean),
        photo_url: claims
            .picture()
            .and_then(|p| p.get(None))
            .map(|p| p.as_str().to_owned()),
        groups: extra.groups,
    };
    let user = match store
        .sign_in_idp_user(&TenantId(tenant.clone()), &profile, now)
        .await
    {
        Ok(user) => user,
        Err(IdpUserError::EmailOfAnotherTenant(_)) => return refused(OidcError::Account),
        Err(IdpUserError::Store(e)) => return Err(internal("store")(e.to_string())),
    };
    tracing::info!(user = %user.id, tenant = %user.tenant_id, provider = %provider.id, "signed in with OIDC");
    Ok(Principal::new(user))
}

/// The non-standard claims of a (verified) compact JWT.
pub(crate) fn extra_claims(jwt: &str) -> ExtraClaims {
    jwt.split('.')
        .nth(1)
        .and_then(|payload| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", "a"));
    }

    #[test]
    fn extra_claims_are_read_from_the_payload() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"tid":"t1","oid":"o1","groups":["A"],"jobTitle":"J"}"#);
        let claims = extra_claims(&format!("h.{payload}.s"));
        assert_eq!(claims.oid.as_deref(), Some("o1"));
        assert_eq!(claims.groups, ["A"]);
        assert_eq!(claims.job_title.as_deref(), Some("J"));
        assert_eq!(claims.rest["tid"], "t1");
        assert!(extra_claims("garbage").groups.is_empty());
    }
}
