//! Two replicas of the server on one PostgreSQL database, each client
//! behind a load balancer without stickiness: the helper's console on
//! replica A, the agent and the sharer's browser on replica B. Then
//! `kill -9` of A mid-session, and a rolling restart of both, one at a
//! time. The session never ends, full control keeps working (a command
//! typed after each step runs in the device's xterm), and the helper's
//! return after the kill is one reconnect, without a new approval.

use crate::agent::wait_for_file;
use crate::session::session_id;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use tandem_tests::desktop::Xvfb;
use tandem_tests::flows::controlled_agent_session;
use tandem_tests::{Balancer, Browser, Database, ServerOptions, TEST_TIMEOUT, TestServer};

/// The session as the helper's console reads it (through its balancer).
async fn view(helper: &Browser, id: &str) -> Value {
    helper
        .fetch_json(&format!("/api/sessions/{id}"))
        .await
        .unwrap()
}

/// Waits (up to 30 s) until the session's view satisfies `done`; the
/// session must never have ended meanwhile.
async fn until_view(
    helper: &Browser,
    id: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        // A replica going away may fail one request; the next goes
        // elsewhere.
        if let Ok(v) = helper.fetch_json(&format!("/api/sessions/{id}")).await {
            assert!(v["ended"].is_null(), "the session ended ({what}): {v}");
            if done(&v) {
                return v;
            }
            assert!(tokio::time::Instant::now() < deadline, "never {what}: {v}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Full control works: a command typed in the console runs on the device.
pub(crate) async fn typed_command_runs(helper: &Browser, work: &Path, name: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    // After a reconnect the picture may be renegotiated: type again until
    // the surface takes it.
    loop {
        if let Ok(surface) = helper.wait_for("#remote-surface.controlling").await {
            let _ = surface.send_keys(&format!("touch {name}\u{E007}")).await;
        }
        if wait_for_file(&work.join(name), true, Duration::from_secs(5)).await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "`touch {name}` never ran on the device"
        );
    }
}

fn controlled(v: &Value) -> bool {
    v["phase"] == "active" && v["mode"] == "control"
}

fn all_back(v: &Value) -> bool {
    controlled(v) && v["helper_connected"] == true && v["agent_connected"] == true
}

#[tokio::test]
async fn two_replicas_carry_a_session_through_a_kill_and_a_rolling_restart() {
    let options = ServerOptions {
        database: Database::Postgres,
        config_toml: Some("drain_seconds = 10\n".into()),
        ..ServerOptions::default()
    };
    let mut a = TestServer::start_with(options).await.unwrap();
    let mut b = a.start_replica().await.unwrap();
    let (url_a, url_b) = (a.base_url().to_owned(), b.base_url().to_owned());
    let to_a = Balancer::start(&[&url_a, &url_b]).await.unwrap();
    let to_b = Balancer::start(&[&url_b, &url_a]).await.unwrap();
    let helper = Browser::start(&to_a.base_url()).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let xvfb = Xvfb::start().unwrap();
    let shell = format!("cd '{}' && exec sh", work.path().display());
    let _term = xvfb
        .run(
            "xterm",
            "xterm",
            &["-ut", "-geometry", "170x59+0+0", "-e", "sh", "-c", &shell],
        )
        .unwrap();
    let test = async {
        let (sharer, agent) = controlled_agent_session(&helper, &to_b.base_url(), &xvfb.display)
            .await
            .unwrap();
        let id = session_id(&helper).await;
        typed_command_runs(&helper, work.path(), "on_two_replicas").await;
        // Where everyone is: the console on A, the agent and the sharer
        // on B (A was never asked for them).
        assert!(to_a.connections_to(&url_a) > 0);
        assert_eq!(to_a.connections_to(&url_b), 0);
        assert!(to_b.connections_to(&url_b) > 0);
        assert_eq!(to_b.connections_to(&url_a), 0);
        let before = view(&helper, &id).await;
        assert!(controlled(&before), "{before}");
        assert_eq!(before["reconnects"], 0, "{before}");

        // kill -9 of A: the console reconnects to B by itself; the sharer
        // is asked nothing, and the record shows one reconnect.
        a.kill_9();
        let after = until_view(&helper, &id, "the helper back on B", |v| {
            v["reconnects"] == 1 && all_back(v)
        })
        .await;
        assert!(controlled(&after), "{after}");
        assert!(to_a.connections_to(&url_b) > 0, "the console moved to B");
        typed_command_runs(&helper, work.path(), "after_the_kill").await;
        assert!(
            sharer
                .texts("#consent-allow")
                .await
                .unwrap_or_default()
                .is_empty(),
            "the sharer was asked again"
        );

        // A rolling restart: A comes back, then B and A are stopped
        // (drained) and started again, one at a time.
        a.restart().await.unwrap();
        for (name, server) in [("b", &mut b), ("a", &mut a)] {
            let reconnects = view(&helper, &id).await["reconnects"].as_u64().unwrap();
            let status = server.stop(Duration::from_secs(15)).await.unwrap();
            assert!(
                status.success(),
                "replica {name} drained and exited: {status}"
            );
            until_view(
                &helper,
                &id,
                "the parties back after a replica stopped",
                |v| v["reconnects"].as_u64() > Some(reconnects) && all_back(v),
            )
            .await;
            server.restart().await.unwrap();
            typed_command_runs(&helper, work.path(), &format!("after_restarting_{name}")).await;
        }
        let last = view(&helper, &id).await;
        assert!(controlled(&last), "{last}");
        drop(agent);
        sharer.close().await;
    };
    let outcome = tokio::time::timeout(TEST_TIMEOUT, test).await;
    helper.close().await;
    assert!(
        outcome.is_ok(),
        "test did not finish within {} s",
        TEST_TIMEOUT.as_secs()
    );
}
