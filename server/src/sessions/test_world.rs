//! A session service over a scratch store with the demo tenants and a
//! manual clock, and signaling connections driven through channels: the
//! harness of the signaling and replica tests.

use super::signaling::{Heartbeat, serve_connection};
use super::{Action, Sessions, Timing};
use crate::auth::TenantScope;
use crate::auth::throttle::ClientAddress;
use crate::clock::{Clock, ManualClock};
use crate::store::{Store, UserRecord};
use futures_util::{sink, stream};
use std::sync::Arc;
use std::time::Duration;
use tandem_protocol::session::{Mode, Phase};
use tandem_protocol::signal::{ClientMessage, FrameError, ServerMessage};
use tandem_protocol::{SessionId, UnixMillis};
use tokio::sync::mpsc;
use tokio::time::timeout;

pub(super) struct World {
    pub(super) store: Store,
    pub(super) clock: Arc<ManualClock>,
    pub(super) sessions: Sessions,
}

pub(super) async fn world() -> World {
    let store = Store::open_scratch().await.unwrap();
    let clock = Arc::new(ManualClock::new(UnixMillis(1_000_000)));
    crate::seed::seed_demo(&store, clock.now()).await.unwrap();
    let sessions = start(&store, &clock).await;
    World {
        store,
        clock,
        sessions,
    }
}

pub(super) async fn start(store: &Store, clock: &Arc<ManualClock>) -> Sessions {
    let timing = Timing {
        reconnect_millis: 120_000,
        grant_millis: 60_000,
        code_lifetime_max_millis: None,
        ..Timing::default()
    };
    Sessions::start(store.clone(), clock.clone(), Default::default(), timing)
        .await
        .unwrap()
}

impl World {
    pub(super) async fn user(&self, email: &str) -> (UserRecord, TenantScope) {
        let user = self
            .store
            .user_by_email_for_sign_in(email)
            .await
            .unwrap()
            .unwrap();
        let scope = TenantScope::of_record(&user.tenant_id);
        (user, scope)
    }

    /// Megan's code, redeemed by Lynne.
    pub(super) async fn redeemed(&self) -> SessionId {
        let (megan, scope) = self.user("megan@contoso.test").await;
        let issued = self.sessions.issue(&megan, &scope).await.unwrap();
        let (lynne, _) = self.user("lynne@contoso.test").await;
        let address = ClientAddress("127.0.0.1".into());
        self.sessions
            .redeem(&lynne, &issued.code, None, &address)
            .await
            .unwrap();
        issued.session.id
    }

    pub(super) async fn act(&self, email: &str, id: &SessionId, action: Action) {
        let (user, scope) = self.user(email).await;
        self.sessions.act(&user, &scope, id, action).await.unwrap();
    }

    /// A connection for `email` driven by channels.
    pub(super) async fn connect(&self, email: &str, heartbeat: Heartbeat) -> Client {
        let (user, scope) = self.user(email).await;
        let (to_server, from_client) = mpsc::channel::<Result<String, FrameError>>(16);
        let (to_client, from_server) = mpsc::channel::<ServerMessage>(64);
        let sink = Box::pin(sink::unfold(
            to_client,
            |tx, message: ServerMessage| async move {
                tx.send(message).await.map_err(|_| ())?;
                Ok::<_, ()>(tx)
            },
        ));
        let incoming = Box::pin(stream::unfold(from_client, |mut rx| async move {
            rx.recv().await.map(|frame| (frame, rx))
        }));
        let task = tokio::spawn(serve_connection(
            self.sessions.clone(),
            super::signaling::Caller::User(user),
            scope,
            sink,
            incoming,
            heartbeat,
        ));
        Client {
            tx: Some(to_server),
            rx: from_server,
            task,
        }
    }
}

pub(super) struct Client {
    pub(super) tx: Option<mpsc::Sender<Result<String, FrameError>>>,
    pub(super) rx: mpsc::Receiver<ServerMessage>,
    pub(super) task: tokio::task::JoinHandle<()>,
}

impl Client {
    pub(super) async fn send(&self, message: &ClientMessage) {
        let text = serde_json::to_string(message).unwrap();
        self.send_text(text).await;
    }

    pub(super) async fn send_text(&self, text: String) {
        if let Some(tx) = &self.tx {
            tx.send(Ok(text)).await.unwrap();
        }
    }

    /// The next message that `pick` accepts, skipping others (pings, states).
    pub(super) async fn expect<T>(
        &mut self,
        what: &str,
        pick: impl Fn(&ServerMessage) -> Option<T>,
    ) -> T {
        let wait = async {
            while let Some(message) = self.rx.recv().await {
                if let Some(found) = pick(&message) {
                    return Some(found);
                }
            }
            None
        };
        match timeout(Duration::from_secs(5), wait).await {
            Ok(Some(found)) => found,
            other => panic!(
                "no {what}: {}",
                if other.is_err() {
                    "timed out"
                } else {
                    "closed"
                }
            ),
        }
    }

    pub(super) async fn closed(mut self) {
        self.tx = None;
        timeout(Duration::from_secs(5), self.task)
            .await
            .expect("the connection ends")
            .unwrap();
    }
}

pub(super) fn slow() -> Heartbeat {
    Heartbeat {
        ping_every: Duration::from_secs(60),
        dead_after: Duration::from_secs(120),
    }
}

pub(super) fn error_kind(message: &ServerMessage) -> Option<String> {
    match message {
        ServerMessage::Error { problem } => Some(problem.kind.clone()),
        _ => None,
    }
}

pub(super) fn state_of(message: &ServerMessage) -> Option<(Phase, Option<Mode>, u32)> {
    match message {
        ServerMessage::State { session } => Some((session.phase, session.mode, session.reconnects)),
        _ => None,
    }
}
