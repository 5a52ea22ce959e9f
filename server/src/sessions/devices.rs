//! Agents and their devices: registration, device authentication,
//! pairing a sharer's browser with a device, and sessions started from the
//! device page.

use super::agents::{NonceUse, Pairing};
use super::error::{SessionError, SessionResult};
use super::service::Sessions;
use crate::auth::throttle::ClientAddress;
use crate::auth::{Authorized, ManageDevices, TenantScope};
use crate::domain::machine::Event;
use crate::store::{AgentDevice, DeviceKeyRecord, PairRefusal, SessionRecord, UserRecord, to_hex};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use tandem_protocol::agent::{
    AgentServerMessage, DEVICE_AUTH_SKEW_MILLIS, DeviceCredentials, EnrollmentToken,
    MAX_DEVICE_FIELD_CHARS, NewEnrollmentToken, PAIRING_LIFETIME_MILLIS, Paired, PairingPreview,
    RegisterRequest, Registration,
};
use tandem_protocol::rbac::Permission;
use tandem_protocol::session::Refusal;
use tandem_protocol::session::{IssuedCode, Party};
use tandem_protocol::settings::HelperNameDisplay;
use tandem_protocol::{DeviceId, SessionId, UnixMillis, UserId};

/// The message that has an agent follow `session`.
pub(super) fn session_bound(session: &SessionId) -> AgentServerMessage {
    AgentServerMessage::SessionBound {
        session: session.clone(),
    }
}

/// A random token, base64url, and the hex SHA-256 it is stored as.
fn random_token() -> (String, String) {
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

fn hash_token(token: &str) -> String {
    to_hex(&Sha256::digest(token.as_bytes()))
}

fn check_field(name: &str, value: &str) -> SessionResult<()> {
    if value.trim().is_empty()
        || value.chars().count() > MAX_DEVICE_FIELD_CHARS
        || value.chars().any(tandem_protocol::text::is_hidden)
    {
        return Err(SessionError::BadAgentRequest(format!(
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
) -> SessionResult<()> {
    // `at` is whatever the device sent: i64::MIN must not overflow.
    if now.0.abs_diff(credentials.at.0) > DEVICE_AUTH_SKEW_MILLIS.unsigned_abs() {
        return Err(SessionError::DeviceAuth(
            "the device's clock is too far from the server's",
        ));
    }
    let verifying = public_key(public_key_text).ok_or(SessionError::DeviceAuth("bad key"))?;
    let signature = URL_SAFE_NO_PAD
        .decode(&credentials.signature)
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or(SessionError::DeviceAuth("malformed signature"))?;
    let message = credentials.message(method, path);
    // Strict: no small-order keys, no malleable signatures.
    verifying
        .verify_strict(message.as_bytes(), &signature)
        .map_err(|_| SessionError::DeviceAuth("the signature does not verify"))
}

impl Sessions {
    /// Agents older than `version` are told to update (once, at start).
    pub fn set_min_agent_version(&self, version: String) {
        let _ = self.min_agent_version().set(version);
    }

    /// The version an agent at `version` must update to, if it must.
    pub fn required_agent_version(&self, version: &str) -> Option<String> {
        let minimum = self.min_agent_version().get()?;
        (version_key(version) < version_key(minimum)).then(|| minimum.clone())
    }

    /// Registers an agent's device key (again: the same device back).
    /// Limited per client address and overall; wrong enrollment tokens
    /// also count against the token tried, like wrong codes.
    pub async fn register_agent(
        &self,
        request: &RegisterRequest,
        address: &ClientAddress,
    ) -> SessionResult<Registration> {
        let token = format!(
            "token:{}",
            request.enrollment_token.as_deref().map_or_else(
                || "none".to_owned(),
                |t| hash_token(t.get(..128).unwrap_or(t))
            )
        );
        self.registrations()
            .attempt(&token, address)
            .map_err(SessionError::RegistrationLocked)?;
        let result = self.register_checked(request).await;
        if !matches!(result, Err(SessionError::BadEnrollmentToken)) {
            self.registrations().succeeded(&token);
        }
        result
    }

    async fn register_checked(&self, request: &RegisterRequest) -> SessionResult<Registration> {
        if public_key(&request.public_key).is_none() {
            return Err(SessionError::BadAgentRequest(
                "public_key must be a 32-byte Ed25519 key, base64url".into(),
            ));
        }
        check_field("name", &request.name)?;
        check_field("os", &request.os)?;
        check_field("os_version", &request.os_version)?;
        check_field("agent_version", &request.agent_version)?;
        let now = self.now();
        let tenant = match &request.enrollment_token {
            Some(token) if token.len() <= 128 => Some(
                self.store()
                    .tenant_of_enrollment_token(&hash_token(token), now)
                    .await?
                    .ok_or(SessionError::BadEnrollmentToken)?,
            ),
            Some(_) => return Err(SessionError::BadEnrollmentToken),
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
            .store()
            .device_key_by_public_key(&request.public_key)
            .await?
            .is_some();
        let key = self
            .store()
            .register_agent(&device, tenant.as_ref(), now)
            .await?;
        if let (false, Some(token)) = (known, &request.enrollment_token)
            && tenant.is_some()
        {
            self.store()
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
    pub async fn authenticate_device(
        &self,
        header: Option<&str>,
        method: &str,
        path: &str,
    ) -> SessionResult<DeviceKeyRecord> {
        let credentials = header
            .and_then(DeviceCredentials::parse)
            .ok_or(SessionError::DeviceAuth("missing or malformed credentials"))?;
        let now = self.now();
        let key = self
            .store()
            .device_key(&credentials.device)
            .await?
            .ok_or(SessionError::DeviceAuth("unknown device"))?;
        check_device_signature(&credentials, &key.public_key, now, method, path)?;
        match self
            .agents()
            .first_use_of_nonce(&key.device_id, &credentials.nonce, now)
        {
            NonceUse::First => {}
            NonceUse::Replayed => return Err(SessionError::DeviceAuth("the request was replayed")),
            NonceUse::TooMany(seconds) => return Err(SessionError::DeviceBusy(seconds)),
        }
        Ok(key)
    }

    /// Marks the device as seen now (an agent connected or answered).
    pub async fn agent_seen(&self, key: &DeviceKeyRecord) {
        if let Some(tenant) = &key.tenant_id {
            let scope = TenantScope::of_record(tenant);
            if let Err(error) = self
                .store()
                .touch_device(&key.device_id, &scope, &key.agent_version, self.now())
                .await
            {
                tracing::warn!(%error, device = %key.device_id, "cannot record last seen");
            }
        }
    }

    /// A one-time pairing link for the device, optionally leading to a
    /// session.
    pub fn pairing_link(
        &self,
        device: &DeviceId,
        session: Option<SessionId>,
    ) -> (String, UnixMillis) {
        let (nonce, hash) = random_token();
        let now = self.now();
        let expires_at = UnixMillis(now.0 + PAIRING_LIFETIME_MILLIS);
        self.agents().add_pairing(
            hash,
            Pairing {
                device: device.clone(),
                session,
                expires_at,
            },
            now,
        );
        (format!("/share?pair={nonce}"), expires_at)
    }

    /// What a pairing link would pair `user`'s browser with, for them to
    /// confirm: the device's name, OS and whether it is enrolled. The link
    /// stays unused. Another tenant's device is refused here already.
    pub async fn pairing_preview(
        &self,
        user: &UserRecord,
        nonce: &str,
    ) -> SessionResult<PairingPreview> {
        if nonce.len() > 64 {
            return Err(SessionError::PairingExpired);
        }
        let pairing = self
            .agents()
            .peek_pairing(&hash_token(nonce), self.now())
            .ok_or(SessionError::PairingExpired)?;
        let (preview, tenant) = self
            .store()
            .device_preview(&pairing.device)
            .await?
            .ok_or(SessionError::PairingExpired)?;
        if tenant.is_some_and(|t| t != user.tenant_id) {
            return Err(SessionError::ForeignDevice);
        }
        Ok(preview)
    }

    /// The sharer's browser redeems a pairing link, after they confirmed
    /// the device: the signed-in user is now the device's sharer, and the
    /// tenant's audit log says who paired what.
    pub async fn pair(
        &self,
        user: &UserRecord,
        nonce: &str,
        confirmed: bool,
    ) -> SessionResult<Paired> {
        if !confirmed {
            return Err(SessionError::Invalid(
                "Confirm the device on the page before pairing with it.".into(),
            ));
        }
        if nonce.len() > 64 {
            return Err(SessionError::PairingExpired);
        }
        let now = self.now();
        let pairing = self
            .agents()
            .take_pairing(&hash_token(nonce), now)
            .ok_or(SessionError::PairingExpired)?;
        let actor = crate::auth::Actor {
            id: user.id.clone(),
            name: user.card.display_name.clone(),
        };
        let key = self
            .store()
            .pair_device(&pairing.device, &actor, &user.tenant_id, now)
            .await?
            .map_err(|refusal| match refusal {
                PairRefusal::OtherTenant => SessionError::ForeignDevice,
                PairRefusal::UnknownDevice => SessionError::PairingExpired,
            })?;
        tracing::info!(device = %key.device_id, user = %user.id, "sharer paired with device");
        Ok(Paired {
            device: key.device_id,
            device_name: key.name,
            session: pairing.session,
        })
    }

    /// The device page's "Offer remote assistance": a session bound to the
    /// device, a code for the helper, and a help request to the agent.
    pub async fn start_for_device(
        &self,
        helper: &UserRecord,
        scope: &TenantScope,
        device: &DeviceId,
    ) -> SessionResult<IssuedCode> {
        let store = self.store();
        let summary = store
            .device_summary(scope, device)
            .await?
            .ok_or(SessionError::NotFound)?;
        let key = store.device_key(device).await?;
        let settings = store.settings(scope).await?;
        if !settings.remote_help_enabled {
            return Err(SessionError::RemoteHelpDisabled);
        }
        let signed_in = key.as_ref().and_then(|k| k.signed_in_user_id.clone());
        let probe = SessionRecord {
            id: SessionId("probe".into()),
            tenant_id: scope.tenant_id().clone(),
            helper_id: helper.id.clone(),
            sharer_id: signed_in.clone(),
            device_id: Some(device.clone()),
            via_agent: true,
            state: crate::domain::machine::State::Created,
            code_hash: None,
            code_expires_at: None,
            reconnects: 0,
            created_at: self.now(),
            updated_at: self.now(),
            ended_at: None,
        };
        let permissions = self.permissions_on(&probe).await?;
        if !permissions.contains(Permission::OfferRemoteAssistance) {
            return Err(SessionError::NoOfferAssistance);
        }
        if !summary.enrolled {
            return Err(SessionError::Refused(Refusal::DevicePageNeedsEnrollment));
        }
        if key.is_none() || !self.agents().is_online(device) {
            return Err(SessionError::AgentOffline);
        }
        let unattended = signed_in.is_none();
        if unattended && !settings.allow_unattended {
            return Err(SessionError::Refused(Refusal::NobodySignedIn));
        }
        let issued = self.issue_for(helper, scope, Some(device)).await?;
        if unattended {
            return self.start_unattended(scope, device, issued).await;
        }
        let (path, _) = self.pairing_link(device, Some(issued.session.id.clone()));
        let abbreviated = settings.helper_name_display == HelperNameDisplay::Abbreviated;
        let helper_card = self
            .card(&helper.id, scope.tenant_id(), abbreviated)
            .await?;
        self.agents().send(
            device,
            &AgentServerMessage::HelpRequest {
                session: issued.session.id.clone(),
                helper: helper_card,
                path,
            },
        );
        self.bind_agent(device, &issued.session.id);
        Ok(issued)
    }

    /// Nobody to ask on the device: the session is ready for the helper's
    /// request at once, and the tenant's setting consents to it (see
    /// [`Self::is_unattended`]). The agent still shows it on its terminal.
    async fn start_unattended(
        &self,
        scope: &TenantScope,
        device: &DeviceId,
        issued: IssuedCode,
    ) -> SessionResult<IssuedCode> {
        let record = self
            .store()
            .session(scope, &issued.session.id)
            .await?
            .ok_or(SessionError::NotFound)?;
        let record = self
            .apply(&record, Party::System, None, Event::StartUnattended, None)
            .await?;
        self.bind_agent(device, &record.id);
        let session = self.view_for(&record, Party::Helper).await?;
        Ok(IssuedCode {
            code: issued.code,
            session,
        })
    }

    /// Tells the device's agent to follow `session`: the one sender of
    /// `SessionBound` while the agent is online (a returning agent gets the
    /// same message for each live session, [`session_bound`]).
    pub(super) fn bind_agent(&self, device: &DeviceId, session: &SessionId) {
        self.agents().send(device, &session_bound(session));
    }

    /// A session started on a device nobody was signed in to: bound to the
    /// device, shared by its agent, and without a sharer past the code.
    pub(super) fn is_unattended(record: &SessionRecord) -> bool {
        record.sharer_id.is_none()
            && record.device_id.is_some()
            && record.via_agent
            && record.state.has_participants()
    }

    /// Which device's agent will share the screen of this redemption. A
    /// device-page session keeps its device; otherwise the browser names
    /// the device it was paired with. Either way the sharer must be the
    /// user signed in on that device.
    pub(super) async fn device_for_redemption(
        &self,
        record: &SessionRecord,
        sharer: &UserRecord,
        asked: Option<&DeviceId>,
    ) -> SessionResult<Option<DeviceId>> {
        let device = match (&record.device_id, asked) {
            (Some(bound), _) => bound.clone(),
            (None, Some(asked)) => asked.clone(),
            (None, None) => return Ok(None),
        };
        let key = self.store().device_key(&device).await?;
        match key {
            Some(key) if key.signed_in_user_id.as_ref() == Some(&sharer.id) => Ok(Some(device)),
            _ => Err(SessionError::Refused(Refusal::NotPaired)),
        }
    }

    /// Whether `user` is the one signed in on the device of a device-page
    /// session nobody has redeemed yet: they may see it to enter the code.
    pub(super) async fn prospective_sharer(
        &self,
        record: &SessionRecord,
        user: &UserId,
    ) -> SessionResult<bool> {
        let (Some(device), None) = (&record.device_id, &record.sharer_id) else {
            return Ok(false);
        };
        Ok(self
            .store()
            .device_key(device)
            .await?
            .is_some_and(|k| k.signed_in_user_id.as_ref() == Some(user)))
    }

    /// The session and the agent's part in it: only a session bound to
    /// the agent's own device, shared through the agent.
    pub(super) async fn agent_participant(
        &self,
        key: &DeviceKeyRecord,
        scope: &TenantScope,
        id: &SessionId,
    ) -> SessionResult<(SessionRecord, tandem_protocol::session::Party)> {
        let record = self
            .store()
            .session(scope, id)
            .await?
            .filter(|r| r.via_agent && r.device_id.as_ref() == Some(&key.device_id))
            .ok_or(SessionError::NotFound)?;
        Ok((record, tandem_protocol::session::Party::Agent))
    }

    /// A new enrollment token, shown once.
    pub async fn new_enrollment_token(
        &self,
        auth: &Authorized<ManageDevices>,
        request: &NewEnrollmentToken,
    ) -> SessionResult<EnrollmentToken> {
        check_field("label", &request.label)?;
        if !(1..=365).contains(&request.valid_days) {
            return Err(SessionError::BadAgentRequest(
                "valid_days must be 1 to 365".into(),
            ));
        }
        let now = self.now();
        let expires_at = UnixMillis(now.0 + i64::from(request.valid_days) * 86_400_000);
        let (token, hash) = random_token();
        let id = self
            .store()
            .create_enrollment_token(auth, request.label.trim(), &hash, expires_at, now)
            .await?;
        Ok(EnrollmentToken {
            id,
            token,
            label: request.label.trim().to_owned(),
            expires_at,
        })
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
