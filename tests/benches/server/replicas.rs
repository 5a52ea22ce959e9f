//! The server bench's last part: two replicas on one PostgreSQL database.
//!
//! - **Session setup** across replicas: each setup's helper calls one
//!   replica and its sharer the other, beside the same run on one replica.
//!   The redemption cap is raised for this run only
//!   (`code_redemptions_per_minute`), so the figure is the servers', not
//!   the brute-force bound's.
//! - **Sockets per replica** and each replica's RSS.
//! - **Signaling relay latency**: the sharer's ICE candidate to the helper,
//!   both on one replica, then on two (B → A over LISTEN/NOTIFY).

use super::{User, in_parallel, make_sharers, percentiles, post, rss_kib, signed_in};
use futures_util::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tandem_protocol::routes::*;
use tandem_protocol::signal::{ClientMessage, IceCandidate, ServerMessage};
use tandem_tests::{Database, ServerOptions, TestServer};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const FAST_SETUPS: usize = 1_000;
const SOCKETS_PER_REPLICA: usize = 2_500;
/// Relayed candidates per configuration, paced under the socket's budget
/// (50 a second).
const RELAYS: usize = 400;
const RELAY_EVERY: Duration = Duration::from_millis(25);

pub async fn run() {
    let (a, b) = start_both().await;
    setups(&a, &b).await;
    let megan = signed_in(&a, "megan@contoso.test").await;
    sockets(&a, &b, &megan).await;
    relay_latency(&a, &b, &megan).await;
}

/// Only the setups (`TANDEM_BENCH_REPLICA_SETUPS_ONLY`).
pub async fn run_setups_only() {
    let (a, b) = start_both().await;
    setups(&a, &b).await;
}

async fn start_both() -> (TestServer, TestServer) {
    let a = TestServer::start_with(ServerOptions {
        config_toml: Some(
            "trusted_proxies = [\"127.0.0.1\"]\ncode_redemptions_per_minute = 1000000\n".into(),
        ),
        log_filter: Some("warn".into()),
        database: Database::Postgres,
        ..ServerOptions::default()
    })
    .await
    .expect("replica A starts");
    let b = a.start_replica().await.expect("replica B starts");
    println!(
        "\nserver: two release replicas on one PostgreSQL 15 database (LISTEN/NOTIFY), \
         the redemption cap raised for the bench"
    );
    (a, b)
}

async fn setups(a: &TestServer, b: &TestServer) {
    let megan = signed_in(a, "megan@contoso.test").await;
    let admin = signed_in(a, "admin@contoso.test").await;
    let sharers = make_sharers(a, &admin).await;

    println!(
        "\nsession setup, {FAST_SETUPS} setups, {} at once, after {} not counted",
        super::SETUP_CLIENTS,
        super::WARM_UP_SETUPS
    );
    for (label, other) in [("one replica", a), ("two replicas", b)] {
        // Alternately: the helper on A and the sharer on B, and back.
        let setup = |n: usize| {
            let (helper_at, sharer_at) = if n.is_multiple_of(2) {
                (a, other)
            } else {
                (other, a)
            };
            super::setup(
                (helper_at, sharer_at),
                &megan,
                &sharers[n % sharers.len()],
                n,
            )
        };
        // Not counted, as on one server: pooled connections open.
        in_parallel(super::SETUP_CLIENTS, super::WARM_UP_SETUPS, |n| {
            setup(FAST_SETUPS + n)
        })
        .await;
        let (mut times, rate) = in_parallel(super::SETUP_CLIENTS, FAST_SETUPS, setup).await;
        println!(
            "{label:13} throughput {rate:>6.1} setups/s; setup time {}",
            percentiles(&mut times)
        );
    }
}

async fn sockets(a: &TestServer, b: &TestServer, user: &User) {
    println!("\nidle signaling sockets, {SOCKETS_PER_REPLICA} per replica");
    let mut tasks = JoinSet::new();
    for (name, server) in [("A", a), ("B", b)] {
        let before = rss_kib(server.pid());
        let url = server.url(SIGNAL).replacen("http://", "ws://", 1);
        super::open_sockets(&mut tasks, &url, &user.cookie, SOCKETS_PER_REPLICA).await;
        let open = SOCKETS_PER_REPLICA;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after = rss_kib(server.pid());
        println!(
            "replica {name}: {open} sockets, RSS {} MiB ({:.1} KiB per socket)",
            after / 1024,
            after.saturating_sub(before) as f64 / open as f64
        );
    }
    tasks.abort_all();
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn joined(server: &TestServer, user: &User, session: &str) -> Socket {
    let url = server.url(SIGNAL).replacen("http://", "ws://", 1);
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", user.cookie.parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let join = ClientMessage::Join {
        session: session.into(),
    };
    let text = serde_json::to_string(&join).unwrap();
    socket.send(Message::text(text)).await.unwrap();
    socket
}

/// Waits for the first message `pick` takes.
async fn next<T>(socket: &mut Socket, pick: impl Fn(ServerMessage) -> Option<T>) -> T {
    let wait = async {
        while let Some(Ok(frame)) = socket.next().await {
            if let Message::Text(text) = frame
                && let Ok(message) = serde_json::from_str::<ServerMessage>(&text)
                && let Some(found) = pick(message)
            {
                return found;
            }
        }
        panic!("the socket closed");
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("a relayed message within 10 s")
}

/// A viewed session with the helper's socket on `helper_at` and the
/// sharer's on `sharer_at`; then the sharer's candidates, one at a time.
async fn relay_latency(a: &TestServer, b: &TestServer, helper: &User) {
    println!("\nsignaling relay, sharer's ICE candidate → helper, {RELAYS} one at a time");
    let sharer = signed_in(a, "lynne@contoso.test").await;
    for (label, sharer_at) in [("one replica (A → A)", a), ("two replicas (B → A)", b)] {
        let issued = post(helper, a.url(SESSIONS), serde_json::json!({}), "127.0.0.1").await;
        let id = issued["session"]["id"].as_str().unwrap().to_owned();
        let code = serde_json::json!({ "code": issued["code"] });
        post(&sharer, sharer_at.url(SESSION_REDEEM), code, "127.0.0.1").await;
        let view = serde_json::json!({"mode": "view"});
        post(
            helper,
            a.url(&with_id(SESSION_REQUEST, &id)),
            view,
            "127.0.0.1",
        )
        .await;
        let allow = serde_json::json!({"allow": true});
        post(
            &sharer,
            sharer_at.url(&with_id(SESSION_CONSENT, &id)),
            allow,
            "127.0.0.1",
        )
        .await;
        let mut to = joined(a, helper, &id).await;
        // The helper's arrival reaches the other replica over the bus; the
        // sharer joins after it, so that the sharer's arrival is relayed.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut from = joined(sharer_at, &sharer, &id).await;
        // Both joined and known to each other's replica.
        next(&mut to, |m| {
            matches!(
                m,
                ServerMessage::Peer {
                    connected: true,
                    ..
                }
            )
            .then_some(())
        })
        .await;
        let mut times = Vec::with_capacity(RELAYS);
        for n in 0..RELAYS {
            let candidate = format!("candidate:{n} 1 udp 2122260223 192.0.2.1 5000 typ host");
            let ice = ClientMessage::Ice {
                candidate: IceCandidate {
                    candidate: candidate.clone(),
                    sdp_mid: Some("0".into()),
                    sdp_m_line_index: Some(0),
                },
            };
            let sent = Instant::now();
            from.send(Message::text(serde_json::to_string(&ice).unwrap()))
                .await
                .unwrap();
            next(&mut to, |m| match m {
                ServerMessage::Ice { candidate: c } if c.candidate == candidate => Some(()),
                _ => None,
            })
            .await;
            times.push(sent.elapsed());
            tokio::time::sleep(RELAY_EVERY).await;
        }
        println!("{label:22} {}", percentiles(&mut times));
        post(
            &sharer,
            sharer_at.url(&with_id(SESSION_LEAVE, &id)),
            serde_json::json!({}),
            "127.0.0.1",
        )
        .await;
    }
}
