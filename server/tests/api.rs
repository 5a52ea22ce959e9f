//! Router tests: the whole axum app driven with `oneshot`, over an
//! in-memory database and a manual clock.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use support::{MINUTE, app, app_with, body_bytes, json_post, problem, session_cookie};
use tandem_protocol::auth::Me;
use tandem_protocol::devices::DeviceSummary;
use tandem_protocol::routes;
use tandem_server::http::{MAX_API_BODY_BYTES, SESSION_COOKIE};
use tandem_server::seed::DEMO_PASSWORD;

#[tokio::test]
async fn healthz_answers_ok() {
    let app = app().await;
    let response = app.get(routes::HEALTHZ, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_bytes(response).await, b"ok");
}

#[tokio::test]
async fn devices_need_a_session() {
    let app = app().await;
    let response = app.get(routes::DEVICES, None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(problem(response).await.kind, "/problems/unauthenticated");
    let forged = format!("{SESSION_COOKIE}=AAAAAAAAAAAAAAAAAAAAAA");
    let response = app.get(routes::DEVICES, Some(&forged)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn wrong_password_gives_a_clear_error_and_no_session() {
    let app = app().await;
    for (email, password) in [
        ("megan@contoso.test", "wrong"),
        ("nobody@contoso.test", DEMO_PASSWORD),
    ] {
        let response = app.login(email, password).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(session_cookie(&response).is_none(), "no session on failure");
        let problem = problem(response).await;
        assert_eq!(problem.kind, "/problems/bad-credentials");
        assert_eq!(problem.message(), "Wrong e-mail address or password.");
    }
}

#[tokio::test]
async fn login_sets_a_hardened_cookie_and_lists_only_own_tenant_devices() {
    let app = app().await;
    let response = app.login("MEGAN@contoso.test", DEMO_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/"), "{set_cookie}");
    let cookie = session_cookie(&response).unwrap();
    let me: Me = serde_json::from_slice(&body_bytes(response).await).unwrap();
    assert_eq!(me.user.display_name, "Megan Bowen");
    assert_eq!(me.tenant.name, "Contoso");

    let response = app.get(routes::DEVICES, Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let devices: Vec<DeviceSummary> = serde_json::from_slice(&body_bytes(response).await).unwrap();
    let names: Vec<_> = devices.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        ["DT-DIEGO-02", "KIOSK-LOBBY", "LT-LYNNE-01", "LT-SPARE-07"]
    );

    let fabrikam = app.sign_in("admin@fabrikam.test").await;
    let response = app.get(routes::DEVICES, Some(&fabrikam)).await;
    let devices: Vec<DeviceSummary> = serde_json::from_slice(&body_bytes(response).await).unwrap();
    let names: Vec<_> = devices.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["FAB-WS-001"]);
}

#[tokio::test]
async fn signing_in_again_rotates_the_session_id() {
    let app = app().await;
    let first = app.sign_in("megan@contoso.test").await;
    let body = serde_json::json!({ "email": "alex@contoso.test", "password": DEMO_PASSWORD });
    let response = app
        .send(json_post(
            routes::AUTH_LOGIN,
            &body.to_string(),
            Some(&first),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let second = session_cookie(&response).unwrap();
    assert_ne!(first, second);
    let stale = app.get(routes::AUTH_ME, Some(&first)).await;
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED, "old id is dead");
    let me: Me =
        serde_json::from_slice(&body_bytes(app.get(routes::AUTH_ME, Some(&second)).await).await)
            .unwrap();
    assert_eq!(me.user.email, "alex@contoso.test");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = app().await;
    let cookie = app.sign_in("megan@contoso.test").await;
    assert_eq!(
        app.get(routes::AUTH_ME, Some(&cookie)).await.status(),
        StatusCode::OK
    );
    let response = app
        .send(json_post(routes::AUTH_LOGOUT, "", Some(&cookie)))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let after = app.get(routes::DEVICES, Some(&cookie)).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    // Logging out twice is harmless.
    let again = app
        .send(json_post(routes::AUTH_LOGOUT, "", Some(&cookie)))
        .await;
    assert_eq!(again.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn idle_sessions_expire() {
    let app = app().await;
    let cookie = app.sign_in("megan@contoso.test").await;
    app.clock.advance_millis(29 * MINUTE);
    assert_eq!(
        app.get(routes::AUTH_ME, Some(&cookie)).await.status(),
        StatusCode::OK
    );
    app.clock.advance_millis(31 * MINUTE);
    let response = app.get(routes::AUTH_ME, Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(problem(response).await.kind, "/problems/session-expired");
    // Flushed: it does not come back.
    let response = app.get(routes::AUTH_ME, Some(&cookie)).await;
    assert_eq!(problem(response).await.kind, "/problems/unauthenticated");
}

#[tokio::test]
async fn busy_sessions_still_end_at_the_absolute_limit() {
    let app = app().await;
    let cookie = app.sign_in("megan@contoso.test").await;
    for _ in 0..(12 * 60 / 20) {
        app.clock.advance_millis(20 * MINUTE);
        let response = app.get(routes::AUTH_ME, Some(&cookie)).await;
        assert_eq!(response.status(), StatusCode::OK, "active within 12 h");
    }
    app.clock.advance_millis(MINUTE);
    let response = app.get(routes::AUTH_ME, Some(&cookie)).await;
    assert_eq!(problem(response).await.kind, "/problems/session-expired");
}

#[tokio::test]
async fn bad_input_gets_problem_json() {
    let app = app().await;
    let response = app
        .send(json_post(routes::AUTH_LOGIN, "{not json", None))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem(response).await.kind, "/problems/bad-request");

    let response = app
        .send(json_post(
            routes::AUTH_LOGIN,
            r#"{"email":"","password":"x"}"#,
            None,
        ))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        problem(response).await.message(),
        "Enter your e-mail address."
    );

    let huge = format!(
        r#"{{"email":"a@b","password":"{}"}}"#,
        "x".repeat(MAX_API_BODY_BYTES)
    );
    let response = app.send(json_post(routes::AUTH_LOGIN, &huge, None)).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem(response).await.kind, "/problems/payload-too-large");

    let text_body = Request::post(routes::AUTH_LOGIN)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(r#"{"email":"a@b","password":"x"}"#))
        .unwrap();
    let response = app.send(text_body).await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        problem(response).await.kind,
        "/problems/unsupported-media-type"
    );

    let response = app.get("/api/no-such-thing", None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(problem(response).await.kind, "/problems/not-found");

    let response = app.get(routes::AUTH_LOGIN, None).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(problem(response).await.kind, "/problems/method-not-allowed");
}

#[tokio::test]
async fn console_routes_fall_back_to_index_html() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<title>console</title>").unwrap();
    std::fs::write(dist.path().join("app.js"), "console.log(1)").unwrap();
    let app = app_with(dist.path()).await;

    for path in ["/", "/devices", "/some/deep/route"] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert_eq!(response.headers()["x-frame-options"], "DENY");
        assert_eq!(
            body_bytes(response).await,
            b"<title>console</title>",
            "{path}"
        );
    }
    assert_eq!(
        body_bytes(app.get("/app.js", None).await).await,
        b"console.log(1)"
    );
    // The API never falls back to the console.
    let response = app.get("/api/no-such/x", None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_missing_console_is_reported_not_hidden() {
    let app = app().await;
    let response = app.get("/devices", None).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(problem(response).await.kind, "/problems/console-missing");
}

/// Sends `request` and checks that the answer is a problem+json `status`.
async fn expect_problem(app: &support::App, request: Request<Body>, status: StatusCode) {
    let what = format!("{} {}", request.method(), request.uri());
    let response = app.send(request).await;
    assert_eq!(response.status(), status, "{what}");
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/problem+json",
        "{what}"
    );
    assert_eq!(problem(response).await.status, status.as_u16(), "{what}");
}

fn get_as(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn bad_query_strings_and_path_ids_get_problem_json() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    for path in [
        format!("{}?page=first", routes::ADMIN_USERS),
        format!("{}?per_page=-1", routes::ADMIN_DEVICES),
        format!("{}?page=1&page=2", routes::ADMIN_GROUP_LIST),
        format!("{}?helper=a&helper=b", routes::ADMIN_ACCESS_REVIEW),
    ] {
        expect_problem(&app, get_as(&path, &admin), StatusCode::BAD_REQUEST).await;
    }
    // An id that is not UTF-8 once percent-decoded.
    for path in [
        "/api/sessions/%FF",
        "/api/admin/users/%C3%28",
        "/api/reports/sessions/%FF",
    ] {
        let request = Request::put(path)
            .header(header::COOKIE, &admin)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let method = if path.starts_with("/api/admin") {
            request
        } else {
            get_as(path, &admin)
        };
        expect_problem(&app, method, StatusCode::BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn import_bodies_that_are_not_utf8_or_too_large_get_problem_json() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    let import = |body: Vec<u8>| {
        Request::post(routes::with_id(routes::ADMIN_IMPORT, "users"))
            .header(header::COOKIE, &admin)
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(body))
            .unwrap()
    };
    let mut latin1 = b"email,display_name,job_title,company,password\n".to_vec();
    latin1.extend_from_slice(b"zoe@contoso.test,Zo\xeb,,,\n");
    expect_problem(&app, import(latin1), StatusCode::BAD_REQUEST).await;
    let huge = vec![b'a'; 2 * 1024 * 1024 + 1];
    expect_problem(&app, import(huge), StatusCode::PAYLOAD_TOO_LARGE).await;
}

#[tokio::test]
async fn every_api_path_is_an_api_answer_never_the_console() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<title>console</title>").unwrap();
    let app = app_with(dist.path()).await;
    for path in [
        "/api",
        "/api/",
        "/api/nope",
        "/api/nope/",
        "/api/admin/nope/x",
    ] {
        let request = Request::get(path).body(Body::empty()).unwrap();
        expect_problem(&app, request, StatusCode::NOT_FOUND).await;
    }
}
