//! Sharing one window: the sharer picks it on her page from the device's
//! windows; the helper's picture is black outside it (read from the
//! picture the helper sees) and follows it when it moves; a rogue peer's
//! input outside it is dropped and counted by the agent, while input
//! inside it reaches X; the sharer switches back to the whole screen.

use std::path::Path;
use std::time::Duration;
use tandem_tests::Browser;
use tandem_tests::GroupChild;
use tandem_tests::desktop::Xvfb;

/// The title of the window the sharer shares.
const TITLE: &str = "Tandem shared window";

/// `[r, g, b]` of the helper's picture at (x, y): the video with the
/// agent's tile layer over it.
const PICTURE_PIXEL: &str = r#"
    const [x, y] = arguments;
    const v = document.querySelector('#remote-screen');
    const t = document.querySelector('#remote-tiles');
    if (!v || !v.videoWidth) return null;
    const c = document.createElement('canvas');
    c.width = v.videoWidth; c.height = v.videoHeight;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0);
    if (t && t.width === v.videoWidth) g.drawImage(t, 0, 0);
    return Array.from(g.getImageData(x, y, 1, 1).data.slice(0, 3));
"#;

/// Sends, on the agent's channels, what a rogue page could: a move, a
/// press and a release at (`x`, `y`), and the keys of `touch NAME` with
/// Enter. Returns how many key presses (not releases) went out.
const ROGUE_AT: &str = "
    const [x, y, name] = arguments;
    const open = label => window.__channels.filter(c => c.label === label && c.readyState === 'open').pop();
    const input = open('input'), pointer = open('pointer');
    if (!input || !pointer) return -1;
    pointer.send(JSON.stringify({type: 'move', x, y}));
    input.send(JSON.stringify({type: 'button', button: 'left', down: true, x, y}));
    input.send(JSON.stringify({type: 'button', button: 'left', down: false, x, y}));
    let downs = 0;
    const code = ch => ch === ' ' ? 'Space' : 'Key' + ch.toUpperCase();
    for (const ch of name ? 'touch ' + name : '') {
        input.send(JSON.stringify({type: 'key', code: code(ch), down: true})); downs++;
        input.send(JSON.stringify({type: 'key', code: code(ch), down: false}));
    }
    if (name) {
        input.send(JSON.stringify({type: 'key', code: 'Enter', down: true})); downs++;
        input.send(JSON.stringify({type: 'key', code: 'Enter', down: false}));
    }
    return downs;";

async fn pixel(helper: &Browser, (x, y): (u32, u32)) -> Option<[u8; 3]> {
    let got = helper
        .eval(PICTURE_PIXEL, vec![x.into(), y.into()])
        .await
        .ok()?;
    let values: Vec<u8> = got
        .as_array()?
        .iter()
        .filter_map(|v| v.as_u64().and_then(|v| u8::try_from(v).ok()))
        .collect();
    values.try_into().ok()
}

/// Waits until the helper's picture at `at` is `wanted` (within a few
/// levels: H.264 and scaling round).
async fn wait_for_pixel(helper: &Browser, at: (u32, u32), wanted: [u8; 3], what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut last = None;
    loop {
        last = pixel(helper, at).await.or(last);
        if last.is_some_and(|got| got.iter().zip(wanted).all(|(g, w)| g.abs_diff(w) <= 24)) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: the helper's picture at {at:?} is {last:?}, not {wanted:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The agent's count of input dropped outside the shared window, from its
/// latest report (about once a second).
async fn outside_count(helper: &Browser) -> u64 {
    helper
        .eval(
            "return window.__agentStats ? window.__agentStats.outside_window : null;",
            vec![],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap_or(0)
}

async fn wait_for_outside(helper: &Browser, at_least: u64) -> u64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let count = outside_count(helper).await;
        if count >= at_least {
            return count;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the agent counted {count} inputs outside the window, not {at_least}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// In full control: the sharer shares one window, then the whole screen.
pub(crate) async fn one_window_shared(
    helper: &Browser,
    sharer: &Browser,
    xvfb: &Xvfb,
    work: &Path,
) -> GroupChild {
    // A blue window over the white terminal that fills the screen.
    let window = xvfb
        .run(
            "xterm",
            "xterm",
            &[
                "-title",
                TITLE,
                "-bg",
                "#2050d0",
                "-geometry",
                "30x8+500+400",
                "-e",
                "cat",
            ],
        )
        .unwrap();
    let id = wait_for_window(xvfb).await;
    let (wx, wy, ww, wh) = xvfb.window(TITLE).expect("the window is mapped");
    let inside = (
        (wx + i64::from(ww) / 2) as u32,
        (wy + i64::from(wh) / 2) as u32,
    );
    let outside = (60, 60);
    wait_for_pixel(helper, outside, [255, 255, 255], "the whole screen first").await;

    sharer
        .wait_for("#share-window-button")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    sharer
        .wait_for_text_containing("#share-windows", TITLE)
        .await
        .unwrap();
    let pick = format!("#share-windows button[data-id='{id}']");
    sharer.wait_for(&pick).await.unwrap().click().await.unwrap();
    sharer
        .wait_for_text_containing(
            "#share-what",
            &format!("You share one window: \u{201c}{TITLE}\u{201d}"),
        )
        .await
        .unwrap();
    helper
        .wait_for_text_containing("#shared-what", TITLE)
        .await
        .unwrap();
    wait_for_pixel(helper, outside, [0, 0, 0], "outside the window").await;
    wait_for_pixel(helper, inside, [0x20, 0x50, 0xd0], "inside the window").await;

    // A rogue page's click and keys outside the window go nowhere; the
    // agent counts them. Inside it, the pointer gets there. The sharer's
    // pointer is outside it, so it lacks the keyboard.
    xvfb.output("xdotool", &["mousemove", "20", "20"]).unwrap();
    let before = outside_count(helper).await;
    let pointer = xvfb.pointer();
    let downs = helper
        .eval(ROGUE_AT, vec![5.into(), 5.into(), "windowleak".into()])
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    assert!(downs > 10, "the rogue messages went out: {downs}");
    // The move, the press and the release at (5, 5) (nothing was held),
    // and every key press.
    wait_for_outside(helper, before + 3 + downs as u64).await;
    assert_eq!(xvfb.pointer(), pointer, "the pointer did not move");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !work.join("windowleak").exists(),
        "no keys reached the terminal"
    );
    helper
        .eval(ROGUE_AT, vec![inside.0.into(), inside.1.into(), "".into()])
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while xvfb.pointer() != (i64::from(inside.0), i64::from(inside.1)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the pointer never got inside"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The window moves: the shared area follows it.
    xvfb.output("xdotool", &["windowmove", &id.to_string(), "100", "100"])
        .unwrap();
    let moved = (100 + ww / 2, 100 + wh / 2);
    wait_for_pixel(helper, moved, [0x20, 0x50, 0xd0], "the moved window").await;
    wait_for_pixel(helper, inside, [0, 0, 0], "where the window was").await;

    // The whole screen again.
    sharer
        .wait_for("#share-screen-button")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    sharer
        .wait_for_text_containing("#share-what", "You share the whole screen.")
        .await
        .unwrap();
    wait_for_pixel(helper, outside, [255, 255, 255], "the whole screen again").await;
    let gone = helper
        .eval(
            "return document.getElementById('shared-what') === null;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(gone, serde_json::json!(true));
    window
}

/// The shared window's X id, once it is mapped.
async fn wait_for_window(xvfb: &Xvfb) -> u64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(out) = xvfb.output("xdotool", &["search", "--name", TITLE])
            && let Some(id) = out.lines().next().and_then(|l| l.trim().parse().ok())
            && xvfb.window(TITLE).is_some()
        {
            return id;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the window never showed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
