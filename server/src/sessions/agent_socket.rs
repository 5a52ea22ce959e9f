//! One agent's control connection, generic over `Sink`/`Stream` like the
//! signaling connection. While it is open the device is online; the agent
//! gets its welcome, a pairing link when it asks, and the help requests and
//! session bindings the service pushes through [`super::Agents`]. The
//! sharer's Pause, Resume and Stop pressed on the device's indicator come
//! back here ([`AgentClientMessage::Act`]) and go through the state machine
//! like the sharer page's buttons.

use super::agents::AGENT_OUTBOX_DEPTH;
use super::error::{SessionError, SessionResult};
use super::frame_rate::{FrameBudget, FrameRate, Verdict};
use super::service::Sessions;
use super::signaling::{Heartbeat, millis_since};
use crate::auth::TenantScope;
use crate::domain::machine::Event;
use crate::store::DeviceKeyRecord;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tandem_protocol::agent::{AgentClientMessage, AgentServerMessage, SharerAction};
use tandem_protocol::session::Party;
use tandem_protocol::session::Refusal;
use tandem_protocol::signal::FrameError;
use tandem_protocol::{DeviceId, SessionId};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Serves one agent control connection until it closes or goes silent.
pub async fn serve_agent<S, R>(
    sessions: Sessions,
    key: DeviceKeyRecord,
    mut sink: S,
    mut stream: R,
    heartbeat: Heartbeat,
) where
    S: Sink<AgentServerMessage> + Unpin,
    R: Stream<Item = Result<String, FrameError>> + Unpin,
{
    let device = key.device_id.clone();
    let welcome = AgentServerMessage::Welcome {
        device: device.clone(),
        device_name: key.name.clone(),
        enrolled: key.enrolled,
        required_version: sessions
            .devices()
            .required_agent_version(&key.agent_version),
        grant_key: sessions.keys().public(),
    };
    if sink.send(welcome).await.is_err() {
        return;
    }
    let (outbox, mut inbox) = mpsc::channel(AGENT_OUTBOX_DEPTH);
    let conn = sessions.agents().attach(&device, outbox);
    sessions.devices().seen(&key).await;
    tracing::info!(%device, "agent online");
    // Back after a drop or a restart: the sessions it shares, again.
    match sessions.store().live_sessions_of_device(&device).await {
        Ok(records) => {
            for record in records {
                let bound = super::devices::session_bound(&record.id);
                if sink.send(bound).await.is_err() {
                    sessions.agents().detach(&device, conn);
                    return;
                }
            }
        }
        Err(error) => tracing::warn!(%device, %error, "cannot list the device's sessions"),
    }
    let mut last_heard = Instant::now();
    let mut ping =
        tokio::time::interval_at(Instant::now() + heartbeat.ping_every, heartbeat.ping_every);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut nonce = 0u64;
    let opened = Instant::now();
    let mut rate = FrameRate::new(FrameBudget::AGENT_CONTROL, 0);
    loop {
        tokio::select! {
            frame = stream.next() => {
                let Some(frame) = frame else { break };
                last_heard = Instant::now();
                match rate.admit(millis_since(opened)) {
                    Verdict::Admit => {}
                    Verdict::Drop => continue,
                    Verdict::DropAndWarn => {
                        let warning = AgentServerMessage::Error { message: "frames are arriving too fast; some were dropped".into() };
                        if sink.send(warning).await.is_err() { break }
                        continue;
                    }
                    Verdict::Close => {
                        tracing::info!(%device, "closing an agent connection that sends too fast");
                        break;
                    }
                }
                let reply = match frame.and_then(|text| AgentClientMessage::parse(&text)) {
                    Ok(AgentClientMessage::Pair) => match sessions.pairing_link(&device, None).await {
                        Ok((path, expires_at)) => Some(AgentServerMessage::Pairing { path, expires_at }),
                        Err(error) => {
                            tracing::warn!(%error, %device, "making a pairing link failed");
                            Some(AgentServerMessage::Error {
                                message: "No pairing link could be made just now; try again.".into(),
                            })
                        }
                    },
                    Ok(AgentClientMessage::Pong { .. }) => {
                        sessions.devices().seen(&key).await;
                        None
                    }
                    Ok(AgentClientMessage::Act { session, action }) => {
                        match act(&sessions, &device, &session, action).await {
                            Ok(()) => None,
                            Err(error) => Some(AgentServerMessage::Error {
                                message: refusal(&device, &session, action, &error),
                            }),
                        }
                    }
                    Err(error) => {
                        tracing::debug!(%device, %error, "refused an agent frame");
                        Some(AgentServerMessage::Error { message: error.to_string() })
                    }
                };
                if let Some(reply) = reply
                    && sink.send(reply).await.is_err()
                {
                    break;
                }
            }
            message = inbox.recv() => {
                let Some(message) = message else { break };
                if sink.send(message).await.is_err() { break }
            }
            () = sessions.until_draining() => {
                tracing::info!(%device, "draining: closing an agent connection");
                break;
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > heartbeat.dead_after {
                    tracing::info!(%device, "agent went silent");
                    break;
                }
                nonce += 1;
                if sink.send(AgentServerMessage::Ping { nonce }).await.is_err() { break }
            }
        }
    }
    sessions.agents().detach(&device, conn);
    tracing::info!(%device, "agent offline");
    let _ = sink.close().await;
}

/// The sharer pressed `action` on the indicator of `device`, in `session`.
/// Only a session bound to this device and shared through its agent
/// qualifies (the device's tenant read again: the device may have been
/// paired since the socket opened). Pause and Resume are the sharer's
/// events, checked by the machine as the sharer's; the record names the
/// sharer as the one who acted, as on the sharer page. Stop is the agent
/// leaving: "The sharer stopped sharing on their device".
async fn act(
    sessions: &Sessions,
    device: &DeviceId,
    session: &SessionId,
    action: SharerAction,
) -> SessionResult<()> {
    let key = sessions
        .store()
        .device_key(device)
        .await?
        .ok_or(SessionError::NotFound)?;
    let tenant = key.tenant_id.as_ref().ok_or(SessionError::NotFound)?;
    let scope = TenantScope::of_record(tenant);
    let (record, _) = sessions.agent_participant(&key, &scope, session).await?;
    let (actor, event) = match action {
        SharerAction::Pause => (Party::Sharer, Event::Pause),
        SharerAction::Resume => (Party::Sharer, Event::Resume),
        SharerAction::Stop => (Party::Agent, Event::Leave),
    };
    // Nobody consented at an unattended device: no one there may resume
    // (or pause) in a sharer's name. Stopping is always allowed.
    let sharer = match actor {
        Party::Sharer => Some(
            record
                .sharer_id
                .clone()
                .ok_or_else(|| SessionError::Refused(Refusal::NoSharer))?,
        ),
        _ => None,
    };
    sessions
        .apply(&record, actor, sharer.as_ref(), event, None)
        .await?;
    tracing::info!(%device, %session, ?action, "the sharer acted on the device");
    Ok(())
}

/// What the agent is told when [`act`] refuses: the reason, except for
/// store failures, which are logged and never sent.
fn refusal(
    device: &DeviceId,
    session: &SessionId,
    action: SharerAction,
    error: &SessionError,
) -> String {
    tracing::info!(%device, %session, ?action, %error, "refused the sharer's action from the device");
    match error {
        SessionError::Store(_) => "the server could not record that; try again".into(),
        other => format!("{action:?} refused: {other}"),
    }
}

#[cfg(test)]
mod tests {
    //! The sharer's buttons on the device, driven through channels against
    //! an in-memory store: Pause and Resume as the sharer, Stop as the
    //! agent, and nothing for a session of another device.
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

    use super::*;
    use crate::auth::Authorized;
    use crate::auth::throttle::ClientAddress;
    use crate::clock::{Clock, ManualClock};
    use crate::domain::machine::State;
    use crate::sessions::{Action, Timing};
    use crate::store::{Store, UserRecord};
    use futures_util::{sink, stream};
    use std::sync::Arc;
    use std::time::Duration;
    use tandem_protocol::UnixMillis;
    use tandem_protocol::agent::{NewEnrollmentToken, RegisterRequest};
    use tandem_protocol::session::{EndReason, Mode};
    use tokio::sync::mpsc;
    use tokio::time::timeout;

    struct World {
        store: Store,
        sessions: Sessions,
    }

    impl World {
        async fn new() -> Self {
            let store = Store::open_scratch().await.unwrap();
            let clock = Arc::new(ManualClock::new(UnixMillis(1_000_000)));
            crate::seed::seed_demo(&store, clock.now()).await.unwrap();
            let sessions =
                Sessions::start(store.clone(), clock, Default::default(), Timing::default())
                    .await
                    .unwrap();
            Self { store, sessions }
        }

        async fn user(&self, email: &str) -> (UserRecord, TenantScope) {
            let user = self
                .store
                .user_by_email_for_sign_in(email)
                .await
                .unwrap()
                .unwrap();
            let scope = TenantScope::of_record(&user.tenant_id);
            (user, scope)
        }

        /// A device enrolled in Contoso with Lynne paired to it.
        async fn device(&self, seed: u8) -> DeviceKeyRecord {
            let (lynne, _) = self.user("lynne@contoso.test").await;
            let auth = Authorized::system(lynne.tenant_id.clone(), "test");
            let request = NewEnrollmentToken {
                label: "kiosks".into(),
                valid_days: 1,
            };
            let now = self.sessions.now();
            let token = crate::enrollment::new_token(&self.store, &auth, &request, now)
                .await
                .unwrap();
            let public_key = base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
                    .verifying_key()
                    .to_bytes(),
            );
            let request = RegisterRequest {
                public_key,
                name: format!("KIOSK-{seed}"),
                os: "Linux".into(),
                os_version: "Debian 12".into(),
                agent_version: "0.1.0".into(),
                enrollment_token: Some(token.token),
            };
            let address = ClientAddress("127.0.0.1".into());
            let registered = self
                .sessions
                .devices()
                .register(&request, &address)
                .await
                .unwrap();
            let (path, _) = self
                .sessions
                .pairing_link(&registered.device, None)
                .await
                .unwrap();
            let nonce = path.trim_start_matches("/share?pair=");
            self.sessions.pair(&lynne, nonce, true).await.unwrap();
            self.store
                .device_key(&registered.device)
                .await
                .unwrap()
                .unwrap()
        }

        /// Megan's code redeemed by Lynne on `device`, in view only.
        async fn shared(&self, device: &DeviceKeyRecord) -> SessionId {
            let (megan, scope) = self.user("megan@contoso.test").await;
            let issued = self.sessions.issue(&megan, &scope).await.unwrap();
            let (lynne, lynne_scope) = self.user("lynne@contoso.test").await;
            let address = ClientAddress("127.0.0.1".into());
            self.sessions
                .redeem(&lynne, &issued.code, Some(&device.device_id), &address)
                .await
                .unwrap();
            let id = issued.session.id;
            self.sessions
                .act(&megan, &scope, &id, Action::Request(Mode::View))
                .await
                .unwrap();
            self.sessions
                .act(&lynne, &lynne_scope, &id, Action::Consent { allow: true })
                .await
                .unwrap();
            id
        }

        async fn state(&self, id: &SessionId) -> (State, Vec<(Party, Option<String>)>) {
            let (_, scope) = self.user("megan@contoso.test").await;
            let record = self.store.session(&scope, id).await.unwrap().unwrap();
            let events = self
                .store
                .session_events(&scope, id)
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.actor, e.actor_id.map(|u| u.0)))
                .collect();
            (record.state, events)
        }
    }

    /// An agent's control socket driven by channels.
    struct Control {
        tx: mpsc::Sender<Result<String, FrameError>>,
        rx: mpsc::Receiver<AgentServerMessage>,
    }

    impl Control {
        fn open(sessions: &Sessions, key: DeviceKeyRecord) -> Self {
            let (tx, from_agent) = mpsc::channel::<Result<String, FrameError>>(16);
            let (to_agent, rx) = mpsc::channel::<AgentServerMessage>(64);
            let sink = Box::pin(sink::unfold(
                to_agent,
                |tx, message: AgentServerMessage| async move {
                    tx.send(message).await.map_err(|_| ())?;
                    Ok::<_, ()>(tx)
                },
            ));
            let incoming = Box::pin(stream::unfold(from_agent, |mut rx| async move {
                rx.recv().await.map(|frame| (frame, rx))
            }));
            let heartbeat = Heartbeat {
                ping_every: Duration::from_secs(60),
                dead_after: Duration::from_secs(120),
            };
            tokio::spawn(serve_agent(
                sessions.clone(),
                key,
                sink,
                incoming,
                heartbeat,
            ));
            Self { tx, rx }
        }

        /// Sends `message`, then a pairing request: frames are served in
        /// order, so the pairing link's arrival means `message` was handled.
        /// Returns the refusal, if `message` was refused.
        async fn send(&mut self, message: &AgentClientMessage) -> Option<String> {
            for frame in [message, &AgentClientMessage::Pair] {
                let text = serde_json::to_string(frame).unwrap();
                self.tx.send(Ok(text)).await.unwrap();
            }
            let mut refused = None;
            loop {
                let next = timeout(Duration::from_secs(5), self.rx.recv())
                    .await
                    .expect("an answer in time")
                    .expect("the socket stays open");
                match next {
                    AgentServerMessage::Error { message } => refused = Some(message),
                    AgentServerMessage::Pairing { .. } => return refused,
                    _ => {}
                }
            }
        }
    }

    fn act(session: &SessionId, action: SharerAction) -> AgentClientMessage {
        AgentClientMessage::Act {
            session: session.clone(),
            action,
        }
    }

    #[tokio::test]
    async fn the_sharers_buttons_on_the_device_pause_resume_and_stop_its_session() {
        let w = World::new().await;
        let kiosk = w.device(21).await;
        let other = w.device(22).await;
        let id = w.shared(&kiosk).await;
        let (lynne, _) = w.user("lynne@contoso.test").await;
        let mut control = Control::open(&w.sessions, kiosk);
        let mut foreign = Control::open(&w.sessions, other);

        // Another device's agent cannot touch the session.
        for action in [SharerAction::Pause, SharerAction::Stop] {
            let refused = foreign.send(&act(&id, action)).await;
            assert!(refused.is_some_and(|r| r.contains("no such session")));
        }
        assert_eq!(w.state(&id).await.0, State::Active { mode: Mode::View });

        // Pause and Resume are the sharer's, recorded as Lynne's.
        assert_eq!(control.send(&act(&id, SharerAction::Pause)).await, None);
        let (state, events) = w.state(&id).await;
        assert_eq!(state, State::Paused { mode: Mode::View });
        assert_eq!(
            events.last(),
            Some(&(Party::Sharer, Some(lynne.id.0.clone())))
        );
        let again = control.send(&act(&id, SharerAction::Pause)).await;
        assert!(again.is_some(), "pausing a paused session is refused");
        assert_eq!(control.send(&act(&id, SharerAction::Resume)).await, None);
        assert_eq!(w.state(&id).await.0, State::Active { mode: Mode::View });

        // Stop ends it as the agent: "stopped sharing on their device".
        assert_eq!(control.send(&act(&id, SharerAction::Stop)).await, None);
        let (state, events) = w.state(&id).await;
        assert_eq!(
            state,
            State::Ended {
                reason: EndReason::Completed { by: Party::Agent }
            }
        );
        assert_eq!(events.last(), Some(&(Party::Agent, None)));
        let after = control.send(&act(&id, SharerAction::Resume)).await;
        assert!(after.is_some(), "an ended session stays ended");
    }

    #[tokio::test]
    async fn an_agent_that_floods_pairing_requests_is_cut_off() {
        let w = World::new().await;
        let key = w.device(41).await;
        let device = key.device_id.clone();
        let Control { tx, mut rx } = Control::open(&w.sessions, key);
        let pair = serde_json::to_string(&AgentClientMessage::Pair).unwrap();
        let flood = tokio::spawn(async move {
            let mut sent = 0u32;
            while sent < 20_000 && tx.send(Ok(pair.clone())).await.is_ok() {
                sent += 1;
            }
            sent
        });
        let (mut links, mut warnings) = (0, 0);
        while let Ok(Some(message)) = timeout(Duration::from_secs(5), rx.recv()).await {
            match message {
                AgentServerMessage::Pairing { .. } => links += 1,
                AgentServerMessage::Error { message } if message.contains("too fast") => {
                    warnings += 1
                }
                _ => {}
            }
        }
        let sent = flood.await.unwrap();
        // The burst (30) and what trickled in at 5 a second, then nothing.
        let burst = FrameBudget::AGENT_CONTROL.burst;
        assert!(
            (burst..burst + 10).contains(&links),
            "{links} pairing links"
        );
        assert!(warnings >= 1);
        assert!(
            sent < 20_000,
            "the server kept reading a flood of {sent} frames"
        );
        // However many links it asked for, the device holds at most three.
        let now = w.sessions.now();
        assert_eq!(
            w.store.pairings_of(&device, now).await.unwrap(),
            crate::sessions::devices::PAIRING_BOUNDS.per_device as u64
        );
    }
}
