//! The Windows agent under Wine on Xvfb, with notepad open: its capture,
//! input and Event Log backends (the `windows_desktop` test binary, run
//! under Wine, checked against X). A whole session through the Windows
//! agent does not run under Wine 8 yet: webrtc 0.21's UDP sockets go
//! through quinn-udp, whose socket options Wine refuses (WSAEOPNOTSUPP);
//! see ARCHITECTURE.md.

use std::path::Path;
use std::process::Output;
use tandem_tests::desktop::Xvfb;
use tandem_tests::wine::{Wine, windows_backend_tests};

/// Runs one test of the Windows backend binary under Wine.
fn backend_test(wine: &Wine, out: &Path, name: &str, trace: &str, expect: &str) -> Output {
    let mut command = wine.command("wine");
    command
        .arg(windows_backend_tests().unwrap())
        .args(["--exact", name, "--test-threads=1", "--nocapture"])
        .env("TANDEM_WINE_OUT", out)
        .env("TANDEM_WINE_EXPECT", expect)
        .env("WINEDEBUG", trace);
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{name} under Wine: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[tokio::test]
async fn the_windows_backends_capture_inject_and_log_under_wine() {
    let xvfb = Xvfb::start().unwrap();
    let wine = Wine::start(&xvfb).unwrap();
    let out = tempfile::tempdir().unwrap();
    let out = out.path();

    backend_test(
        &wine,
        out,
        "monitors_become_displays_primary_first",
        "-all",
        "",
    );

    // GDI (the fallback Wine needs) reads exactly what X shows.
    let capture = backend_test(
        &wine,
        out,
        "capture_falls_back_to_gdi_and_reads_the_whole_screen",
        "-all",
        "",
    );
    assert!(String::from_utf8_lossy(&capture.stdout).contains("DXGI refused"));
    let root = out.join("root.png");
    let shot = xvfb
        .output("import", &["-window", "root", root.to_str().unwrap()])
        .map(|_| root.is_file());
    assert!(matches!(shot, Ok(true)), "import -window root: {shot:?}");
    let compared = std::process::Command::new("compare")
        .args(["-metric", "AE"])
        .arg(out.join("screen.ppm"))
        .arg(&root)
        .arg("null:")
        .output()
        .unwrap();
    let differing = String::from_utf8_lossy(&compared.stderr).trim().to_owned();
    assert_eq!(differing, "0", "pixels differing between GDI and X");

    // SendInput: GetCursorPos (in the test) and X agree.
    backend_test(
        &wine,
        out,
        "send_input_puts_the_pointer_on_the_pixel",
        "-all",
        "",
    );
    let expected = std::fs::read_to_string(out.join("pointer.txt")).unwrap();
    let at = xvfb.pointer();
    assert_eq!(
        format!("{} {}", at.0, at.1),
        expected,
        "X sees the pointer there"
    );

    backend_test(
        &wine,
        out,
        "clicks_keys_and_text_land_in_notepad",
        "-all",
        "",
    );
    backend_test(
        &wine,
        out,
        "ctrl_alt_del_is_refused_without_the_service",
        "-all",
        "",
    );

    // Wine stores no events, but traces each ReportEventW string.
    let logged = backend_test(
        &wine,
        out,
        "session_start_and_end_go_to_the_event_log",
        "+eventlog",
        "",
    );
    let trace = String::from_utf8_lossy(&logged.stderr);
    for text in [
        "session wine-session started: helper Megan Bowen, full control.",
        "session wine-session with helper Megan Bowen ended: the helper left.",
    ] {
        assert!(
            trace.contains(&format!(
                "trace:eventlog:ReportEventW L\"Tandem remote help {text}"
            )),
            "{text} in:\n{trace}"
        );
    }
}
