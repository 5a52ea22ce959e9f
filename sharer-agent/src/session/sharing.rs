//! The whole screen or one window, as the sharer chooses on her page (the
//! server relays her [`ShareChoice`]). While one window is shared the
//! session looks where it is ten times a second: the capture shows only
//! its area (the [`Mask`] in the stream's switches), the injector admits
//! only input inside it (keys while it has the keyboard), and when it is
//! closed or minimized nothing is shown at all. The helper (control
//! channel) and the sharer (her page) are told what is shared at each
//! change.

use super::Session;
use crate::window::{Located, Mask, WindowInput, Windows};
use tandem_protocol::input::Control;
use tandem_protocol::sharing::{MAX_WINDOWS, ShareChoice, Shared, WindowChoice, clean_title};
use tandem_protocol::signal::ClientMessage;

/// The one window shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WindowShare {
    id: u64,
    title: String,
    located: Option<Located>,
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
                self.window_share = Some(WindowShare {
                    id,
                    title: chosen.title,
                    located: None,
                });
                self.keep_window().await;
            }
            ShareChoice::Screen => {
                if self.window_share.take().is_some() {
                    println!("tandem-agent: sharing the whole screen again");
                }
                self.apply_mask(Mask::Screen, None);
            }
        }
        self.announce_shared().await;
    }

    /// Where the shared window is now: the mask and the input rule follow
    /// it; a change of whether it is shown is announced.
    pub(super) async fn keep_window(&mut self) {
        let Some(id) = self.window_share.as_ref().map(|w| w.id) else {
            return;
        };
        let located = match self.windows().map(|w| w.locate(id)) {
            Some(Ok(located)) => located,
            Some(Err(error)) => {
                tracing::debug!(%error, "locating the shared window failed");
                None
            }
            None => None,
        };
        let display = self.shown_display().cloned();
        let mask = match &display {
            Some(display) => Mask::of(located.as_ref(), display),
            None => Mask::Window(None),
        };
        let focused = located.is_some_and(|l| l.focused);
        self.apply_mask(mask, Some(focused));
        let Some(share) = self.window_share.as_mut() else {
            return;
        };
        let was_gone = share.located.is_none();
        share.located = located;
        if was_gone != located.is_none() {
            self.announce_shared().await;
        }
    }

    fn apply_mask(&mut self, mask: Mask, focused: Option<bool>) {
        if let Ok(mut current) = self.switches.window.lock() {
            *current = mask;
        }
        if let Some(injector) = &mut self.injector {
            injector.set_window(focused.map(|focused| WindowInput { mask, focused }));
        }
    }

    /// What is shared now.
    pub(super) fn shared(&self) -> Shared {
        match &self.window_share {
            None => Shared::Screen,
            Some(share) => Shared::Window {
                title: share.title.clone(),
                gone: share.located.is_none(),
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
