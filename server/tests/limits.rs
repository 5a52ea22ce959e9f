//! Resource bounds: concurrent password hashing under a flood of failed
//! sign-ins, and the connection limits (header-read timeout, idle
//! keep-alive, connections per address) against a real listener.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::ws::{Message as WsMessage, WebSocketUpgrade};
use axum::http::{StatusCode, header};
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Options, app_configured, problem};
use tandem_server::auth::throttle::{Limit, Limits};
use tandem_server::auth::{HashLimits, PasswordHasher};
use tandem_server::connections::{ConnectionLimits, serve};
use tandem_server::seed::DEMO_PASSWORD;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

/// The resident set of this test process, in KiB.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_failed_sign_ins_stay_within_the_hashing_bound() {
    let loose = Limit {
        max: 100_000,
        window_millis: 60_000,
    };
    let limits = HashLimits {
        wait: Duration::from_secs(2),
        ..HashLimits::default()
    };
    let hasher = Arc::new(PasswordHasher::new(limits).unwrap());
    let app = Arc::new(
        app_configured(
            Path::new("/nonexistent-dist"),
            Options {
                // Loose login limits, so that every attempt reaches the hasher.
                login_limits: Limits {
                    failures_per_account: loose,
                    attempts_per_address: loose,
                    attempts_overall: loose,
                },
                hasher: hasher.clone(),
                ..Options::default()
            },
        )
        .await,
    );
    let before = rss_kib();

    let attempts: Vec<_> = (0..200)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                // Mostly unknown accounts (the decoy hash), some real ones.
                let email = if i % 4 == 0 {
                    "megan@contoso.test".to_owned()
                } else {
                    format!("nobody{i}@contoso.test")
                };
                app.login(&email, "wrong password").await
            })
        })
        .collect();
    let (mut refused, mut busy) = (0, 0);
    let everything = tokio::time::timeout(Duration::from_secs(180), async {
        for attempt in attempts {
            let response = attempt.await.unwrap();
            match response.status() {
                StatusCode::UNAUTHORIZED => refused += 1,
                StatusCode::SERVICE_UNAVAILABLE => {
                    busy += 1;
                    assert!(response.headers().contains_key(header::RETRY_AFTER));
                    assert_eq!(problem(response).await.kind, "/problems/busy");
                }
                other => panic!("a failed sign-in answered {other}"),
            }
        }
    });
    everything.await.expect("every sign-in gets an answer");
    let after = rss_kib();

    let bound = limits.max_concurrent;
    assert_eq!(
        hasher.max_concurrent_seen(),
        bound,
        "the flood fills the bound and never exceeds it"
    );
    assert!(refused > 0, "some attempts were checked");
    println!(
        "200 failed sign-ins, {bound} hashes at once: {refused} refused, {busy} busy; \
         VmRSS {before:?} KiB before, {after:?} KiB after"
    );
    // Each hashing thread keeps one 19 MiB block (plus the decoy hash);
    // allocating a block per hash kept over 500 MiB here.
    if let (Some(before), Some(after)) = (before, after) {
        assert!(
            after.saturating_sub(before) < 384 * 1024,
            "grew by {} MiB",
            (after - before) / 1024
        );
    }

    let response = app.login("megan@contoso.test", DEMO_PASSWORD).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the right password still works"
    );
    assert_eq!(hasher.max_concurrent_seen(), bound);
}

#[tokio::test]
async fn sign_ins_that_wait_too_long_for_the_hasher_get_503_with_retry_after() {
    let hasher = Arc::new(
        PasswordHasher::new(HashLimits {
            max_concurrent: 1,
            wait: Duration::from_millis(1),
        })
        .unwrap(),
    );
    let app = Arc::new(
        app_configured(
            Path::new("/nonexistent-dist"),
            Options {
                hasher: hasher.clone(),
                ..Options::default()
            },
        )
        .await,
    );
    let attempts: Vec<_> = (0..20)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(
                async move { app.login(&format!("nobody{i}@contoso.test"), "wrong").await },
            )
        })
        .collect();
    let (mut refused, mut busy) = (0, 0);
    for attempt in attempts {
        let response = attempt.await.unwrap();
        match response.status() {
            StatusCode::UNAUTHORIZED => refused += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                busy += 1;
                assert_eq!(response.headers()[header::RETRY_AFTER], "1");
                let problem = problem(response).await;
                assert_eq!(problem.kind, "/problems/busy");
                assert_eq!(problem.status, 503);
            }
            other => panic!("a failed sign-in answered {other}"),
        }
    }
    assert!(refused >= 1 && busy >= 1, "{refused} refused, {busy} busy");
    assert_eq!(hasher.max_concurrent_seen(), 1);
}

/// Starts `router` on a port of 127.0.0.1 with `limits`; the sender stops it.
async fn start(
    router: Router,
    limits: ConnectionLimits,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, router, limits, None, async move {
        let _ = stopped.await;
    }));
    (addr, stop, server)
}

fn limits(header_read_timeout: Duration, per_address: usize) -> ConnectionLimits {
    ConnectionLimits {
        header_read_timeout,
        per_address,
        ..ConnectionLimits::default()
    }
}

/// A router that tells the peer address and echoes on a WebSocket.
fn echo_router() -> Router {
    Router::new()
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        )
        .route(
            "/ws",
            get(|ws: WebSocketUpgrade| async move {
                ws.on_upgrade(|mut socket| async move {
                    while let Some(Ok(message)) = socket.recv().await {
                        if let WsMessage::Text(text) = message
                            && socket.send(WsMessage::Text(text)).await.is_err()
                        {
                            break;
                        }
                    }
                })
            }),
        )
}

/// Sends `GET path` on a kept-alive connection and returns the response
/// (head and body), or `None` when the server closed the connection.
/// Whether a new connection to `addr` is served within about 2 s: the
/// server frees a slot only once it sees a close.
async fn served_again(addr: std::net::SocketAddr) -> bool {
    for _ in 0..100 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        if get_on(&mut stream, "/peer").await.is_some() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

async fn get_on(stream: &mut TcpStream, path: &str) -> Option<String> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("the server answers or closes")
            .ok()?;
        if n == 0 {
            return None;
        }
        response.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&response).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= length {
                return Some(text);
            }
        }
    }
}

/// Reads until the server closes the connection; how long that took.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut chunk = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit, stream.read(&mut chunk)).await {
            Err(_) => panic!("the connection is still open after {limit:?}"),
            Ok(Ok(0) | Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn unfinished_headers_and_idle_keep_alives_are_closed_after_the_timeout() {
    let app = support::app().await;
    let (addr, stop, server) = start(app.router.clone(), limits(Duration::from_secs(1), 64)).await;

    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /api/auth/me HT").await.unwrap();
    let took = closed_within(&mut slow, Duration::from_secs(5)).await;
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");

    // A kept-alive connection is served, then closed when idle.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    let response = get_on(&mut idle, "/api/auth/me").await.unwrap();
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    closed_within(&mut idle, Duration::from_secs(5)).await;

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn connections_over_the_per_address_limit_are_refused_until_some_close() {
    let (addr, stop, server) = start(echo_router(), limits(Duration::from_secs(30), 3)).await;

    let mut open = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let response = get_on(&mut stream, "/peer").await.expect("served");
        // The handlers see the peer, as with `ConnectInfo` before.
        let port = stream.local_addr().unwrap().port();
        assert!(
            response.ends_with(&format!("127.0.0.1:{port}")),
            "{response}"
        );
        open.push(stream);
    }
    let mut extra = TcpStream::connect(addr).await.unwrap();
    closed_within(&mut extra, Duration::from_secs(5)).await;
    // The open ones are untouched.
    assert!(get_on(&mut open[0], "/peer").await.is_some());

    drop(open.pop());
    // The server frees the slot once it sees the close.
    let accepted = served_again(addr).await;
    assert!(accepted, "a new connection is served once one closed");

    drop(open);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn websockets_outlive_the_header_timeout_and_shutdown_completes() {
    let (addr, stop, server) = start(echo_router(), limits(Duration::from_secs(1), 64)).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    socket.send(Message::text("still here")).await.unwrap();
    let echo = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(echo, Message::text("still here"));

    // An idle keep-alive connection does not hold the shutdown.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    assert!(get_on(&mut idle, "/peer").await.is_some());
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}

/// WebSockets count against the per-address limit for as long as they
/// are open, not only while they were HTTP requests: an outsider cannot
/// pile up long-lived sockets from one address.
#[tokio::test]
async fn websockets_count_against_the_per_address_limit_while_open() {
    let (addr, stop, server) = start(echo_router(), limits(Duration::from_secs(30), 2)).await;
    let mut sockets = Vec::new();
    for _ in 0..2 {
        let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
            .await
            .unwrap();
        socket.send(Message::text("up")).await.unwrap();
        assert!(socket.next().await.is_some(), "the WebSocket answers");
        sockets.push(socket);
    }
    let mut extra = TcpStream::connect(addr).await.unwrap();
    closed_within(&mut extra, Duration::from_secs(5)).await;
    // Once one closes, its place is free again.
    let mut first = sockets.remove(0);
    first.close(None).await.unwrap();
    drop(first);
    let accepted = served_again(addr).await;
    assert!(
        accepted,
        "a new connection is served once a WebSocket closed"
    );
    drop(sockets);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

/// A POST from `address` (as the connection's peer).
fn from(
    address: [u8; 4],
    path: &str,
    body: &serde_json::Value,
    cookie: Option<&str>,
) -> axum::http::Request<axum::body::Body> {
    let mut request = axum::http::Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .extension(ConnectInfo(SocketAddr::from((address, 40_000))));
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request
        .body(axum::body::Body::from(body.to_string()))
        .unwrap()
}

/// The overall limits are per tenant (and one for unknown accounts): a
/// flood from many addresses fills only its own bucket. Another tenant's
/// people sign in and redeem codes as usual, and even in the flooded
/// tenant a right password still gets in while wrong ones get 429.
#[tokio::test]
async fn one_tenants_flood_never_locks_another_out() {
    use tandem_protocol::routes::{AUTH_LOGIN, SESSION_REDEEM, SESSIONS};
    let tight = Limits {
        attempts_overall: Limit {
            max: 4,
            window_millis: 60_000,
        },
        ..Limits::default()
    };
    let app = app_configured(
        Path::new("/nonexistent-dist"),
        Options {
            login_limits: tight,
            ..Options::default()
        },
    )
    .await;
    let login =
        |email: &str, password: &str| serde_json::json!({ "email": email, "password": password });
    let status = |response: axum::http::Response<axum::body::Body>| response.status();
    // Made-up e-mails from several addresses fill the unknown accounts'
    // bucket.
    for i in 0..4u8 {
        let body = login(&format!("nobody{i}@nowhere.test"), "wrong-password");
        let response = app.send(from([10, 9, 0, i], AUTH_LOGIN, &body, None)).await;
        assert_eq!(status(response), StatusCode::UNAUTHORIZED);
    }
    // A full bucket of unknown e-mails answers as before: a 429 there
    // would tell a prober that an e-mail has no account.
    let body = login("nobody-more@nowhere.test", "wrong-password");
    let full = app.send(from([10, 9, 0, 9], AUTH_LOGIN, &body, None)).await;
    assert_eq!(status(full), StatusCode::UNAUTHORIZED);
    // Fabrikam's bucket fills up too.
    for i in 0..4u8 {
        let body = login("admin@fabrikam.test", DEMO_PASSWORD);
        let response = app.send(from([10, 9, 1, i], AUTH_LOGIN, &body, None)).await;
        assert_eq!(status(response), StatusCode::OK);
    }
    // Contoso is untouched: a right password signs in.
    let body = login("megan@contoso.test", DEMO_PASSWORD);
    let megan = app.send(from([10, 9, 2, 1], AUTH_LOGIN, &body, None)).await;
    assert_eq!(status(megan), StatusCode::OK);
    // In the full Fabrikam bucket a wrong password gets 429, a right one
    // still gets in.
    let body = login("admin@fabrikam.test", "wrong-password");
    let wrong = app.send(from([10, 9, 1, 9], AUTH_LOGIN, &body, None)).await;
    assert_eq!(status(wrong), StatusCode::TOO_MANY_REQUESTS);
    let body = login("admin@fabrikam.test", DEMO_PASSWORD);
    let right = app
        .send(from([10, 9, 1, 10], AUTH_LOGIN, &body, None))
        .await;
    assert_eq!(right.status(), StatusCode::OK);

    // Codes: Fabrikam's admin redeems his own code from 5 addresses until
    // Fabrikam's bucket is full; Lynne still redeems Megan's code.
    let fabrice = support::session_cookie(&right).unwrap();
    let issued = app
        .call(axum::http::Method::POST, SESSIONS, None, Some(&fabrice))
        .await;
    assert_eq!(issued.status(), StatusCode::CREATED);
    let own: serde_json::Value =
        serde_json::from_slice(&support::body_bytes(issued).await).unwrap();
    let own_code = serde_json::json!({ "code": own["code"] });
    let mut statuses = Vec::new();
    for i in 0..300u16 {
        let address = [10, 9, 3, (i % 5) as u8];
        let response = app
            .send(from(address, SESSION_REDEEM, &own_code, Some(&fabrice)))
            .await;
        statuses.push(response.status().as_u16());
    }
    assert!(statuses.contains(&400), "his own code, refused as such");
    let wrong = serde_json::json!({ "code": "ABCDEFGH" });
    let flooded = app
        .send(from([10, 9, 3, 7], SESSION_REDEEM, &wrong, Some(&fabrice)))
        .await;
    assert_eq!(
        flooded.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "Fabrikam's bucket is full: wrong codes are refused at once"
    );
    let megan = app.sign_in("megan@contoso.test").await;
    let issued = app
        .call(axum::http::Method::POST, SESSIONS, None, Some(&megan))
        .await;
    let issued: serde_json::Value =
        serde_json::from_slice(&support::body_bytes(issued).await).unwrap();
    let lynne = app.sign_in("lynne@contoso.test").await;
    let redeemed = app
        .send(from(
            [10, 9, 4, 1],
            SESSION_REDEEM,
            &serde_json::json!({ "code": issued["code"] }),
            Some(&lynne),
        ))
        .await;
    assert_eq!(
        redeemed.status(),
        StatusCode::OK,
        "another tenant's code works"
    );
}
