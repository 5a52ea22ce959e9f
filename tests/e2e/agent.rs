//! The sharer agent on a real X display (Xvfb, with an xterm), a helper in
//! Chromium: pairing, the code, view, full control typing a command into
//! the xterm, pause, revoke and leave. What reaches X is checked on X
//! itself (the pointer position, and the file the typed command made).
//! A rogue peer (the helper's page sending input on the data channels
//! itself) gets nothing onto X without full control, or while paused.

use crate::session::{as_user, assist, click_mid_picture, frames, wait_for_picture};
use std::path::Path;
use std::time::Duration;
use tandem_tests::GroupChild;
use tandem_tests::desktop::{Agent, KEEP_CHANNELS, SCREEN, Xvfb, enrollment_token};
use tandem_tests::flows::{Ask, grant, join_with_code};
use tandem_tests::{Browser, e2e};

const AGENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends, on the agent's channels, a pointer move and click at (5, 5) and
/// the keys of `touch NAME` and Enter. Returns how many messages went out.
const ROGUE_INPUT: &str = "
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

/// A rogue peer sends input; none of it may reach X.
async fn rogue_input_is_refused(helper: &Browser, xvfb: &Xvfb, work: &Path, name: &str) {
    let before = xvfb.pointer();
    let sent = helper
        .eval(ROGUE_INPUT, vec![serde_json::json!(name)])
        .await
        .unwrap();
    assert!(
        sent.as_u64() > Some(20),
        "the rogue messages went out: {sent}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(xvfb.pointer(), before, "{name}: the pointer did not move");
    assert!(!work.join(name).exists(), "{name}: no keys reached X");
}

pub(crate) async fn wait_for_file(path: &Path, present: bool, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if path.exists() == present {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    path.exists() == present
}

/// The helper's video shows the X screen (its size, and the white xterm).
async fn wait_for_desktop(helper: &Browser) -> serde_json::Value {
    wait_for_picture(helper, SCREEN, |p| {
        p["bg"]
            .as_array()
            .is_some_and(|px| px.iter().all(|v| v.as_u64() > Some(200)))
    })
    .await
}

/// Xvfb with a full-screen xterm whose shell runs in `work`, and an agent
/// enrolled by an IT admin (help to unenrolled devices is off in the demo
/// organization). Returns them with the first link the agent printed.
pub(crate) async fn enrolled_desktop(
    env: &tandem_tests::Env,
    work: &Path,
) -> (Xvfb, GroupChild, Agent, String) {
    let xvfb = Xvfb::start().unwrap();
    let shell = format!("cd '{}' && exec sh", work.display());
    let term = xvfb
        .run(
            "xterm",
            "xterm",
            &["-ut", "-geometry", "170x59+0+0", "-e", "sh", "-c", &shell],
        )
        .unwrap();
    let admin = &env.browser;
    as_user(admin, "admin@contoso.test").await;
    let token = enrollment_token(admin, "e2e desktop").await.unwrap();
    let agent = Agent::start(env.server.base_url(), &xvfb.display, Some(&token)).unwrap();
    let link = agent
        .wait_for_line("Open this link to continue: ", AGENT_TIMEOUT)
        .await
        .unwrap();
    let path = link[link.find("/share").expect("a sharer link")..].to_owned();
    (xvfb, term, agent, path)
}

#[tokio::test]
async fn the_agent_shares_x11_and_the_helper_types_into_an_xterm() {
    e2e(async |env| {
        let work = tempfile::tempdir().unwrap();
        let (xvfb, _term, agent, path) = enrolled_desktop(env, work.path()).await;
        let path = path.as_str();
        let helper = &env.browser;
        let sharer = Browser::start(env.server.base_url()).await.unwrap();
        as_user(helper, "megan@contoso.test").await;
        as_user(&sharer, "lynne@contoso.test").await;

        // The link pairs the sharer's browser with the device, once.
        sharer.goto(path).await.unwrap();
        sharer
            .wait_for_text_containing("#paired-device", "Paired with")
            .await
            .unwrap();
        let code = assist(helper).await;
        helper.eval(KEEP_CHANNELS, vec![]).await.unwrap();
        join_with_code(helper, &sharer, &code).await.unwrap();
        sharer
            .wait_for_text_containing("#agent-note", "The agent is connected")
            .await
            .unwrap();

        // View only: the X screen arrives; nothing flowed before consent.
        grant(helper, &sharer, Ask::View).await.unwrap();
        let first = wait_for_desktop(helper).await;
        assert_eq!(first["h"].as_u64(), Some(u64::from(SCREEN.1)), "{first}");
        agent
            .wait_for_line("shared with Megan Bowen (view only)", AGENT_TIMEOUT)
            .await
            .unwrap();
        // Chromium took the playout-delay request: frames are not held
        // back to be smoothed.
        agent
            .wait_for_line(
                "the browser shows each frame as soon as it is decoded",
                AGENT_TIMEOUT,
            )
            .await
            .unwrap();
        rogue_input_is_refused(helper, &xvfb, work.path(), "rogueview").await;

        // Full control: the pointer lands where the helper points, and a
        // typed command runs in the xterm.
        grant(helper, &sharer, Ask::FullControl).await.unwrap();
        helper
            .wait_for("#remote-surface.controlling")
            .await
            .unwrap();
        let surface = helper.wait_for("#remote-surface").await.unwrap();
        // The middle of the picture is the middle of the X screen (with
        // the whole picture in view: WebDriver clicks the middle of what
        // is visible).
        helper.client().set_window_size(1400, 1800).await.unwrap();
        click_mid_picture(helper, &xvfb, (512, 384), &agent.output()).await;
        // The sharer's pointer is drawn over the picture, and the overlay
        // shows the browser's and the agent's figures.
        helper.wait_for("#remote-cursor").await.unwrap();
        helper
            .wait_for_text_containing("#media-stats", "1024×768")
            .await
            .unwrap();
        helper
            .wait_for_text_containing("#agent-stats", "agent:")
            .await
            .unwrap();
        surface.send_keys("touch typed\u{E007}").await.unwrap();
        assert!(
            wait_for_file(&work.path().join("typed"), true, Duration::from_secs(15)).await,
            "the typed command ran; agent said:\n{}",
            agent.output()
        );

        // The same rogue messages do reach X with full control: the
        // refusals around this are the gate's, not a broken test path.
        let sent = helper
            .eval(ROGUE_INPUT, vec![serde_json::json!("roguecontrol")])
            .await
            .unwrap();
        assert!(sent.as_u64() > Some(20), "{sent}");
        assert!(
            wait_for_file(
                &work.path().join("roguecontrol"),
                true,
                Duration::from_secs(15)
            )
            .await,
            "with control, channel input reaches X"
        );
        assert_eq!(xvfb.pointer(), (5, 5));

        // Pause: no pixels, no input.
        sharer.click_button("Pause").await.unwrap();
        helper
            .wait_for_text_containing("#session-status", "Paused by the sharer")
            .await
            .unwrap();
        agent.wait_for_line("paused", AGENT_TIMEOUT).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let paused_at = frames(helper).await;
        surface.send_keys("touch paused\u{E007}").await.unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(frames(helper).await <= paused_at + 1, "paused: no frames");
        assert!(!work.path().join("paused").exists(), "paused: no input");
        rogue_input_is_refused(helper, &xvfb, work.path(), "roguepaused").await;
        sharer.click_button("Resume").await.unwrap();
        helper
            .wait_for_text_containing("#session-status", "Connected (full control)")
            .await
            .unwrap();

        // Revoke: back to view only; keys no longer reach X.
        sharer.click_button("Revoke control").await.unwrap();
        helper
            .wait_for_text_containing("#session-status", "Connected (view only)")
            .await
            .unwrap();
        surface.send_keys("touch revoked\u{E007}").await.unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(!work.path().join("revoked").exists(), "view only: no input");
        rogue_input_is_refused(helper, &xvfb, work.path(), "roguerevoked").await;

        // Leave: the agent stops sharing.
        sharer.click_button("Leave").await.unwrap();
        helper
            .wait_for_text_containing("#session-status", "The sharer left the session.")
            .await
            .unwrap();
        agent.wait_for_line("ended:", AGENT_TIMEOUT).await.unwrap();
        sharer.close().await;
    })
    .await;
}

#[tokio::test]
async fn the_device_page_offers_help_to_the_signed_in_sharer() {
    e2e(async |env| {
        let work = tempfile::tempdir().unwrap();
        let (_xvfb, _term, agent, path) = enrolled_desktop(env, work.path()).await;
        let helper = &env.browser;
        let sharer = Browser::start(env.server.base_url()).await.unwrap();
        as_user(&sharer, "lynne@contoso.test").await;
        // Lynne is the one signed in on the device.
        sharer.goto(&path).await.unwrap();
        sharer
            .wait_for_text_containing("#paired-device", "Paired with")
            .await
            .unwrap();

        // The helper sees the device online and offers help from its row.
        as_user(helper, "megan@contoso.test").await;
        helper.goto("/devices").await.unwrap();
        helper
            .wait_for_text_containing("table.devices tbody", "Online")
            .await
            .unwrap();
        helper
            .click_button("Offer remote assistance")
            .await
            .unwrap();
        helper.wait_for("#security-code").await.unwrap();
        let code = helper.texts("#security-code").await.unwrap().remove(0);

        // The agent shows the request and opens the sharer page.
        agent
            .wait_for_line("Megan Bowen wants to help you", AGENT_TIMEOUT)
            .await
            .unwrap();
        let link = agent
            .wait_for_nth_line("Open this link to continue: ", 2, AGENT_TIMEOUT)
            .await
            .unwrap();
        sharer
            .goto(&link[link.find("/share").unwrap()..])
            .await
            .unwrap();
        sharer
            .wait_for_text_containing("#paired-device", "Paired with")
            .await
            .unwrap();
        join_with_code(helper, &sharer, &code).await.unwrap();
        grant(helper, &sharer, Ask::View).await.unwrap();
        wait_for_desktop(helper).await;

        // The agent stops while the helper watches the list: its row turns
        // Offline by itself and offers nothing.
        let registered = agent
            .wait_for_line("registered as ", AGENT_TIMEOUT)
            .await
            .unwrap();
        let id = registered
            .split("registered as ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap()
            .to_owned();
        let row = format!("tr[data-device-id='{id}']");
        helper.goto("/devices").await.unwrap();
        helper
            .wait_for_text_containing(&format!("{row} .presence"), "Online")
            .await
            .unwrap();
        assert_eq!(
            helper
                .texts(&format!("{row} button.offer"))
                .await
                .unwrap()
                .len(),
            1
        );
        drop(agent);
        helper
            .wait_for_text_containing(&format!("{row} .presence"), "Offline")
            .await
            .unwrap();
        assert!(
            helper
                .texts(&format!("{row} button.offer"))
                .await
                .unwrap()
                .is_empty(),
            "no offer for an offline device"
        );
        sharer.close().await;
    })
    .await;
}
