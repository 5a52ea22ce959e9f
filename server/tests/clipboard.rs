//! Clipboard use through the agent's signaling: counted, recorded and
//! shown to the sharer only when the device's agent reports it, in full
//! control, with the tenant's clipboard on; never the text. The view tells
//! the helper and the agent the tenant's limit, and the sharer nothing but
//! the counts.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use axum::http::Method;
use serde_json::json;
use std::time::Duration;
use support::agent_socket::{next_of, send};
use support::tool_session::ToolSession;
use tandem_protocol::routes::*;

#[tokio::test]
async fn clipboard_use_is_counted_only_from_the_agent_in_full_control_when_the_tenant_allows_it() {
    let mut s = ToolSession::in_full_control(52).await;
    let (app, admin, session) = (&s.app, s.admin.clone(), s.session.clone());
    let (megan, lynne) = (s.megan.clone(), s.lynne.clone());
    let view = |cookie: String| {
        let path = with_id(SESSION, &session);
        async move { app.get_json(&path, &cookie).await }
    };
    let used = |direction: &str| json!({ "type": "clipboard_used", "direction": direction });

    // Off by default: nobody is offered the clipboard, and a report of
    // its use is refused and changes nothing.
    assert!(
        view(megan.clone())
            .await
            .get("clipboard_max_bytes")
            .is_none()
    );
    send(&mut s.media, used("to_device")).await;
    assert_eq!(
        next_of(&mut s.media, "error").await["problem"]["status"],
        409
    );

    // The administrator allows it, with a limit of 64 KiB.
    let mut settings = app.get_json(ADMIN_SETTINGS, &admin).await;
    settings["clipboard_enabled"] = json!(true);
    settings["clipboard_max_bytes"] = json!(64 * 1024);
    let saved = app
        .call(Method::PUT, ADMIN_SETTINGS, Some(&settings), Some(&admin))
        .await;
    assert_eq!(saved.status(), 200);
    settings["clipboard_max_bytes"] = json!(2 * 1024 * 1024);
    let over = app
        .call(Method::PUT, ADMIN_SETTINGS, Some(&settings), Some(&admin))
        .await;
    assert_eq!(over.status(), 400, "a limit over 1 MiB is refused");
    assert_eq!(view(megan.clone()).await["clipboard_max_bytes"], 65536);
    assert!(
        view(lynne.clone())
            .await
            .get("clipboard_max_bytes")
            .is_none()
    );

    // The helper cannot claim a use; the agent's reports are counted and
    // the sharer's view carries them (her page shows each).
    send(&mut s.helper, used("from_device")).await;
    assert_eq!(
        next_of(&mut s.helper, "error").await["problem"]["status"],
        409
    );
    send(&mut s.media, used("to_device")).await;
    send(&mut s.media, used("from_device")).await;
    send(&mut s.media, used("from_device")).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let sharer = loop {
        let sharer = view(lynne.clone()).await;
        if sharer["clipboard_from_device"] == 2 {
            break sharer;
        }
        assert!(tokio::time::Instant::now() < deadline, "{sharer}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(sharer["clipboard_to_device"], 1);
    let report = app
        .get_json(&with_id(REPORT_SESSION, &session), &admin)
        .await;
    assert_eq!(report["report"]["clipboard_to_device"], 1);
    assert_eq!(report["report"]["clipboard_from_device"], 2);
    // The CSV export carries the counts too.
    let csv = app
        .call(Method::GET, REPORT_SESSIONS_CSV, None, Some(&admin))
        .await;
    let csv = String::from_utf8(support::body_bytes(csv).await.to_vec()).unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .contains("clipboard_to_device,clipboard_from_device")
    );

    // Annotation: the helper's strokes drawn on the device are recorded
    // (on by default); the helper cannot claim it.
    let annotated = json!({ "type": "annotation_used" });
    send(&mut s.helper, annotated.clone()).await;
    assert_eq!(
        next_of(&mut s.helper, "error").await["problem"]["status"],
        409
    );
    assert_eq!(view(megan.clone()).await["annotation_enabled"], true);
    assert_eq!(view(lynne.clone()).await["annotation_enabled"], true);
    send(&mut s.media, annotated.clone()).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let report = app
            .get_json(&with_id(REPORT_SESSION, &session), &admin)
            .await;
        if report["report"]["annotation_used"] == true {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{report}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The sharer's word on the drawings reaches the device's agent; the
    // helper cannot say it for her.
    let mut sharer = s.sharer().await;
    let off = json!({ "type": "sharer_drawing", "action": "off" });
    send(&mut sharer, off.clone()).await;
    assert_eq!(
        next_of(&mut s.media, "sharer_drawing").await["action"],
        "off"
    );
    // The device tells her page how the switch stands.
    send(
        &mut s.media,
        json!({ "type": "drawing_state", "off": true }),
    )
    .await;
    assert_eq!(next_of(&mut sharer, "drawing_state").await["off"], true);
    send(&mut s.helper, off).await;
    assert!(
        next_of(&mut s.helper, "error").await["problem"]["detail"]
            .as_str()
            .unwrap()
            .contains("cannot send")
    );

    // Paused by the sharer: refused again.
    s.act(SESSION_PAUSE, json!(null), &lynne).await;
    send(&mut s.media, used("to_device")).await;
    assert_eq!(
        next_of(&mut s.media, "error").await["problem"]["status"],
        409
    );
    send(&mut s.media, annotated).await;
    assert_eq!(
        next_of(&mut s.media, "error").await["problem"]["status"],
        409
    );
    let report = app
        .get_json(&with_id(REPORT_SESSION, &session), &admin)
        .await;
    assert_eq!(report["report"]["clipboard_to_device"], 1);
}
