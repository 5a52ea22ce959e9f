//! The session's signaling connection: `follow` opens and joins it, and
//! `Link` keeps it while the session lives: when
//! it drops, goes silent past the heartbeat, or the device's address it
//! used is gone, it is opened and joined again while the session, and its
//! WebRTC connection, go on. Without a way to rejoin (tests), or once
//! rejoining fails, the session ends: one whose server can no longer hear
//! it must not go on sharing.

use super::{Finish, SessionContext, run};
use crate::client;
use crate::identity::Identity;
use futures_util::future::BoxFuture;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use std::collections::VecDeque;
use std::time::Duration;
use tandem_protocol::SessionId;
use tandem_protocol::grant::GrantKey;
use tandem_protocol::routes::AGENT_SIGNAL;
use tandem_protocol::signal::{ClientMessage, DEAD_AFTER_SECONDS, ServerMessage};
use tokio::time::Instant;

/// Opens the session's signaling connection again and joins it; `None`
/// once that has failed for good.
pub type Rejoin<Tx, Rx> = Box<dyn FnMut() -> BoxFuture<'static, Option<(Tx, Rx)>> + Send>;

/// Messages kept for the server while the connection is being rejoined
/// (those it must hear; offers and candidates are made again instead).
const MAX_UNSENT: usize = 16;
/// Connections in a row that may drop right after being joined before the
/// server counts as gone.
const MAX_QUICK_DROPS: u32 = 3;
/// How long one try to connect and join may take.
const JOIN_WITHIN: Duration = Duration::from_secs(10);

/// What the connection brought.
pub enum Heard {
    Message(ServerMessage),
    /// A new connection is joined: the session restarts ICE over it.
    Rejoined,
    /// The server is gone for good.
    Lost,
}

pub struct Link<Tx, Rx> {
    sink: Tx,
    signals: Rx,
    rejoin: Option<Rejoin<Tx, Rx>>,
    rejoining: Option<BoxFuture<'static, Option<(Tx, Rx)>>>,
    last_heard: Instant,
    unsent: VecDeque<ClientMessage>,
    silence: Duration,
    /// When the current connection was joined.
    joined_at: Instant,
    /// Connections in a row that dropped within `silence` of being joined.
    quick_drops: u32,
}

impl<Tx, Rx> Link<Tx, Rx>
where
    Tx: Sink<ClientMessage> + Unpin,
    Rx: Stream<Item = ServerMessage> + Unpin,
{
    pub fn new(sink: Tx, signals: Rx, rejoin: Option<Rejoin<Tx, Rx>>) -> Self {
        Self {
            sink,
            signals,
            rejoin,
            rejoining: None,
            last_heard: Instant::now(),
            unsent: VecDeque::new(),
            silence: Duration::from_secs(DEAD_AFTER_SECONDS),
            joined_at: Instant::now(),
            quick_drops: 0,
        }
    }

    /// Drops the connection and joins again (its address may be gone);
    /// false when it cannot.
    pub fn rejoin(&mut self) -> bool {
        if self.rejoining.is_some() {
            return true;
        }
        match &mut self.rejoin {
            Some(rejoin) => {
                self.rejoining = Some(rejoin());
                true
            }
            None => false,
        }
    }

    /// The next thing the server says, a new connection, or the end.
    /// Cancel-safe: a rejoin under way, and messages waiting for it, carry
    /// on at the next call.
    pub async fn next(&mut self) -> Heard {
        loop {
            // What waited for this connection goes first (here, not right
            // after the rejoin, so that a cancelled call loses nothing).
            while self.rejoining.is_none()
                && let Some(message) = self.unsent.front().cloned()
            {
                if self.sink.send(message).await.is_err() {
                    break;
                }
                self.unsent.pop_front();
            }
            if let Some(rejoining) = &mut self.rejoining {
                let joined = rejoining.await;
                self.rejoining = None;
                let Some((sink, signals)) = joined else {
                    return Heard::Lost;
                };
                // A server that takes the join and drops it again at once
                // (it cannot record it) is not joined again for ever.
                let now = Instant::now();
                if now.saturating_duration_since(self.joined_at) < self.silence {
                    self.quick_drops += 1;
                } else {
                    self.quick_drops = 0;
                }
                if self.quick_drops >= MAX_QUICK_DROPS {
                    return Heard::Lost;
                }
                (self.sink, self.signals) = (sink, signals);
                self.last_heard = now;
                self.joined_at = now;
                return Heard::Rejoined;
            }
            let silent = tokio::time::sleep_until(self.last_heard + self.silence);
            tokio::select! {
                message = self.signals.next() => match message {
                    Some(message) => {
                        self.last_heard = Instant::now();
                        return Heard::Message(message);
                    }
                    None => {
                        println!("tandem-agent: the session's connection to the server dropped; joining again");
                        if !self.rejoin() {
                            return Heard::Lost;
                        }
                    }
                },
                () = silent => {
                    println!("tandem-agent: the server went silent; joining the session again");
                    if !self.rejoin() {
                        return Heard::Lost;
                    }
                }
            }
        }
    }

    /// Sends `message`; false when the server can no longer be reached
    /// (a failed send starts a rejoin, when there is one).
    pub async fn send(&mut self, message: ClientMessage) -> bool {
        if self.rejoining.is_none() && self.sink.send(message.clone()).await.is_ok() {
            return true;
        }
        if !self.rejoin() {
            tracing::warn!("the server no longer takes this session's messages");
            return false;
        }
        let remade = matches!(
            message,
            ClientMessage::Offer { .. } | ClientMessage::Ice { .. } | ClientMessage::Pong { .. }
        );
        if !remade && self.unsent.len() < MAX_UNSENT {
            self.unsent.push_back(message);
        }
        true
    }
}

/// Follows one session until it ends, the server goes away, or the agent
/// stops.
pub async fn follow(context: SessionContext, session: SessionId, key: GrantKey) -> Finish {
    let Ok(verifying) = key.verifying_key() else {
        tracing::warn!("the server's grant key is malformed");
        return Finish::Ended;
    };
    let (server, identity) = (context.server.clone(), context.identity.clone());
    let Some((sink, signals)) = join(&server, &identity, &session).await else {
        return Finish::Ended;
    };
    // Joins again after a drop, a silence or a network change: a few
    // tries over about 15 s (each up to `JOIN_WITHIN`); if none is joined,
    // this session ends here, and the control connection follows it
    // again if the server still has it.
    let again = session.clone();
    let rejoin: Rejoin<SignalTx, SignalRx> = Box::new(move || {
        let (server, identity, session) = (server.clone(), identity.clone(), again.clone());
        Box::pin(async move {
            for pause_ms in [0, 500, 1000, 2000, 4000, 8000] {
                tokio::time::sleep(Duration::from_millis(pause_ms)).await;
                if let Some(joined) = join(&server, &identity, &session).await {
                    return Some(joined);
                }
            }
            None
        })
    });
    run(context, verifying, session, sink, signals, Some(rejoin)).await
}

type SignalTx =
    std::pin::Pin<Box<dyn futures_util::Sink<ClientMessage, Error = client::ClientError> + Send>>;
type SignalRx = std::pin::Pin<Box<dyn futures_util::Stream<Item = ServerMessage> + Send>>;

/// Opens the session's signaling connection and joins: `None` (logged)
/// unless the server answered the join with `Joined` within
/// [`JOIN_WITHIN`] (which is handed on, first on the stream).
async fn join(
    server: &str,
    identity: &Identity,
    session: &SessionId,
) -> Option<(SignalTx, SignalRx)> {
    let attempt = async {
        let opened =
            client::open::<ClientMessage, ServerMessage>(server, AGENT_SIGNAL, identity).await;
        let (mut sink, mut signals) = match opened {
            Ok(pair) => pair,
            Err(error) => {
                tracing::warn!(%error, %session, "cannot join the session");
                return None;
            }
        };
        let join = ClientMessage::Join {
            session: session.clone(),
        };
        sink.send(join).await.ok()?;
        match signals.next().await? {
            joined @ ServerMessage::Joined { .. } => {
                let signals = futures_util::stream::once(async move { joined }).chain(signals);
                Some((Box::pin(sink) as SignalTx, Box::pin(signals) as SignalRx))
            }
            ServerMessage::Error { problem } => {
                tracing::warn!(detail = ?problem.detail, %session, "the server refused the join");
                None
            }
            other => {
                tracing::warn!(?other, %session, "the server did not answer the join");
                None
            }
        }
    };
    tokio::time::timeout(JOIN_WITHIN, attempt)
        .await
        .unwrap_or_else(|_| {
            tracing::warn!(%session, "joining the session took too long");
            None
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{sink, stream};
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};
    use tokio::sync::mpsc;

    type Tx = Pin<Box<dyn Sink<ClientMessage, Error = ()> + Send>>;
    type Rx = Pin<Box<dyn Stream<Item = ServerMessage> + Send>>;

    /// A connection whose sent messages land in `sent`; the server side
    /// speaks through the returned sender (dropping it ends the stream).
    fn connection(
        sent: Arc<Mutex<Vec<ClientMessage>>>,
        open: bool,
    ) -> ((Tx, Rx), mpsc::Sender<ServerMessage>) {
        let sink = sink::unfold(sent, move |sent, message: ClientMessage| async move {
            if !open {
                return Err(());
            }
            sent.lock().unwrap().push(message);
            Ok(sent)
        });
        let (tx, rx) = mpsc::channel(8);
        let signals = stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) });
        ((Box::pin(sink), Box::pin(signals)), tx)
    }

    #[tokio::test]
    async fn a_dropped_connection_is_joined_again_and_keeps_what_must_be_said() {
        let first = Arc::new(Mutex::new(Vec::new()));
        let second = Arc::new(Mutex::new(Vec::new()));
        let ((sink, signals), server) = connection(first.clone(), false);
        let ((new_sink, new_signals), new_server) = connection(second.clone(), true);
        let spare = Arc::new(Mutex::new(Some((new_sink, new_signals))));
        let rejoins = Arc::new(Mutex::new(0));
        let counted = rejoins.clone();
        let rejoin: Rejoin<Tx, Rx> = Box::new(move || {
            *counted.lock().unwrap() += 1;
            let next = spare.lock().unwrap().take();
            Box::pin(async move { next })
        });
        let mut link = Link::new(sink, signals, Some(rejoin));
        // The first connection no longer takes messages: a rejoin starts,
        // and what the server must hear waits for the new connection; a
        // candidate is made again instead.
        assert!(link.send(ClientMessage::ElevationUsed).await);
        assert!(
            link.send(ClientMessage::Ice {
                candidate: tandem_protocol::signal::IceCandidate {
                    candidate: "candidate:1".into(),
                    sdp_mid: None,
                    sdp_m_line_index: None,
                }
            })
            .await
        );
        assert!(matches!(link.next().await, Heard::Rejoined));
        assert_eq!(*rejoins.lock().unwrap(), 1);
        drop(server);
        new_server
            .send(ServerMessage::Ping { nonce: 3 })
            .await
            .unwrap();
        assert!(matches!(
            link.next().await,
            Heard::Message(ServerMessage::Ping { nonce: 3 })
        ));
        // What waited went first on the new connection.
        assert_eq!(*second.lock().unwrap(), vec![ClientMessage::ElevationUsed]);
        // The new connection drops too, and nothing is left to join with.
        drop(new_server);
        assert!(matches!(link.next().await, Heard::Lost));
    }

    #[tokio::test]
    async fn a_server_that_keeps_dropping_the_join_counts_as_gone() {
        let ((sink, signals), server) = connection(Arc::default(), true);
        // Every rejoin gives a connection the server closes at once.
        let rejoin: Rejoin<Tx, Rx> = Box::new(move || {
            let (pair, closed) = connection(Arc::default(), true);
            drop(closed);
            Box::pin(async move { Some(pair) })
        });
        let mut link = Link::new(sink, signals, Some(rejoin));
        drop(server);
        let mut rejoined = 0;
        loop {
            match link.next().await {
                Heard::Rejoined => rejoined += 1,
                Heard::Lost => break,
                Heard::Message(message) => panic!("{message:?}"),
            }
        }
        assert_eq!(rejoined, MAX_QUICK_DROPS - 1);
    }

    #[tokio::test]
    async fn a_silent_server_counts_as_gone_after_the_heartbeat() {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let ((sink, signals), _server) = connection(sent, true);
        let mut link: Link<Tx, Rx> = Link::new(sink, signals, None);
        assert_eq!(link.silence, Duration::from_secs(DEAD_AFTER_SECONDS));
        // The heartbeat, shortened: the server's side stays open, silent.
        link.silence = Duration::from_millis(200);
        let started = Instant::now();
        assert!(matches!(link.next().await, Heard::Lost));
        assert!(started.elapsed() >= link.silence);
        // Without a way to join again, a failed send ends the session.
        let ((sink, signals), _server) = connection(Arc::default(), false);
        let mut link: Link<Tx, Rx> = Link::new(sink, signals, None);
        assert!(!link.send(ClientMessage::ElevationUsed).await);
    }
}
