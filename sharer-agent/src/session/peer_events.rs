//! What the WebRTC connection reports: candidates for the helper, its
//! state (the bar, ICE restarts, the packetizer) and its channels opening.

use super::*;

impl Session {
    pub(super) async fn on_peer(&mut self, event: PeerEvent) -> Option<ClientMessage> {
        match event {
            PeerEvent::Candidate(candidate) => return Some(ClientMessage::Ice { candidate }),
            PeerEvent::Connection(RTCPeerConnectionState::Disconnected) => {
                self.restarts.connection(false);
                if self.live.is_some() {
                    println!("tandem-agent: the helper's connection dropped; reconnecting");
                    self.indicator.set_link_lost(true);
                }
            }
            PeerEvent::Connection(RTCPeerConnectionState::Connected) => {
                self.indicator.set_link_lost(false);
                self.restarts.connection(true);
                let live = self.live.as_mut()?;
                if live.packetizer.is_some() {
                    // Back after a cut or an ICE restart: the same stream
                    // goes on (its sequence unbroken), from a keyframe.
                    self.switches.keyframe.store(true, Ordering::Release);
                    return None;
                }
                match live.peer.negotiated().await {
                    Ok(negotiated) => {
                        match negotiated.playout_delay_id {
                            Some(_) => tracing::info!(
                                "the browser shows each frame as soon as it is decoded"
                            ),
                            None => tracing::info!(
                                "the browser did not take the playout-delay extension"
                            ),
                        }
                        live.packetizer = Some(
                            Packetizer::new(live.peer.ssrc(), negotiated, self.epoch, random_u32())
                                .with_playout_max_ms(crate::media::rtp::playout_max_ms_from_env()),
                        );
                        self.switches.keyframe.store(true, Ordering::Release);
                    }
                    Err(error) => tracing::warn!(%error, "no video codec was negotiated"),
                }
            }
            // Failed, or closed by the helper's side: a fresh connection
            // is offered (the gate permitting), on which a file transfer
            // under way resumes.
            PeerEvent::Connection(
                state @ (RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed),
            ) => {
                self.restarts.connection(false);
                tracing::info!(?state, "the connection to the helper ended");
                self.switches.tiles.store(false, Ordering::Release);
                if let Some(live) = self.live.take() {
                    live.peer.close().await;
                }
            }
            PeerEvent::Connection(_) => {}
            PeerEvent::Open(CONTROL_CHANNEL) => {
                self.sent_status = None;
                let displays = Control::Displays {
                    displays: self.displays.clone(),
                    current: self.current_display,
                };
                self.control(&displays).await;
                if let Desktop::Secure { followed } = self.desktop {
                    let secure = Control::SecureDesktop {
                        active: true,
                        visible: followed,
                    };
                    self.control(&secure).await;
                }
                if let Some(shape) = self.cursor_shape.clone() {
                    self.control(&Control::CursorShape { shape }).await;
                }
                let shared = self.shared();
                self.control(&Control::Shared { shared }).await;
            }
            PeerEvent::Open(TILES_CHANNEL) => {
                if let Some(live) = &mut self.live {
                    live.tiles_open = true;
                }
                self.switches
                    .tiles
                    .store(self.tiles_enabled, Ordering::Release);
            }
            PeerEvent::Open(ANNOTATION_CHANNEL) => self.announce_annotation().await,
            PeerEvent::Open(CLIPBOARD_CHANNEL) => self.clipboard.reset(),
            PeerEvent::Open(FILES_CHANNEL) => {
                let effects = self.files.channel_opened(Instant::now());
                self.apply_files(effects).await;
            }
            PeerEvent::Open(_) => {}
            PeerEvent::Message { channel, bytes } => self.on_channel(channel, &bytes).await,
            PeerEvent::Keyframe => self.switches.keyframe.store(true, Ordering::Release),
        }
        None
    }
}
