//! The session service: every operation on a session goes through here,
//! checked by the state machine and the RBAC resolver, written through the
//! store with its actor and the clock's time, then pushed to both
//! participants through the hub.

use super::agents::Agents;
use super::error::{SessionError, SessionResult};
use super::hub::Hub;
use super::keys::SessionKeys;
use super::resolved::Resolved;
use crate::auth::TenantScope;
use crate::auth::throttle::LoginThrottle;
use crate::clock::Clock;
use crate::domain::ice::IceConfig;
use crate::domain::machine::{Event, MediaEnd, SessionKind, State, transition};
use crate::store::{Change, SessionRecord, Store, StoreError, UserRecord};
use std::sync::Arc;
use tandem_protocol::rbac::Permission;
use tandem_protocol::session::Refusal;
use tandem_protocol::session::{Mode, Party, SessionView};
use tandem_protocol::signal::ServerMessage;
use tandem_protocol::{DeviceId, SessionId, UnixMillis, UserId};

/// Durations of the session service, in milliseconds, and its rate.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How long a dropped participant may take to come back.
    pub reconnect_millis: i64,
    /// How long a grant is valid; it is renewed at a third of that.
    pub grant_millis: i64,
    /// The server's bound on a code's life, below the tenant's setting.
    pub code_lifetime_max_millis: Option<i64>,
    /// Code redemptions per tenant and minute (a brute-force bound).
    pub code_redemptions_per_minute: u32,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            reconnect_millis: 120_000,
            grant_millis: 60_000,
            code_lifetime_max_millis: None,
            code_redemptions_per_minute: super::limits::DEFAULT_CODE_REDEMPTIONS_PER_MINUTE,
        }
    }
}

/// What a participant asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Request(Mode),
    Consent { allow: bool },
    Revoke,
    Pause,
    Resume,
    Leave,
}

pub(super) struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    keys: SessionKeys,
    hub: Hub,
    agents: Agents,
    throttle: LoginThrottle,
    /// Device registration and authentication.
    devices: crate::auth::device::DeviceAuth,
    /// Replaced on SIGHUP (a rotated TURN secret, new servers).
    ice: std::sync::RwLock<IceConfig>,
    timing: Timing,
    live: crate::reports::live::LiveFeed,
    /// How often the helper's permissions were resolved (for tests).
    resolutions: std::sync::atomic::AtomicU64,
    /// Session records housekeeping read from the store (for tests).
    housekeeping_reads: std::sync::atomic::AtomicU64,
    /// Serving or draining, and the sockets still open.
    lifecycle: super::lifecycle::Lifecycle,
    /// The other replicas on this database, if any.
    cluster: super::cluster::Cluster,
}

/// Handle to the session service. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("timing", &self.inner.timing)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    /// Loads the keys and rebuilds the rooms of sessions that were live
    /// when the server stopped: their participants have the reconnect
    /// window, counted from now, to re-attach.
    pub async fn start(
        store: Store,
        clock: Arc<dyn Clock>,
        ice: IceConfig,
        timing: Timing,
    ) -> Result<Self, StoreError> {
        let now = clock.now();
        let keys = SessionKeys::load(&store, now).await?;
        let joined = if store.shared_by_replicas() {
            Some(super::cluster_pg::join(&store, now).await?)
        } else {
            None
        };
        let cluster = joined
            .as_ref()
            .map_or_else(super::cluster::Cluster::single, |j| j.cluster.clone());
        let hub = Hub::new(cluster.clone());
        for record in store.live_sessions().await? {
            hub.track_record(&record, now, true);
        }
        let sessions = Self {
            inner: Arc::new(Inner {
                throttle: LoginThrottle::new(
                    super::limits::code_limits(timing.code_redemptions_per_minute),
                    clock.clone(),
                    store.clone(),
                    "code",
                ),
                devices: crate::auth::device::DeviceAuth::new(store.clone(), clock.clone()),
                store,
                clock,
                keys,
                hub,
                agents: Agents::new(cluster.clone()),
                ice: std::sync::RwLock::new(ice),
                timing,
                live: crate::reports::live::LiveFeed::default(),
                resolutions: std::sync::atomic::AtomicU64::new(0),
                housekeeping_reads: std::sync::atomic::AtomicU64::new(0),
                lifecycle: super::lifecycle::Lifecycle::default(),
                cluster,
            }),
        };
        if let Some(joined) = joined {
            super::cluster_pg::run(sessions.clone(), joined).await?;
        }
        Ok(sessions)
    }

    pub(super) fn timing(&self) -> &Timing {
        &self.inner.timing
    }

    pub(super) fn count_housekeeping_read(&self) {
        self.inner
            .housekeeping_reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// A handle that does not keep the service alive (its background
    /// tasks end when the service is dropped).
    pub(super) fn downgrade(&self) -> std::sync::Weak<Inner> {
        Arc::downgrade(&self.inner)
    }

    pub(super) fn upgrade(weak: &std::sync::Weak<Inner>) -> Option<Self> {
        weak.upgrade().map(|inner| Self { inner })
    }

    /// This replica's end of the bus between replicas.
    pub fn cluster(&self) -> &super::cluster::Cluster {
        &self.inner.cluster
    }

    pub(super) fn count_resolution(&self) {
        self.inner
            .resolutions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many times the helper's permissions on a session were resolved
    /// since the start: one transition resolves them at most once.
    pub fn permission_resolutions(&self) -> u64 {
        self.inner
            .resolutions
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many session records housekeeping read from the store: only
    /// sessions it found due in memory.
    pub fn housekeeping_reads(&self) -> u64 {
        self.inner
            .housekeeping_reads
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(super) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(super) fn hub(&self) -> &Hub {
        &self.inner.hub
    }

    /// Whether the agent of `device` is connected now.
    pub fn device_online(&self, device: &tandem_protocol::DeviceId) -> bool {
        self.agents().is_online(device)
    }

    pub(super) fn agents(&self) -> &Agents {
        &self.inner.agents
    }

    /// Code redemptions (see `limits::code_limits`).
    pub(super) fn code_throttle(&self) -> &LoginThrottle {
        &self.inner.throttle
    }

    /// Device registration and authentication (`auth::device`).
    pub fn devices(&self) -> &crate::auth::device::DeviceAuth {
        &self.inner.devices
    }

    pub(super) fn now(&self) -> UnixMillis {
        self.inner.clock.now()
    }

    pub fn keys(&self) -> &SessionKeys {
        &self.inner.keys
    }

    /// The ICE servers as configured now.
    pub fn ice(&self) -> IceConfig {
        self.inner
            .ice
            .read()
            .map(|ice| ice.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// New ICE servers (a reloaded configuration) for every join from now
    /// on; sessions running keep the credentials they were given.
    pub fn set_ice(&self, ice: IceConfig) {
        match self.inner.ice.write() {
            Ok(mut current) => *current = ice,
            Err(poisoned) => *poisoned.into_inner() = ice,
        }
    }

    /// Wakes the monitor pages of a tenant on every session change.
    pub fn live_feed(&self) -> &crate::reports::live::LiveFeed {
        &self.inner.live
    }

    /// Closes every signaling connection (shutdown).
    pub fn close_all(&self) {
        self.inner.hub.close_all();
        self.inner.agents.close_all();
    }

    /// Serving or draining (see `lifecycle.rs`).
    pub(super) fn lifecycle(&self) -> &super::lifecycle::Lifecycle {
        &self.inner.lifecycle
    }

    /// The session as `user` sees it; 404 unless they take part.
    pub async fn view(
        &self,
        user: &UserRecord,
        scope: &TenantScope,
        id: &SessionId,
    ) -> SessionResult<SessionView> {
        let (record, party) = self.participant(user, scope, id).await?;
        self.view_for(&record, party).await
    }

    /// The session and the caller's part in it.
    pub(super) async fn participant(
        &self,
        user: &UserRecord,
        scope: &TenantScope,
        id: &SessionId,
    ) -> SessionResult<(SessionRecord, Party)> {
        let record = self
            .store()
            .session(scope, id)
            .await?
            .ok_or(SessionError::NotFound)?;
        let party = match party_of(&record, &user.id) {
            Some(party) => party,
            None if self.prospective_sharer(&record, &user.id).await? => Party::Sharer,
            None => return Err(SessionError::NotFound),
        };
        Ok((record, party))
    }

    /// A participant acts on the session.
    pub async fn act(
        &self,
        user: &UserRecord,
        scope: &TenantScope,
        id: &SessionId,
        action: Action,
    ) -> SessionResult<SessionView> {
        let (record, party) = self.participant(user, scope, id).await?;
        let resolved = Resolved::default();
        let event = match action {
            Action::Request(mode) => {
                if party == Party::Helper {
                    let needed = match mode {
                        Mode::View => Permission::ViewScreen,
                        Mode::Control => Permission::TakeFullControl,
                    };
                    if !self
                        .permissions_once(&record, &resolved)
                        .await?
                        .contains(needed)
                    {
                        return Err(match mode {
                            Mode::View => SessionError::Refused(Refusal::ViewScreenLost),
                            Mode::Control => SessionError::NoFullControl,
                        });
                    }
                }
                Event::Request { mode }
            }
            Action::Consent { allow: true } => Event::Allow,
            Action::Consent { allow: false } => Event::Decline,
            Action::Revoke => Event::RevokeControl,
            Action::Pause => Event::Pause,
            Action::Resume => Event::Resume,
            Action::Leave => Event::Leave,
        };
        let unattended = Self::is_unattended(&record);
        if unattended && matches!(event, Event::Request { .. }) {
            let settings = self.store().settings(scope).await?;
            if !settings.allow_unattended {
                return Err(SessionError::Refused(Refusal::UnattendedOff));
            }
        }
        let mut record = self
            .apply_bound(
                &record,
                (party, Some(&user.id)),
                event,
                None,
                None,
                &resolved,
            )
            .await?;
        // Nobody sits at an unattended device: the tenant's setting, checked
        // just above, consents in the sharer's place.
        if unattended && matches!(record.state, State::ConsentPending { .. }) {
            let event = Event::GrantUnattended;
            record = self
                .apply_bound(&record, (Party::System, None), event, None, None, &resolved)
                .await?;
        }
        self.view_with(&record, party, &resolved).await
    }

    /// Checks `event` with the state machine, writes it, and tells both
    /// participants. Retries once if another transition won a race.
    pub(super) async fn apply(
        &self,
        record: &SessionRecord,
        actor: Party,
        actor_id: Option<&UserId>,
        event: Event,
        sharer: Option<&UserId>,
    ) -> SessionResult<SessionRecord> {
        let resolved = Resolved::default();
        self.apply_bound(record, (actor, actor_id), event, sharer, None, &resolved)
            .await
    }

    /// [`Self::apply`], also binding the session to a device.
    pub(super) async fn apply_bound(
        &self,
        record: &SessionRecord,
        (actor, actor_id): (Party, Option<&UserId>),
        event: Event,
        sharer: Option<&UserId>,
        device: Option<&DeviceId>,
        resolved: &Resolved,
    ) -> SessionResult<SessionRecord> {
        let mut current = record.clone();
        for _ in 0..2 {
            let media = MediaEnd::of(current.via_agent || device.is_some());
            // Nobody redeemed it and nobody is named as its sharer: a
            // device's session that only the tenant's setting can consent to.
            let unattended = media == MediaEnd::Agent
                && current.sharer_id.is_none()
                && sharer.is_none()
                && (current.device_id.is_some() || device.is_some());
            let kind = if unattended {
                SessionKind::unattended()
            } else {
                SessionKind::attended(media)
            };
            let next = transition(&current.state, kind, actor, &event)?;
            // Full control through the agent by a helper holding Elevation:
            // the grant lets them act on elevation prompts. Holding it is
            // not using it; the agent says when it was used.
            let elevation_held = media == MediaEnd::Agent
                && next
                    == (State::Active {
                        mode: Mode::Control,
                    })
                && self
                    .permissions_once(&current, resolved)
                    .await
                    .is_ok_and(|p| p.contains(Permission::Elevation));
            let change = Change {
                actor,
                actor_id,
                event: &event,
                next: &next,
                sharer,
                device,
                elevation_held,
                elevation_used: event == Event::ElevationUsed,
                at: self.now(),
            };
            if let Some(updated) = self.store().apply_session_change(&current, &change).await? {
                tracing::info!(session = %updated.id, ?actor, event = ?event, state = updated.state.name(), "session transition");
                self.announce(&updated);
                self.after_change(&current.state, &updated, resolved).await;
                return Ok(updated);
            }
            let scope = TenantScope::of_record(&current.tenant_id);
            current = self
                .store()
                .session(&scope, &current.id)
                .await?
                .ok_or(SessionError::NotFound)?;
        }
        Err(SessionError::Raced)
    }

    /// Pushes the new state to both participants, and a fresh grant to the
    /// sharer when the consented mode changed.
    async fn after_change(&self, before: &State, record: &SessionRecord, resolved: &Resolved) {
        let now = self.now();
        crate::metrics::count_transition(before, record, now.0);
        self.hub().track_record(record, now, false);
        if before.summary().1 != record.state.summary().1 {
            self.hub().reset_grant(&record.id);
        }
        self.publish_with(record, resolved).await;
        self.send_grant_with(record, now, resolved).await;
        if record.state.is_ended() {
            self.hub().forget_ended(&record.id, record.version);
        }
    }

    /// Sends each connected participant its view of the session.
    pub(super) async fn publish(&self, record: &SessionRecord) {
        self.publish_with(record, &Resolved::default()).await;
    }

    pub(super) async fn state_message(
        &self,
        record: &SessionRecord,
        party: Party,
        resolved: &Resolved,
    ) -> Option<ServerMessage> {
        state_or_warn(self.view_with(record, party, resolved).await, record)
    }

    async fn publish_with(&self, record: &SessionRecord, resolved: &Resolved) {
        let connected: Vec<Party> = [Party::Helper, Party::Sharer, Party::Agent]
            .into_iter()
            .filter(|party| self.hub().connected(&record.id, *party))
            .collect();
        if connected.is_empty() {
            return;
        }
        // One read of the cards, device and record for every view.
        let parts = match self.view_parts(record).await {
            Ok(parts) => parts,
            Err(error) => {
                tracing::warn!(%error, session = %record.id, "cannot build a session view");
                return;
            }
        };
        for party in connected {
            let view = self.view_from(&parts, record, party, resolved).await;
            if let Some(message) = state_or_warn(view, record) {
                self.hub().send(&record.id, party, &message);
            }
        }
    }

    /// Signs and sends the media end (the agent, or the sharer's browser) a
    /// grant for the mode in force, if one is due. Paused or ended sessions
    /// get none, so the agent's last one simply runs out.
    pub(super) async fn send_grant_if_due(&self, record: &SessionRecord, now: UnixMillis) {
        self.send_grant_with(record, now, &Resolved::default())
            .await;
    }

    async fn send_grant_with(&self, record: &SessionRecord, now: UnixMillis, resolved: &Resolved) {
        let State::Active { mode } = record.state else {
            return;
        };
        let every = self.inner.timing.grant_millis / 3;
        let media = media_party(record.via_agent);
        if !self.hub().connected(&record.id, media) || !self.hub().grant_due(&record.id, now, every)
        {
            return;
        }
        let elevation = mode == Mode::Control
            && self
                .permissions_once(record, resolved)
                .await
                .is_ok_and(|p| p.contains(Permission::Elevation));
        if let Some(grant) = self.keys().sign(
            &record.id,
            mode,
            elevation,
            now,
            self.inner.timing.grant_millis,
        ) {
            self.hub()
                .send(&record.id, media, &ServerMessage::Grant { grant });
        }
    }
}

/// Who sends the screen: the device's agent, or the sharer's browser.
pub fn media_party(via_agent: bool) -> Party {
    if via_agent {
        Party::Agent
    } else {
        Party::Sharer
    }
}

/// The caller's part in a session, if any.
pub fn party_of(record: &SessionRecord, user: &UserId) -> Option<Party> {
    if &record.helper_id == user {
        Some(Party::Helper)
    } else if record.sharer_id.as_ref() == Some(user) {
        Some(Party::Sharer)
    } else {
        None
    }
}

/// The state message for a built view; a view that could not be built is
/// logged and sends nothing.
fn state_or_warn(
    view: SessionResult<tandem_protocol::session::SessionView>,
    record: &SessionRecord,
) -> Option<ServerMessage> {
    match view {
        Ok(view) => Some(ServerMessage::State {
            session: Box::new(view),
        }),
        Err(error) => {
            tracing::warn!(%error, session = %record.id, "cannot build a session view");
            None
        }
    }
}
