//! "Relay only" (issue 22): refused without a TURN server; with one, both
//! ends are told to gather relay candidates only, with credentials from
//! the TURN REST secret.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use axum::http::{Method, StatusCode};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::path::Path;
use support::{App, Options, app, app_configured, issue, problem};
use tandem_protocol::routes;
use tandem_server::clock::Clock;
use tandem_server::domain::ice::{IceConfig, TurnRest};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

async fn set_relay_only(app: &App, admin: &str, on: bool) -> axum::response::Response {
    let mut settings = app.get_json(routes::ADMIN_SETTINGS, admin).await;
    settings["relay_only"] = json!(on);
    app.call(
        Method::PUT,
        routes::ADMIN_SETTINGS,
        Some(&settings),
        Some(admin),
    )
    .await
}

/// The first message on a signaling socket that joins `session`.
async fn joined(app: &App, cookie: &str, session: &str) -> Value {
    let (first, _) = open_joined(app, cookie, session).await;
    first
}

/// The reply to `message` on a signaling socket joined to `session`.
async fn signal(app: &App, cookie: &str, session: &str, message: Value) -> Value {
    let (_, mut socket) = open_joined(app, cookie, session).await;
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
    loop {
        let frame = socket.next().await.unwrap().unwrap();
        let value: Value = serde_json::from_str(frame.to_text().unwrap()).unwrap();
        if value["type"] == "error" {
            return value;
        }
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open_joined(app: &App, cookie: &str, session: &str) -> (Value, Socket) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let mut request = format!("ws://{addr}{}", routes::SIGNAL)
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert("origin", support::ORIGIN.parse().unwrap());
    headers.insert("cookie", cookie.parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let join = json!({ "type": "join", "session": session }).to_string();
    socket.send(Message::Text(join.into())).await.unwrap();
    let first = socket.next().await.unwrap().unwrap();
    (
        serde_json::from_str(first.to_text().unwrap()).unwrap(),
        socket,
    )
}

#[tokio::test]
async fn relay_only_is_refused_without_a_turn_server() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    let response = set_relay_only(&app, &admin, true).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(problem(response).await.message().contains("TURN server"));
    let settings = app.get_json(routes::ADMIN_SETTINGS, &admin).await;
    assert_eq!(settings["relay_only"], false, "nothing was saved");
    // Without it, sessions gather every candidate.
    let (megan, _, id) = issue(&app, "megan@contoso.test").await;
    let first = joined(&app, &megan, &id).await;
    assert_eq!(first["ice_transport_policy"], "all", "{first}");
}

#[tokio::test]
async fn relay_only_tells_both_ends_to_use_the_relay_and_is_audited() {
    let ice = IceConfig {
        servers: Vec::new(),
        turn_rest: Some(TurnRest {
            urls: vec!["turn:turn.contoso.test:3478?transport=udp".into()],
            secret: "turn-secret".into(),
            ttl_seconds: 600,
        }),
    };
    let app = app_configured(
        Path::new("/nonexistent-dist"),
        Options {
            ice,
            ..Options::default()
        },
    )
    .await;
    let admin = app.sign_in("admin@contoso.test").await;
    app.clock.advance_millis(1_000); // the edit comes after the seed
    let response = set_relay_only(&app, &admin, true).await;
    assert_eq!(response.status(), StatusCode::OK);
    let audit = app.get_json(routes::ADMIN_AUDIT, &admin).await;
    let after: Value = serde_json::from_str(audit[0]["after"].as_str().unwrap()).unwrap();
    assert_eq!(after["relay_only"], true);

    let (megan, _, id) = issue(&app, "megan@contoso.test").await;
    let first = joined(&app, &megan, &id).await;
    assert_eq!(first["type"], "joined");
    assert_eq!(first["ice_transport_policy"], "relay", "{first}");
    let turn = &first["ice_servers"][0];
    assert_eq!(turn["urls"][0], "turn:turn.contoso.test:3478?transport=udp");
    // TURN REST: "expiry:who", valid for the configured ten minutes.
    let username = turn["username"].as_str().unwrap();
    let (expiry, who) = username.split_once(':').unwrap();
    let expiry: i64 = expiry.parse().unwrap();
    let now = app.clock.now().0 / 1000;
    assert!((now + 590..=now + 600).contains(&expiry), "{username}");
    assert!(!who.is_empty());
    assert!(turn["credential"].as_str().is_some_and(|c| !c.is_empty()));

    // The server keeps it too: a candidate that is not a relay goes
    // nowhere, and its sender hears why.
    let host = json!({ "type": "ice", "candidate": {
        "candidate": "candidate:1 1 udp 2122260223 192.168.1.2 50000 typ host" } });
    let reply = signal(&app, &megan, &id, host).await;
    assert_eq!(reply["type"], "error", "{reply}");
    assert!(
        reply["problem"]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("relay"),
        "{reply}"
    );

    // Off again: every candidate.
    assert_eq!(
        set_relay_only(&app, &admin, false).await.status(),
        StatusCode::OK
    );
    let first = joined(&app, &megan, &id).await;
    assert_eq!(first["ice_transport_policy"], "all", "{first}");
}
