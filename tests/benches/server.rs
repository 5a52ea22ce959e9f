//! `cargo xtask bench` (server part): the release server on loopback,
//! driven by this program's own load client. Bounded in count and time;
//! it prints figures and passes or fails on nothing but errors.
//!
//! - **Idle signaling sockets**: signed-in WebSockets on `/api/signal`
//!   opened in steps up to 10 000, each answering the server's pings as
//!   the console does; the server's RSS at each step and per socket.
//! - **Session setup**: helper issues a code → sharer redeems it → helper
//!   asks to view → sharer allows, then the sharer leaves. Throughput and
//!   latency percentiles of the whole setup, from several at once. The
//!   server believes `X-Forwarded-For` from loopback here (as behind a
//!   reverse proxy), so each setup comes from its own sharer address; the
//!   server-wide redemption limit (300 a minute) still holds, and the run
//!   stays under it.
//! - **API under load**: `GET /api/auth/me`, `GET /api/devices` and the
//!   sessions report, from many clients at once.
//! - **Two replicas** (`server/replicas.rs`): setups across replicas,
//!   sockets and RSS per replica, and the signaling relay between them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: a panic is a report

#[path = "server/replicas.rs"]
mod replicas;

use futures_util::{SinkExt, StreamExt};
use reqwest::cookie::{CookieStore, Jar};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem_protocol::routes::*;
use tandem_protocol::signal::{ClientMessage, ServerMessage};
use tandem_tests::{Database, ServerOptions, TestServer};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const SOCKET_STEPS: [usize; 4] = [1_000, 2_500, 5_000, 10_000];
/// Session setups in the run, and before it: together under the
/// 300-a-minute redemption limit.
const SETUPS: usize = 250;
pub(crate) const WARM_UP_SETUPS: usize = 40;
pub(crate) const SETUP_CLIENTS: usize = 8;
/// Set, the bench runs only SQLite's setups: a quick way to compare two
/// builds of the server (run the bench binary itself, once per build).
const SQLITE_SETUPS_ONLY: &str = "TANDEM_BENCH_SQLITE_SETUPS_ONLY";
/// Set, the bench runs only the setups on two PostgreSQL replicas (the
/// same use, for the replicas' figure).
const REPLICA_SETUPS_ONLY: &str = "TANDEM_BENCH_REPLICA_SETUPS_ONLY";
const API_REQUESTS: usize = 4_000;
const API_CLIENTS: usize = 32;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::var_os(REPLICA_SETUPS_ONLY).is_some() {
        replicas::run_setups_only().await;
        return;
    }
    let server = start(Database::Sqlite).await;
    println!("server: release tandem-server on loopback, SQLite (WAL, synchronous=FULL)");
    let megan = signed_in(&server, "megan@contoso.test").await;
    let admin = signed_in(&server, "admin@contoso.test").await;
    let bench_sharers = make_sharers(&server, &admin).await;

    if std::env::var_os(SQLITE_SETUPS_ONLY).is_some() {
        setups(&server, &megan, &bench_sharers).await;
        return;
    }
    sockets(&server, &megan).await;
    setups(&server, &megan, &bench_sharers).await;
    api(&server, &[&megan, &admin]).await;
    drop(server);

    // The same setups and reads on PostgreSQL (the run's throwaway cluster,
    // which `cargo xtask bench` starts), one replica, side by side.
    let server = start(Database::Postgres).await;
    println!(
        "\nserver: release tandem-server on loopback, PostgreSQL 15 (one replica, \
         a Unix socket, synchronous_commit on)"
    );
    let megan = signed_in(&server, "megan@contoso.test").await;
    let admin = signed_in(&server, "admin@contoso.test").await;
    let bench_sharers = make_sharers(&server, &admin).await;
    setups(&server, &megan, &bench_sharers).await;
    api(&server, &[&megan, &admin]).await;
    drop(server);

    replicas::run().await;
}

async fn start(database: Database) -> TestServer {
    TestServer::start_with(ServerOptions {
        config_toml: Some("trusted_proxies = [\"127.0.0.1\"]\n".into()),
        log_filter: Some("warn".into()),
        database,
        ..ServerOptions::default()
    })
    .await
    .expect("the server starts")
}

/// One signed-in user: a client with its cookie, and the cookie itself.
struct User {
    client: reqwest::Client,
    cookie: String,
}

async fn signed_in(server: &TestServer, email: &str) -> User {
    signed_in_with(server, email, "tandem-demo").await
}

async fn signed_in_with(server: &TestServer, email: &str, password: &str) -> User {
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let response = client
        .post(server.url(AUTH_LOGIN))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{email} signs in");
    let url = server.base_url().parse().unwrap();
    let cookie = jar
        .cookies(&url)
        .and_then(|v| v.to_str().ok().map(str::to_owned))
        .expect("a session cookie");
    User { client, cookie }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Opens one signaling socket and keeps it alive (answers pings) until
/// the task is aborted.
async fn idle_socket(url: String, cookie: String, opened: tokio::sync::mpsc::Sender<()>) {
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    let (mut socket, _) = match tokio_tungstenite::connect_async(request).await {
        Ok(s) => s,
        Err(error) => panic!("a signaling socket was refused: {error}"),
    };
    let _ = opened.send(()).await;
    while let Some(Ok(message)) = socket.next().await {
        if let Message::Text(text) = message
            && let Ok(ServerMessage::Ping { nonce }) = serde_json::from_str(&text)
        {
            let pong = serde_json::to_string(&ClientMessage::Pong { nonce }).unwrap();
            if socket.send(Message::text(pong)).await.is_err() {
                break;
            }
        }
    }
}

/// Opens `count` more idle signaling sockets on `url` into `tasks`, at
/// most 200 handshakes in flight; returns once all are open.
async fn open_sockets(tasks: &mut JoinSet<()>, url: &str, cookie: &str, count: usize) {
    let (opened_tx, mut opened_rx) = tokio::sync::mpsc::channel(1024);
    let mut open = 0;
    while open < count {
        let batch = (count - open).min(200);
        for _ in 0..batch {
            tasks.spawn(idle_socket(
                url.to_owned(),
                cookie.to_owned(),
                opened_tx.clone(),
            ));
        }
        for _ in 0..batch {
            tokio::time::timeout(Duration::from_secs(30), opened_rx.recv())
                .await
                .expect("sockets open within 30 s");
        }
        open += batch;
    }
}

async fn sockets(server: &TestServer, user: &User) {
    let pid = server.pid();
    let url = server.url(SIGNAL).replacen("http://", "ws://", 1);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let base = rss_kib(pid);
    println!(
        "\nidle signaling sockets (server RSS before: {} MiB)",
        base / 1024
    );
    println!(
        "{:>8} {:>10} {:>14} {:>12}",
        "sockets", "RSS MiB", "KiB per socket", "open s"
    );
    let mut tasks = JoinSet::new();
    let mut open = 0;
    for step in SOCKET_STEPS {
        let started = Instant::now();
        open_sockets(&mut tasks, &url, &user.cookie, step - open).await;
        open = step;
        let took = started.elapsed();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss = rss_kib(pid);
        println!(
            "{:>8} {:>10.1} {:>14.1} {:>12.2}",
            open,
            rss as f64 / 1024.0,
            rss.saturating_sub(base) as f64 / open as f64,
            took.as_secs_f64()
        );
    }
    // One ping period with all of them open: none is dropped.
    tokio::time::sleep(Duration::from_secs(
        tandem_protocol::signal::PING_EVERY_SECONDS + 2,
    ))
    .await;
    let alive = tasks.len() - count_finished(&mut tasks);
    println!(
        "after one ping period: {alive} of {open} alive, RSS {:.1} MiB",
        rss_kib(pid) as f64 / 1024.0
    );
    assert_eq!(alive, open, "no idle socket was dropped");
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
}

fn count_finished(tasks: &mut JoinSet<()>) -> usize {
    let mut finished = 0;
    while let Some(result) = tasks.try_join_next() {
        if let Err(error) = result
            && error.is_panic()
        {
            std::panic::resume_unwind(error.into_panic());
        }
        finished += 1;
    }
    finished
}

async fn post(user: &User, url: String, body: serde_json::Value, from: &str) -> serde_json::Value {
    let response = user
        .client
        .post(url)
        .header("x-forwarded-for", from)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

/// One setup: issue → redeem → request view → allow; answers its time.
/// The helper's calls go to `helper_at` and the sharer's to `sharer_at`
/// (the same server, or two replicas: cookies are per host, so either
/// replica takes them).
async fn setup(
    (helper_at, sharer_at): (&TestServer, &TestServer),
    helper: &User,
    sharer: &User,
    n: usize,
) -> Duration {
    let from = format!("10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255);
    let started = Instant::now();
    let issued = post(
        helper,
        helper_at.url(SESSIONS),
        serde_json::json!({}),
        &from,
    )
    .await;
    let code = issued["code"].as_str().unwrap().to_owned();
    let id = issued["session"]["id"].as_str().unwrap().to_owned();
    let redeem = serde_json::json!({ "code": code });
    post(sharer, sharer_at.url(SESSION_REDEEM), redeem, &from).await;
    let view = serde_json::json!({"mode": "view"});
    let request = helper_at.url(&with_id(SESSION_REQUEST, &id));
    post(helper, request, view, &from).await;
    let allow = serde_json::json!({"allow": true});
    let consent = sharer_at.url(&with_id(SESSION_CONSENT, &id));
    post(sharer, consent, allow, &from).await;
    let took = started.elapsed();
    let leave = sharer_at.url(&with_id(SESSION_LEAVE, &id));
    post(sharer, leave, serde_json::json!({}), &from).await;
    took
}

/// Runs `job(0..total)` from `clients` loops at once; answers the times
/// the jobs measured and the rate over the whole run (jobs per second).
async fn in_parallel<F, Fut>(clients: usize, total: usize, job: F) -> (Vec<Duration>, f64)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Duration>,
{
    let next = std::sync::atomic::AtomicUsize::new(0);
    let started = Instant::now();
    let loops = (0..clients).map(|_| async {
        let mut own = Vec::new();
        loop {
            let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if n >= total {
                return own;
            }
            own.push(job(n).await);
        }
    });
    let times: Vec<Duration> = futures_util::future::join_all(loops)
        .await
        .into_iter()
        .flatten()
        .collect();
    (times, total as f64 / started.elapsed().as_secs_f64())
}

/// One sharer account per concurrent setup, in Megan's scope (Finance):
/// a sharer's valid code counts as a failure until it is checked, so one
/// account redeeming eight codes at once would hit the five-failure lock,
/// as a person never would.
const BENCH_SHARER_PASSWORD: &str = "bench-sharer-password";

async fn make_sharers(server: &TestServer, admin: &User) -> Vec<User> {
    let mut emails = vec!["lynne@contoso.test".to_owned()];
    for n in 1..SETUP_CLIENTS {
        let email = format!("sharer{n}@contoso.test");
        let draft = serde_json::json!({
            "email": email,
            "display_name": format!("Bench Sharer {n}"),
            "password": BENCH_SHARER_PASSWORD,
        });
        post(admin, server.url(ADMIN_USERS), draft, "127.0.0.1").await;
        emails.push(email);
    }
    let groups: serde_json::Value = admin
        .client
        .get(server.url(ADMIN_GROUPS))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let finance = groups
        .as_array()
        .and_then(|all| all.iter().find(|g| g["name"] == "Finance"))
        .and_then(|g| g["id"].as_str())
        .expect("the demo tenant has Finance")
        .to_owned();
    let members = admin
        .client
        .put(server.url(&with_id(ADMIN_GROUP_MEMBERS, &finance)))
        .json(&serde_json::json!({ "emails": emails }))
        .send()
        .await
        .unwrap();
    assert!(members.status().is_success(), "Finance gets the sharers");
    let mut sharers = Vec::new();
    sharers.push(signed_in(server, "lynne@contoso.test").await);
    for email in &emails[1..] {
        sharers.push(signed_in_with(server, email, BENCH_SHARER_PASSWORD).await);
    }
    sharers
}

async fn setups(server: &TestServer, helper: &User, sharers: &[User]) {
    // Not counted: the first setups open the server's pooled database
    // connections and prepare each statement once per connection.
    in_parallel(SETUP_CLIENTS, WARM_UP_SETUPS, |n| {
        setup(
            (server, server),
            helper,
            &sharers[n % sharers.len()],
            SETUPS + n,
        )
    })
    .await;
    let (mut times, rate) = in_parallel(SETUP_CLIENTS, SETUPS, |n| {
        setup((server, server), helper, &sharers[n % sharers.len()], n)
    })
    .await;
    println!(
        "\nsession setup (issue → redeem → view request → allow), {SETUPS} setups, {SETUP_CLIENTS} at once, \
         after {WARM_UP_SETUPS} not counted"
    );
    println!(
        "throughput {rate:.1} setups/s; setup time {}",
        percentiles(&mut times)
    );
}

async fn api(server: &TestServer, users: &[&User]) {
    println!("\nAPI under load: {API_REQUESTS} requests per route, {API_CLIENTS} clients at once");
    let routes = [(AUTH_ME, 0), (DEVICES, 0), (REPORT_SESSIONS, 1)];
    for (route, who) in routes {
        let user = users[who];
        let url = server.url(route);
        let (mut times, rate) = in_parallel(API_CLIENTS, API_REQUESTS, |_| async {
            let t = Instant::now();
            let response = user.client.get(&url).send().await.unwrap();
            let status = response.status();
            assert!(status.is_success(), "{url}: {status}");
            let _ = response.bytes().await.unwrap();
            t.elapsed()
        })
        .await;
        println!("{route:32} {rate:>7.0} req/s  {}", percentiles(&mut times));
    }
}

fn percentiles(times: &mut [Duration]) -> String {
    times.sort();
    let at = |q: f64| {
        let i = ((times.len() as f64 - 1.0) * q).round() as usize;
        times.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    format!(
        "p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
        at(0.5),
        at(0.95),
        at(0.99),
        at(1.0)
    )
}
