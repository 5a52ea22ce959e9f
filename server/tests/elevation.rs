//! Elevation through the agent's signaling: "elevation used" is recorded
//! only when the device's agent reports it, in full control, with
//! Elevation held; the monitor then surfaces it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use axum::http::Method;
use serde_json::{Value, json};
use std::time::Duration;
use support::agent_socket::{next_of, send};
use support::tool_session::ToolSession;
use tandem_protocol::routes::*;

/// Holding Elevation is not using it: the record says "elevation used" only
/// when the device's agent reports that the helper's input reached an
/// elevation prompt, in full control, and nobody else can say so.
#[tokio::test]
async fn elevation_is_recorded_as_used_only_when_the_agent_reports_it_in_full_control() {
    let s = ToolSession::joined(51).await;
    let (app, session) = (&s.app, s.session.clone());
    let (megan, lynne, admin) = (s.megan.clone(), s.lynne.clone(), s.admin.clone());
    let (mut media, mut helper) = (s.media, s.helper);
    let act = |route: &'static str, body: Value, cookie: String| {
        let path = with_id(route, &session);
        async move {
            let response = app
                .call(Method::POST, &path, Some(&body), Some(&cookie))
                .await;
            assert_eq!(response.status(), 200, "POST {path}");
        }
    };
    act(SESSION_REQUEST, json!({ "mode": "view" }), megan.clone()).await;
    act(SESSION_CONSENT, json!({ "allow": true }), lynne.clone()).await;
    // In view only, the report is refused and changes nothing.
    send(&mut media, json!({ "type": "elevation_used" })).await;
    let refused = next_of(&mut media, "error").await;
    assert_eq!(refused["problem"]["status"], 409);
    // The helper cannot claim it either.
    send(&mut helper, json!({ "type": "elevation_used" })).await;
    let refused = next_of(&mut helper, "error").await;
    assert_eq!(refused["problem"]["status"], 409);

    act(SESSION_REQUEST, json!({ "mode": "control" }), megan.clone()).await;
    act(SESSION_CONSENT, json!({ "allow": true }), lynne.clone()).await;
    let report_path = with_id(REPORT_SESSION, &session);
    let report = app.get_json(&report_path, &admin).await;
    assert_eq!(report["report"]["elevation_held"], true);
    assert_eq!(report["report"]["elevation_used"], false);

    // A UAC prompt came up and the helper answered it through the agent.
    send(&mut media, json!({ "type": "elevation_used" })).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let report = loop {
        let report = app.get_json(&report_path, &admin).await;
        if report["report"]["elevation_used"] == true {
            break report;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "elevation was never recorded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let steps = report["steps"].to_string();
    assert!(steps.contains("acted on an elevation"), "{steps}");
    // The monitor surfaces it, with the report filter of that session.
    let monitor = app.get_json(REPORT_MONITOR, &admin).await;
    let pattern = monitor["unusual"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "elevation")
        .cloned()
        .unwrap_or_else(|| panic!("{monitor}"));
    assert_eq!(pattern["summary"], "1 session used elevation.");
    let query: tandem_protocol::reports::ReportQuery =
        serde_json::from_value(pattern["sessions"].clone()).unwrap();
    let listed = app
        .get_json(
            &format!("{REPORT_SESSIONS}?{}", query.to_query_string()),
            &admin,
        )
        .await;
    assert_eq!(listed["items"][0]["id"], session.as_str());
    // A second report is accepted but recorded once.
    send(&mut media, json!({ "type": "elevation_used" })).await;
    act(SESSION_LEAVE, json!(null), lynne.clone()).await;
    let report = app.get_json(&report_path, &admin).await;
    let used = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["what"].as_str().unwrap().contains("elevation"))
        .count();
    assert_eq!(used, 1, "{}", report["steps"]);
}
