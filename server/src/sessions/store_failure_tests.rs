//! What signaling does when the store fails under it: the caller hears
//! that the server failed (not "no such session"), and nothing is dropped
//! without a trace in the log.

use super::test_world::{error_kind, slow, world};
use crate::store::Store;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tandem_protocol::signal::{ClientMessage, ServerMessage};

/// Makes every query on sessions fail, as a lost database would.
async fn break_sessions_table(store: &Store) {
    sqlx::query("ALTER TABLE remote_sessions RENAME TO remote_sessions_gone")
        .execute(store.pool())
        .await
        .unwrap();
}

/// The log lines written while the guard is held (this thread's tasks).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::ERROR)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Before, a store error while joining became the 404 of a stranger.
#[tokio::test]
async fn a_store_error_while_joining_is_a_server_error_not_a_404() {
    let w = world().await;
    let id = w.redeemed().await;
    let mut helper = w.connect("megan@contoso.test", slow()).await;
    break_sessions_table(&w.store).await;
    let log = Captured::default();
    let _guard = log.install();
    helper.send(&ClientMessage::Join { session: id }).await;
    assert_eq!(
        helper.expect("refusal", error_kind).await,
        "/problems/internal"
    );
    assert!(
        log.text().contains("joining a session failed in the store"),
        "{}",
        log.text()
    );
}

/// Before, a store error after a leave was dropped without a word.
#[tokio::test]
async fn a_store_error_after_a_leave_is_logged() {
    let w = world().await;
    let id = w.redeemed().await;
    let mut helper = w.connect("megan@contoso.test", slow()).await;
    helper.send(&ClientMessage::Join { session: id }).await;
    helper
        .expect("joined", |m| {
            matches!(m, ServerMessage::Joined { .. }).then_some(())
        })
        .await;
    let log = Captured::default();
    let _guard = log.install();
    break_sessions_table(&w.store).await;
    helper.closed().await;
    assert!(
        log.text()
            .contains("reading a session after a leave failed"),
        "{}",
        log.text()
    );
}
