//! Sessions through the HTTP API: the whole dance, every code rule, the
//! redemption checks, and 100 000 guesses.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_guesses_find_nothing_and_the_lockout_engages() {
    let app = std::sync::Arc::new(app().await);
    let (_, code, _) = issue(&app, "megan@contoso.test").await;
    let lynne = app.sign_in("lynne@contoso.test").await;
    let alphabet = tandem_server::sessions::code::ALPHABET;
    // A deterministic spread of well-formed guesses (never the real code).
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let guesses: Vec<String> = (0..100_000)
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
    assert!(guesses.len() > 99_990);
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
    assert!(view["ended"]["reason"].as_str().unwrap().contains(needle));
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

/// A sharer who shares from a browser tab can be viewed, never controlled:
/// the helper is told why, the server refuses the request, and the record
/// holds no control time and no elevation.
#[tokio::test]
async fn a_browser_sharer_is_never_offered_or_put_under_control() {
    let app = app().await;
    let (megan, code, id) = issue(&app, "megan@contoso.test").await;
    let lynne = app.sign_in("lynne@contoso.test").await;
    assert_eq!(redeem(&app, &lynne, &code).await.status(), 200);
    let view = app.get_json(&with_id(SESSION, &id), &megan).await;
    assert_eq!(view["may_request_control"], false);
    assert_eq!(view["control_unavailable"], "needs_agent");
    post(
        &app,
        &megan,
        SESSION_REQUEST,
        &id,
        Some(json!({"mode": "view"})),
    )
    .await;
    post(
        &app,
        &lynne,
        SESSION_CONSENT,
        &id,
        Some(json!({"allow": true})),
    )
    .await;
    let response = app
        .call(
            Method::POST,
            &with_id(SESSION_REQUEST, &id),
            Some(&json!({"mode": "control"})),
            Some(&megan),
        )
        .await;
    assert_eq!(response.status(), 409);
    assert!(problem(response).await.message().contains("agent"));
    let after = app.get_json(&with_id(SESSION, &id), &megan).await;
    assert_eq!(after["mode"], "view", "the session is untouched");
    assert_eq!(after["requested"], serde_json::Value::Null);
    app.clock.advance_millis(MINUTE);
    post(&app, &megan, SESSION_LEAVE, &id, None).await;
    let admin = app.sign_in("admin@contoso.test").await;
    let record = app.get_json(&with_id(REPORT_SESSION, &id), &admin).await;
    assert_eq!(record["report"]["control_ms"], 0);
    assert_eq!(record["report"]["view_ms"], MINUTE);
    assert_eq!(record["report"]["elevation_held"], false);
    assert_eq!(record["report"]["elevation_used"], false);

    // A view-only helper is told it is their roles, not the device.
    let (alex, code, alexs) = issue(&app, "alex@contoso.test").await;
    assert_eq!(redeem(&app, &lynne, &code).await.status(), 200);
    let view = app.get_json(&with_id(SESSION, &alexs), &alex).await;
    assert_eq!(view["control_unavailable"], "no_permission");

    // Lynne's "Get help" page lists her own sessions, newest first, and
    // says truly that nobody had her keyboard and mouse.
    let mine = app.get_json(SESSIONS_AS_SHARER, &lynne).await;
    let mine = mine.as_array().unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0]["id"], alexs.as_str());
    assert_eq!(mine[1]["id"], id.as_str());
    assert_eq!(mine[1]["helper_name"], "Megan Bowen");
    assert_eq!(mine[1]["full_control"], false);
    assert_eq!(mine[1]["outcome"], "completed");
    // Megan was the helper there, never the sharer.
    let megans = app.get_json(SESSIONS_AS_SHARER, &megan).await;
    assert_eq!(megans, json!([]));
}

/// Another organization's code looks exactly like a wrong one to whoever
/// typed it, counts against their wrong-code limit, leaves the session
/// untouched, and is recorded for the owning organization.
#[tokio::test]
async fn a_code_of_another_organization_looks_like_a_wrong_code() {
    let app = app().await;
    let (megan, code, id) = issue(&app, "megan@contoso.test").await;
    let fabrice = app.sign_in("admin@fabrikam.test").await;
    let foreign = redeem(&app, &fabrice, &code).await;
    assert_eq!(foreign.status(), 400);
    let foreign = problem(foreign).await;
    let wrong = redeem(&app, &fabrice, "ABCDEFGH").await;
    assert_eq!(wrong.status(), 400);
    let wrong = problem(wrong).await;
    assert_eq!(
        (foreign.kind.as_str(), foreign.message()),
        (wrong.kind.as_str(), wrong.message()),
        "nothing tells an outsider the code is live"
    );
    // Megan's session did not move, and Lynne can still use the code.
    let view = app.get_json(&with_id(SESSION, &id), &megan).await;
    assert_eq!(view["phase"], "waiting_for_sharer");
    // Two so far; three more wrong codes reach the limit of five.
    for guess in ["ABCDEFGJ", "ABCDEFGK", "ABCDEFGM"] {
        assert_eq!(redeem(&app, &fabrice, guess).await.status(), 400);
    }
    assert_eq!(redeem(&app, &fabrice, &code).await.status(), 429);
    let lynne = app.sign_in("lynne@contoso.test").await;
    assert_eq!(redeem(&app, &lynne, &code).await.status(), 200);

    // Contoso's administrators see that it happened, not who tried.
    let admin = app.sign_in("admin@contoso.test").await;
    let monitor = app.get_json(REPORT_MONITOR, &admin).await;
    let text = monitor["unusual"].to_string();
    assert!(
        text.contains("Someone of another organization entered 1"),
        "{text}"
    );
    assert!(!text.contains("Fabrice"), "{text}");
    // And Fabrikam's see their own admin's wrong codes.
    let theirs = app.get_json(REPORT_MONITOR, &fabrice).await;
    assert!(
        theirs["unusual"]
            .to_string()
            .contains("Fabrice Kamau entered 5"),
        "{theirs}"
    );
}

/// Turning remote help off ends every live session of the tenant at once,
/// with the reason for both sides and the administrator in the record.
#[tokio::test]
async fn turning_remote_help_off_ends_live_sessions_at_once() {
    let app = app().await;
    let (megan, code, live) = issue(&app, "megan@contoso.test").await;
    let lynne = app.sign_in("lynne@contoso.test").await;
    assert_eq!(redeem(&app, &lynne, &code).await.status(), 200);
    post(
        &app,
        &megan,
        SESSION_REQUEST,
        &live,
        Some(json!({"mode": "view"})),
    )
    .await;
    post(
        &app,
        &lynne,
        SESSION_CONSENT,
        &live,
        Some(json!({"allow": true})),
    )
    .await;
    let (_, waiting_code, waiting) = issue(&app, "megan@contoso.test").await;
    let (fabrice, _, theirs) = issue(&app, "admin@fabrikam.test").await;

    let admin = app.sign_in("admin@contoso.test").await;
    let mut settings = app.get_json(ADMIN_SETTINGS, &admin).await;
    settings["remote_help_enabled"] = json!(false);
    let put = app
        .call(Method::PUT, ADMIN_SETTINGS, Some(&settings), Some(&admin))
        .await;
    assert_eq!(put.status(), 200);

    for (cookie, id) in [(&megan, &live), (&lynne, &live), (&megan, &waiting)] {
        let view = app.get_json(&with_id(SESSION, id), cookie).await;
        assert_eq!(view["phase"], "ended");
        assert_eq!(
            view["ended"],
            json!({"outcome": "stopped", "cause": "remote_help_turned_off"})
        );
    }
    let record = app.get_json(&with_id(REPORT_SESSION, &live), &admin).await;
    assert_eq!(record["report"]["outcome"], "refused");
    assert_eq!(
        record["report"]["outcome_detail"],
        "remote help was turned off"
    );
    assert_eq!(record["report"]["ended_by_name"], "Adele Vance");
    // The code of the waiting session says why it no longer works.
    let response = redeem(&app, &lynne, &waiting_code).await;
    assert_eq!(response.status(), 403);
    assert!(problem(response).await.message().contains("turned off"));
    // Another organization's session goes on.
    let other = app.get_json(&with_id(SESSION, &theirs), &fabrice).await;
    assert_eq!(other["phase"], "waiting_for_sharer");
}

/// "End session" on the monitor: administrators with Manage settings end a
/// live session of their tenant, and the record names them.
#[tokio::test]
async fn an_administrator_ends_a_session_from_the_monitor() {
    let app = app().await;
    let (megan, code, id) = issue(&app, "megan@contoso.test").await;
    let lynne = app.sign_in("lynne@contoso.test").await;
    assert_eq!(redeem(&app, &lynne, &code).await.status(), 200);
    let end = with_id(ADMIN_SESSION_END, &id);
    let by_helper = app.call(Method::POST, &end, None, Some(&megan)).await;
    assert_eq!(by_helper.status(), 403);
    let fabrice = app.sign_in("admin@fabrikam.test").await;
    let foreign = app.call(Method::POST, &end, None, Some(&fabrice)).await;
    assert_eq!(foreign.status(), 404);
    let admin = app.sign_in("admin@contoso.test").await;
    let ended = app.call(Method::POST, &end, None, Some(&admin)).await;
    assert_eq!(ended.status(), 204);
    let view = app.get_json(&with_id(SESSION, &id), &lynne).await;
    assert_eq!(
        view["ended"],
        json!({"outcome": "stopped", "cause": "ended_by_admin"})
    );
    let record = app.get_json(&with_id(REPORT_SESSION, &id), &admin).await;
    assert_eq!(
        record["report"]["outcome_detail"],
        "ended by an administrator"
    );
    assert_eq!(record["report"]["ended_by_name"], "Adele Vance");
    assert!(
        record["steps"]
            .to_string()
            .contains("Adele Vance ended the session")
    );
    let again = app.call(Method::POST, &end, None, Some(&admin)).await;
    assert_eq!(again.status(), 409);
}
