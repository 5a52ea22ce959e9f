//! Sessions across real networks (`tandem_tests::network`): the helper's
//! browser and the sharer's device each behind NAT, unable to reach each
//! other, with the server and coturn on a public segment. Runs as root,
//! like the other network tests.

use crate::replicas::typed_command_runs;
use serde_json::{Value, json};
use std::time::Duration;
use tandem_tests::desktop::Xvfb;
use tandem_tests::flows::controlled_agent_session_in;
use tandem_tests::network::{SERVER_ADDRESS, Site, TestNetwork};
use tandem_tests::turn::{Coturn, TURN_PORT};
use tandem_tests::{Browser, ServerOptions, TEST_TIMEOUT, TestServer};

/// The secret the server and coturn share for TURN REST credentials.
const TURN_SECRET: &str = "e2e-turn-secret";

fn turn_config() -> String {
    format!(
        "[turn_rest]\nurls = [\"turn:{SERVER_ADDRESS}:{TURN_PORT}?transport=udp\"]\n\
         secret = \"{TURN_SECRET}\"\nttl_seconds = 600\n"
    )
}

/// The candidate types of the console's selected pair, straight from
/// `getStats` (the connection kept by `KEEP_CHANNELS`).
const SELECTED_PAIR: &str = "
    const done = arguments[arguments.length - 1];
    const pc = (window.__pcs || []).find(p => p.connectionState === 'connected');
    if (!pc) { done(null); return; }
    pc.getStats().then(report => {
        let pair = null;
        report.forEach(s => {
            if (s.type === 'transport' && s.selectedCandidatePairId) {
                pair = report.get(s.selectedCandidatePairId);
            }
        });
        if (!pair) { done(null); return; }
        const local = report.get(pair.localCandidateId);
        const remote = report.get(pair.remoteCandidateId);
        done({
            local: local.candidateType,
            relay_protocol: local.relayProtocol || null,
            remote: remote.candidateType,
            remote_address: remote.address,
            bytes: pair.bytesReceived,
        });
    });";

/// Waits for the console's selected pair; answers it.
async fn selected_pair(helper: &Browser) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let pair = helper.eval_async(SELECTED_PAIR, vec![]).await.unwrap();
        if !pair.is_null() && pair["bytes"].as_u64() > Some(0) {
            return pair;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no selected pair carried bytes: {pair}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn a_session_between_two_nated_sites_goes_through_turn() {
    let network = TestNetwork::build().unwrap();
    let turn = Coturn::start(&network.site(Site::Server), TURN_SECRET).unwrap();
    let server = TestServer::start_with(ServerOptions {
        config_toml: Some(turn_config()),
        inside: Some(network.site(Site::Server)),
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    let helper = Browser::start_in(&network.site(Site::Helper), server.base_url())
        .await
        .unwrap();
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
        let (_sharer, agent) = controlled_agent_session_in(
            &helper,
            server.base_url(),
            &xvfb.display,
            &network.site(Site::Sharer),
        )
        .await
        .unwrap();
        // The sites cannot reach each other: the media goes through
        // coturn, and the device's end is a relay candidate there.
        let pair = selected_pair(&helper).await;
        eprintln!("selected pair: {pair}");
        assert_eq!(pair["remote"], "relay", "{pair}");
        assert_eq!(pair["remote_address"], SERVER_ADDRESS.to_string(), "{pair}");
        // Full control works through it.
        typed_command_runs(&helper, work.path(), "through_turn").await;
        // The console says which path it is.
        helper.click("#quality-button").await.unwrap();
        helper
            .wait_for_text_containing("#connection-details", "relayed")
            .await
            .unwrap();
        // coturn saw both ends allocate with the server's credentials: the
        // device's and the helper's.
        let log = turn.log();
        let allocations: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("ALLOCATE processed, success"))
            .collect();
        assert!(
            allocations.iter().any(|l| l.contains(":device:"))
                && allocations.iter().any(|l| !l.contains(":device:")),
            "coturn log:\n{log}\nagent:\n{}",
            agent.output()
        );
    };
    let outcome = tokio::time::timeout(TEST_TIMEOUT, test).await;
    helper.close().await;
    assert!(outcome.is_ok(), "the test took over {TEST_TIMEOUT:?}");
}

/// Every candidate either end offered, as the console's `getStats` saw
/// them: `[local types, remote types]`.
const CANDIDATE_TYPES: &str = "
    const done = arguments[arguments.length - 1];
    const pc = (window.__pcs || []).find(p => p.connectionState === 'connected');
    if (!pc) { done(null); return; }
    pc.getStats().then(report => {
        const local = [], remote = [];
        report.forEach(s => {
            if (s.type === 'local-candidate') local.push(s.candidateType);
            if (s.type === 'remote-candidate') remote.push(s.candidateType);
        });
        done([local, remote]);
    });";

#[tokio::test]
async fn relay_only_keeps_both_ends_on_the_relay_where_a_direct_path_exists() {
    let network = TestNetwork::build().unwrap();
    // Two offices on one network: a direct path is there to take.
    network.open_between_sites().unwrap();
    let _turn = Coturn::start(&network.site(Site::Server), TURN_SECRET).unwrap();
    let server = TestServer::start_with(ServerOptions {
        config_toml: Some(turn_config()),
        inside: Some(network.site(Site::Server)),
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    let helper = Browser::start_in(&network.site(Site::Helper), server.base_url())
        .await
        .unwrap();
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
        // The organization forbids peer-to-peer traffic.
        helper.sign_in_as("admin@contoso.test").await.unwrap();
        helper.goto("/admin/settings").await.unwrap();
        helper.click("#set-relay-only").await.unwrap();
        helper.click_button("Save settings").await.unwrap();
        helper
            .wait_for_text_containing("body", "Settings saved")
            .await
            .unwrap();
        let (_sharer, _agent) = controlled_agent_session_in(
            &helper,
            server.base_url(),
            &xvfb.display,
            &network.site(Site::Sharer),
        )
        .await
        .unwrap();
        let pair = selected_pair(&helper).await;
        assert_eq!(
            (&pair["local"], &pair["remote"]),
            (&json!("relay"), &json!("relay")),
            "{pair}"
        );
        // Neither end offered anything but relay candidates: the console
        // gathered none, and the device sent none.
        let types = helper.eval_async(CANDIDATE_TYPES, vec![]).await.unwrap();
        let all_relay = |side: &Value| {
            side.as_array()
                .is_some_and(|c| !c.is_empty() && c.iter().all(|t| t == "relay"))
        };
        assert!(all_relay(&types[0]) && all_relay(&types[1]), "{types}");
        typed_command_runs(&helper, work.path(), "relay_only").await;
    };
    let outcome = tokio::time::timeout(TEST_TIMEOUT, test).await;
    helper.close().await;
    assert!(outcome.is_ok(), "the test took over {TEST_TIMEOUT:?}");
}
