//! A replica's life: serving, then draining. Draining (SIGTERM) refuses new
//! sessions and new sockets, closes the open ones so that consoles and
//! agents reconnect (through the load balancer, to another replica), and
//! lets `lib.rs` wait until they are gone, within a bound.

use crate::metrics::{SocketGuard, SocketKind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::watch;

#[derive(Debug)]
pub(super) struct Lifecycle {
    draining: AtomicBool,
    /// Tells every open socket's loop to end (`true` once draining).
    drain_tx: watch::Sender<bool>,
    open_sockets: Arc<AtomicUsize>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            draining: AtomicBool::new(false),
            drain_tx: watch::channel(false).0,
            open_sockets: Arc::default(),
        }
    }
}

impl Lifecycle {
    pub(super) fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
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
        self.draining.load(Ordering::SeqCst)
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
