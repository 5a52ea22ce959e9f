//! PostgreSQL goes away under a running server and comes back: requests
//! get a 503 problem+json meanwhile (not a hang, not a 500), an open
//! signaling socket stays up, and afterwards everything works again
//! without a restart: the pool, and the replica's bus (its lifeline
//! reconnects and registers again).

use futures_util::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tandem_protocol::routes;
use tandem_protocol::signal::{ClientMessage, ServerMessage};
use tandem_tests::flows::{session_cookie, signaling_socket};
use tandem_tests::postgres::OwnCluster;
use tandem_tests::{ServerOptions, TestServer};
use tokio_tungstenite::tungstenite::Message;

/// Polls `GET path` until it answers `status` (at most `within`); the
/// last answer's body.
async fn until_status(
    http: &reqwest::Client,
    url: &str,
    status: u16,
    within: Duration,
) -> (String, Option<String>) {
    let deadline = Instant::now() + within;
    loop {
        let response = http.get(url).send().await.unwrap();
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let answered = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        if answered == status {
            return (body, kind);
        }
        assert!(
            Instant::now() < deadline,
            "GET {url} never answered {status} (last: {answered} {body})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_server_rides_out_a_database_outage() {
    let mut cluster = OwnCluster::start().unwrap();
    let server = TestServer::start_with(ServerOptions {
        database_url: Some(cluster.url()),
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    // A request that hangs fails the test instead of hanging it.
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let cookie = session_cookie(&http, &server, "megan@contoso.test").await;
    let mut socket = signaling_socket(&server, &cookie).await;

    // The database goes away: 503 problem+json, soon.
    cluster.stop().unwrap();
    let stopped = Instant::now();
    let (body, kind) = until_status(
        &http,
        &server.url(routes::AUTH_ME),
        503,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(kind.as_deref(), Some("application/problem+json"), "{body}");
    assert!(body.contains("unavailable"), "{body}");
    assert!(
        stopped.elapsed() < Duration::from_secs(10),
        "the refusal took {:?}",
        stopped.elapsed()
    );
    until_status(
        &http,
        &server.url(routes::HEALTHZ),
        503,
        Duration::from_secs(10),
    )
    .await;

    // It comes back: the same server serves again, by itself.
    cluster.start_again().unwrap();
    until_status(
        &http,
        &server.url(routes::AUTH_ME),
        200,
        Duration::from_secs(20),
    )
    .await;
    until_status(
        &http,
        &server.url(routes::HEALTHZ),
        200,
        Duration::from_secs(10),
    )
    .await;

    // The socket opened before the outage is still served: a join of a
    // session that does not exist is answered (after a database read).
    let join = ClientMessage::Join {
        session: "no-such-session".into(),
    };
    socket
        .send(Message::text(serde_json::to_string(&join).unwrap()))
        .await
        .unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(frame)) = socket.next().await {
            if let Message::Text(text) = frame
                && let Ok(ServerMessage::Error { problem }) = serde_json::from_str(&text)
            {
                return problem.kind;
            }
        }
        String::new()
    })
    .await
    .unwrap();
    assert!(answer.ends_with("not-found"), "{answer}");

    // The replica's bus came back too: its lifeline registered again, and
    // its listener listens again (and read the live state).
    let deadline = Instant::now() + Duration::from_secs(15);
    for line in [
        "reconnected to the other replicas",
        "the bus listener is back",
    ] {
        while !server.log().contains(line) {
            assert!(
                Instant::now() < deadline,
                "never {line:?}:\n{}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    assert!(!server.log().contains("panicked"), "{}", server.log());
}
