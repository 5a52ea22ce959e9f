//! What the server says on the signaling connection: ICE servers, the
//! session's state (into the gate, the clipboard's limit, whether the
//! helper may draw, the helper's absence), grants, the sharer's word on
//! the drawings, and the helper's requests for a fresh or restarted
//! connection.

use super::*;

/// What the consent gate takes from the server's view of the session.
fn consent_state(view: &SessionView) -> ConsentState {
    ConsentState {
        phase: view.phase,
        mode: view.mode,
        helper: view.helper.display_name.clone(),
        ended: view.ended.as_ref().map(|reason| reason.message()),
        sign_out_after_elevation: view.sign_out_after_elevation,
    }
}

impl Session {
    pub(super) async fn on_signal(&mut self, message: ServerMessage) -> Vec<ClientMessage> {
        match message {
            ServerMessage::Joined {
                ice_servers,
                ice_transport_policy,
                ..
            } => {
                self.servers = ice_servers;
                self.ice_policy = ice_transport_policy;
                if self.restarts.joined() {
                    return self.restart_ice().await.into_iter().collect();
                }
            }
            ServerMessage::State { session: view } => {
                self.note_helper_away(view.reconnect_left_ms);
                self.gate.on_state(consent_state(&view));
                self.clipboard.set_limit(view.clipboard_max_bytes);
                self.files.set_limit(view.file_max_bytes);
                if self.annotation.set_allowed(view.annotation_enabled) {
                    self.announce_annotation().await;
                }
            }
            ServerMessage::Grant { grant } => {
                if let Err(error) = self.gate.accept_grant(&grant, client::now()) {
                    tracing::warn!(%error, "a grant was refused");
                }
            }
            ServerMessage::SharerDrawing { action } => self.on_sharer_drawing(action).await,
            ServerMessage::FileAnswer { id, answer } => self.on_file_answer(id, answer).await,
            ServerMessage::ShareChoice { choice } => self.on_share_choice(choice).await,
            // The helper is back on the same connection after its
            // network changed: ICE again, the media and channels kept.
            ServerMessage::RestartIce if self.gate.media_allowed(client::now()) => {
                println!("tandem-agent: the helper is back; restarting ICE");
                let restart = if self.live.is_some() {
                    self.restart_ice().await
                } else {
                    self.start_peer().await
                };
                return restart.into_iter().collect();
            }
            // The helper (re)joined without a connection: a fresh one, same
            // consent.
            ServerMessage::Renegotiate if self.gate.media_allowed(client::now()) => {
                return self.start_peer().await.into_iter().collect();
            }
            ServerMessage::Answer { sdp } => {
                let Some(live) = &self.live else {
                    return Vec::new();
                };
                if let Err(error) = live.peer.accept_answer(sdp).await {
                    tracing::warn!(%error, "the helper's answer was refused");
                } else if self.restarts.answered() {
                    return self.restart_ice().await.into_iter().collect();
                }
            }
            ServerMessage::Ice { candidate } => {
                if let Some(live) = &self.live
                    && let Err(error) = live.peer.add_candidate(candidate).await
                {
                    tracing::debug!(%error, "a candidate was refused");
                }
            }
            ServerMessage::Ping { nonce } => return vec![ClientMessage::Pong { nonce }],
            ServerMessage::Error { problem } => {
                tracing::warn!(detail = ?problem.detail, "signaling refused a message");
            }
            _ => {}
        }
        Vec::new()
    }

    /// What the server says of the helper's absence (`left_ms`: how long
    /// they have to come back, as of now).
    pub(super) fn note_helper_away(&mut self, left_ms: Option<u64>) {
        let was_away = self.helper_back_by.is_some();
        self.helper_back_by = left_ms.map(|ms| {
            UnixMillis(
                client::now()
                    .0
                    .saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)),
            )
        });
        match left_ms {
            Some(ms) if !was_away => println!(
                "tandem-agent: the helper is away; the session ends unless they are back within {}",
                crate::indicator::minutes_seconds(ms)
            ),
            None if was_away => println!("tandem-agent: the helper is back"),
            _ => {}
        }
    }
}
