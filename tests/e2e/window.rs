//! Sharing one window: the sharer picks it on her page from the device's
//! windows; the helper's picture is black outside it and under a window
//! opened over it (read from the picture the helper sees) and follows it
//! when it moves; a rogue peer's
//! input outside it is dropped and counted by the agent, while input
//! inside it reaches X; the sharer switches back to the whole screen.

use std::path::Path;
use std::time::Duration;
use tandem_tests::desktop::Xvfb;
use tandem_tests::{Browser, GroupChild, eventually};

/// The title of the window the sharer shares.
const TITLE: &str = "Tandem shared window";
/// Where the shared window is placed (xterm's `-geometry`, in characters
/// and pixels), and the place its geometry must report before the test
/// reads it: xterm's window exists, at 10×16 in the corner, before it is
/// placed and mapped.
const GEOMETRY: &str = "30x8+500+400";
const PLACE: (i64, i64) = (500, 400);

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
    let what = format!("{what}: the helper's picture at {at:?} to be {wanted:?}");
    eventually(&what, Duration::from_secs(20), async || {
        match pixel(helper, at).await {
            Some(got) if got.iter().zip(wanted).all(|(g, w)| g.abs_diff(w) <= 24) => Ok(()),
            seen => Err(seen),
        }
    })
    .await;
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
    let what = format!("the agent to count {at_least} inputs outside the window");
    eventually(&what, Duration::from_secs(10), async || {
        let count = outside_count(helper).await;
        if count >= at_least {
            Ok(count)
        } else {
            Err(count)
        }
    })
    .await
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
                GEOMETRY,
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

    sharer.click("#share-window-button").await.unwrap();
    sharer
        .wait_for_text_containing("#share-windows", TITLE)
        .await
        .unwrap();
    let pick = format!("#share-windows button[data-id='{id}']");
    sharer.click(&pick).await.unwrap();
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
    // Another window opened over part of it is not shown there.
    let cover = xvfb
        .run(
            "xterm",
            "xterm",
            &[
                "-title",
                "Tandem test cover",
                "-bg",
                "#e0e000",
                "-geometry",
                "4x2+500+400",
                "-e",
                "cat",
            ],
        )
        .unwrap();
    let (cx, cy, cw, ch) = eventually("the covering window", Duration::from_secs(10), async || {
        xvfb.window("Tandem test cover").ok_or(())
    })
    .await;
    let covered = (
        (cx + i64::from(cw) / 2) as u32,
        (cy + i64::from(ch) / 2) as u32,
    );
    wait_for_pixel(helper, covered, [0, 0, 0], "under the covering window").await;
    wait_for_pixel(helper, inside, [0x20, 0x50, 0xd0], "the rest of the window").await;
    drop(cover);

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
    // and every key, pressed and let go (the helper holds none of them).
    wait_for_outside(helper, before + 3 + 2 * downs as u64).await;
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
    let target = (i64::from(inside.0), i64::from(inside.1));
    eventually(
        "the pointer inside the window",
        Duration::from_secs(10),
        async || {
            let at = xvfb.pointer();
            if at == target { Ok(()) } else { Err(at) }
        },
    )
    .await;

    // The window moves: the shared area follows it.
    xvfb.output("xdotool", &["windowmove", &id.to_string(), "100", "100"])
        .unwrap();
    let moved = (100 + ww / 2, 100 + wh / 2);
    wait_for_pixel(helper, moved, [0x20, 0x50, 0xd0], "the moved window").await;
    wait_for_pixel(helper, inside, [0, 0, 0], "where the window was").await;

    // The whole screen again.
    sharer.click("#share-screen-button").await.unwrap();
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
    eventually(
        "the shared window to show",
        Duration::from_secs(10),
        async || {
            let out = xvfb
                .output("xdotool", &["search", "--onlyvisible", "--name", TITLE])
                .map_err(|e| e.to_string())?;
            let placed = xvfb
                .window(TITLE)
                .is_some_and(|(x, y, _, _)| (x, y) == PLACE);
            match out.lines().next().and_then(|l| l.trim().parse().ok()) {
                Some(id) if placed => Ok(id),
                _ => Err(format!("{out} at {:?}", xvfb.window(TITLE))),
            }
        },
    )
    .await
}
