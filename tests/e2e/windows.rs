//! The Windows agent under Wine on Xvfb, with notepad open: its capture,
//! input and Event Log backends (the `windows_desktop` test binary, run
//! under Wine, checked against X), and a whole session from a helper in
//! Chromium through `tandem-agent.exe`.

use crate::session::{as_user, assist, probe};
use std::path::Path;
use std::process::Output;
use std::time::Duration;
use tandem_tests::desktop::{SCREEN, SECOND_SCREEN, Xvfb, enrollment_token};
use tandem_tests::wine::{Wine, windows_backend_tests};
use tandem_tests::{Browser, e2e};

const AGENT_TIMEOUT: Duration = Duration::from_secs(60);

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
        "absolute_coordinates_round_trip_on_a_desktop_left_of_the_primary",
        "-all",
        "",
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

/// Waits until the helper's video shows a whole `size` monitor.
async fn wait_for_monitor(helper: &Browser, size: (u32, u32)) -> serde_json::Value {
    for _ in 0..300 {
        let p = probe(helper).await;
        if p["w"].as_u64() == Some(u64::from(size.0))
            && p["h"].as_u64() == Some(u64::from(size.1))
            && p["frames"].as_u64().unwrap_or(0) > 0
        {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the helper never saw a {size:?} monitor: {}",
        probe(helper).await
    );
}

/// Clicks the middle of the helper's picture; the pointer must land on
/// `expected` on X.
async fn click_mid_picture(helper: &Browser, xvfb: &Xvfb, expected: (i64, i64), said: &str) {
    helper
        .wait_for("#remote-screen")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let near = |at: (i64, i64)| (at.0 - expected.0).abs() <= 1 && (at.1 - expected.1).abs() <= 1;
    let mut at = xvfb.pointer();
    for _ in 0..50 {
        if near(at) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        at = xvfb.pointer();
    }
    panic!("the click mid-picture lands on {expected:?}, not {at:?}; agent said:\n{said}");
}

/// A whole session through `tandem-agent.exe` under Wine with two
/// monitors: the helper in Chromium sees the primary one, takes full
/// control, clicks and types into notepad, then picks the other; at the end the sharer is warned and signed out, because the
/// help desk's role carries Elevation.
#[tokio::test]
async fn a_helper_in_chromium_controls_notepad_through_the_windows_agent() {
    e2e(async |env| {
        let xvfb = Xvfb::two_screens().unwrap();
        let wine = Wine::start(&xvfb).unwrap();
        let out = tempfile::tempdir().unwrap();
        let admin = &env.browser;
        as_user(admin, "admin@contoso.test").await;
        let token = enrollment_token(admin, "e2e windows").await.unwrap();
        let agent = wine.agent(env.server.base_url(), &token).unwrap();
        let link = agent
            .wait_for_line("Open this link to continue: ", AGENT_TIMEOUT)
            .await
            .unwrap();
        let path = &link[link.find("/share").expect("a sharer link")..];

        let helper = &env.browser;
        let sharer = Browser::start(env.server.base_url()).await.unwrap();
        as_user(helper, "megan@contoso.test").await;
        as_user(&sharer, "lynne@contoso.test").await;
        sharer.goto(path).await.unwrap();
        sharer
            .wait_for_text_containing("#paired-device", "Paired with")
            .await
            .unwrap();
        let code = assist(helper).await;
        sharer.fill("#share-code", &code).await.unwrap();
        sharer.click("form button[type=submit]").await.unwrap();
        helper
            .wait_for_text_containing("#session-status", "Sharer joined")
            .await
            .unwrap();

        helper.click_button("Request full control").await.unwrap();
        sharer.click_button("Allow").await.unwrap();
        helper
            .wait_for_text_containing("#session-status", "Connected (full control)")
            .await
            .unwrap();
        let seen = wait_for_monitor(helper, SCREEN).await;
        assert!(seen["frames"].as_u64() > Some(0), "{seen}");
        // Wine refuses quinn-udp's socket options: the plain sockets carry
        // the session.
        assert!(
            agent.output().contains("using plain sockets"),
            "{}",
            agent.output()
        );
        helper
            .wait_for_text_containing("#media-stats", "1024×768")
            .await
            .unwrap();

        // The middle of the picture is the middle of the Wine desktop.
        helper.client().set_window_size(1400, 1800).await.unwrap();
        let surface = helper
            .wait_for("#remote-surface.controlling")
            .await
            .unwrap();
        click_mid_picture(helper, &xvfb, (512, 384), &agent.output()).await;

        // Keys by scan code reach notepad, read back with WM_GETTEXT.
        surface.send_keys("hello wine 42").await.unwrap();
        backend_test(
            &wine,
            out.path(),
            "notepad_holds_what_the_helper_typed",
            "-all",
            "hello wine 42",
        );

        // The second monitor: the helper picks it, the picture becomes
        // that monitor alone, and a click lands on it.
        let picked = format!("Display 2 ({}×{})", SECOND_SCREEN.0, SECOND_SCREEN.1);
        helper.select("#display-picker", &picked).await.unwrap();
        wait_for_monitor(helper, SECOND_SCREEN).await;
        let (w, h) = (i64::from(SECOND_SCREEN.0), i64::from(SECOND_SCREEN.1));
        click_mid_picture(helper, &xvfb, (w / 2, h / 2), &agent.output()).await;
        helper
            .select("#display-picker", "Display 1 (1024×768, primary)")
            .await
            .unwrap();
        wait_for_monitor(helper, SCREEN).await;

        // Leaving ends a session that used elevation with full control:
        // the sharer is warned, then signed out.
        sharer.click_button("Leave").await.unwrap();
        agent
            .wait_for_line("you will be signed out in 3 seconds", AGENT_TIMEOUT)
            .await
            .unwrap();
        agent
            .wait_for_line("signing the sharer out", AGENT_TIMEOUT)
            .await
            .unwrap();
        sharer.close().await;
    })
    .await;
}
