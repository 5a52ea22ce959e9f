//! One agent's control connection, generic over `Sink`/`Stream` like the
//! signaling connection. While it is open the device is online; the agent
//! gets its welcome, a pairing link when it asks, and the help requests and
//! session bindings the service pushes through [`super::Agents`].

use super::agents::AGENT_OUTBOX_DEPTH;
use super::service::Sessions;
use super::signaling::Heartbeat;
use crate::store::DeviceKeyRecord;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tandem_protocol::agent::{AgentClientMessage, AgentServerMessage};
use tandem_protocol::signal::FrameError;
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
        required_version: sessions.required_agent_version(&key.agent_version),
        grant_key: sessions.keys().public(),
    };
    if sink.send(welcome).await.is_err() {
        return;
    }
    let (outbox, mut inbox) = mpsc::channel(AGENT_OUTBOX_DEPTH);
    let conn = sessions.agents().attach(&device, outbox);
    sessions.agent_seen(&key).await;
    tracing::info!(%device, "agent online");
    // Back after a drop or a restart: the sessions it shares, again.
    match sessions.store().live_sessions_of_device(&device).await {
        Ok(records) => {
            for record in records {
                let bound = AgentServerMessage::SessionBound { session: record.id };
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
    loop {
        tokio::select! {
            frame = stream.next() => {
                let Some(frame) = frame else { break };
                last_heard = Instant::now();
                let reply = match frame.and_then(|text| AgentClientMessage::parse(&text)) {
                    Ok(AgentClientMessage::Pair) => {
                        let (path, expires_at) = sessions.pairing_link(&device, None);
                        Some(AgentServerMessage::Pairing { path, expires_at })
                    }
                    Ok(AgentClientMessage::Pong { .. }) => {
                        sessions.agent_seen(&key).await;
                        None
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
