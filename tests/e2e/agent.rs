//! The sharer agent on a real X display (Xvfb, with an xterm), a helper in
//! Chromium: pairing, the code, view, full control typing a command into
//! the xterm, pause, revoke and leave. What reaches X is checked on X
//! itself (the pointer position, and the file the typed command made).
//! A rogue peer (the helper's page sending input on the data channels
//! itself) gets nothing onto X without full control, or while paused.
//! While the agent shares, the device's own screen shows it (an orange
//! border and the sharing bar, read from X's pixels and window tree), and
//! the bar's Pause and Stop, clicked on X, do what the sharer page's do.

use crate::files::files_both_ways;
use crate::picture::wait_for_exact_text;
use crate::rogue::{ROGUE_INPUT, next_report, rogue_input_is_refused};
use crate::session::{as_user, assist, click_mid_picture, frames, wait_for_picture};
use crate::tools::{ALLOW_TOOLS, annotation_draws_on_the_device, clipboard_both_ways};
use crate::window::one_window_shared;
use std::path::Path;
use std::time::Duration;
use tandem_tests::GroupChild;
use tandem_tests::desktop::{Agent, KEEP_CHANNELS, SCREEN, Screenshot, Xvfb, enrollment_token};
use tandem_tests::flows::{Ask, grant, join_with_code, pair_browser};
use tandem_tests::{Browser, e2e};

const AGENT_TIMEOUT: Duration = Duration::from_secs(30);

/// The sharing bar's window name (`TITLE` in `sharer-agent/src/indicator.rs`);
/// its buttons are named `"{BAR}: Pause"` and so on.
const BAR: &str = "Tandem sharing indicator";
/// The border's colour (`BORDER_RGB` there).
const BORDER: u32 = 0xE8_59_0C;

/// Points on the four edges of the screen, under the border.
fn edges() -> [(u32, u32); 4] {
    let (w, h) = SCREEN;
    [(40, 1), (1, h / 2), (w - 2, h / 2), (w / 2, h - 2)]
}

fn border_drawn(shot: &Screenshot) -> bool {
    edges()
        .iter()
        .all(|&(x, y)| shot.pixel(x, y) == Some(BORDER))
}

fn no_border(shot: &Screenshot) -> bool {
    edges()
        .iter()
        .all(|&(x, y)| shot.pixel(x, y) != Some(BORDER))
}

/// Waits until the device's screen shows what `expected` says: the bar
/// (with a button named `button`) and, if `border`, the border; or, with
/// `None`, no bar and no border at all.
async fn wait_for_indicator(xvfb: &Xvfb, expected: Option<(&str, bool)>) {
    let mut last = String::new();
    for _ in 0..100 {
        let bar = xvfb.window(BAR);
        let shot = xvfb.screenshot().unwrap();
        let shown = match expected {
            Some((button, border)) => {
                let named = xvfb.window(&format!("{BAR}: {button}"));
                let centred = bar.is_some_and(|(x, y, w, _)| {
                    y == 0 && (x + i64::from(w) / 2 - i64::from(SCREEN.0 / 2)).abs() <= 1
                });
                centred
                    && named.is_some()
                    && if border {
                        border_drawn(&shot)
                    } else {
                        no_border(&shot)
                    }
            }
            None => bar.is_none() && no_border(&shot),
        };
        if shown {
            return;
        }
        last = format!(
            "bar {bar:?}, edges {:x?}",
            edges().map(|(x, y)| shot.pixel(x, y))
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the device's screen never showed {expected:?}: {last}");
}

/// Clicks the bar's button named `label` on X, as the sharer would.
fn click_bar_button(xvfb: &Xvfb, label: &str) {
    let (x, y, w, h) = xvfb
        .window(&format!("{BAR}: {label}"))
        .unwrap_or_else(|| panic!("the bar has a {label} button"));
    xvfb.click(x + i64::from(w) / 2, y + i64::from(h) / 2)
        .unwrap();
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
        // The organization allows clipboard text and files (off by default).
        let saved = helper.eval_async(ALLOW_TOOLS, vec![]).await.unwrap();
        assert_eq!(saved, serde_json::json!(200));
        as_user(helper, "megan@contoso.test").await;
        as_user(&sharer, "lynne@contoso.test").await;

        // The link pairs the sharer's browser with the device, once, and
        // only after she saw the device and confirmed it.
        sharer.goto(path).await.unwrap();
        sharer
            .wait_for_text_containing("#pairing-enrollment", "Enrolled by your organization")
            .await
            .unwrap();
        sharer.wait_for_focus("pairing-question").await.unwrap();
        sharer.screenshot("sharer-pairing").await.unwrap();
        sharer.wait_for("#pairing-confirm").await.unwrap().click().await.unwrap();
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
        // Before any control, the helper sees the device's standing and
        // whom it is paired to.
        helper
            .wait_for_text_containing("#device-enrollment", "Enrolled")
            .await
            .unwrap();
        helper
            .wait_for_text_containing("#device-trust", "Paired to Lynne Robbins")
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
        // The sharer sees it on the device itself: the border and the bar.
        wait_for_indicator(&xvfb, Some(("Pause", true))).await;
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
        // The connection's details are one click away.
        helper
            .wait_for("#quality-button")
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        helper
            .wait_for_text_containing("#media-stats", "1024×768")
            .await
            .unwrap();
        helper
            .wait_for_text_containing("#agent-stats", "Device: sends")
            .await
            .unwrap();
        surface.send_keys("touch typed\u{E007}").await.unwrap();
        assert!(
            wait_for_file(&work.path().join("typed"), true, Duration::from_secs(15)).await,
            "the typed command ran; agent said:\n{}",
            agent.output()
        );
        // The typed line came as lossless tiles, and the rest of the text
        // was sent again exactly once it settled: the helper's picture
        // equals X to the pixel where the xterm has ink.
        wait_for_exact_text(helper, &xvfb, 200).await;
        // "Type text" types a string with the sharer's layout (French
        // here): AltGr characters, a dead-key one and one the layout
        // lacks arrive as written. The box is emptied once sent.
        xvfb.set_layout("fr").unwrap();
        helper.wait_for("#tools-button").await.unwrap().click().await.unwrap();
        helper.wait_for("#type-text-button").await.unwrap().click().await.unwrap();
        let typed = "touch été-ê€@~ß\n";
        helper
            .wait_for("#type-text-input")
            .await
            .unwrap()
            .send_keys(typed)
            .await
            .unwrap();
        helper.wait_for("#type-text-send").await.unwrap().click().await.unwrap();
        helper
            .wait_for_text_containing("#type-text-status", "Sent 16 characters")
            .await
            .unwrap();
        assert!(
            wait_for_file(&work.path().join("été-ê€@~ß"), true, Duration::from_secs(15)).await,
            "the typed text arrived as written; agent said:\n{}",
            agent.output()
        );
        xvfb.set_layout("us").unwrap();
        clipboard_both_ways(helper, &sharer, &xvfb).await;
        annotation_draws_on_the_device(helper, &sharer, &xvfb).await;
        files_both_ways(helper, &sharer, &agent, work.path()).await;
        let _window = one_window_shared(helper, &sharer, &xvfb, work.path()).await;
        // A Linux device: no Ctrl+Alt+Del or Windows key to press.
        let special = helper.texts(".special-keys").await.unwrap().join(" ");
        assert!(special.contains("Alt+Tab") && !special.contains("Ctrl+Alt+Del"), "{special}");
        assert!(!special.contains("Windows"), "{special}");
        for (w, h) in [(1440, 900), (1920, 1080)] {
            helper.workspace_fits(w, h).await.unwrap();
        }
        helper.screenshot("helper-full-control").await.unwrap();
        // What the sharer sees on the device: the border and the bar.
        xvfb.save_png("device-indicator").unwrap();
        // No keyboard trap: Ctrl+Alt+Shift gives the keyboard back to the
        // page (the keys held so far are let go on the device), and Tab
        // then moves through the page again.
        surface
            .send_keys("\u{E009}\u{E00A}\u{E008}\u{E000}")
            .await
            .unwrap();
        assert_eq!(helper.focused_id().await.unwrap(), "keyboard-release");
        helper.wait_for("#remote-surface").await.unwrap().click().await.unwrap();

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

        // But never onto the sharer's own buttons: a press on the bar's
        // Stop from the helper's side is refused, and nothing stops.
        let (x, y, w, h) = xvfb.window(&format!("{BAR}: Stop")).unwrap();
        let (x, y) = (x + i64::from(w) / 2, y + i64::from(h) / 2);
        let pressed = helper
            .eval(
                "const [x, y] = arguments;
                 const input = window.__channels.filter(c => c.label === 'input' && c.readyState === 'open').pop();
                 for (const down of [true, false]) input.send(JSON.stringify({type: 'button', button: 'left', down, x, y}));
                 return true;",
                vec![serde_json::json!(x), serde_json::json!(y)],
            )
            .await
            .unwrap();
        assert_eq!(pressed, serde_json::json!(true));
        helper
            .wait_for_text_containing("#agent-refused", "sharing bar")
            .await
            .unwrap();
        assert!(
            !agent.output().contains("pressed Stop"),
            "the helper pressed the sharer's Stop:\n{}",
            agent.output()
        );
        wait_for_indicator(&xvfb, Some(("Pause", true))).await;

        // Pause, pressed on the bar on the device, is the sharer's: no
        // pixels, no input. The bar stays (offering Resume); the border goes.
        click_bar_button(&xvfb, "Pause");
        helper
            .wait_for_text_containing("#session-status", "Paused by the sharer")
            .await
            .unwrap();
        sharer
            .wait_for_text_containing("#session-status", "Paused")
            .await
            .unwrap();
        agent.wait_for_line("paused", AGENT_TIMEOUT).await.unwrap();
        wait_for_indicator(&xvfb, Some(("Resume", false))).await;
        // The helper's page shows the pause, not a stale picture it could
        // type into; the channel itself is refused below.
        helper
            .wait_for_text_containing("#held-state", "paused the session")
            .await
            .unwrap();
        assert!(helper.is_hidden("#remote-surface").await.unwrap());
        // The agent reports, second by second, that it captured nothing:
        // after a whole second of that, the helper's picture stands still
        // for the next one too.
        let (mut seen, mut stats) = next_report(helper, 0).await;
        while stats["captured_fps"].as_f64() != Some(0.0) {
            (seen, stats) = next_report(helper, seen).await;
        }
        let paused_at = frames(helper).await;
        let (_, stats) = next_report(helper, seen).await;
        assert_eq!(stats["captured_fps"].as_f64(), Some(0.0), "paused: {stats}");
        assert!(frames(helper).await <= paused_at + 1, "paused: no frames");
        rogue_input_is_refused(helper, &xvfb, work.path(), "roguepaused").await;
        sharer.click_button("Resume").await.unwrap();
        helper
            .wait_for_text_containing("#session-status", "Connected (full control)")
            .await
            .unwrap();
        wait_for_indicator(&xvfb, Some(("Pause", true))).await;

        // Revoke: back to view only; keys no longer reach X.
        sharer.click_button("Revoke control").await.unwrap();
        helper
            .wait_for_text_containing("#session-status", "Connected (view only)")
            .await
            .unwrap();
        // The console stops offering control (it sends keys only while it
        // does), and the agent refuses what a rogue page sends anyway.
        helper
            .wait_for("#remote-surface:not(.controlling)")
            .await
            .unwrap();
        rogue_input_is_refused(helper, &xvfb, work.path(), "roguerevoked").await;

        // Leave: the agent stops sharing, and the device shows nothing more.
        sharer.click_button("Leave").await.unwrap();
        helper
            .wait_for_text_containing("#session-status", "The sharer left the session.")
            .await
            .unwrap();
        agent.wait_for_line("ended:", AGENT_TIMEOUT).await.unwrap();
        wait_for_indicator(&xvfb, None).await;
        sharer.close().await;
    })
    .await;
}

#[tokio::test]
async fn the_device_page_offers_help_to_the_signed_in_sharer() {
    e2e(async |env| {
        let work = tempfile::tempdir().unwrap();
        let (xvfb, _term, agent, path) = enrolled_desktop(env, work.path()).await;
        let helper = &env.browser;
        let sharer = Browser::start(env.server.base_url()).await.unwrap();
        as_user(&sharer, "lynne@contoso.test").await;
        // Lynne is the one signed in on the device.
        pair_browser(&sharer, &path).await.unwrap();

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
        pair_browser(&sharer, &link[link.find("/share").unwrap()..])
            .await
            .unwrap();
        join_with_code(helper, &sharer, &code).await.unwrap();
        grant(helper, &sharer, Ask::View).await.unwrap();
        wait_for_desktop(helper).await;

        // The sharer stops sharing with the bar's Stop on the device: the
        // session ends as "stopped on their device", for the helper and on
        // the server, and the border and the bar are gone.
        wait_for_indicator(&xvfb, Some(("Stop", true))).await;
        click_bar_button(&xvfb, "Stop");
        helper
            .wait_for_text_containing(
                "#session-status",
                "The sharer stopped sharing on their device.",
            )
            .await
            .unwrap();
        agent
            .wait_for_line("ended: stopped on the device", AGENT_TIMEOUT)
            .await
            .unwrap();
        let page = helper.path().await.unwrap();
        let id = page.trim_start_matches("/sessions/");
        let view = helper
            .fetch_json(&format!("/api/sessions/{id}"))
            .await
            .unwrap();
        assert_eq!(
            view["ended"],
            serde_json::json!({ "outcome": "completed", "by": "agent" }),
            "{view}"
        );
        wait_for_indicator(&xvfb, None).await;

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
