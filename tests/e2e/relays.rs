//! TURN across the test network (`tandem_tests::network`): the relay
//! between two NATed sites, relay only, a sharer site without UDP, and a
//! rotated TURN secret. Runs as root, like the other network tests.

use crate::networks::selected_pair;
use crate::replicas::typed_command_runs;
use serde_json::{Value, json};
use std::time::Duration;
use tandem_tests::network::SERVER_ADDRESS;
use tandem_tests::sites::{Layout, Sites, TURN_SECRET};

#[tokio::test]
async fn a_session_between_two_nated_sites_goes_through_turn() {
    let sites = Sites::start(Layout::default()).await;
    sites
        .run(async |sites| {
            let (_sharer, agent) = sites.controlled().await;
            // The sites cannot reach each other: the media goes through
            // coturn, and the device's end is a relay candidate there.
            let pair = selected_pair(&sites.helper).await;
            eprintln!("selected pair: {pair}");
            assert_eq!(pair["remote"], "relay", "{pair}");
            assert_eq!(pair["remote_address"], SERVER_ADDRESS.to_string(), "{pair}");
            // Full control works through it.
            typed_command_runs(&sites.helper, sites.work.path(), "through_turn").await;
            // The console says which path it is.
            sites.helper.click("#quality-button").await.unwrap();
            sites
                .helper
                .wait_for_text_containing("#connection-details", "relayed")
                .await
                .unwrap();
            // coturn saw both ends allocate with the server's credentials: the
            // device's and the helper's.
            let log = sites.turn.log();
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
        })
        .await;
}

#[tokio::test]
async fn a_sharer_on_a_network_without_udp_gets_full_control_through_turn_over_tcp() {
    let layout = Layout {
        tcp_only_sharer: true,
        ..Layout::default()
    };
    Sites::start(layout)
        .await
        .run(async |sites| {
            let (_sharer, agent) = sites.controlled().await;
            let pair = selected_pair(&sites.helper).await;
            eprintln!("selected pair, the sharer without UDP: {pair}");
            assert_eq!(pair["remote"], "relay", "{pair}");
            typed_command_runs(&sites.helper, sites.work.path(), "over_tcp").await;
            // The device allocated on the coturn it can reach only over TCP
            // (its site drops every UDP packet).
            let log = sites.turn_tcp.as_ref().map(|t| t.log()).unwrap_or_default();
            assert!(
                log.lines()
                    .any(|l| l.contains("ALLOCATE processed, success") && l.contains(":device:")),
                "coturn on 443:\n{log}\nagent:\n{}",
                agent.output()
            );
            // And none over UDP: the drop is real.
            let udp_log = sites.turn.log();
            assert!(
                !udp_log
                    .lines()
                    .any(|l| l.contains("ALLOCATE processed, success") && l.contains(":device:")),
                "coturn on 3478 (UDP):\n{udp_log}"
            );
            // The console says so, from the device's own figures.
            sites.helper.click("#quality-button").await.unwrap();
            sites
                .helper
                .wait_for_text_containing("#connection-details", "relayed over TCP")
                .await
                .unwrap();
        })
        .await;
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
    // Two offices on one network: a direct path is there to take.
    let layout = Layout {
        open_between_sites: true,
        ..Layout::default()
    };
    Sites::start(layout)
        .await
        .run(async |sites| {
            // The organization forbids peer-to-peer traffic.
            sites.helper.sign_in_as("admin@contoso.test").await.unwrap();
            sites.helper.goto("/admin/settings").await.unwrap();
            sites.helper.click("#set-relay-only").await.unwrap();
            sites.helper.click_button("Save settings").await.unwrap();
            sites
                .helper
                .wait_for_text_containing("body", "Settings saved")
                .await
                .unwrap();
            let (_sharer, _agent) = sites.controlled().await;
            let pair = selected_pair(&sites.helper).await;
            assert_eq!(
                (&pair["local"], &pair["remote"]),
                (&json!("relay"), &json!("relay")),
                "{pair}"
            );
            // Neither end offered anything but relay candidates: the console
            // gathered none, and the device sent none.
            let types = sites
                .helper
                .eval_async(CANDIDATE_TYPES, vec![])
                .await
                .unwrap();
            let all_relay = |side: &Value| {
                side.as_array()
                    .is_some_and(|c| !c.is_empty() && c.iter().all(|t| t == "relay"))
            };
            assert!(all_relay(&types[0]) && all_relay(&types[1]), "{types}");
            typed_command_runs(&sites.helper, sites.work.path(), "relay_only").await;
        })
        .await;
}

#[tokio::test]
async fn a_rotated_turn_secret_is_honoured_after_a_sighup() {
    let mut sites = Sites::start(Layout::default()).await;
    // The secret changes on coturn and in the server's file; SIGHUP makes
    // the server read it, no restart.
    let rotated = "e2e-turn-secret-rotated";
    sites.turn.restart_with_secret(rotated).unwrap();
    let config = sites.server.data_dir().join("tandem.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace(TURN_SECRET, rotated)).unwrap();
    let pid = nix::unistd::Pid::from_raw(i32::try_from(sites.server.pid()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !sites
        .server
        .log()
        .contains("reloaded the ICE servers and the TURN secret")
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no reload:\n{}",
            sites.server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sites
        .run(async |sites| {
            let (_sharer, agent) = sites.controlled().await;
            let id = crate::session::session_id(&sites.helper).await;
            let pair = selected_pair(&sites.helper).await;
            assert_eq!(pair["remote"], "relay", "{pair}");
            typed_command_runs(&sites.helper, sites.work.path(), "rotated").await;
            // coturn, on the new secret only, took the device's new
            // credentials, which name the session.
            let log = sites.turn.log();
            assert!(
                log.lines()
                    .any(|l| l.contains("ALLOCATE processed, success")
                        && l.contains(&format!(":{id}:device:"))),
                "coturn log:\n{log}\nagent:\n{}",
                agent.output()
            );
        })
        .await;
}
