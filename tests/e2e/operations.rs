//! Operating a server: `/metrics` on an address of its own, and SIGTERM
//! draining the server's sockets before it exits.

use futures_util::StreamExt;
use std::time::{Duration, Instant};
use tandem_protocol::routes;
use tandem_tests::flows::{session_cookie, signaling_socket};
use tandem_tests::{ServerOptions, TestServer, free_port};
use tokio_tungstenite::tungstenite::Message;

async fn metrics_text(http: &reqwest::Client, url: &str) -> String {
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {url}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn sigterm_closes_the_sockets_then_exits_and_metrics_have_their_own_address() {
    let metrics_port = free_port().unwrap();
    let options = ServerOptions {
        config_toml: Some(format!(
            "metrics_bind = \"127.0.0.1:{metrics_port}\"\ndrain_seconds = 5\n"
        )),
        ..ServerOptions::default()
    };
    let mut server = TestServer::start_with(options).await.unwrap();
    let http = reqwest::Client::new();
    let cookie = session_cookie(&http, &server, "megan@contoso.test").await;
    let mut socket = signaling_socket(&server, &cookie).await;

    // The metrics address needs no token; the main one has no /metrics.
    let metrics_url = format!("http://127.0.0.1:{metrics_port}{}", routes::METRICS);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = metrics_text(&http, &metrics_url).await;
        if text.contains("tandem_sockets{kind=\"signaling\"} 1") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the socket is never counted:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let main = http.get(server.url(routes::METRICS)).send().await.unwrap();
    assert_eq!(main.status(), 404);

    let signalled = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(server.pid()).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    // The server closes the console's socket (so that it reconnects to
    // the server once it is back), then exits within the drain bound.
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(frame) = socket.next().await {
            if matches!(frame, Err(_) | Ok(Message::Close(_))) {
                return;
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the socket was not closed by the drain");
    // drain_seconds (5) bounds the whole drain; 2 s more for the process
    // to end and be reaped.
    let deadline = signalled + Duration::from_secs(7);
    let status = loop {
        if let Some(status) = server.exit_status() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not exit within the drain bound"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");
    assert!(server.log().contains("drained; closing the listener"));
}
