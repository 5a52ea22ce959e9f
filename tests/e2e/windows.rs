//! The Windows agent under Wine on Xvfb, with notepad open: its capture,
//! input and Event Log backends (the `windows_desktop` test binary, run
//! under Wine, checked against X), and a whole session from a helper in
//! Chromium through `tandem-agent.exe`.

use crate::session::{as_user, assist, click_mid_picture, wait_for_picture};
use std::path::Path;
use std::process::Output;
use std::time::Duration;
use tandem_tests::desktop::{SCREEN, SECOND_SCREEN, Xvfb, enrollment_token};
use tandem_tests::flows::{Ask, grant, join_with_code, pair_browser};
use tandem_tests::wine::{Wine, windows_agent, windows_backend_tests, windows_path};
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
    // Wine sometimes crashes while the process tears down, after the
    // harness reported its one test passed: that report is what counts.
    let passed = stdout.contains("test result: ok. 1 passed");
    let torn_down = {
        use std::os::unix::process::ExitStatusExt;
        output.status.signal() == Some(11)
    };
    if passed && torn_down {
        eprintln!("{name} under Wine: passed; Wine then crashed on exit (SIGSEGV)");
    }
    assert!(
        (output.status.success() || torn_down) && passed,
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

    // The clipboard: Wine's and X's are one, both ways.
    xvfb.set_clipboard("from X: ß Ω").unwrap();
    backend_test(
        &wine,
        out,
        "the_clipboard_reads_and_sets_text",
        "-all",
        "from X: ß Ω",
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut seen = xvfb.clipboard().unwrap_or_default();
    while seen != "from Windows: é€ ✓" && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        seen = xvfb.clipboard().unwrap_or_default();
    }
    assert_eq!(seen, "from Windows: é€ ✓", "X serves what Windows set");

    // The windows a sharer may share one of.
    backend_test(&wine, out, "notepad_is_listed_and_located", "-all", "");

    // Files from the helper land in the profile's Downloads folder.
    backend_test(
        &wine,
        out,
        "received_files_land_in_the_profiles_downloads",
        "-all",
        "",
    );

    // The annotation overlay: strokes on screen, clicks through.
    backend_test(
        &wine,
        out,
        "the_overlay_draws_strokes_that_clicks_go_through",
        "-all",
        "",
    );

    backend_test(
        &wine,
        out,
        "the_agent_exe_renders_every_journal_event",
        "-all",
        "",
    );
    backend_test(
        &wine,
        out,
        "the_service_state_folder_is_for_system_and_administrators_only",
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

/// A whole session through `tandem-agent.exe` under Wine with two
/// monitors: the helper in Chromium sees the primary one, takes full
/// control, clicks and types into notepad, then picks the other. The help
/// desk's role carries Elevation, but no UAC prompt came up (Wine has no
/// secure desktop): holding is not using, so the sharer stays signed in.
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
        pair_browser(&sharer, path).await.unwrap();
        let code = assist(helper).await;
        join_with_code(helper, &sharer, &code).await.unwrap();
        grant(helper, &sharer, Ask::FullControl).await.unwrap();
        let seen = wait_for_picture(helper, SCREEN, |_| true).await;
        assert!(seen["frames"].as_u64() > Some(0), "{seen}");
        // Wine refuses quinn-udp's socket options: the plain sockets carry
        // the session.
        assert!(
            agent.output().contains("using plain sockets"),
            "{}",
            agent.output()
        );
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
        wait_for_picture(helper, SECOND_SCREEN, |_| true).await;
        let (w, h) = (i64::from(SECOND_SCREEN.0), i64::from(SECOND_SCREEN.1));
        click_mid_picture(helper, &xvfb, (w / 2, h / 2), &agent.output()).await;
        helper
            .select("#display-picker", "Display 1 (1024×768, primary)")
            .await
            .unwrap();
        wait_for_picture(helper, SCREEN, |_| true).await;

        // Leaving ends a session in which Megan held Elevation with full
        // control but answered no elevation prompt: no sign-out.
        sharer.click_button("Leave").await.unwrap();
        agent
            .wait_for_line("you stay signed in", AGENT_TIMEOUT)
            .await
            .unwrap();
        assert!(!agent.output().contains("signed out"), "{}", agent.output());
        sharer.close().await;
    })
    .await;
}

/// `tandem-agent.exe service …` under Wine, as an administrator runs it.
fn service_command(wine: &Wine, args: &[&str]) -> (bool, String) {
    let output = wine
        .command("wine")
        .arg(windows_agent().unwrap())
        .arg("service")
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// `reg query KEY` in the prefix: the values, or `None` if it is absent.
fn registry(wine: &Wine, key: &str) -> Option<String> {
    let output = wine
        .command("wine")
        .args(["reg", "query", key])
        .output()
        .unwrap();
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The service: `service install` enrolls the device as the administrator
/// (the token never reaches the service's command line), locks the state
/// folder, registers the Event Log source and starts the service, whose
/// SYSTEM agent in the console session comes online; `service uninstall`
/// stops it (the device goes offline) and removes it all.
#[tokio::test]
async fn the_service_installs_enrolls_runs_and_uninstalls_under_wine() {
    e2e(async |env| {
        const SERVICE_KEY: &str = r"HKLM\System\CurrentControlSet\Services\TandemAgent";
        const SOURCE_KEY: &str =
            r"HKLM\System\CurrentControlSet\Services\EventLog\Application\Tandem";
        let xvfb = Xvfb::start().unwrap();
        let wine = Wine::start(&xvfb).unwrap();
        let admin = &env.browser;
        as_user(admin, "admin@contoso.test").await;
        let token = enrollment_token(admin, "e2e service").await.unwrap();
        let state = tempfile::tempdir().unwrap();
        let state_dir = state.path().join("Tandem");
        let windows_state = windows_path(&state_dir);

        let (installed, said) = service_command(
            &wine,
            &[
                "install",
                "--server",
                env.server.base_url(),
                "--enroll",
                &token,
                "--state-dir",
                &windows_state,
            ],
        );
        assert!(installed, "service install: {said}");
        assert!(said.contains("(enrolled)"), "{said}");
        assert!(said.contains("installed and running"), "{said}");
        let device = said
            .split("registered as ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap()
            .to_owned();

        let config = registry(&wine, SERVICE_KEY).expect("the service is registered");
        assert!(config.contains("service run"), "{config}");
        assert!(config.contains("LocalSystem"), "{config}");
        assert!(!config.contains(&token), "no token in {config}");
        let source = registry(&wine, SOURCE_KEY).expect("the Event Log source");
        assert!(source.contains("tandem-agent.exe"), "{source}");
        // Wine maps the protected DACL onto the mode bits: nothing for
        // other users, on the folder or the device key in it.
        use std::os::unix::fs::PermissionsExt;
        let mut files = vec![state_dir.clone()];
        files.extend(
            std::fs::read_dir(&state_dir)
                .unwrap()
                .map(|e| e.unwrap().path()),
        );
        assert!(files.len() > 1, "the device key is there: {files:?}");
        for file in &files {
            let mode = std::fs::metadata(file).unwrap().permissions().mode();
            assert_eq!(mode & 0o007, 0, "{} is {mode:o}", file.display());
        }

        // The service's agent (SYSTEM, in the console session) connects.
        let row = format!("tr[data-device-id='{device}']");
        admin.goto("/devices").await.unwrap();
        admin
            .wait_for_text_containing(&format!("{row} .presence"), "Online")
            .await
            .unwrap();

        let (removed, said) = service_command(&wine, &["uninstall"]);
        assert!(removed, "service uninstall: {said}");
        admin
            .wait_for_text_containing(&format!("{row} .presence"), "Offline")
            .await
            .unwrap();
        assert_eq!(registry(&wine, SERVICE_KEY), None, "the service is gone");
        assert_eq!(registry(&wine, SOURCE_KEY), None, "the source is gone");
    })
    .await;
}
