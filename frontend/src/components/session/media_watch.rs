//! The helper's reading of the media connection, once a second: the
//! figures of the quality overlay, and how many readings in a row brought
//! no media byte. The device sends at least a keep-alive frame a second,
//! so a few silent readings mean the path is down well before WebRTC
//! itself calls it disconnected (Chromium may go on calling it
//! connected).

use crate::rtc::peer::PeerSlot;
use crate::rtc::stats::{self, MediaStats};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Silent readings in a row after which the picture counts as stopped.
pub const MEDIA_SILENT_READINGS: u32 = 3;

/// What the readings give the page.
#[derive(Clone, Copy)]
pub struct MediaWatch {
    /// Seconds since the page opened (the timer's tick).
    pub now: RwSignal<u32>,
    pub stats: RwSignal<Option<MediaStats>>,
    /// Readings in a row in which no media byte arrived.
    pub silent_readings: RwSignal<u32>,
}

impl MediaWatch {
    /// Reads `peer`'s connection every second while the page lives.
    pub fn start(peer: PeerSlot) -> Self {
        let watch = Self {
            now: RwSignal::new(0),
            stats: RwSignal::new(None),
            silent_readings: RwSignal::new(0),
        };
        if let Ok(handle) = set_interval_with_handle(
            move || {
                watch.now.update(|n| *n += 1);
                if let Some(p) = peer.borrow().clone() {
                    spawn_local(async move { watch.read(&p).await });
                }
            },
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
        watch
    }

    async fn read(self, peer: &crate::rtc::peer::Peer) {
        let before = self.stats.get_untracked();
        let Some(reading) = stats::read(peer.connection(), before.as_ref()).await else {
            return;
        };
        let silent = before
            .as_ref()
            .is_some_and(|b| b.bytes > 0.0 && reading.bytes <= b.bytes);
        self.silent_readings.set(if silent {
            self.silent_readings.get_untracked() + 1
        } else {
            0
        });
        self.stats.set(Some(reading));
    }

    /// Whether the picture has stopped arriving.
    pub fn silent(&self) -> bool {
        self.silent_readings.get() >= MEDIA_SILENT_READINGS
    }

    /// [`Self::silent`], read outside any reactive scope.
    pub fn silent_untracked(&self) -> bool {
        self.silent_readings.get_untracked() >= MEDIA_SILENT_READINGS
    }
}

/// Whether the picture is down: silent readings, or WebRTC's own
/// connection state (`state`) says so.
pub fn media_down(silent: bool, state: &str) -> bool {
    silent || matches!(state, "disconnected" | "failed")
}
