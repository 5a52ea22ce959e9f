//! A rogue peer: the helper's page sending input on the agent's data
//! channels itself, whatever its own buttons allow. The agent counts each
//! message its gate refuses, and none reaches X.

use std::path::Path;
use std::time::Duration;
use tandem_tests::Browser;
use tandem_tests::desktop::Xvfb;

/// Sends, on the agent's channels, a pointer move and click at (5, 5) and
/// the keys of `touch NAME` and Enter. Returns how many messages went out.
pub(crate) const ROGUE_INPUT: &str = "
    const [name] = arguments;
    const open = label => window.__channels.filter(c => c.label === label && c.readyState === 'open').pop();
    const input = open('input'), pointer = open('pointer');
    if (!input || !pointer) return 0;
    let sent = 0;
    const send = (channel, message) => { channel.send(JSON.stringify(message)); sent++; };
    send(pointer, {type: 'move', x: 5, y: 5});
    send(input, {type: 'button', button: 'left', down: true, x: 5, y: 5});
    send(input, {type: 'button', button: 'left', down: false, x: 5, y: 5});
    const code = ch => ch === ' ' ? 'Space' : 'Key' + ch.toUpperCase();
    for (const ch of 'touch ' + name) {
        send(input, {type: 'key', code: code(ch), down: true});
        send(input, {type: 'key', code: code(ch), down: false});
    }
    send(input, {type: 'key', code: 'Enter', down: true});
    send(input, {type: 'key', code: 'Enter', down: false});
    send(input, {type: 'text', text: 'x'});
    return sent;";

/// The agent's next report after the `after`-th: (its number, its
/// figures). Reports come about once a second (`KEEP_CHANNELS`).
pub(crate) async fn next_report(helper: &Browser, after: u64) -> (u64, serde_json::Value) {
    for _ in 0..100 {
        let report = helper
            .eval(
                "return [window.__agentReports || 0, window.__agentStats || null];",
                vec![],
            )
            .await
            .unwrap();
        let seen = report[0].as_u64().unwrap_or(0);
        if seen > after {
            return (seen, report[1].clone());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the agent sent no report after the {after}th");
}

/// The agent's count of refused input once two reports in a row agree
/// (nothing sent earlier is still on its way), and the last report's number.
async fn settled_refusals(helper: &Browser) -> (u64, u64) {
    let (mut seen, first) = next_report(helper, 0).await;
    let mut last = first["refused_input"].as_u64().unwrap();
    loop {
        let (next, stats) = next_report(helper, seen).await;
        let refused = stats["refused_input"].as_u64().unwrap();
        if refused == last {
            return (next, refused);
        }
        (seen, last) = (next, refused);
    }
}

/// A rogue peer sends input; the agent counts every message refused by
/// its gate, and none of it reaches X.
pub(crate) async fn rogue_input_is_refused(helper: &Browser, xvfb: &Xvfb, work: &Path, name: &str) {
    let before = xvfb.pointer();
    let (mut seen, refused_before) = settled_refusals(helper).await;
    let sent = helper
        .eval(ROGUE_INPUT, vec![serde_json::json!(name)])
        .await
        .unwrap()
        .as_u64()
        .unwrap();
    assert!(sent > 20, "the rogue messages went out: {sent}");
    let mut refused = refused_before;
    while refused < refused_before + sent {
        let (next, stats) = next_report(helper, seen).await;
        (seen, refused) = (next, stats["refused_input"].as_u64().unwrap());
    }
    assert_eq!(
        refused,
        refused_before + sent,
        "{name}: each message refused once"
    );
    assert_eq!(xvfb.pointer(), before, "{name}: the pointer did not move");
    assert!(!work.join(name).exists(), "{name}: no keys reached X");
}
