//! Sessions through the HTTP API: the whole dance, every code rule, the
//! redemption checks, and 10 000 guesses.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use axum::http::Method;
use serde_json::{Value, json};
use support::{App, MINUTE, app, issue, json_of, paired_device, post, problem, redeem, redeem_on};
use tandem_protocol::routes::*;

#[tokio::test]
async fn a_whole_session_from_code_to_leave() {
    let app = app().await;
    let (megan, code, id) = issue(&app, "megan@contoso.test").await;
    let lynne = app.sign_in("lynne@contoso.test").await;
    // Lynne's device runs the agent, which can carry out full control.
    let device = paired_device(&app, &lynne, 31).await;
    // Typed loosely: lower case, with a dash and spaces.
    let loose = format!(" {}-{} ", &code[..4].to_lowercase(), &code[4..]);
    let response = redeem_on(&app, &lynne, &loose, &device).await;
    assert_eq!(response.status(), 200);
    let view = json_of(response).await;
    assert_eq!(view["you"], "sharer");
    assert_eq!(view["phase"], "sharer_joined");
    assert_eq!(view["helper"]["display_name"], "Megan Bowen");
    assert_eq!(view["helper"]["verified_domain"], "contoso.test");

    let helper_view = app.get_json(&with_id(SESSION, &id), &megan).await;
    assert_eq!(helper_view["sharer"]["display_name"], "Lynne Robbins");
    assert_eq!(helper_view["may_request_control"], true);
    assert_eq!(helper_view["code_expires_at"], Value::Null);

    let v = post(
        &app,
        &megan,
        SESSION_REQUEST,
        &id,
        Some(json!({"mode": "view"})),
    )
    .await;
    assert_eq!(v["phase"], "waiting_for_consent");
    assert_eq!(v["requested"], "view");
    let v = post(
        &app,
        &lynne,
        SESSION_CONSENT,
        &id,
        Some(json!({"allow": true})),
    )
    .await;
    assert_eq!(
        (v["phase"].as_str(), v["mode"].as_str()),
        (Some("active"), Some("view"))
    );
    let v = post(&app, &lynne, SESSION_PAUSE, &id, None).await;
    assert_eq!(v["phase"], "paused");
    let v = post(&app, &lynne, SESSION_RESUME, &id, None).await;
    assert_eq!(v["phase"], "active");
    let v = post(
        &app,
        &megan,
        SESSION_REQUEST,
        &id,
        Some(json!({"mode": "control"})),
    )
    .await;
    assert_eq!(
        (v["mode"].as_str(), v["requested"].as_str()),
        (Some("view"), Some("control"))
    );
    let v = post(
        &app,
        &lynne,
        SESSION_CONSENT,
        &id,
        Some(json!({"allow": true})),
    )
    .await;
    assert_eq!(v["mode"], "control");
    let v = post(&app, &lynne, SESSION_REVOKE, &id, None).await;
    assert_eq!(v["mode"], "view", "revoking goes back to view only");
    // Pausing twice is refused clearly.
    post(&app, &lynne, SESSION_PAUSE, &id, None).await;
    let again = app
        .call(
            Method::POST,
            &with_id(SESSION_PAUSE, &id),
            None,
            Some(&lynne),
        )
        .await;
    assert_eq!(again.status(), 409);
    assert!(problem(again).await.message().contains("paused"));
    let v = post(&app, &lynne, SESSION_LEAVE, &id, None).await;
    assert_eq!(v["phase"], "ended");
    assert_eq!(v["ended"], json!({"outcome": "completed", "by": "sharer"}));
    let after = app.get_json(&with_id(SESSION, &id), &megan).await;
    assert_eq!(after["ended"]["outcome"], "completed");
    // Nothing happens to an ended session.
    let late = app
        .call(
            Method::POST,
            &with_id(SESSION_LEAVE, &id),
            None,
            Some(&megan),
        )
        .await;
    assert_eq!(late.status(), 409);
}

#[tokio::test]
async fn wrong_expired_used_and_own_codes_each_get_a_clear_message() {
    let app = app().await;
    let (megan, code, _) = issue(&app, "megan@contoso.test").await;
    let lynne = app.sign_in("lynne@contoso.test").await;
    let diego = app.sign_in("diego@contoso.test").await;

    let wrong = redeem(&app, &lynne, "ABCDEFGH").await;
    assert_eq!(wrong.status(), 400);
    let p = problem(wrong).await;
    assert_eq!(p.kind, "/problems/wrong-code");
    assert!(p.message().contains("not valid"), "{p:?}");

    let own = redeem(&app, &megan, &code).await;
    assert_eq!(own.status(), 400);
    assert!(problem(own).await.message().contains("your own code"));

    assert_eq!(redeem(&app, &lynne, &code).await.status(), 200);
    let used = redeem(&app, &diego, &code).await;
    assert_eq!(used.status(), 409);
    let p = problem(used).await;
    assert_eq!(p.kind, "/problems/code-used");
    assert!(p.message().contains("already been used"));

    let (_, code, id) = issue(&app, "megan@contoso.test").await;
    app.clock.advance_millis(10 * MINUTE);
    let expired = redeem(&app, &lynne, &code).await;
    assert_eq!(expired.status(), 410);
    let p = problem(expired).await;
    assert_eq!(p.kind, "/problems/code-expired");
    assert!(p.message().contains("expired"));
    let view = app.get_json(&with_id(SESSION, &id), &megan).await;
    assert_eq!(view["ended"]["outcome"], "expired", "the helper sees why");
    // Still expired on a second try, not "wrong".
    assert_eq!(redeem(&app, &lynne, &code).await.status(), 410);
}

#[tokio::test]
async fn codes_expire_by_housekeeping_too_and_follow_the_lifetime_setting() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    let mut settings = app.get_json(ADMIN_SETTINGS, &admin).await;
    settings["code_lifetime_minutes"] = json!(2);
    let put = app
        .call(Method::PUT, ADMIN_SETTINGS, Some(&settings), Some(&admin))
        .await;
    assert_eq!(put.status(), 200);
    let (megan, _, id) = issue(&app, "megan@contoso.test").await;
    let view = app.get_json(&with_id(SESSION, &id), &megan).await;
    let lifetime = view["code_expires_at"].as_i64().unwrap() - view["created_at"].as_i64().unwrap();
    assert_eq!(lifetime, 2 * MINUTE);
    app.clock.advance_millis(2 * MINUTE - 1);
    app.sessions.sweep().await.unwrap();
    assert_eq!(
        app.get_json(&with_id(SESSION, &id), &megan).await["phase"],
        "waiting_for_sharer"
    );
    app.clock.advance_millis(1);
    app.sessions.sweep().await.unwrap();
    let view = app.get_json(&with_id(SESSION, &id), &megan).await;
    assert_eq!(view["ended"]["outcome"], "expired");
}

#[tokio::test]
async fn the_servers_bound_shortens_every_codes_life() {
    let options = support::Options {
        timing: tandem_server::sessions::Timing {
            code_lifetime_max_millis: Some(3_000),
            ..Default::default()
        },
        ..Default::default()
    };
    let app = support::app_configured(std::path::Path::new("/nonexistent-dist"), options).await;
    let (megan, code, id) = issue(&app, "megan@contoso.test").await;
    let view = app.get_json(&with_id(SESSION, &id), &megan).await;
    let lifetime = view["code_expires_at"].as_i64().unwrap() - view["created_at"].as_i64().unwrap();
    assert_eq!(lifetime, 3_000, "3 s, not the organization's minutes");
    app.clock.advance_millis(3_000);
    let lynne = app.sign_in("lynne@contoso.test").await;
    assert_eq!(redeem(&app, &lynne, &code).await.status(), 410);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_guesses_find_nothing_and_the_lockout_engages() {
    let app = std::sync::Arc::new(app().await);
    let (_, code, _) = issue(&app, "megan@contoso.test").await;
    let lynne = app.sign_in("lynne@contoso.test").await;
    let alphabet = tandem_server::sessions::code::ALPHABET;
    // A deterministic spread of well-formed guesses (never the real code).
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let guesses: Vec<String> = (0..10_000)
        .map(|_| {
            (0..8)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    char::from(alphabet[(x % alphabet.len() as u64) as usize])
                })
                .collect::<String>()
        })
        .filter(|guess| guess != &code)
        .collect();
    assert!(guesses.len() > 9_990);
    // Sent 50 at a time, as an attacker would.
    let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
    for batch in guesses.chunks(50) {
        let mut tasks = tokio::task::JoinSet::new();
        for guess in batch {
            let (app, lynne, guess) = (app.clone(), lynne.clone(), guess.clone());
            tasks.spawn(async move { redeem(&app, &lynne, &guess).await.status().as_u16() });
        }
        while let Some(status) = tasks.join_next().await {
            *statuses.entry(status.unwrap()).or_default() += 1;
        }
    }
    let wrong = statuses.remove(&400).unwrap_or_default();
    let locked = statuses.remove(&429).unwrap_or_default();
    assert!(statuses.is_empty(), "no guess may succeed: {statuses:?}");
    assert_eq!(wrong, 5, "five wrong tries, then the lockout");
    assert_eq!(wrong as usize + locked as usize, guesses.len());
    // Locked out, even the right code is refused, with a time to wait.
    let response = redeem(&app, &lynne, &code).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    assert!(
        problem(response)
            .await
            .message()
            .contains("Too many wrong codes")
    );
    // The lockout lifts after its window.
    app.clock.advance_millis(15 * MINUTE);
    let (_, fresh, _) = issue(&app, "megan@contoso.test").await;
    assert_eq!(redeem(&app, &lynne, &fresh).await.status(), 200);
}

async fn refused(app: &App, helper: &str, sharer: &str, needle: &str) {
    let (helper_cookie, code, id) = issue(app, helper).await;
    let sharer_cookie = app.sign_in(sharer).await;
    let response = redeem(app, &sharer_cookie, &code).await;
    assert_eq!(response.status(), 403, "{sharer} redeeming {helper}'s code");
    let p = problem(response).await;
    assert_eq!(p.kind, "/problems/session-refused");
    assert!(p.message().contains(needle), "{p:?}");
    // The helper sees the same reason, and the session is recorded refused.
    let view = app.get_json(&with_id(SESSION, &id), &helper_cookie).await;
    assert_eq!(view["ended"]["outcome"], "refused");
    let reason: tandem_protocol::session::Refusal =
        serde_json::from_value(view["ended"]["reason"].clone()).unwrap();
    assert!(reason.text().contains(needle), "{reason:?}");
}

#[tokio::test]
async fn redemption_checks_tenant_scope_and_the_switch() {
    let app = app().await;
    // Alex's role covers Finance (Lynne), not Sales (Diego).
    refused(
        &app,
        "alex@contoso.test",
        "diego@contoso.test",
        "out of scope",
    )
    .await;

    // A code issued before remote help is turned off no longer works.
    let (megan, code, _) = issue(&app, "megan@contoso.test").await;
    let admin = app.sign_in("admin@contoso.test").await;
    let mut settings = app.get_json(ADMIN_SETTINGS, &admin).await;
    settings["remote_help_enabled"] = json!(false);
    app.call(Method::PUT, ADMIN_SETTINGS, Some(&settings), Some(&admin))
        .await;
    let lynne = app.sign_in("lynne@contoso.test").await;
    let response = redeem(&app, &lynne, &code).await;
    assert_eq!(response.status(), 403);
    assert!(problem(response).await.message().contains("turned off"));
    // And no new code is given out.
    let response = app.call(Method::POST, SESSIONS, None, Some(&megan)).await;
    assert_eq!(response.status(), 403);
    let p = problem(response).await;
    assert_eq!(p.kind, "/problems/remote-help-disabled");
}

#[tokio::test]
async fn a_view_only_helper_asking_for_control_is_refused() {
    let app = app().await;
    let (alex, code, id) = issue(&app, "alex@contoso.test").await;
    let lynne = app.sign_in("lynne@contoso.test").await;
    assert_eq!(redeem(&app, &lynne, &code).await.status(), 200);
    let view = app.get_json(&with_id(SESSION, &id), &alex).await;
    assert_eq!(view["may_request_control"], false);
    let response = app
        .call(
            Method::POST,
            &with_id(SESSION_REQUEST, &id),
            Some(&json!({"mode": "control"})),
            Some(&alex),
        )
        .await;
    assert_eq!(response.status(), 403);
    assert!(
        problem(response)
            .await
            .message()
            .contains("Take full control")
    );
    // View only is fine.
    post(
        &app,
        &alex,
        SESSION_REQUEST,
        &id,
        Some(json!({"mode": "view"})),
    )
    .await;
}

#[tokio::test]
async fn the_helper_card_is_abbreviated_for_the_sharer_when_the_setting_says_so() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    let mut settings = app.get_json(ADMIN_SETTINGS, &admin).await;
    settings["helper_name_display"] = json!("abbreviated");
    app.call(Method::PUT, ADMIN_SETTINGS, Some(&settings), Some(&admin))
        .await;
    let (_, code, _) = issue(&app, "megan@contoso.test").await;
    let lynne = app.sign_in("lynne@contoso.test").await;
    let view = json_of(redeem(&app, &lynne, &code).await).await;
    assert_eq!(view["helper"]["display_name"], "Megan B.");
    assert_eq!(view["helper"]["abbreviated"], true);
    assert_eq!(view["helper"]["email"], Value::Null);
    assert_eq!(view["helper"]["job_title"], Value::Null);
}

#[tokio::test]
async fn malformed_requests_get_clear_errors() {
    let app = app().await;
    let lynne = app.sign_in("lynne@contoso.test").await;
    let long = "A".repeat(100);
    assert_eq!(redeem(&app, &lynne, &long).await.status(), 400);
    let response = app
        .call(
            Method::POST,
            SESSION_REDEEM,
            Some(&json!({"kode": 1})),
            Some(&lynne),
        )
        .await;
    assert_eq!(response.status(), 400);
    let (megan, _, id) = issue(&app, "megan@contoso.test").await;
    let response = app
        .call(
            Method::POST,
            &with_id(SESSION_REQUEST, &id),
            Some(&json!({"mode": "telepathy"})),
            Some(&megan),
        )
        .await;
    assert_eq!(response.status(), 400);
    let unknown = app
        .call(
            Method::GET,
            &with_id(SESSION, "no-such-session"),
            None,
            Some(&megan),
        )
        .await;
    assert_eq!(unknown.status(), 404);
}

/// The real WebSocket upgrade: cookie-authenticated, same-origin only.
#[tokio::test]
async fn the_signaling_socket_checks_the_cookie_and_the_origin() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::{Error as WsError, Message};
    let app = app().await;
    let (megan, _, id) = issue(&app, "megan@contoso.test").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let connect = |origin: &str, cookie: Option<&str>| {
        let mut request = format!("ws://{addr}{SIGNAL}")
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        if let Some(cookie) = cookie {
            request
                .headers_mut()
                .insert("cookie", cookie.parse().unwrap());
        }
        tokio_tungstenite::connect_async(request)
    };
    let status = |result: Result<_, WsError>| match result {
        Err(WsError::Http(response)) => response.status().as_u16(),
        Ok(_) => 101,
        Err(other) => panic!("{other}"),
    };
    assert_eq!(
        status(connect("https://evil.test", Some(&megan)).await.map(|_| ())),
        403
    );
    assert_eq!(
        status(connect(support::ORIGIN, None).await.map(|_| ())),
        401
    );
    let (mut socket, _) = connect(support::ORIGIN, Some(&megan)).await.unwrap();
    let join = json!({ "type": "join", "session": id }).to_string();
    socket.send(Message::Text(join.into())).await.unwrap();
    let first = socket.next().await.unwrap().unwrap();
    let first: Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
    assert_eq!(first["type"], "joined");
    assert_eq!(first["you"], "helper");
    // A frame over the limit closes the socket rather than being buffered.
    let huge = "x".repeat(tandem_protocol::signal::MAX_MESSAGE_BYTES + 1);
    let _ = socket.send(Message::Text(huge.into())).await;
    let mut closed = false;
    while let Ok(Some(frame)) =
        tokio::time::timeout(std::time::Duration::from_secs(5), socket.next()).await
    {
        if matches!(frame, Err(_) | Ok(Message::Close(_))) {
            closed = true;
            break;
        }
    }
    assert!(closed, "an oversized frame ends the connection");
}

/// On PostgreSQL a session route's statements share one pooled connection
/// (`holds_connection` in the route table): sqlx checks a connection each
/// time it goes back to the pool. Other routes take one per statement, and
/// SQLite never holds one (`store/held.rs`).
#[tokio::test]
async fn a_session_routes_statements_share_one_connection_on_postgres() {
    let app = app().await;
    let postgres = app.store.backend() == tandem_server::store::Backend::Postgres;
    let (helper, code, id) = issue(&app, "megan@contoso.test").await;
    let sharer = app.sign_in("lynne@contoso.test").await;
    assert_eq!(redeem(&app, &sharer, &code).await.status(), 200);

    let before = app.store.held_connection_reuses();
    let view = post(
        &app,
        &helper,
        SESSION_REQUEST,
        &id,
        Some(json!({"mode": "view"})),
    )
    .await;
    assert_eq!(view["requested"], "view");
    let reused = app.store.held_connection_reuses() - before;
    if postgres {
        // The web session, then the session, its transition and the view's
        // reads: three statements after the first on its connection.
        assert!(reused >= 3, "{reused} statements reused the connection");
    } else {
        assert_eq!(reused, 0);
    }

    // A route the table does not mark takes a connection per statement.
    let before = app.store.held_connection_reuses();
    let devices = app.get(DEVICES, Some(&helper)).await;
    assert_eq!(devices.status(), 200);
    assert_eq!(app.store.held_connection_reuses(), before);
}
