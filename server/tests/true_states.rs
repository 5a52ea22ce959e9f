//! States that are always true, through the HTTP API: a browser sharer
//! is never controlled, another organization's code is a wrong code,
//! turning remote help off ends live sessions, and an administrator's
//! "End session".
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use axum::http::Method;
use serde_json::json;
use support::{MINUTE, app, consented, issue, post, problem, redeem};
use tandem_protocol::routes::*;

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
    consented(&app, &megan, &lynne, &id, "view").await;
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
    consented(&app, &megan, &lynne, &live, "view").await;
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
