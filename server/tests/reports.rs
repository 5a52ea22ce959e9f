//! Session records through the API: every fact of a session with the time
//! per mode, who reads what, filters, sorting, paging, CSV, the monitor
//! page with its unusual patterns, the live feed, and retention with a
//! manual clock.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use axum::http::Method;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::time::Duration;
use support::{
    App, MINUTE, app, body_bytes, issue, json_of, paired_device, post, problem, redeem, redeem_on,
};
use tandem_protocol::routes::*;

const DAY: i64 = 24 * 60 * MINUTE;

async fn put_settings(app: &App, change: impl FnOnce(&mut Value)) {
    let admin = app.sign_in("admin@contoso.test").await;
    let mut settings = app.get_json(ADMIN_SETTINGS, &admin).await;
    change(&mut settings);
    let put = app
        .call(Method::PUT, ADMIN_SETTINGS, Some(&settings), Some(&admin))
        .await;
    assert_eq!(put.status(), 200, "{settings}");
}

/// Megan helps Lynne on her device (through its agent): view 4 min, full
/// control 3 min (1 min of it after a 1-min pause), with a ticket; Lynne
/// leaves after 10 min.
async fn a_full_session(app: &App) -> String {
    let (megan, code, id) = issue(app, "megan@contoso.test").await;
    let lynne = app.sign_in("lynne@contoso.test").await;
    let device = paired_device(app, &lynne, 41).await;
    app.clock.advance_millis(MINUTE);
    assert_eq!(redeem_on(app, &lynne, &code, &device).await.status(), 200);
    let view = json!({"mode": "view"});
    post(app, &megan, SESSION_REQUEST, &id, Some(view)).await;
    app.clock.advance_millis(MINUTE);
    let allow = json!({"allow": true});
    post(app, &lynne, SESSION_CONSENT, &id, Some(allow.clone())).await;
    app.clock.advance_millis(3 * MINUTE);
    let control = json!({"mode": "control"});
    post(app, &megan, SESSION_REQUEST, &id, Some(control)).await;
    // Still view while Lynne decides.
    app.clock.advance_millis(MINUTE);
    post(app, &lynne, SESSION_CONSENT, &id, Some(allow)).await;
    app.clock.advance_millis(2 * MINUTE);
    post(app, &lynne, SESSION_PAUSE, &id, None).await;
    app.clock.advance_millis(MINUTE);
    post(app, &lynne, SESSION_RESUME, &id, None).await;
    let ticket = app
        .call(
            Method::PUT,
            &with_id(SESSION_TICKET, &id),
            Some(&json!({"ticket": " INC-1042 "})),
            Some(&megan),
        )
        .await;
    assert_eq!(ticket.status(), 200);
    assert_eq!(json_of(ticket).await["ticket"], "INC-1042");
    app.clock.advance_millis(MINUTE);
    post(app, &lynne, SESSION_LEAVE, &id, None).await;
    id
}

#[tokio::test]
async fn a_session_record_holds_every_fact_and_the_time_in_each_mode() {
    let app = app().await;
    let id = a_full_session(&app).await;
    let admin = app.sign_in("admin@contoso.test").await;
    let detail = app.get_json(&with_id(REPORT_SESSION, &id), &admin).await;
    let r = &detail["report"];
    assert_eq!(r["helper_name"], "Megan Bowen");
    assert_eq!(r["sharer_name"], "Lynne Robbins");
    assert_eq!(r["tenant_name"], "Contoso");
    assert_eq!(r["duration_ms"], 10 * MINUTE);
    assert_eq!(r["view_ms"], 4 * MINUTE);
    assert_eq!(r["control_ms"], 3 * MINUTE);
    assert_eq!(r["paused_ms"], MINUTE);
    // Megan holds Elevation and had full control, but no elevation prompt
    // came up: holding is not using.
    assert_eq!(r["elevation_held"], true);
    assert_eq!(r["elevation_used"], false);
    assert_eq!(r["pause_used"], true);
    assert_eq!(r["chat_used"], false);
    assert_eq!(r["outcome"], "completed");
    assert_eq!(r["ended_by"], "sharer");
    assert_eq!(r["ended_by_name"], "Lynne Robbins");
    assert_eq!(r["ticket"], "INC-1042");
    assert_eq!(r["reconnects"], 0);
    let steps: Vec<&str> = detail["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["what"].as_str().unwrap())
        .collect();
    assert_eq!(steps.len(), 9, "{steps:?}");
    assert_eq!(steps[0], "Megan Bowen got a security code.");
    assert_eq!(steps[4], "Megan Bowen asked for full control.");
    assert_eq!(steps[8], "Lynne Robbins left; the session ended.");

    // The sharer may not type the ticket; a blank one clears it.
    let lynne = app.sign_in("lynne@contoso.test").await;
    let megan = app.sign_in("megan@contoso.test").await;
    let path = with_id(SESSION_TICKET, &id);
    let by_sharer = app
        .call(
            Method::PUT,
            &path,
            Some(&json!({"ticket": "X"})),
            Some(&lynne),
        )
        .await;
    assert_eq!(by_sharer.status(), 403);
    let too_long = json!({"ticket": "x".repeat(65)});
    let response = app
        .call(Method::PUT, &path, Some(&too_long), Some(&megan))
        .await;
    assert_eq!(response.status(), 400);
    assert!(problem(response).await.message().contains("64"));
    let cleared = app
        .call(
            Method::PUT,
            &path,
            Some(&json!({"ticket": ""})),
            Some(&megan),
        )
        .await;
    assert_eq!(json_of(cleared).await["ticket"], Value::Null);
}

#[tokio::test]
async fn a_helper_without_read_session_reports_sees_only_their_own_sessions() {
    let app = app().await;
    let megans = a_full_session(&app).await;
    let (_, _, alexs) = issue(&app, "alex@contoso.test").await;
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let megan = app.sign_in("megan@contoso.test").await;
    assert_eq!(
        ids(&app.get_json(REPORT_SESSIONS, &megan).await),
        std::slice::from_ref(&megans)
    );
    // Alex's record is not Megan's to read, nor to find by filter.
    let other = app
        .get(&with_id(REPORT_SESSION, &alexs), Some(&megan))
        .await;
    assert_eq!(other.status(), 404);
    let filtered = format!("{REPORT_SESSIONS}?helper={}", "x");
    assert_eq!(app.get_json(&filtered, &megan).await["total"], 0);
    let csv = body_bytes(app.get(REPORT_SESSIONS_CSV, Some(&megan)).await).await;
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(!csv.contains(&alexs));
    let admin = app.sign_in("admin@contoso.test").await;
    let all = ids(&app.get_json(REPORT_SESSIONS, &admin).await);
    assert_eq!(all, [alexs, megans], "newest first");
}

#[tokio::test]
async fn the_report_filters_sorts_pages_and_exports_the_same_rows() {
    let app = app().await;
    let completed = a_full_session(&app).await;
    // A refusal (Alex's scope is Finance, Diego is in Sales) and an expiry.
    let (_, code, refused) = issue(&app, "alex@contoso.test").await;
    let diego = app.sign_in("diego@contoso.test").await;
    assert_eq!(redeem(&app, &diego, &code).await.status(), 403);
    let (_, _, expired) = issue(&app, "megan@contoso.test").await;
    app.clock.advance_millis(11 * MINUTE);
    app.sessions.sweep().await.unwrap();
    let admin = app.sign_in("admin@contoso.test").await;
    let get = |query: String| {
        let admin = admin.clone();
        let app = &app;
        async move {
            app.get_json(&format!("{REPORT_SESSIONS}?{query}"), &admin)
                .await
        }
    };
    let only = |page: &Value| page["items"][0]["id"].as_str().unwrap().to_owned();
    let refused_page = get("outcome=refused".into()).await;
    assert_eq!(
        (refused_page["total"].as_u64(), only(&refused_page)),
        (Some(1), refused.clone())
    );
    assert!(
        refused_page["items"][0]["outcome_detail"]
            .as_str()
            .unwrap()
            .contains("out of scope")
    );
    assert_eq!(only(&get("outcome=expired".into()).await), expired);
    let by_duration = get("sort=duration&desc=true&per_page=1&page=1".into()).await;
    assert_eq!(by_duration["total"], 3);
    assert_eq!(only(&by_duration), expired, "11 min beats 10 min");
    let second = get("sort=duration&desc=true&per_page=1&page=2".into()).await;
    assert_eq!(only(&second), completed);
    // Megan held Elevation in full control, but used it nowhere.
    assert_eq!(get("flag=elevation".into()).await["total"], 0);
    let elevated = get("outcome=completed".into()).await;
    assert_eq!(only(&elevated), completed);
    let megan_id = elevated["items"][0]["helper_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(get(format!("helper={megan_id}")).await["total"], 2);
    let today = elevated["items"][0]["local_day"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(get(format!("from={today}&to={today}")).await["total"], 3);
    assert_eq!(get("to=2000-01-01".into()).await["total"], 0);

    // The CSV holds the same rows in the same order.
    let page = get("sort=helper".into()).await;
    let csv = app
        .get(&format!("{REPORT_SESSIONS_CSV}?sort=helper"), Some(&admin))
        .await;
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()[axum::http::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = String::from_utf8(body_bytes(csv).await).unwrap();
    let csv_ids: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let page_ids: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(csv_ids, page_ids);

    // Bad filters get a clear problem, never a 500.
    for bad in [
        "from=2026-13-01",
        "from=yesterday",
        "from=2026-11-02&to=2026-11-01",
        "outcome=lost",
        "sort=colour",
        "page=-1",
    ] {
        let response = app
            .get(&format!("{REPORT_SESSIONS}?{bad}"), Some(&admin))
            .await;
        assert_eq!(response.status(), 400, "{bad}");
        assert_eq!(problem(response).await.kind, "/problems/bad-request");
    }
}

#[tokio::test]
async fn the_monitor_counts_the_last_30_days_and_surfaces_unusual_patterns() {
    let app = app().await;
    // No working days at all: every session is outside working hours.
    put_settings(&app, |s| {
        s["working_days"] = json!(0);
        s["unusual_failures_per_day"] = json!(2);
    })
    .await;
    let completed = a_full_session(&app).await;
    let (_, code, _) = issue(&app, "alex@contoso.test").await;
    let diego = app.sign_in("diego@contoso.test").await;
    assert_eq!(redeem(&app, &diego, &code).await.status(), 403);
    let (_, code, _) = issue(&app, "alex@contoso.test").await;
    assert_eq!(redeem(&app, &diego, &code).await.status(), 403);
    for _ in 0..2 {
        assert_eq!(redeem(&app, &diego, "WRNGCODE").await.status(), 400);
    }
    let admin = app.sign_in("admin@contoso.test").await;
    let m = app.get_json(REPORT_MONITOR, &admin).await;
    let per_day = m["per_day"].as_array().unwrap();
    assert_eq!(per_day.len(), 30);
    assert_eq!(per_day[29]["sessions"], 3, "{per_day:?}");
    assert!(per_day[..29].iter().all(|d| d["sessions"] == 0));
    let outcomes: Vec<(String, u64)> = m["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["outcome"].as_str().unwrap().into(),
                o["sessions"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(outcomes, [("completed".into(), 1), ("refused".into(), 2)]);
    // Refused sessions never shared a screen: not in the mean.
    assert_eq!(m["average_duration_ms"], 10 * MINUTE);
    assert_eq!(m["busiest_helpers"][0]["helper_name"], "Alex Wilber");
    assert_eq!(m["busiest_helpers"][0]["sessions"], 2);
    assert_eq!(m["active"].as_array().unwrap().len(), 0);
    let kinds: Vec<&str> = m["unusual"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "outside_hours",
            "repeated_refusals",
            "repeated_code_failures",
        ]
    );
    // Each pattern carries the report filter of its sessions.
    let admin_get = |q: &Value| {
        let query: tandem_protocol::reports::ReportQuery =
            serde_json::from_value(q.clone()).unwrap();
        format!("{REPORT_SESSIONS}?{}", query.to_query_string())
    };
    let unusual = m["unusual"].as_array().unwrap();
    let refusals = app
        .get_json(&admin_get(&unusual[1]["sessions"]), &admin)
        .await;
    assert_eq!(refusals["total"], 2);
    assert!(
        unusual[1]["summary"]
            .as_str()
            .unwrap()
            .contains("Alex Wilber")
    );
    assert!(unusual[2]["summary"].as_str().unwrap().contains("Diego"));
    let outside = app
        .get_json(&admin_get(&unusual[0]["sessions"]), &admin)
        .await;
    assert_eq!(outside["total"], 3);
    assert!(outside["items"].to_string().contains(&completed));
    assert_eq!(outside["items"][0]["outside_hours"], true);
}

#[tokio::test]
async fn the_live_feed_pushes_the_active_sessions_on_every_change() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    let response = app.get(REPORT_LIVE, Some(&admin)).await;
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let mut next_event = async || -> Value {
        let mut text = String::new();
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
                .await
                .expect("an event within 5 s")
                .unwrap()
                .unwrap();
            if let Some(data) = frame.data_ref() {
                text.push_str(std::str::from_utf8(data).unwrap());
            }
            if let Some(end) = text.find("\n\n") {
                let event = &text[..end];
                if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                    return serde_json::from_str(data).unwrap();
                }
                text = text[end + 2..].to_owned();
            }
        }
    };
    assert_eq!(next_event().await["active"], json!([]));
    let (_, code, id) = issue(&app, "megan@contoso.test").await;
    let first = next_event().await;
    assert_eq!(first["active"][0]["id"], id);
    assert_eq!(first["active"][0]["status"], "Waiting for the sharer");
    let lynne = app.sign_in("lynne@contoso.test").await;
    redeem(&app, &lynne, &code).await;
    let joined = next_event().await;
    assert_eq!(joined["active"][0]["sharer_name"], "Lynne Robbins");
    post(&app, &lynne, SESSION_LEAVE, &id, None).await;
    assert_eq!(next_event().await["active"], json!([]));
}

#[tokio::test]
async fn retention_deletes_records_older_than_the_tenants_period_and_nothing_else() {
    let app = app().await;
    put_settings(&app, |s| s["retention_days"] = json!(7)).await;
    let old = a_full_session(&app).await;
    let lynne = app.sign_in("lynne@contoso.test").await;
    assert_eq!(redeem(&app, &lynne, "WRNGCODE").await.status(), 400);
    // A Fabrikam session ends at the same time; Fabrikam keeps 30 days.
    let (fabrikam, _, theirs) = issue(&app, "admin@fabrikam.test").await;
    post(&app, &fabrikam, SESSION_LEAVE, &theirs, None).await;
    app.clock.advance_millis(6 * DAY);
    // A session still live when the period passes is kept.
    let (_, _, live) = issue(&app, "megan@contoso.test").await;
    let run = || tandem_server::reports::retention::run_once(&app.store, app.clock.as_ref());
    assert_eq!(run().await.unwrap(), 0, "6 days: everything stays");
    app.clock.advance_millis(DAY + MINUTE);
    assert_eq!(
        run().await.unwrap(),
        1,
        "7 days and a minute: Contoso's old record goes"
    );
    let admin = app.sign_in("admin@contoso.test").await;
    let gone = app.get(&with_id(REPORT_SESSION, &old), Some(&admin)).await;
    assert_eq!(gone.status(), 404);
    let megan = app.sign_in("megan@contoso.test").await;
    assert_eq!(
        app.get(&with_id(SESSION, &old), Some(&megan))
            .await
            .status(),
        404
    );
    let page = app.get_json(REPORT_SESSIONS, &admin).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["id"], live);
    let m = app.get_json(REPORT_MONITOR, &admin).await;
    assert!(
        !m["unusual"].to_string().contains("codes that did not work"),
        "the code failure went too"
    );
    let fab_admin = app.sign_in("admin@fabrikam.test").await;
    let theirs_now = app.get_json(REPORT_SESSIONS, &fab_admin).await;
    assert_eq!(theirs_now["items"][0]["id"], theirs);
    app.clock.advance_millis(23 * DAY);
    assert_eq!(run().await.unwrap(), 1, "30 days: Fabrikam's goes");
}

#[tokio::test]
async fn settings_refuse_an_unknown_time_zone_and_count_days_in_a_known_one() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    let mut settings = app.get_json(ADMIN_SETTINGS, &admin).await;
    settings["timezone"] = json!("Mars/Olympus_Mons");
    let response = app
        .call(Method::PUT, ADMIN_SETTINGS, Some(&settings), Some(&admin))
        .await;
    assert_eq!(response.status(), 400);
    assert!(problem(response).await.message().contains("time zone"));
    put_settings(&app, |s| s["timezone"] = json!("Pacific/Kiritimati")).await;
    let (_, _, _) = issue(&app, "megan@contoso.test").await;
    let page = app.get_json(REPORT_SESSIONS, &admin).await;
    let day = page["items"][0]["local_day"].as_str().unwrap().to_owned();
    let m = app.get_json(REPORT_MONITOR, &admin).await;
    assert_eq!(m["timezone"], "Pacific/Kiritimati");
    assert_eq!(
        m["per_day"][29]["day"],
        day.as_str(),
        "today is UTC+14's today"
    );
}
