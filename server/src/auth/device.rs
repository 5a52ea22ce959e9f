//! The agents' side of authentication: registering a device key (with an
//! enrollment token, or unenrolled), and checking the signed
//! `TandemDevice` header of every device request (a known key, a
//! signature over the method and path, a current time, a nonce not seen
//! before). Sessions use the device it returns; they never check a device
//! themselves.

use super::TenantScope;
use super::nonces::{NonceLog, NonceUse};
use super::throttle::{ClientAddress, Limits, LoginThrottle};
use crate::clock::Clock;
use crate::store::{AgentDevice, DeviceKeyRecord, Store, StoreError, to_hex};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use std::sync::{Arc, OnceLock};
use tandem_protocol::UnixMillis;
use tandem_protocol::agent::{
    DEVICE_AUTH_SKEW_MILLIS, DeviceCredentials, MAX_DEVICE_FIELD_CHARS, RegisterRequest,
    Registration,
};

/// Why a device could not register or authenticate.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("The device could not be authenticated: {0}.")]
    Unauthenticated(&'static str),
    #[error("This device made too many requests. Try again in {0} s.")]
    Busy(u64),
    #[error("Too many device registrations from here. Try again in {} minute(s).", .0.div_ceil(60))]
    RegistrationLocked(u64),
    #[error(
        "That enrollment token is not valid or has expired. Ask an administrator for a new one."
    )]
    BadEnrollmentToken,
    #[error("{0}")]
    BadRequest(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// Agent registrations: wrong enrollment tokens per token tried, attempts
/// per client address, attempts overall. A fleet rollout behind one NAT
/// address stays well under the per-address limit (its agents register
/// once and then only reconnect).
pub fn registration_limits() -> Limits {
    Limits::per_quarter_hour(5, 120, 600)
}

/// A random token, base64url, and the hex SHA-256 it is stored as.
pub(crate) fn random_token() -> (String, String) {
    let mut bytes = [0u8; 24];
    OsRng.fill_bytes(&mut bytes);
    // The first character comes from the top six bits of the first byte;
    // with the top bit clear it is a letter (A–Z, a–f), never `-` or `_`,
    // so `tandem-agent --enroll TOKEN` never reads a token as an option.
    bytes[0] &= 0x7f;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

pub(crate) fn hash_token(token: &str) -> String {
    to_hex(&Sha256::digest(token.as_bytes()))
}

pub(crate) fn check_field(name: &str, value: &str) -> Result<(), DeviceError> {
    if value.trim().is_empty()
        || value.chars().count() > MAX_DEVICE_FIELD_CHARS
        || value.chars().any(tandem_protocol::text::is_hidden)
    {
        return Err(DeviceError::BadRequest(format!(
            "{name} must be 1 to {MAX_DEVICE_FIELD_CHARS} printable characters"
        )));
    }
    Ok(())
}

fn public_key(text: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// Whether `credentials` are a current signature by the device key
/// `public_key` (base64url) over `method path`. Pure: the caller looks the
/// key up and checks the nonce.
pub fn check_device_signature(
    credentials: &DeviceCredentials,
    public_key_text: &str,
    now: UnixMillis,
    method: &str,
    path: &str,
) -> Result<(), DeviceError> {
    // `at` is whatever the device sent: i64::MIN must not overflow.
    if now.0.abs_diff(credentials.at.0) > DEVICE_AUTH_SKEW_MILLIS.unsigned_abs() {
        return Err(DeviceError::Unauthenticated(
            "the device's clock is too far from the server's",
        ));
    }
    let verifying = public_key(public_key_text).ok_or(DeviceError::Unauthenticated("bad key"))?;
    let signature = URL_SAFE_NO_PAD
        .decode(&credentials.signature)
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or(DeviceError::Unauthenticated("malformed signature"))?;
    let message = credentials.message(method, path);
    // Strict: no small-order keys, no malleable signatures.
    verifying
        .verify_strict(message.as_bytes(), &signature)
        .map_err(|_| DeviceError::Unauthenticated("the signature does not verify"))
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    registrations: LoginThrottle,
    nonces: NonceLog,
    min_agent_version: OnceLock<String>,
}

/// Device registration and authentication. Cheap to clone.
#[derive(Clone)]
pub struct DeviceAuth {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for DeviceAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceAuth").finish_non_exhaustive()
    }
}

impl DeviceAuth {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Inner {
                registrations: LoginThrottle::new(
                    registration_limits(),
                    clock.clone(),
                    store.clone(),
                    "register",
                ),
                nonces: NonceLog::new(store.clone()),
                store,
                clock,
                min_agent_version: OnceLock::new(),
            }),
        }
    }

    /// Agents older than `version` are told to update (once, at start).
    pub fn set_min_agent_version(&self, version: String) {
        let _ = self.inner.min_agent_version.set(version);
    }

    /// The version an agent at `version` must update to, if it must.
    pub fn required_agent_version(&self, version: &str) -> Option<String> {
        let minimum = self.inner.min_agent_version.get()?;
        (version_key(version) < version_key(minimum)).then(|| minimum.clone())
    }

    /// Registers an agent's device key (again: the same device back).
    /// Limited per client address and overall; wrong enrollment tokens
    /// also count against the token tried, like wrong codes.
    pub async fn register(
        &self,
        request: &RegisterRequest,
        address: &ClientAddress,
    ) -> Result<Registration, DeviceError> {
        let token = format!(
            "token:{}",
            request.enrollment_token.as_deref().map_or_else(
                || "none".to_owned(),
                |t| hash_token(t.get(..128).unwrap_or(t))
            )
        );
        self.inner
            .registrations
            .attempt(&token, address)
            .await?
            .map_err(DeviceError::RegistrationLocked)?;
        let result = self.register_checked(request).await;
        if !matches!(result, Err(DeviceError::BadEnrollmentToken)) {
            self.inner.registrations.succeeded(&token).await;
        }
        result
    }

    async fn register_checked(
        &self,
        request: &RegisterRequest,
    ) -> Result<Registration, DeviceError> {
        if public_key(&request.public_key).is_none() {
            return Err(DeviceError::BadRequest(
                "public_key must be a 32-byte Ed25519 key, base64url".into(),
            ));
        }
        check_field("name", &request.name)?;
        check_field("os", &request.os)?;
        check_field("os_version", &request.os_version)?;
        check_field("agent_version", &request.agent_version)?;
        let now = self.inner.clock.now();
        let tenant = match &request.enrollment_token {
            Some(token) if token.len() <= 128 => Some(
                self.inner
                    .store
                    .tenant_of_enrollment_token(&hash_token(token), now)
                    .await?
                    .ok_or(DeviceError::BadEnrollmentToken)?,
            ),
            Some(_) => return Err(DeviceError::BadEnrollmentToken),
            None => None,
        };
        let device = AgentDevice {
            public_key: &request.public_key,
            name: request.name.trim(),
            os: request.os.trim(),
            os_version: request.os_version.trim(),
            agent_version: request.agent_version.trim(),
        };
        let known = self
            .inner
            .store
            .device_key_by_public_key(&request.public_key)
            .await?
            .is_some();
        let key = self
            .inner
            .store
            .register_agent(&device, tenant.as_ref(), now)
            .await?;
        if let (false, Some(token)) = (known, &request.enrollment_token)
            && tenant.is_some()
        {
            self.inner
                .store
                .count_enrollment_use(&hash_token(token), now)
                .await?;
        }
        tracing::info!(device = %key.device_id, enrolled = key.enrolled, "agent registered");
        Ok(Registration {
            device: key.device_id,
            enrolled: key.enrolled,
        })
    }

    /// Checks a device `Authorization` header for `method path`: a known
    /// key, a signature over this request, a current time and a nonce not
    /// seen before.
    pub async fn authenticate(
        &self,
        header: Option<&str>,
        method: &str,
        path: &str,
    ) -> Result<DeviceKeyRecord, DeviceError> {
        let credentials =
            header
                .and_then(DeviceCredentials::parse)
                .ok_or(DeviceError::Unauthenticated(
                    "missing or malformed credentials",
                ))?;
        let now = self.inner.clock.now();
        let key = self
            .inner
            .store
            .device_key(&credentials.device)
            .await?
            .ok_or(DeviceError::Unauthenticated("unknown device"))?;
        check_device_signature(&credentials, &key.public_key, now, method, path)?;
        match self
            .inner
            .nonces
            .first_use(&key.device_id, &credentials.nonce, now)
            .await?
        {
            NonceUse::First => {}
            NonceUse::Replayed => {
                return Err(DeviceError::Unauthenticated("the request was replayed"));
            }
            NonceUse::TooMany(seconds) => return Err(DeviceError::Busy(seconds)),
        }
        Ok(key)
    }

    /// Marks the device as seen now (an agent connected or answered).
    pub async fn seen(&self, key: &DeviceKeyRecord) {
        if let Some(tenant) = &key.tenant_id {
            let scope = TenantScope::of_record(tenant);
            if let Err(error) = self
                .inner
                .store
                .touch_device(
                    &key.device_id,
                    &scope,
                    &key.agent_version,
                    self.inner.clock.now(),
                )
                .await
            {
                tracing::warn!(%error, device = %key.device_id, "cannot record last seen");
            }
        }
    }
}

/// A dotted version as numbers, for ordering ("0.10.1" > "0.9").
fn version_key(version: &str) -> Vec<u64> {
    version
        .split(['.', '-', '+'])
        .map_while(|part| part.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_start_like_an_option() {
        for _ in 0..2000 {
            let (token, _) = random_token();
            let first = token.chars().next().unwrap_or('-');
            assert!(first.is_ascii_alphabetic(), "{token}");
            assert_eq!(token.len(), 32);
        }
    }
}
