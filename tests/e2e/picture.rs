//! The helper's picture compared with the X screen, pixel for pixel: the
//! video with the agent's tile layer over it, as the helper sees them.

use std::time::Duration;
use tandem_tests::Browser;
use tandem_tests::desktop::Xvfb;

/// Answers `[tiles drawn, base64 RGB of the top `arguments[0]` rows]` of
/// the helper's picture: the video, and the tile canvas over it.
const COMPOSITE: &str = r#"
    const [rows] = arguments;
    const v = document.querySelector('#remote-screen');
    const t = document.querySelector('#remote-tiles');
    if (!v || !t || !v.videoWidth) return null;
    const c = document.createElement('canvas');
    c.width = v.videoWidth; c.height = rows;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0, c.width, rows, 0, 0, c.width, rows);
    if (t.width === v.videoWidth) g.drawImage(t, 0, 0, c.width, rows, 0, 0, c.width, rows);
    const px = g.getImageData(0, 0, c.width, rows).data;
    const rgb = new Uint8Array(c.width * rows * 3);
    for (let i = 0, j = 0; i < px.length; i += 4) { rgb[j++] = px[i]; rgb[j++] = px[i + 1]; rgb[j++] = px[i + 2]; }
    let s = '';
    for (let i = 0; i < rgb.length; i += 0x8000) s += String.fromCharCode.apply(null, rgb.subarray(i, i + 0x8000));
    return [Number(t.dataset.tiles || 0), btoa(s)];
"#;

fn base64(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap_or_default()
}

/// How the top `rows` of the helper's picture compare with X: (tiles
/// drawn so far, ink pixels on X, of which exactly equal).
async fn compare(helper: &Browser, xvfb: &Xvfb, rows: u32) -> Option<(u64, usize, usize)> {
    let answer = helper.eval(COMPOSITE, vec![rows.into()]).await.ok()?;
    let tiles = answer.get(0)?.as_u64()?;
    let rgb = base64(answer.get(1)?.as_str()?);
    let shot = xvfb.screenshot().ok()?;
    let (mut ink, mut exact) = (0, 0);
    for y in 0..rows.min(shot.height) {
        for x in 0..shot.width {
            let Some(want) = shot.pixel(x, y) else {
                continue;
            };
            // Ink: anything but the xterm's white background.
            if want == 0xFF_FF_FF {
                continue;
            }
            ink += 1;
            let at = (y * shot.width + x) as usize * 3;
            let got = rgb
                .get(at..at + 3)
                .map(|p| u32::from_be_bytes([0, p[0], p[1], p[2]]));
            if got == Some(want) {
                exact += 1;
            }
        }
    }
    Some((tiles, ink, exact))
}

/// Waits until the helper's picture shows the text at the top of the X
/// screen exactly (lossless: at least 99 % of its ink pixels equal), with
/// tiles drawn. H.264 alone never gets there: its text edges are off by a
/// few levels even at the top-off quality.
pub(crate) async fn wait_for_exact_text(helper: &Browser, xvfb: &Xvfb, rows: u32) {
    let mut last = None;
    for _ in 0..60 {
        last = compare(helper, xvfb, rows).await;
        if let Some((tiles, ink, exact)) = last
            && tiles > 0
            && ink > 200
            && exact * 100 >= ink * 99
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the helper's picture never matched X exactly: (tiles, ink, exact) = {last:?}");
}
