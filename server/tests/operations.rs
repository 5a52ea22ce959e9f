//! Router tests of what operators and load balancers call: health and
//! readiness, draining, and the Prometheus metrics.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use support::{METRICS_TOKEN, app, body_bytes, consented, issue, problem, redeem};
use tandem_protocol::routes;
use tandem_server::metrics::SocketKind;
use tandem_server::sessions::SessionError;

async fn metrics(app: &support::App) -> String {
    let request = Request::get(routes::METRICS)
        .header(header::AUTHORIZATION, format!("Bearer {METRICS_TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let response = app.send(request).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    String::from_utf8(body_bytes(response).await).unwrap()
}

/// The value of the sample whose name and labels start `prefix`.
fn sample(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|line| line.starts_with(prefix))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no sample {prefix} in:\n{text}"))
}

#[tokio::test]
async fn health_and_readiness_answer_while_the_database_does() {
    let app = app().await;
    let health = app.get(routes::HEALTHZ, None).await;
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(body_bytes(health).await, b"ok");
    let ready = app.get(routes::READYZ, None).await;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(body_bytes(ready).await, b"ready");

    let admin = app.sign_in("admin@contoso.test").await;
    // The database goes away: both say so at once, as problem+json, and
    // so does a signed-in request (its web session is read from there).
    app.store.close().await;
    let me = app.get(routes::AUTH_ME, Some(&admin)).await;
    assert_eq!(me.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(problem(me).await.kind, "/problems/unavailable");
    for path in [routes::HEALTHZ, routes::READYZ] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        let problem = problem(response).await;
        assert_eq!(problem.kind, "/problems/unavailable");
        assert!(
            problem.message().contains("database"),
            "{}",
            problem.message()
        );
    }
    // The metrics still answer, and say the database is down.
    let text = metrics(&app).await;
    assert_eq!(sample(&text, "tandem_db_up "), 0.0);
}

#[tokio::test]
async fn a_draining_server_is_unready_and_takes_no_new_session() {
    let app = app().await;
    let helper = app.sign_in("megan@contoso.test").await;
    app.sessions.drain();
    assert!(app.sessions.is_draining());
    // No new socket either: signaling and agent sockets are refused.
    for kind in [SocketKind::Signaling, SocketKind::Agent] {
        assert!(matches!(
            app.sessions.hold_socket(kind),
            Err(SessionError::Draining)
        ));
    }
    let ready = app.get(routes::READYZ, None).await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(problem(ready).await.kind, "/problems/unavailable");
    // Still alive: the process answers and its database does.
    assert_eq!(
        app.get(routes::HEALTHZ, None).await.status(),
        StatusCode::OK
    );
    let issued = app
        .call(Method::POST, routes::SESSIONS, None, Some(&helper))
        .await;
    assert_eq!(issued.status(), StatusCode::SERVICE_UNAVAILABLE);
    let problem = problem(issued).await;
    assert_eq!(problem.kind, "/problems/unavailable");
    assert!(problem.message().contains("shutting down"));
    // Reads still work for whoever the load balancer still sends.
    assert_eq!(
        app.get(routes::DEVICES, Some(&helper)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn metrics_are_only_for_the_token_holder() {
    let app = app().await;
    assert_eq!(
        app.get(routes::METRICS, None).await.status(),
        StatusCode::NOT_FOUND
    );
    let wrong = Request::get(routes::METRICS)
        .header(header::AUTHORIZATION, "Bearer not-the-token")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(wrong).await.status(), StatusCode::NOT_FOUND);
    let text = metrics(&app).await;
    assert!(text.contains("# TYPE tandem_http_requests_total counter"));
}

#[tokio::test]
async fn metrics_count_sessions_refusals_lockouts_and_requests() {
    let app = app().await;
    let before = metrics(&app).await;
    let started_before = sample(&before, "tandem_session_setups_total{result=\"started\"}");
    let wrong_before = sample(&before, "tandem_refusals_total{reason=\"wrong-code\"}");
    let setups_before = sample(&before, "tandem_session_setup_seconds_count");

    // A session set up to view only: a setup, its latency, one active view.
    let (helper, code, id) = issue(&app, "megan@contoso.test").await;
    let sharer = app.sign_in("lynne@contoso.test").await;
    assert_eq!(redeem(&app, &sharer, &code).await.status(), 200);
    consented(&app, &helper, &sharer, &id, "view").await;
    // A wrong code until the sharer is locked out.
    let diego = app.sign_in("diego@contoso.test").await;
    let mut locked = false;
    for _ in 0..10 {
        let response = redeem(&app, &diego, "ZZZZ-ZZZZ").await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            locked = true;
            break;
        }
    }
    assert!(locked, "wrong codes lock the sharer out");

    let after = metrics(&app).await;
    assert!(
        sample(&after, "tandem_session_setups_total{result=\"started\"}") >= started_before + 1.0
    );
    assert!(sample(&after, "tandem_session_setup_seconds_count") >= setups_before + 1.0);
    assert!(sample(&after, "tandem_refusals_total{reason=\"wrong-code\"}") >= wrong_before + 1.0);
    assert!(sample(&after, "tandem_lockouts_total{kind=\"code\"}") >= 1.0);
    // Read from this app's own database at the scrape: exactly its session.
    assert_eq!(sample(&after, "tandem_sessions_active{mode=\"view\"}"), 1.0);
    assert_eq!(
        sample(&after, "tandem_sessions_active{mode=\"control\"}"),
        0.0
    );
    assert!(sample(&after, "tandem_db_pool_connections{state=\"idle\"}") >= 0.0);
    assert_eq!(sample(&after, "tandem_db_up "), 1.0);
    // Requests by route template, never by raw path.
    assert!(
        sample(
            &after,
            "tandem_http_requests_total{method=\"POST\",route=\"/api/sessions/{id}/consent\",status=\"200\"}"
        ) >= 1.0
    );
    assert!(!after.contains(&id), "no session id becomes a label");
}
