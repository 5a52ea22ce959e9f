//! The session loop over channels instead of a WebSocket.

use super::*;
use crate::journal::Entry;
use ed25519_dalek::SigningKey;
use futures_util::StreamExt;
use futures_util::stream;

struct NoLog;

impl DeviceLog for NoLog {
    fn write(&self, _entry: &Entry) -> Result<(), crate::journal::LogError> {
        Ok(())
    }
}

fn context(stop: watch::Receiver<bool>) -> SessionContext {
    let dir = std::env::temp_dir().join(format!("tandem-loop-{}", std::process::id()));
    let identity = Identity::load_or_create(&dir).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    SessionContext {
        server: "http://127.0.0.1:1".into(),
        identity: Arc::new(identity),
        stop,
        show: |_| {},
        log: Arc::new(NoLog),
        sign_out_after: Duration::from_secs(60),
        to_server: mpsc::channel(1).0,
        state_dir: dir,
    }
}

/// Before the fix, a failed send left only the inner `for`: the loop went
/// on with a server that could no longer hear it, and this hung until the
/// guard's timeout. Now `run` returns at the failed send.
#[tokio::test]
async fn a_send_the_server_does_not_take_ends_the_session() {
    let sends = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = sends.clone();
    // Every send fails, as on a connection whose writing half is gone.
    let sink = Box::pin(futures_util::sink::unfold(
        (),
        move |(), _: ClientMessage| {
            counted.fetch_add(1, Ordering::Relaxed);
            async { Err::<(), _>(()) }
        },
    ));
    // A ping wants an answer; then the server says nothing more, but its
    // side of the stream stays open.
    let signals = stream::iter([ServerMessage::Ping { nonce: 7 }]).chain(stream::pending());
    let (_stop_tx, stop) = watch::channel(false);
    let verifying = SigningKey::from_bytes(&[9; 32]).verifying_key();
    let session = SessionId::from("s1");
    let finished = tokio::time::timeout(
        Duration::from_secs(60),
        run(context(stop), verifying, session, sink, signals, None),
    )
    .await;
    assert_eq!(finished, Ok(Finish::Ended));
    assert_eq!(sends.load(Ordering::Relaxed), 1, "the pong was tried once");
}
