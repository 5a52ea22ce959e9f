//! File transfer through the signaling: the server passes the agent's
//! notices (name, size, how far) to the sharer and the sharer's answers to
//! the agent, never stores them, and counts each file moved whole with its
//! size in the record; only from the right side, in full control, with the
//! tenant's file transfer on and within its limit. No byte of a file ever
//! reaches it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use axum::http::Method;
use serde_json::{Value, json};
use std::time::Duration;
use support::agent_socket::{next_of, send};
use support::tool_session::ToolSession;
use tandem_protocol::routes::*;

fn notice(stage: &str, size: u64, bytes: u64) -> Value {
    json!({ "type": "file_notice", "notice": {
        "id": 7, "direction": "to_device", "name": "report.pdf",
        "size": size, "bytes": bytes, "stage": stage,
    }})
}

fn moved(direction: &str, bytes: u64) -> Value {
    json!({ "type": "file_moved", "direction": direction, "bytes": bytes })
}

#[tokio::test]
async fn file_notices_answers_and_counts_pass_only_the_right_way_when_allowed() {
    let mut s = ToolSession::in_full_control(53).await;
    let mut sharer = s.sharer().await;

    // Off by default: nobody is offered files, and nothing passes.
    assert!(
        s.view(&s.megan.clone())
            .await
            .get("file_max_bytes")
            .is_none()
    );
    send(&mut s.media, notice("asking", 10, 0)).await;
    assert_eq!(
        next_of(&mut s.media, "error").await["problem"]["status"],
        409
    );

    // On, with a limit of 5 MiB; out-of-range limits are refused.
    assert_eq!(s.settings(|v| v["file_max_mib"] = json!(0)).await, 400);
    assert_eq!(s.settings(|v| v["file_max_mib"] = json!(4096)).await, 400);
    let allowed = s
        .settings(|v| {
            v["file_transfer_enabled"] = json!(true);
            v["file_max_mib"] = json!(5);
        })
        .await;
    assert_eq!(allowed, 200);
    assert_eq!(
        s.view(&s.megan.clone()).await["file_max_bytes"],
        5 * 1024 * 1024
    );
    assert!(
        s.view(&s.lynne.clone())
            .await
            .get("file_max_bytes")
            .is_none()
    );

    // The agent's notice reaches the sharer; the sharer's Accept reaches
    // the agent.
    send(&mut s.media, notice("asking", 1_000_000, 0)).await;
    let heard = next_of(&mut sharer, "file_notice").await;
    assert_eq!(heard["notice"]["name"], "report.pdf");
    assert_eq!(heard["notice"]["size"], 1_000_000);
    send(
        &mut sharer,
        json!({ "type": "file_answer", "id": 7, "answer": "accept" }),
    )
    .await;
    let answer = next_of(&mut s.media, "file_answer").await;
    assert_eq!(
        (answer["id"].clone(), answer["answer"].clone()),
        (json!(7), json!("accept"))
    );

    // Nobody speaks for another: the helper cannot answer for the
    // sharer, nor the sharer or helper tell of files or count them.
    for (from_sharer, message) in [
        (
            false,
            json!({ "type": "file_answer", "id": 7, "answer": "accept" }),
        ),
        (true, notice("moving", 10, 5)),
        (false, moved("to_device", 10)),
    ] {
        let socket = if from_sharer {
            &mut sharer
        } else {
            &mut s.helper
        };
        send(socket, message).await;
        let refused = next_of(socket, "error").await;
        let detail = refused["problem"]["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains("cannot send that file message"),
            "{refused}"
        );
    }
    // Out of bounds: over the limit, more bytes than the size, a hidden
    // character in the name.
    let mut hidden = notice("asking", 10, 0);
    hidden["notice"]["name"] = json!("report\u{202e}fdp.exe");
    for message in [
        notice("asking", 6 * 1024 * 1024, 0),
        notice("moving", 10, 11),
        hidden,
        moved("from_device", 6 * 1024 * 1024),
    ] {
        send(&mut s.media, message).await;
        assert_eq!(
            next_of(&mut s.media, "error").await["problem"]["status"],
            400
        );
    }

    // Files moved whole are counted with their size.
    send(&mut s.media, moved("to_device", 1_000_000)).await;
    send(&mut s.media, moved("from_device", 2_000)).await;
    send(&mut s.media, moved("from_device", 3_000)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let report = loop {
        let report = s.report().await;
        if report["files_from_device"] == 2 {
            break report;
        }
        assert!(tokio::time::Instant::now() < deadline, "{report}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(report["files_to_device"], 1);
    assert_eq!(report["file_bytes_to_device"], 1_000_000);
    assert_eq!(report["file_bytes_from_device"], 5_000);
    let csv = s
        .app
        .call(Method::GET, REPORT_SESSIONS_CSV, None, Some(&s.admin))
        .await;
    let csv = String::from_utf8(support::body_bytes(csv).await.to_vec()).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.contains(
            "files_to_device,files_from_device,file_bytes_to_device,file_bytes_from_device"
        ),
        "{header}"
    );
    assert!(!csv.contains("report.pdf"), "names are never recorded");

    // Paused by the sharer: nothing moves or is answered, but how the
    // transfer ended still reaches her page.
    let lynne = s.lynne.clone();
    s.act(SESSION_PAUSE, json!(null), &lynne).await;
    send(&mut s.media, notice("moving", 10, 5)).await;
    assert_eq!(
        next_of(&mut s.media, "error").await["problem"]["status"],
        409
    );
    send(
        &mut sharer,
        json!({ "type": "file_answer", "id": 7, "answer": "cancel" }),
    )
    .await;
    assert_eq!(
        next_of(&mut sharer, "error").await["problem"]["status"],
        409
    );
    let mut stopped = notice("stopped", 10, 5);
    stopped["notice"]["outcome"] = json!({ "kind": "not_allowed" });
    send(&mut s.media, stopped).await;
    let heard = next_of(&mut sharer, "file_notice").await;
    assert_eq!(heard["notice"]["stage"], "stopped");
}
