//! A server's life: serving, then draining. Draining (SIGTERM) refuses new
//! sessions and new sockets, closes the open ones so that consoles and
//! agents reconnect (to the server once it is back, within the reconnect
//! window), and lets `lib.rs` wait until they are gone, within a bound.

use super::{SessionError, SessionResult, Sessions};
use crate::metrics::{SocketGuard, SocketKind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::watch;

#[derive(Debug)]
pub(super) struct Lifecycle {
    /// `true` once draining; every open socket's loop waits for it.
    drain_tx: watch::Sender<bool>,
    open_sockets: Arc<AtomicUsize>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            drain_tx: watch::channel(false).0,
            open_sockets: Arc::default(),
        }
    }
}

impl Lifecycle {
    pub(super) fn drain(&self) {
        self.drain_tx.send_replace(true);
    }

    /// Resolves once draining starts (never, while serving).
    pub(super) async fn until_draining(&self) {
        let mut draining = self.drain_tx.subscribe();
        if draining.wait_for(|draining| *draining).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    pub(super) fn is_draining(&self) -> bool {
        *self.drain_tx.borrow()
    }

    pub(super) fn open_sockets(&self) -> usize {
        self.open_sockets.load(Ordering::SeqCst)
    }

    pub(super) fn hold(&self, kind: SocketKind) -> SocketHold {
        self.open_sockets.fetch_add(1, Ordering::SeqCst);
        SocketHold {
            open: self.open_sockets.clone(),
            _metric: SocketGuard::open(kind),
        }
    }
}

impl Sessions {
    /// Starts draining this server: new sessions and sockets are refused
    /// from now on, and the open sockets are closed, so that their consoles
    /// and agents reconnect when it is back (their sessions wait for them in the
    /// database, within the reconnect window).
    pub fn drain(&self) {
        // Each socket's loop ends on the watch and detaches itself, so
        // other replicas hear that it left.
        self.lifecycle().drain();
    }

    /// Resolves once [`Self::drain`] is called: each socket's loop ends on
    /// it, joined to a session or not.
    pub(crate) async fn until_draining(&self) {
        self.lifecycle().until_draining().await;
    }

    /// Whether [`Self::drain`] was called.
    pub fn is_draining(&self) -> bool {
        self.lifecycle().is_draining()
    }

    /// Signaling and agent sockets open on this server.
    pub fn open_sockets(&self) -> usize {
        self.lifecycle().open_sockets()
    }

    /// Counts a socket as open until the hold is dropped; refused while
    /// draining.
    pub fn hold_socket(&self, kind: SocketKind) -> SessionResult<SocketHold> {
        if self.is_draining() {
            return Err(SessionError::Draining);
        }
        Ok(self.lifecycle().hold(kind))
    }
}

/// One open signaling or agent socket, counted until dropped.
#[derive(Debug)]
pub struct SocketHold {
    open: Arc<AtomicUsize>,
    _metric: SocketGuard,
}

impl Drop for SocketHold {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}
