//! Sessions on devices: pairing a sharer's browser with a device, the
//! sessions started from the device page (attended or unattended), and
//! who takes part in a device's session. Registering and authenticating
//! devices is `auth::device`; enrollment tokens are `enrollment`.

use super::error::{SessionError, SessionResult};
use super::service::Sessions;
use crate::auth::TenantScope;
use crate::auth::device::{hash_token, random_token};
use crate::domain::machine::Event;
use crate::store::live_limits::{Pairing, PairingBounds};
use crate::store::{DeviceKeyRecord, PairRefusal, SessionRecord, UserRecord};
use tandem_protocol::agent::{AgentServerMessage, PAIRING_LIFETIME_MILLIS, Paired, PairingPreview};
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

/// Live pairing links kept: a device asking over and over replaces its
/// own oldest link and never pushes out anyone else's; past the overall
/// bound the oldest of all goes.
pub const PAIRING_BOUNDS: PairingBounds = PairingBounds {
    per_device: 3,
    overall: 10_000,
};

impl Sessions {
    /// A one-time pairing link for the device, optionally leading to a
    /// session. Kept in the database, so any replica can redeem it.
    pub async fn pairing_link(
        &self,
        device: &DeviceId,
        session: Option<SessionId>,
    ) -> SessionResult<(String, UnixMillis)> {
        let (nonce, hash) = random_token();
        let now = self.now();
        let expires_at = UnixMillis(now.0 + PAIRING_LIFETIME_MILLIS);
        let pairing = Pairing {
            device: device.clone(),
            session,
            expires_at,
        };
        self.store()
            .add_pairing(&hash, &pairing, now, PAIRING_BOUNDS)
            .await?;
        Ok((format!("/share?pair={nonce}"), expires_at))
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
            .store()
            .peek_pairing(&hash_token(nonce), self.now())
            .await?
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
            .store()
            .take_pairing(&hash_token(nonce), now)
            .await?
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
        if self.is_draining() {
            return Err(SessionError::Draining);
        }
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
            version: 0,
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
        let (path, _) = self
            .pairing_link(device, Some(issued.session.id.clone()))
            .await?;
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
}
