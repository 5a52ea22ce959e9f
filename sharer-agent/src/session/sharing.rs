//! The whole screen or one window, as the sharer chooses on her page (the
//! server relays her [`ShareChoice`]). The capture finds the window itself
//! at every frame (`media/window_mask.rs`); the session looks where it is
//! ten times a second, and again before every press the helper makes, for
//! the injector's rule (input only inside it, keys only while it has the
//! keyboard). A closed window is never followed again (its id may name
//! another one): nothing is shown until the sharer chooses again. The
//! helper (control channel) and the sharer (her page) are told what is
//! shared at each change.

use super::Session;
use crate::capture::Desktop;
use crate::media::window_mask::{NOTHING, WHOLE_SCREEN};
use crate::window::{Mask, Presence, WindowInput, Windows};
use std::sync::atomic::Ordering;
use tandem_protocol::input::{Control, Input};
use tandem_protocol::sharing::{MAX_WINDOWS, ShareChoice, Shared, WindowChoice, clean_title};
use tandem_protocol::signal::ClientMessage;

/// The one window shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WindowShare {
    id: u64,
    title: String,
    /// Shown on the shared display now.
    shown: bool,
    /// Closed: not followed again.
    closed: bool,
}

impl Session {
    fn windows(&mut self) -> Option<&mut Box<dyn Windows>> {
        if self.windows.is_none() {
            match crate::platform::desktop_windows() {
                Ok(windows) => self.windows = Some(windows),
                Err(error) => tracing::warn!(%error, "the device's windows cannot be listed"),
            }
        }
        self.windows.as_mut()
    }

    fn list_windows(&mut self) -> Vec<WindowChoice> {
        let listed = match self.windows().map(|w| w.list()) {
            Some(Ok(listed)) => listed,
            Some(Err(error)) => {
                tracing::warn!(%error, "listing the device's windows failed");
                Vec::new()
            }
            None => Vec::new(),
        };
        listed
            .into_iter()
            .take(MAX_WINDOWS)
            .map(|w| WindowChoice {
                id: w.id,
                title: clean_title(&w.title),
            })
            .collect()
    }

    /// The sharer's choice from her page.
    pub(super) async fn on_share_choice(&mut self, choice: ShareChoice) {
        match choice {
            ShareChoice::ListWindows => {
                let windows = self.list_windows();
                self.for_server.push(ClientMessage::Windows { windows });
                return;
            }
            // Her page was opened: what is shared, and whether drawing is
            // switched off.
            ShareChoice::Tell => self.tell_drawing_state(),
            ShareChoice::Window { id } => {
                let Some(chosen) = self.list_windows().into_iter().find(|w| w.id == id) else {
                    tracing::info!(id, "the sharer picked a window that is not there");
                    self.announce_shared().await;
                    return;
                };
                println!(
                    "tandem-agent: sharing one window only: \u{201c}{}\u{201d}",
                    chosen.title
                );
                self.switches.window.store(id, Ordering::Release);
                self.window_share = Some(WindowShare {
                    id,
                    title: chosen.title,
                    shown: false,
                    closed: false,
                });
                self.keep_window().await;
            }
            ShareChoice::Screen => {
                if self.window_share.take().is_some() {
                    println!("tandem-agent: sharing the whole screen again");
                }
                self.switches.window.store(WHOLE_SCREEN, Ordering::Release);
                if let Some(injector) = &mut self.injector {
                    injector.set_window(None);
                }
            }
        }
        self.announce_shared().await;
    }

    /// Where the shared window is now, for the injector's rule; a change of
    /// whether it is shown is announced.
    pub(super) async fn keep_window(&mut self) {
        let Some(share) = self.window_share.clone() else {
            return;
        };
        let presence = if share.closed || matches!(self.desktop, Desktop::Secure { .. }) {
            Presence::Hidden
        } else {
            match self.windows().map(|w| w.locate(share.id)) {
                Some(Ok(presence)) => presence,
                Some(Err(error)) => {
                    tracing::debug!(%error, "locating the shared window failed");
                    Presence::Hidden
                }
                None => Presence::Hidden,
            }
        };
        let closed = share.closed || presence == Presence::Gone;
        if closed && !share.closed {
            println!(
                "tandem-agent: the shared window was closed; nothing is shared until you choose again"
            );
            self.switches.window.store(NOTHING, Ordering::Release);
        }
        let mask = match self.shown_display() {
            Some(display) => Mask::of(presence.located(), display),
            None => Mask::Window(None),
        };
        let shown = mask != Mask::Window(None);
        let focused = presence.located().is_some_and(|l| l.focused);
        if let Some(injector) = &mut self.injector {
            injector.set_window(Some(WindowInput { mask, focused }));
        }
        if let Some(current) = self.window_share.as_mut() {
            current.closed = closed;
            current.shown = shown;
        }
        if (share.shown, share.closed) != (shown, closed) {
            self.announce_shared().await;
        }
    }

    /// Before a press reaches the device while one window is shared: the
    /// rule as of now, not of up to 100 ms ago.
    pub(super) async fn refresh_window_for(&mut self, input: &Input) {
        let press = matches!(
            input,
            Input::Button { down: true, .. }
                | Input::Key { down: true, .. }
                | Input::Text { .. }
                | Input::Wheel { .. }
        );
        if press && self.window_share.is_some() {
            self.keep_window().await;
        }
    }

    /// What is shared now.
    pub(super) fn shared(&self) -> Shared {
        match &self.window_share {
            None => Shared::Screen,
            Some(share) => Shared::Window {
                title: share.title.clone(),
                gone: !share.shown,
            },
        }
    }

    /// Tells the helper and the sharer what is shared.
    pub(super) async fn announce_shared(&mut self) {
        let shared = self.shared();
        self.control(&Control::Shared {
            shared: shared.clone(),
        })
        .await;
        self.for_server.push(ClientMessage::Shared { shared });
    }
}
