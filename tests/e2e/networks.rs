//! Sessions across real networks (`tandem_tests::network`): the helper's
//! browser and the sharer's device each behind NAT, unable to reach each
//! other, with the server and coturn on a public segment; here loss and
//! delay, cuts on either side and a killed agent (TURN itself is in
//! `relays.rs`). Runs as root, like the other network tests.

use crate::replicas::typed_command_runs;
use serde_json::{Value, json};
use std::time::Duration;
use tandem_tests::Browser;
use tandem_tests::network::{Impairment, Site};
use tandem_tests::sites::{Layout, Sites};

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
            rtt_ms: Math.round((pair.currentRoundTripTime || 0) * 1000),
        });
    });";

/// Waits for the console's selected pair; answers it.
pub(crate) async fn selected_pair(helper: &Browser) -> Value {
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
async fn a_session_stays_usable_at_5_percent_loss_and_100_ms_round_trip() {
    let layout = Layout {
        clock: true,
        ..Layout::default()
    };
    Sites::start(layout)
        .await
        .run(async |sites| {
            let (_sharer, agent) = sites.controlled().await;
            typed_command_runs(&sites.helper, sites.work.path(), "before_loss").await;
            eprintln!(
                "selected pair before loss: {}",
                selected_pair(&sites.helper).await
            );
            // Each site's link: 25 ms and 2.5 % loss each way, so between
            // the sites 100 ms round trip and about 5 % loss each way.
            let lossy = Impairment {
                delay: Duration::from_millis(25),
                loss_percent: 2.5,
            };
            sites.network.impair(Site::Helper, lossy).unwrap();
            sites.network.impair(Site::Sharer, lossy).unwrap();
            // The delay is in the path: the connection's own round trip.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            loop {
                let pair = selected_pair(&sites.helper).await;
                if pair["rtt_ms"].as_u64() >= Some(95) {
                    eprintln!("selected pair under loss: {pair}");
                    break;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "no 100 ms round trip: {pair}"
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            // Typed text arrives complete and in order.
            let text = "the-quick-brown-fox-jumps-over-the-lazy-dog-0123456789";
            let surface = sites
                .helper
                .wait_for("#remote-surface.controlling")
                .await
                .unwrap();
            surface
                .send_keys(&format!("echo {text} > typed_under_loss\u{E007}"))
                .await
                .unwrap();
            let typed = sites.work.path().join("typed_under_loss");
            assert!(
                crate::agent::wait_for_file(&typed, true, Duration::from_secs(20)).await,
                "the command typed under loss never ran; agent said:\n{}",
                agent.output()
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert_eq!(
                std::fs::read_to_string(&typed).unwrap(),
                format!("{text}\n")
            );
            // The picture keeps moving (NACKs and PLIs counted for the record).
            let picture = sites.clock_over(8).await;
            eprintln!("picture at 5 % loss, 100 ms RTT, over 8 s: {picture}");
            // The loss is real: the delay lines dropped packets both ways.
            for site in [Site::Helper, Site::Sharer] {
                let counted = sites.network.packets(site);
                eprintln!("{site:?} link at 5 % loss: (passed, dropped) {counted:?}");
                assert!(
                    counted.is_some_and(|(_, dropped)| dropped > 0),
                    "{counted:?}"
                );
            }
            // The picture keeps moving, and never stands still for more
            // than a second (measured: 0.15 to 0.36 s). A lost tile no
            // longer holds back the ones behind it: the tiles channel is
            // unordered, and the console put tiles that came after a newer
            // one in their place.
            assert!(
                picture["changes"].as_u64() >= Some(10),
                "the clock ticks on: {picture}"
            );
            assert!(
                picture["longest_still_ms"].as_u64() <= Some(1000),
                "the picture stood still for over a second: {picture}"
            );
            assert!(
                picture["late_tiles"].as_u64() > Some(0),
                "no tile came out of order at 5 % loss: {picture}"
            );
            sites
                .network
                .impair(Site::Helper, Impairment::default())
                .unwrap();
            sites
                .network
                .impair(Site::Sharer, Impairment::default())
                .unwrap();
            typed_command_runs(&sites.helper, sites.work.path(), "after_loss").await;
        })
        .await;
}

/// Xvfb's default keymap: the left Shift key.
const SHIFT_LEFT: u8 = 50;

/// The session as the helper's console reads it.
async fn view(sites: &Sites) -> Value {
    let id = crate::session::session_id(&sites.helper).await;
    sites
        .helper
        .fetch_json(&format!("/api/sessions/{id}"))
        .await
        .unwrap()
}

/// The session is the one `before` showed, not ended, and still in full
/// control as consented (nobody was asked again); answers its view.
async fn still_in_control(sites: &Sites, before: &Value) -> Value {
    let after = view(sites).await;
    assert_eq!(after["id"], before["id"]);
    assert!(after["ended"].is_null(), "{after}");
    assert_eq!(
        (&after["phase"], &after["mode"]),
        (&json!("active"), &json!("control")),
        "{after}"
    );
    after
}

#[tokio::test]
async fn a_cut_on_the_helpers_side_keeps_the_session_and_lets_go_of_held_keys() {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let layout = Layout {
        clock: true,
        ..Layout::default()
    };
    Sites::start(layout)
        .await
        .run(async |sites| {
            let (_sharer, agent) = sites.controlled().await;
            typed_command_runs(&sites.helper, sites.work.path(), "before_cut").await;
            let before = view(sites).await;
            // The helper holds Shift down on the device…
            let shift = KeyActions::new("shift".into()).then(KeyAction::Down { value: '\u{E008}' });
            sites.helper.client().perform_actions(shift).await.unwrap();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while !sites.xvfb.keys_down().unwrap().contains(&SHIFT_LEFT) {
                assert!(tokio::time::Instant::now() < deadline, "Shift never went down");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            // …when her network goes for 5 s. Without word from her the
            // device lets go of it within the timeout, during the cut.
            sites.network.cut(Site::Helper).unwrap();
            let cut_at = tokio::time::Instant::now();
            agent
                .wait_for_line("the helper went silent with keys or buttons down", Duration::from_secs(5))
                .await
                .unwrap();
            assert!(!sites.xvfb.keys_down().unwrap().contains(&SHIFT_LEFT));
            let released_after = cut_at.elapsed();
            // The sharer sees it on the device's bar (the agent says so too).
            agent
                .wait_for_line("the helper's connection dropped", Duration::from_secs(4))
                .await
                .unwrap();
            let noticed_after = cut_at.elapsed();
            tokio::time::sleep(Duration::from_secs(5).saturating_sub(cut_at.elapsed())).await;
            sites.network.mend(Site::Helper).unwrap();
            let mended_at = tokio::time::Instant::now();
            // The picture moves again without anything from the sharer.
            let deadline = mended_at + Duration::from_secs(30);
            loop {
                let picture = sites.clock_over(1).await;
                if picture["changes"].as_u64() >= Some(3) {
                    break;
                }
                assert!(tokio::time::Instant::now() < deadline, "the picture stayed still: {picture}");
            }
            eprintln!(
                "5 s cut: held keys released {:.1} s into it, the device's bar said so {:.1} s into it; the picture moved again {:.1} s after it",
                released_after.as_secs_f64(),
                noticed_after.as_secs_f64(),
                mended_at.elapsed().as_secs_f64()
            );
            let shift_up = KeyActions::new("shift".into()).then(KeyAction::Up { value: '\u{E008}' });
            sites.helper.client().perform_actions(shift_up).await.unwrap();
            typed_command_runs(&sites.helper, sites.work.path(), "after_cut").await;
            // Same session, same consented mode; nobody was asked again.
            still_in_control(sites, &before).await;
            assert!(
                sites.helper.wait_for("#remote-surface.controlling").await.is_ok(),
                "the console is still in control"
            );
        })
        .await;
}

#[tokio::test]
async fn a_killed_agent_is_seen_at_once_and_a_restarted_one_resumes_the_session() {
    Sites::start(Layout::default())
        .await
        .run(async |sites| {
            let (_sharer, mut agent) = sites.controlled().await;
            typed_command_runs(&sites.helper, sites.work.path(), "before_kill").await;
            let before = view(sites).await;
            agent.kill_9_and_restart().unwrap_or_else(|e| panic!("{e}"));
            let killed_at = tokio::time::Instant::now();
            let offline = sites
                .helper
                .wait_for_text_containing("#session-status", "The device is offline")
                .await
                .unwrap();
            let seen_after = killed_at.elapsed();
            // With how long the device has to come back (the default
            // window, two minutes, counted down).
            assert!(
                offline.contains(" left)")
                    && (offline.contains("(1:") || offline.contains("(2:00")),
                "{offline}"
            );
            // The agent comes back over the same enrollment and carries on
            // with the session as consented, without asking anyone.
            typed_command_runs(&sites.helper, sites.work.path(), "after_restart").await;
            let back_after = killed_at.elapsed();
            eprintln!(
                "agent kill -9: the helper saw it after {:.1} s; full control again after {:.1} s",
                seen_after.as_secs_f64(),
                back_after.as_secs_f64()
            );
            assert!(
                seen_after < Duration::from_secs(5),
                "seen after {seen_after:?}"
            );
            let after = still_in_control(sites, &before).await;
            assert_eq!(after["agent_connected"], true, "{after}");
        })
        .await;
}

/// Waits (up to 30 s after `since`) until the clock on the helper's
/// picture ticks again; answers how long that took.
async fn picture_moves_again(sites: &Sites, since: tokio::time::Instant) -> Duration {
    loop {
        let picture = sites.clock_over(1).await;
        if picture["changes"].as_u64() >= Some(3) {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < Duration::from_secs(30),
            "the picture stayed still: {picture}; connections {}",
            sites
                .helper
                .eval(CONNECTIONS_STATE, vec![])
                .await
                .map(|v| v.to_string())
                .unwrap_or_default()
        );
    }
}

#[tokio::test]
async fn a_cut_on_the_sharers_side_keeps_the_session() {
    let layout = Layout {
        clock: true,
        ..Layout::default()
    };
    Sites::start(layout)
        .await
        .run(async |sites| {
            let (_sharer, _agent) = sites.controlled().await;
            typed_command_runs(&sites.helper, sites.work.path(), "before_sharer_cut").await;
            let before = view(sites).await;
            sites.network.cut(Site::Sharer).unwrap();
            let cut_at = tokio::time::Instant::now();
            // What the helper is told while the device cannot be reached.
            let mut said = std::collections::BTreeSet::new();
            while cut_at.elapsed() < Duration::from_secs(5) {
                if let Ok(status) = sites.helper.texts("#session-status").await {
                    said.extend(status);
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            sites.network.mend(Site::Sharer).unwrap();
            let back = picture_moves_again(sites, tokio::time::Instant::now()).await;
            eprintln!("5 s cut of the sharer's site: the picture moved again {:.1} s after it; the helper was told {said:?}", back.as_secs_f64());
            // The helper was told the picture's connection dropped, not
            // "Connected", while nothing could arrive.
            assert!(
                said.iter().any(|s| s.contains("dropped. Reconnecting")),
                "{said:?}"
            );
            typed_command_runs(&sites.helper, sites.work.path(), "after_sharer_cut").await;
            still_in_control(sites, &before).await;
        })
        .await;
}

#[tokio::test]
async fn a_cut_longer_than_the_reconnect_window_ends_the_session_on_both_sides() {
    let layout = Layout {
        reconnect_seconds: Some(8),
        ..Layout::default()
    };
    Sites::start(layout)
        .await
        .run(async |sites| {
            let (sharer, agent) = sites.controlled().await;
            let id = crate::session::session_id(&sites.helper).await;
            sites.network.cut(Site::Helper).unwrap();
            // The server hears nothing from the helper past its heartbeat
            // (15 s, pings every 5 s), then counts the window (8 s): the
            // sharer's page and the device's bar show the time left, then
            // the session ends, for the sharer and the device at once.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
            let mut time_left = None;
            loop {
                let page = sharer.texts("#session-status").await.unwrap().concat();
                if page.contains("Session ended") {
                    break;
                }
                if page.contains(" left)") {
                    time_left.get_or_insert(page);
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the sharer never saw the end"
                );
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            let time_left = time_left.expect("the sharer's page never showed the time left");
            assert!(
                time_left.contains("The helper's connection dropped"),
                "{time_left}"
            );
            eprintln!("the sharer's page during the cut: {time_left}");
            let away = agent
                .wait_for_line("the helper is away; the session ends unless they are back within 0:08", Duration::from_secs(5))
                .await
                .unwrap();
            eprintln!("the device during the cut: {away}");
            agent
                .wait_for_line("tandem-agent: ended:", Duration::from_secs(10))
                .await
                .unwrap();
            sites.network.mend(Site::Helper).unwrap();
            // The record says why.
            let record = sharer
                .fetch_json(&format!("/api/sessions/{id}"))
                .await
                .unwrap();
            assert_eq!(record["ended"]["outcome"], "disconnected", "{record}");
            // And the helper's console, back on the network, shows it ended.
            let mended_at = tokio::time::Instant::now();
            while !sites.helper.texts("#session-status").await.unwrap().concat().contains("Session ended") {
                assert!(mended_at.elapsed() < Duration::from_secs(30), "the helper never saw the end");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            eprintln!("after a long cut, the helper's console knew the session ended {:.1} s after the network came back", mended_at.elapsed().as_secs_f64());
            assert!(
                sites
                    .helper
                    .wait_for("#remote-surface.controlling")
                    .await
                    .is_err()
            );
        })
        .await;
}

/// How many peer connections the console made so far (`KEEP_CHANNELS`
/// keeps them all), and whether the newest is connected.
const CONNECTIONS: &str = "
    const pcs = window.__pcs || [];
    return [pcs.length, pcs.length > 0 && pcs[pcs.length - 1].connectionState === 'connected'];";

/// Every connection's state, for failure reports.
const CONNECTIONS_STATE: &str = "
    return (window.__pcs || []).map(p => [p.connectionState, p.iceConnectionState, p.signalingState]);";

/// Moves `site` to another address mid-session (the old one removed, as a
/// new DHCP lease or another Wi-Fi would) and checks that the session
/// carries on over the same connection: the agent says `restarting` (its
/// ICE restart), the picture moves and full control works again, the
/// console made no new connection, and nobody was asked again. Prints the
/// times since the move.
async fn moving_restarts_ice(site: Site, restarting: &str, within: Duration) {
    let layout = Layout {
        clock: true,
        ..Layout::default()
    };
    Sites::start(layout)
        .await
        .run(async |sites| {
            let (_sharer, agent) = sites.controlled().await;
            typed_command_runs(&sites.helper, sites.work.path(), "before_move").await;
            let before = view(sites).await;
            let connections = sites.helper.eval(CONNECTIONS, vec![]).await.unwrap();
            assert_eq!(connections[1], true, "{connections}");
            let new = sites.network.readdress(site, 7).unwrap();
            let moved_at = tokio::time::Instant::now();
            agent
                .wait_for_line(restarting, within)
                .await
                .unwrap_or_else(|e| panic!("{e}; agent said:\n{}", agent.output()));
            let restarted = moved_at.elapsed();
            let back = loop {
                let picture = sites.clock_over(1).await;
                if picture["changes"].as_u64() >= Some(3) {
                    break moved_at.elapsed();
                }
                let state = sites.helper.eval(CONNECTIONS_STATE, vec![]).await.unwrap();
                assert!(
                    moved_at.elapsed() < Duration::from_secs(60),
                    "the picture stayed still: {picture}; connections {state}; agent said:\n{}",
                    agent.output()
                );
            };
            typed_command_runs(&sites.helper, sites.work.path(), "after_move").await;
            let in_control = moved_at.elapsed();
            let after = sites.helper.eval(CONNECTIONS, vec![]).await.unwrap();
            assert_eq!(
                after,
                connections,
                "a new connection instead of an ICE restart; agent said:\n{}",
                agent.output()
            );
            eprintln!(
                "the {site:?} site moved to {new}: ICE restarting {:.1} s after, the picture moved again {:.1} s after, full control {:.1} s after; selected pair now {}",
                restarted.as_secs_f64(),
                back.as_secs_f64(),
                in_control.as_secs_f64(),
                selected_pair(&sites.helper).await
            );
            still_in_control(sites, &before).await;
        })
        .await;
}

#[tokio::test]
async fn a_new_address_on_the_sharers_side_restarts_ice_on_the_same_connection() {
    // The agent sees its address go at once (it reads them every second),
    // joins the server again over the new one and restarts ICE.
    moving_restarts_ice(
        Site::Sharer,
        "network changed; joining again and restarting ICE",
        Duration::from_secs(5),
    )
    .await;
}

#[tokio::test]
async fn a_new_address_on_the_helpers_side_restarts_ice_on_the_same_connection() {
    // The browser has no event for it. The console sees its picture stop,
    // gives up its silent socket to the server after one missed ping,
    // joins again and asks the device to restart ICE.
    moving_restarts_ice(
        Site::Helper,
        "the helper is back; restarting ICE",
        Duration::from_secs(40),
    )
    .await;
}
