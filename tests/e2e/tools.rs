//! The in-session tools as a helper and a sharer use them, checked where
//! they land: the clipboard in X's CLIPBOARD selection, strokes on X's
//! screen and on the sharer's own preview. The agent and browser-session
//! suites call these at their points in a session.

use serde_json::Value;
use std::time::Duration;
use tandem_tests::desktop::Xvfb;
use tandem_tests::{Browser, eventually};

/// Run by an administrator's page: turns the clipboard and file transfer
/// on (both off by default); the status.
pub(crate) const ALLOW_TOOLS: &str = "const [done] = arguments;
    fetch('/api/admin/settings').then(r => r.json()).then(s => {
        s.clipboard_enabled = true;
        s.file_transfer_enabled = true;
        return fetch('/api/admin/settings', {method: 'PUT',
            headers: {'content-type': 'application/json'}, body: JSON.stringify(s)});
    }).then(r => done(r.status), () => done(0));";

/// In full control: the helper's text lands in X's CLIPBOARD selection,
/// and what the sharer copies on the device reaches the helper, each
/// shown to the sharer.
pub(crate) async fn clipboard_both_ways(helper: &Browser, sharer: &Browser, xvfb: &Xvfb) {
    helper.click("#clipboard-button").await.unwrap();
    let to_device = "from the helper: é€ ✓";
    helper
        .wait_for("#clipboard-out")
        .await
        .unwrap()
        .send_keys(to_device)
        .await
        .unwrap();
    helper.click("#clipboard-send").await.unwrap();
    helper
        .wait_for_text_containing("#clipboard-status", "is on the device's clipboard")
        .await
        .unwrap();
    assert_eq!(xvfb.clipboard().unwrap(), to_device);
    sharer
        .wait_for_text_containing("#clipboard-notice", "put text on your clipboard once")
        .await
        .unwrap();
    let from_device = "copied on the device: ß\tΩ";
    xvfb.set_clipboard(from_device).unwrap();
    helper.click("#clipboard-get").await.unwrap();
    helper
        .wait_for_text_containing("#clipboard-status", "clipboard text arrived")
        .await
        .unwrap();
    let got = helper
        .eval(
            "return document.getElementById('clipboard-in').value;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(got, serde_json::json!(from_device));
    sharer
        .wait_for_text_containing("#clipboard-notice", "read your clipboard once")
        .await
        .unwrap();
    // Closing the tool forgets the text; the tools' row closes too.
    helper.click("#clipboard-button").await.unwrap();
    helper.click("#tools-button").await.unwrap();
    let gone = helper
        .eval(
            "return document.getElementById('clipboard-in') === null;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(gone, serde_json::json!(true));
}

/// Draws through the annotation layer with mouse events at screen pixels
/// `points` (the layer takes the pointer while a tool is picked).
const DRAW: &str = "const [points] = arguments;
    const layer = document.getElementById('annotation-layer');
    const video = document.getElementById('remote-screen');
    const r = video.getBoundingClientRect();
    const at = ([x, y]) => ({ bubbles: true, button: 0,
        clientX: r.left + (x + 0.5) * r.width / video.videoWidth,
        clientY: r.top + (y + 0.5) * r.height / video.videoHeight });
    layer.dispatchEvent(new MouseEvent('mousedown', at(points[0])));
    for (const p of points.slice(1)) layer.dispatchEvent(new MouseEvent('mousemove', at(p)));
    layer.dispatchEvent(new MouseEvent('mouseup', at(points[points.length - 1])));
    return true;";

/// Waits up to 10 s for X's pixel at (`x`, `y`) to be `wanted` (or, with
/// `not`, to be anything else).
async fn wait_for_x_pixel(xvfb: &Xvfb, (x, y): (i16, i16), wanted: u32, not: bool) -> u32 {
    let what = format!(
        "X's pixel at ({x}, {y}) to be {}{wanted:06x}",
        if not { "anything but " } else { "" }
    );
    eventually(&what, Duration::from_secs(10), async || {
        let seen = xvfb.pixel(x, y).unwrap();
        if (seen == wanted) != not {
            Ok(seen)
        } else {
            Err(format!("{seen:06x}"))
        }
    })
    .await
}

/// Waits up to 10 s for the element with `id` to be gone from the page.
async fn wait_gone(page: &Browser, id: &str) {
    let script = format!("return document.getElementById('{id}') === null;");
    eventually(
        &format!("#{id} to go"),
        Duration::from_secs(10),
        async || match page.eval(&script, vec![]).await.unwrap() {
            serde_json::Value::Bool(true) => Ok(()),
            seen => Err(seen),
        },
    )
    .await;
}

/// Annotation: the helper's pen stroke shows at once on their page and
/// on the device's real screen (the overlay, read from X), goes with
/// the helper's Clear or the sharer's, the sharer can switch drawing off
/// (the helper's tools go) and on, and a laser stroke fades by itself.
pub(crate) async fn annotation_draws_on_the_device(
    helper: &Browser,
    sharer: &Browser,
    xvfb: &Xvfb,
) {
    helper.click("#tools-button").await.unwrap();
    helper.click("#annotate-pen").await.unwrap();
    let stroke = serde_json::json!([[300, 500], [450, 500], [600, 500]]);
    let drawn = helper.eval(DRAW, vec![stroke]).await.unwrap();
    assert_eq!(drawn, serde_json::json!(true));
    // Drawn locally, at the screen pixel (not after a video round trip).
    let local = helper
        .eval(
            "return Array.from(document.getElementById('annotation-layer')
                .getContext('2d').getImageData(450, 500, 1, 1).data);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(local, serde_json::json!([0xe0, 0x1b, 0x24, 255]));
    let pen = tandem_protocol::annotation::Tool::Pen.rgb();
    wait_for_x_pixel(xvfb, (450, 500), pen, false).await;
    helper.click("#annotate-clear").await.unwrap();
    wait_for_x_pixel(xvfb, (450, 500), pen, true).await;
    let stroke = serde_json::json!([[300, 500], [600, 500]]);
    helper.eval(DRAW, vec![stroke]).await.unwrap();
    wait_for_x_pixel(xvfb, (450, 500), pen, false).await;
    sharer.click("#drawing-clear").await.unwrap();
    wait_for_x_pixel(xvfb, (450, 500), pen, true).await;
    // The device says so, and the helper's own copy goes too.
    let what = "the helper's copy of the stroke the sharer cleared to go";
    eventually(what, Duration::from_secs(10), async || {
        let local = helper
            .eval(
                "return document.getElementById('annotation-layer')
                    .getContext('2d').getImageData(450, 500, 1, 1).data[3];",
                vec![],
            )
            .await
            .unwrap();
        if local == serde_json::json!(0) {
            Ok(())
        } else {
            Err(local)
        }
    })
    .await;
    sharer.click("#drawing-toggle").await.unwrap();
    wait_gone(helper, "annotate-pen").await;
    // Her page, reloaded, shows the switch as the device has it.
    sharer.reload().await.unwrap();
    sharer
        .wait_for_text_containing("#drawing-toggle", "Let the helper draw again")
        .await
        .unwrap();
    sharer.click("#drawing-toggle").await.unwrap();
    // The laser fades without a Clear.
    helper.click("#annotate-laser").await.unwrap();
    let stroke = serde_json::json!([[300, 600], [600, 600]]);
    helper.eval(DRAW, vec![stroke]).await.unwrap();
    let laser = tandem_protocol::annotation::Tool::Laser.rgb();
    wait_for_x_pixel(xvfb, (450, 600), laser, false).await;
    wait_for_x_pixel(xvfb, (450, 600), laser, true).await;
    helper.click("#tools-button").await.unwrap();
}

/// The pixel of the sharer's preview canvas at (`x`, `y`), RGBA.
async fn preview_pixel(sharer: &Browser, x: u32, y: u32) -> Value {
    sharer
        .eval(
            "const [x, y] = arguments; const c = document.getElementById('share-annotation');
             return c ? Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data) : null;",
            vec![serde_json::json!(x), serde_json::json!(y)],
        )
        .await
        .unwrap()
}

/// A screen shared from a browser tab: the helper's pen stroke shows on
/// the sharer's own preview, and her Clear removes it.
pub(crate) async fn drawing_over_a_browser_tab(helper: &Browser, sharer: &Browser) {
    helper.click("#tools-button").await.unwrap();
    helper.click("#annotate-pen").await.unwrap();
    let stroke = serde_json::json!([[100, 200], [250, 200], [400, 200]]);
    helper.eval(DRAW, vec![stroke]).await.unwrap();
    let pen = serde_json::json!([0xe0, 0x1b, 0x24, 255]);
    eventually(
        "the stroke on the sharer's preview",
        Duration::from_secs(10),
        async || {
            let seen = preview_pixel(sharer, 250, 200).await;
            if seen == pen { Ok(()) } else { Err(seen) }
        },
    )
    .await;
    sharer.click("#drawing-clear").await.unwrap();
    eventually(
        "the sharer's Clear to remove it",
        Duration::from_secs(10),
        async || {
            let seen = preview_pixel(sharer, 250, 200).await;
            if seen != pen { Ok(()) } else { Err(seen) }
        },
    )
    .await;
    helper.click("#tools-button").await.unwrap();
}
