//! How people act on a session's device: the helper through the data
//! channels (input, which reaches the OS only through the gate and never
//! presses the sharer's bar, and control messages), and the sharer through
//! the buttons of the sharing indicator.

use super::Session;
use crate::client;
use crate::indicator::label;
use crate::inject::InjectError;
use std::sync::atomic::Ordering;
use tandem_protocol::agent::{AgentClientMessage, SharerAction};
use tandem_protocol::annotation::ANNOTATION_CHANNEL;
use tandem_protocol::clipboard::CLIPBOARD_CHANNEL;
use tandem_protocol::files::FILES_CHANNEL;
use tandem_protocol::input::{Control, Display, INPUT_CHANNEL, Input, POINTER_CHANNEL};
use tandem_protocol::tiles::TILES_CHANNEL;
use tokio::sync::mpsc;

impl Session {
    /// The display being shared, once the capture loop has said which.
    pub(super) fn shown_display(&self) -> Option<&Display> {
        self.displays.iter().find(|d| d.id == self.current_display)
    }

    /// The sharer pressed a button on the indicator: the server applies it
    /// as the sharer's (the new state comes back on the signaling socket).
    /// Stop also ends the sharing here at once.
    pub(super) fn on_click(
        &mut self,
        action: SharerAction,
        to_server: &mpsc::Sender<AgentClientMessage>,
    ) {
        println!(
            "tandem-agent: the sharer pressed {} on the device",
            label(action)
        );
        let message = AgentClientMessage::Act {
            session: self.gate.session().clone(),
            action,
        };
        if let Err(error) = to_server.try_send(message) {
            tracing::warn!(%error, "the sharer's action could not be queued for the server");
        }
        if action == SharerAction::Stop {
            self.stopped_on_device = true;
            self.gate.end("stopped on the device");
        }
    }

    /// Input reaches the OS only through the gate, whatever the peer sends.
    pub(super) async fn on_channel(&mut self, channel: &str, bytes: &[u8]) {
        match channel {
            INPUT_CHANNEL | POINTER_CHANNEL => match Input::parse(bytes) {
                // Where the helper may act at all, never on the sharer's
                // own buttons (the gate refuses everything else first).
                Ok(input)
                    if self.gate.input_allowed(client::now())
                        && self.indicator.blocks(&input, self.shown_display()) =>
                {
                    let refused = Control::Refused {
                        reason: "that is the sharer's sharing bar: only they can press it".into(),
                    };
                    self.control(&refused).await;
                }
                Ok(input) => {
                    self.refresh_window_for(&input).await;
                    let asking = self.files.asking();
                    let Some(injector) = &mut self.injector else {
                        return;
                    };
                    injector.hold_for_consent(asking);
                    let offered = injector.offer(&self.gate, client::now(), &input);
                    self.elevation_unreported |= injector.take_elevation_used();
                    if let Err(InjectError::Unsupported(reason)) = offered {
                        let refused = Control::Refused {
                            reason: reason.to_owned(),
                        };
                        self.control(&refused).await;
                    }
                }
                Err(error) => {
                    self.malformed += 1;
                    tracing::debug!(%error, "input message dropped");
                }
            },
            CLIPBOARD_CHANNEL => self.on_clipboard(bytes).await,
            FILES_CHANNEL => self.on_files(bytes).await,
            ANNOTATION_CHANNEL => self.on_annotation(bytes),
            // Agent → helper only.
            TILES_CHANNEL => {
                self.malformed += 1;
                tracing::debug!("a message on the tiles channel dropped");
            }
            _ => match Control::parse(bytes) {
                Ok(Control::SelectDisplay { id }) if self.displays.iter().any(|d| d.id == id) => {
                    tracing::info!(id, "the helper picked a display");
                    self.switches.display.store(id, Ordering::Release);
                }
                Ok(Control::SelectDisplay { id }) => {
                    let refused = Control::Refused {
                        reason: format!("the device has no display {id}"),
                    };
                    self.control(&refused).await;
                }
                Ok(_) => {}
                Err(error) => {
                    self.malformed += 1;
                    tracing::debug!(%error, "control message dropped");
                }
            },
        }
    }
}
