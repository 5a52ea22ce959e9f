//! File transfer as a helper and a sharer use it, checked on disk: a file
//! from the helper's browser lands whole in the sharer's Downloads folder
//! under a safe name that replaces nothing, a file on the device reaches
//! the helper's browser downloads whole, each only after the sharer
//! accepted on their page; a cancel from either side and a decline leave
//! nothing behind.

use std::path::Path;
use std::time::Duration;
use tandem_tests::desktop::Agent;
use tandem_tests::{Browser, eventually};

/// `size` bytes that no two offsets share a pattern of.
fn contents(size: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Waits until `path` holds exactly `bytes` (a browser writes a
/// download under another name, then renames it).
async fn wait_for_contents(path: &Path, bytes: &[u8]) {
    eventually(
        &format!("{} to hold the file", path.display()),
        Duration::from_secs(30),
        async || match std::fs::read(path) {
            Ok(got) if got == bytes => Ok(()),
            _ => Err(path.parent().map(names)),
        },
    )
    .await;
}

/// Opens the Files tool (and the tools' row, if it is closed).
async fn open_files(helper: &Browser) {
    let open = helper
        .eval(
            "return document.getElementById('files-panel') !== null;",
            vec![],
        )
        .await
        .unwrap();
    if open == serde_json::json!(true) {
        return;
    }
    let row = helper
        .eval(
            "return document.getElementById('files-button') !== null;",
            vec![],
        )
        .await
        .unwrap();
    if row != serde_json::json!(true) {
        helper.click("#tools-button").await.unwrap();
    }
    helper.click("#files-button").await.unwrap();
}

/// Clicks `button` on `page` the moment `#{watched}` says bytes move: in
/// the page, so a fast transfer cannot finish between seeing and clicking.
async fn click_while_moving(page: &Browser, watched: &str, attribute: &str, button: &str) {
    let script = format!(
        "const [done] = arguments;
        const started = performance.now();
        (function poll() {{
            const el = document.getElementById('{watched}');
            const button = document.getElementById('{button}');
            if (el && el.getAttribute('{attribute}') === 'moving' && button) {{
                button.click();
                return done('clicked');
            }}
            if (performance.now() - started > 20000) return done('never moving');
            setTimeout(poll, 2);
        }})();"
    );
    let clicked = page.eval_async(&script, vec![]).await.unwrap();
    assert_eq!(clicked, serde_json::json!("clicked"));
}

async fn send_from_helper(helper: &Browser, file: &Path) {
    open_files(helper).await;
    helper
        .wait_for("#file-send")
        .await
        .unwrap()
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
}

async fn accept(sharer: &Browser, expected_text: &str) {
    sharer
        .wait_for_text_containing("#share-file-text", expected_text)
        .await
        .unwrap();
    sharer.click("#share-file-accept").await.unwrap();
}

async fn close_transfer(helper: &Browser) {
    helper.click("#file-clear").await.unwrap();
}

/// In full control, the organization allowing files: 20 MB both ways with
/// their SHA-256 checked, a decline and a cancel from each side.
pub(crate) async fn files_both_ways(
    helper: &Browser,
    sharer: &Browser,
    agent: &Agent,
    work: &Path,
) {
    let downloads = agent.downloads();
    let outbox = work.join("outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    std::fs::create_dir_all(&downloads).unwrap();

    // Helper → device. The name is a Windows device name, so it lands
    // as "_CON.bin"; a file of that name is there already and stays.
    let big = contents(20_000_000, 7);
    let to_device = outbox.join("CON.bin");
    std::fs::write(&to_device, &big).unwrap();
    std::fs::write(downloads.join("_CON.bin"), b"the sharer's own").unwrap();
    send_from_helper(helper, &to_device).await;
    accept(
        sharer,
        "wants to send you \u{201c}_CON.bin\u{201d} (20.0 MB)",
    )
    .await;
    helper
        .wait_for_text_containing(
            "#file-status",
            "Downloads folder as \u{201c}_CON (1).bin\u{201d}",
        )
        .await
        .unwrap_or_else(|e| panic!("{e}; agent said:\n{}", agent.output()));
    assert_eq!(std::fs::read(downloads.join("_CON (1).bin")).unwrap(), big);
    assert_eq!(
        std::fs::read(downloads.join("_CON.bin")).unwrap(),
        b"the sharer's own"
    );
    sharer
        .wait_for_text_containing(
            "#share-file-text",
            "\u{201c}_CON (1).bin\u{201d} (20.0 MB) is in your Downloads folder",
        )
        .await
        .unwrap();
    close_transfer(helper).await;

    // Device → helper, by path; the browser saves it.
    let on_device = work.join("device-report.bin");
    let report = contents(20_000_000, 11);
    std::fs::write(&on_device, &report).unwrap();
    helper
        .wait_for("#file-path")
        .await
        .unwrap()
        .send_keys(&on_device.display().to_string())
        .await
        .unwrap();
    helper.click("#file-get").await.unwrap();
    accept(
        sharer,
        "asks for your file \u{201c}device-report.bin\u{201d} (20.0 MB)",
    )
    .await;
    helper
        .wait_for_text_containing("#file-status", "arrived whole (SHA-256 checked)")
        .await
        .unwrap_or_else(|e| panic!("{e}; agent said:\n{}", agent.output()));
    wait_for_contents(&helper.downloads().join("device-report.bin"), &report).await;
    sharer
        .wait_for_text_containing(
            "#share-file-text",
            "received \u{201c}device-report.bin\u{201d}",
        )
        .await
        .unwrap();
    close_transfer(helper).await;

    // The sharer declines: nothing is written.
    let before = names(&downloads);
    let small = outbox.join("notes.txt");
    std::fs::write(&small, b"notes").unwrap();
    send_from_helper(helper, &small).await;
    sharer
        .wait_for_text_containing(
            "#share-file-text",
            "wants to send you \u{201c}notes.txt\u{201d}",
        )
        .await
        .unwrap();
    sharer.click("#share-file-decline").await.unwrap();
    helper
        .wait_for_text_containing("#file-status", "The sharer declined the transfer.")
        .await
        .unwrap();
    assert_eq!(names(&downloads), before);
    close_transfer(helper).await;

    // The connection is lost mid-way (the helper's side closes it): the
    // device offers a new one, the transfer resumes on it from what had
    // arrived, and the file is whole.
    let resumed = outbox.join("resumed.bin");
    let resumed_bytes = contents(60_000_000, 5);
    std::fs::write(&resumed, &resumed_bytes).unwrap();
    let connections = helper
        .eval("return window.__pcs.length;", vec![])
        .await
        .unwrap();
    send_from_helper(helper, &resumed).await;
    accept(sharer, "wants to send you \u{201c}resumed.bin\u{201d}").await;
    let dropped = helper
        .eval_async(
            "const [done] = arguments;
            const started = performance.now();
            (function poll() {
                const el = document.getElementById('file-transfer');
                const bar = document.getElementById('file-progress');
                if (el && el.getAttribute('data-phase') === 'moving' && bar && bar.value > 0) {
                    window.__pcs.forEach(pc => pc.close());
                    return done('closed');
                }
                if (performance.now() - started > 20000) return done('never moving');
                setTimeout(poll, 2);
            })();",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(dropped, serde_json::json!("closed"));
    // The device notices the connection is gone within half a minute.
    let saved = "Downloads folder as \u{201c}resumed.bin\u{201d}";
    eventually(
        "the resumed file saved",
        Duration::from_secs(90),
        async || {
            // The page reopens its tools once its picture is back.
            let reopen = "const panel = document.getElementById('files-panel');
            const files = document.getElementById('files-button');
            const tools = document.getElementById('tools-button');
            if (!panel && files) files.click(); else if (!panel && !files && tools) tools.click();
            const status = document.getElementById('file-status');
            return status ? status.textContent : '';";
            let status = helper.eval(reopen, vec![]).await.unwrap_or_default();
            if status.as_str().is_some_and(|s| s.contains(saved)) {
                return Ok(());
            }
            let said = agent.output();
            let tail: String = said
                .chars()
                .skip(said.chars().count().saturating_sub(1500))
                .collect();
            Err(format!("{status}; the agent said:\n{tail}"))
        },
    )
    .await;
    assert_eq!(
        std::fs::read(downloads.join("resumed.bin")).unwrap(),
        resumed_bytes
    );
    let now = helper
        .eval("return window.__pcs.length;", vec![])
        .await
        .unwrap();
    assert!(
        now.as_u64() > connections.as_u64(),
        "a new connection carried the rest: {connections} then {now}"
    );
    close_transfer(helper).await;
    let before = names(&downloads);

    // Cancelled mid-way, by the helper, then by the sharer: no file and no
    // part file stays.
    let large = outbox.join("large.bin");
    std::fs::write(&large, contents(100_000_000, 3)).unwrap();
    send_from_helper(helper, &large).await;
    accept(
        sharer,
        "wants to send you \u{201c}large.bin\u{201d} (100 MB)",
    )
    .await;
    click_while_moving(helper, "file-transfer", "data-phase", "file-cancel").await;
    helper
        .wait_for_text_containing("#file-status", "You cancelled the transfer.")
        .await
        .unwrap();
    sharer
        .wait_for_text_containing("#share-file-text", "cancelled it. Nothing was kept.")
        .await
        .unwrap();
    wait_for_names(&downloads, &before).await;
    close_transfer(helper).await;

    send_from_helper(helper, &large).await;
    accept(sharer, "wants to send you \u{201c}large.bin\u{201d}").await;
    click_while_moving(sharer, "share-file", "data-stage", "share-file-cancel").await;
    helper
        .wait_for_text_containing("#file-status", "The sharer cancelled the transfer.")
        .await
        .unwrap();
    wait_for_names(&downloads, &before).await;
    close_transfer(helper).await;
    // The tools' row closes, and the picture has its room again.
    helper.click("#tools-button").await.unwrap();
}

/// Waits until `dir` holds exactly `wanted` (a part file goes a moment
/// after the transfer stopped).
async fn wait_for_names(dir: &Path, wanted: &[String]) {
    eventually(
        "the Downloads folder as before",
        Duration::from_secs(10),
        async || {
            let now = names(dir);
            if now == wanted { Ok(()) } else { Err(now) }
        },
    )
    .await;
}
