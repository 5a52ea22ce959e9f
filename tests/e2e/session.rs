//! Two people in two browsers: a helper (the console) and a sharer (the
//! sharer page, sharing Chromium's fake screen with getDisplayMedia).
//! Real video crosses a real WebRTC connection; the checks read pixels.

use crate::tools::drawing_over_a_browser_tab;
use serde_json::{Value, json};
use std::time::Duration;
use tandem_tests::desktop::KEEP_PEERS;
use tandem_tests::{Browser, Database, Env, ServerOptions, TestServer, e2e, e2e_on};

/// Reads the helper's video: size, a background pixel and frames shown.
const VIDEO_PROBE: &str = "
    const v = document.querySelector('#remote-screen');
    if (!v || !v.videoWidth) return null;
    const c = document.createElement('canvas');
    c.width = v.videoWidth; c.height = v.videoHeight;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0);
    const px = (x, y) => Array.from(g.getImageData(x, y, 1, 1).data.slice(0, 3));
    const all = g.getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    for (let i = 0; i < all.length; i += 4) { if (all[i] + all[i + 1] + all[i + 2] > 30) lit++; }
    return { w: v.videoWidth, h: v.videoHeight, bg: px(100, 100), corner: px(25, 25),
             centre: px(400, 225), lit, time: v.currentTime, ready: v.readyState,
             frames: v.getVideoPlaybackQuality().totalVideoFrames };";

pub(crate) async fn probe(helper: &Browser) -> Value {
    helper.eval(VIDEO_PROBE, vec![]).await.unwrap()
}

/// Waits until the helper's video shows the fake screen's green pattern.
async fn wait_for_pixels(helper: &Browser) -> Value {
    for _ in 0..200 {
        let p = probe(helper).await;
        if p.is_object() && p["frames"].as_u64().unwrap_or(0) > 2 {
            let bg: Vec<u64> = p["bg"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect();
            // Chromium's fake screen: dark green (0,135,0) behind the pattern.
            if bg[0] < 60 && (100..=180).contains(&bg[1]) && bg[2] < 60 {
                return p;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no green frames at the helper: {}", probe(helper).await);
}

pub(crate) async fn frames(helper: &Browser) -> u64 {
    probe(helper).await["frames"].as_u64().unwrap_or(0)
}

/// Waits until the helper has shown more than `count` frames.
async fn frames_beyond(helper: &Browser, count: u64, what: &str) {
    for _ in 0..200 {
        if frames(helper).await > count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: no more than {count} frames");
}

/// The frames shown once the helper's receiver has reported the same
/// count of decoded frames twice in a row, a report apart.
async fn settled_frames(helper: &Browser) -> u64 {
    let decoded = "return new Promise(done => { const pcs = window.__pcs || []; \
        Promise.all(pcs.map(pc => pc.getStats())).then(all => { let n = 0, t = 0; \
        for (const stats of all) stats.forEach(s => { if (s.type === 'inbound-rtp' && s.kind === 'video') \
        { n += s.framesDecoded || 0; t = Math.max(t, s.timestamp); } }); done([n, t]); }); });";
    let mut last: Option<(u64, f64)> = None;
    for _ in 0..100 {
        let now = helper.eval(decoded, vec![]).await.unwrap();
        let (n, t) = (now[0].as_u64().unwrap_or(0), now[1].as_f64().unwrap_or(0.0));
        if let Some((m, s)) = last
            && m == n
            && t - s >= 500.0
        {
            return frames(helper).await;
        }
        if last.is_none_or(|(m, _)| m != n) {
            last = Some((n, t));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the helper's receiver kept decoding frames: {last:?}");
}

/// Waits until the helper's video shows a `size` picture with frames, and
/// `accept` agrees with what the probe read.
pub(crate) async fn wait_for_picture(
    helper: &Browser,
    size: (u32, u32),
    accept: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..300 {
        let p = probe(helper).await;
        if p["w"].as_u64() == Some(u64::from(size.0))
            && p["h"].as_u64() == Some(u64::from(size.1))
            && p["frames"].as_u64().unwrap_or(0) > 0
            && accept(&p)
        {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the helper never saw the {size:?} picture: {}",
        probe(helper).await
    );
}

/// Clicks the middle of the helper's picture; the pointer must land on
/// `expected` on X (`said`: the agent's output, for the failure report).
pub(crate) async fn click_mid_picture(
    helper: &Browser,
    xvfb: &tandem_tests::desktop::Xvfb,
    expected: (i64, i64),
    said: &str,
) {
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

/// Signs `email` in (signing out whoever was).
pub(crate) async fn as_user(browser: &Browser, email: &str) {
    let _ = browser.fetch_post("/api/auth/logout", &json!({})).await;
    browser.sign_in_as(email).await.unwrap();
}

/// The helper clicks "Assist someone"; returns the code shown.
pub(crate) async fn assist(helper: &Browser) -> String {
    helper.goto("/devices").await.unwrap();
    helper.click_button("Assist someone").await.unwrap();
    helper.wait_for("#security-code").await.unwrap();
    helper
        .wait_for_text_containing("#session-status", "Waiting for the sharer")
        .await
        .unwrap();
    let shown = helper.texts("#security-code").await.unwrap().remove(0);
    // Two groups of four, to read aloud.
    assert_eq!((shown.len(), &shown[4..5]), (9, " "), "{shown}");
    let code = shown.replace(' ', "");
    helper
        .wait_for_text_containing("[role=timer]", "Expires in")
        .await
        .unwrap();
    code
}

/// The sharer enters `code` on /share.
async fn enter_code(sharer: &Browser, code: &str) {
    sharer.goto("/share").await.unwrap();
    sharer.fill("#share-code", code).await.unwrap();
    sharer.click("form button[type=submit]").await.unwrap();
}

pub(crate) async fn session_id(helper: &Browser) -> String {
    helper
        .path()
        .await
        .unwrap()
        .trim_start_matches("/sessions/")
        .to_owned()
}

async fn two_browsers(env: &Env) -> Browser {
    Browser::start(env.server.base_url()).await.unwrap()
}

#[tokio::test]
async fn a_view_session_with_pixels_pause_control_reconnect_and_leave() {
    a_view_session_with_pixels_pause_control_reconnect_and_leave_on(Database::Sqlite).await;
}

#[tokio::test]
async fn a_view_session_on_postgres_with_pixels_pause_control_reconnect_and_leave() {
    a_view_session_with_pixels_pause_control_reconnect_and_leave_on(Database::Postgres).await;
}

async fn a_view_session_with_pixels_pause_control_reconnect_and_leave_on(database: Database) {
    e2e_on(database, async |env| {
        let helper = &env.browser;
        let sharer = two_browsers(env).await;
        as_user(helper, "megan@contoso.test").await;
        as_user(&sharer, "lynne@contoso.test").await;
        let code = assist(helper).await;
        let id = session_id(helper).await;
        helper.eval(KEEP_PEERS, vec![]).await.unwrap();
        // Before anything is live: the steps say where it stands, and
        // there is no empty picture box.
        helper
            .wait_for_text("#progress-steps li.current", "Code issued")
            .await
            .unwrap();
        assert!(helper.is_hidden("#remote-surface").await.unwrap());
        // Typed the way people do: lower case, with a space.
        enter_code(
            &sharer,
            &format!("{} {}", &code[..4], &code[4..]).to_lowercase(),
        )
        .await;
        sharer
            .wait_for_text_containing(".identity-card", "Megan Bowen")
            .await
            .unwrap();
        // On the session page, before the sharer's connection is built.
        sharer.eval(KEEP_PEERS, vec![]).await.unwrap();
        sharer
            .wait_for_text_containing(".identity-card", "Verified: contoso.test")
            .await
            .unwrap();
        helper
            .wait_for_text_containing("#session-status", "Sharer joined")
            .await
            .unwrap();
        helper
            .wait_for_text_containing(".identity-card", "Lynne Robbins")
            .await
            .unwrap();

        helper.click_button("Screen sharing").await.unwrap();
        helper
            .wait_for_text_containing("#session-status", "consent")
            .await
            .unwrap();
        sharer
            .wait_for_text_containing("#consent-question", "Megan Bowen wants to see your screen")
            .await
            .unwrap();
        // The question has the focus, not Allow: Enter alone consents to
        // nothing, and Allow is the next Tab stop.
        sharer.wait_for_focus("consent-question").await.unwrap();
        sharer.click_button("Allow").await.unwrap();
        sharer
            .wait_for_text("#share-indicator", "Shared with Megan Bowen (view only)")
            .await
            .unwrap();
        helper
            .wait_for_text_containing("#session-status", "Connected (view only)")
            .await
            .unwrap();
        let first = wait_for_pixels(helper).await;
        assert_eq!(
            (first["w"].as_u64(), first["h"].as_u64()),
            (Some(800), Some(450)),
            "{first}"
        );
        let before = frames(helper).await;
        frames_beyond(helper, before + 5, "live video keeps coming").await;

        // The workspace: the picture takes the window, and the toolbar,
        // Leave and the chat stay in view, at a laptop's and a desktop's size.
        for (w, h) in [(1440, 900), (1920, 1080)] {
            let fit = helper.workspace_fits(w, h).await.unwrap();
            assert!(fit["share"].as_f64().unwrap() > 0.5, "{fit}");
        }
        helper.screenshot("helper-live").await.unwrap();
        drawing_over_a_browser_tab(helper, &sharer).await;
        // A browser tab cannot be controlled: the helper is told why, and
        // nothing offers what cannot happen.
        helper
            .wait_for_text_containing("#control-why", "needs the Tandem agent")
            .await
            .unwrap();
        assert!(helper.texts("#request-control").await.unwrap().is_empty());

        // Pause: no more pixels. Resume: they flow again.
        sharer.click_button("Pause").await.unwrap();
        helper
            .wait_for_text_containing("#session-status", "Paused by the sharer")
            .await
            .unwrap();
        // Not a stale picture: a clear paused state in its place.
        helper
            .wait_for_text_containing("#held-state", "paused the session")
            .await
            .unwrap();
        assert!(helper.is_hidden("#remote-surface").await.unwrap());
        helper.screenshot("helper-paused").await.unwrap();
        sharer
            .wait_for_text_containing("#share-indicator", "Paused")
            .await
            .unwrap();
        // The sharer's page sends no track any more (a positive state, not
        // a wait for nothing); what was under way has arrived within the
        // helper's next two received-stats reports, and nothing follows.
        sharer
            .wait_for_script_true(
                "return (window.__pcs || []).length > 0 && window.__pcs.every(pc => \
                 pc.getSenders().every(s => s.track === null));",
            )
            .await
            .unwrap();
        let paused_at = settled_frames(helper).await;
        assert!(
            frames(helper).await <= paused_at + 1,
            "paused: no new frames"
        );
        sharer.click_button("Resume").await.unwrap();
        helper
            .wait_for_text_containing("#session-status", "Connected")
            .await
            .unwrap();
        frames_beyond(helper, paused_at + 5, "resumed").await;

        // Asked through the API anyway, control is refused and nothing
        // changes on either side.
        let (status, problem) = helper
            .fetch_post(
                &format!("/api/sessions/{id}/request"),
                &json!({"mode": "control"}),
            )
            .await
            .unwrap();
        assert_eq!(status, 409, "{problem}");
        sharer
            .wait_for_text("#share-indicator", "Shared with Megan Bowen (view only)")
            .await
            .unwrap();

        // The helper's tab reloads: back without a new approval.
        helper.reload().await.unwrap();
        helper
            .wait_for_text_containing("#session-status", "Connected (view only)")
            .await
            .unwrap();
        wait_for_pixels(helper).await;
        let record = helper
            .fetch_json(&format!("/api/sessions/{id}"))
            .await
            .unwrap();
        assert!(record["reconnects"].as_u64().unwrap() >= 1, "{record}");
        assert_eq!(record["mode"], "view", "the mode is kept");

        sharer.click_button("Leave").await.unwrap();
        sharer
            .wait_for_text_containing("#session-status", "Session ended")
            .await
            .unwrap();
        helper
            .wait_for_text_containing("#session-status", "The sharer left the session.")
            .await
            .unwrap();
        helper
            .wait_for_text_containing("#held-state", "The sharer left the session.")
            .await
            .unwrap();
        // The focus moves to what comes next, not to the page's body.
        assert_eq!(helper.focused_id().await.unwrap(), "after-end");
        helper.screenshot("helper-ended").await.unwrap();
        let record = helper
            .fetch_json(&format!("/api/sessions/{id}"))
            .await
            .unwrap();
        assert_eq!(
            record["ended"],
            json!({"outcome": "completed", "by": "sharer"})
        );
        // Lynne's "Get help" page lists the session, as view only.
        sharer.goto("/share").await.unwrap();
        sharer
            .wait_for_text_containing(
                &format!("#past-sessions tr[data-session='{id}']"),
                "Megan Bowen",
            )
            .await
            .unwrap();
        let row = sharer
            .texts(&format!("#past-sessions tr[data-session='{id}']"))
            .await
            .unwrap()
            .remove(0);
        assert!(
            row.contains("View only") && row.contains("Completed"),
            "{row}"
        );
        sharer.screenshot("sharer-get-help").await.unwrap();
        sharer.close().await;
    })
    .await;
}

#[tokio::test]
async fn decline_and_a_helper_who_leaves() {
    e2e(async |env| {
        let helper = &env.browser;
        let sharer = two_browsers(env).await;
        as_user(helper, "megan@contoso.test").await;
        as_user(&sharer, "lynne@contoso.test").await;
        let code = assist(helper).await;
        enter_code(&sharer, &code).await;
        helper.click_button("Screen sharing").await.unwrap();
        sharer.click_button("Decline").await.unwrap();
        sharer
            .wait_for_text_containing("#session-status", "declined")
            .await
            .unwrap();
        helper
            .wait_for_text_containing("#session-status", "The sharer declined the request.")
            .await
            .unwrap();

        let code = assist(helper).await;
        enter_code(&sharer, &code).await;
        helper
            .wait_for_text_containing("#session-status", "Sharer joined")
            .await
            .unwrap();
        sharer
            .wait_for_text_containing("#session-status", "Waiting for their request")
            .await
            .unwrap();
        helper.click_button("Leave").await.unwrap();
        sharer
            .wait_for_text_containing("#session-status", "The helper left the session.")
            .await
            .unwrap();
        assert!(sharer.texts("#share-indicator").await.unwrap().is_empty());
        sharer.close().await;
    })
    .await;
}

#[tokio::test]
async fn wrong_used_out_of_scope_foreign_and_disabled_each_say_why() {
    e2e(async |env| {
        let helper = &env.browser;
        let sharer = two_browsers(env).await;
        as_user(helper, "megan@contoso.test").await;
        as_user(&sharer, "lynne@contoso.test").await;

        enter_code(&sharer, "ABCD EFGH").await;
        sharer.wait_for_text_containing("#share-error", "That code is not valid").await.unwrap();

        let code = assist(helper).await;
        enter_code(&sharer, &code).await;
        sharer.wait_for_path(&format!("/share/{}", session_id(helper).await)).await.unwrap();
        as_user(&sharer, "diego@contoso.test").await;
        enter_code(&sharer, &code).await;
        sharer.wait_for_text_containing("#share-error", "already been used").await.unwrap();

        // Alex (trainee, Finance only) cannot help Diego (Sales).
        as_user(helper, "alex@contoso.test").await;
        let code = assist(helper).await;
        enter_code(&sharer, &code).await;
        sharer.wait_for_text_containing("#share-error", "out of scope").await.unwrap();
        helper.wait_for_text_containing("#session-status", "out of scope").await.unwrap();

        // Alex with Lynne: view only; full control is not offered, and the
        // API refuses it.
        as_user(&sharer, "lynne@contoso.test").await;
        let code = assist(helper).await;
        let id = session_id(helper).await;
        enter_code(&sharer, &code).await;
        helper.wait_for_text_containing("#session-status", "Sharer joined").await.unwrap();
        assert!(helper.texts(".mode-choice").await.unwrap()[0].contains("Screen sharing"));
        assert!(helper.texts("#request-control").await.unwrap().is_empty());
        helper
            .wait_for_text_containing("#control-why", "Your roles do not allow full control")
            .await
            .unwrap();
        let (status, problem) = helper
            .fetch_post(&format!("/api/sessions/{id}/request"), &json!({"mode": "control"}))
            .await
            .unwrap();
        assert_eq!(status, 403);
        assert!(problem["detail"].as_str().unwrap().contains("Take full control"));

        // Another organization's user: to them it is a wrong code, and
        // Megan's session still waits for her sharer.
        as_user(helper, "megan@contoso.test").await;
        as_user(&sharer, "admin@fabrikam.test").await;
        let code = assist(helper).await;
        let id = session_id(helper).await;
        enter_code(&sharer, &code).await;
        sharer.wait_for_text_containing("#share-error", "That code is not valid").await.unwrap();
        let view = helper.fetch_json(&format!("/api/sessions/{id}")).await.unwrap();
        assert_eq!(view["phase"], "waiting_for_sharer", "{view}");
        helper.wait_for_text_containing("#session-status", "Waiting for the sharer").await.unwrap();

        // Remote help turned off: no code, and the reason.
        as_user(&sharer, "admin@contoso.test").await;
        let mut settings = sharer.fetch_json("/api/admin/settings").await.unwrap();
        settings["remote_help_enabled"] = json!(false);
        let put = sharer
            .eval(
                "const [body, done] = [arguments[0], arguments[1]]; \
                 return fetch('/api/admin/settings', {method: 'PUT', headers: {'content-type': 'application/json'}, body: JSON.stringify(body)}).then(r => r.status);",
                vec![settings],
            )
            .await
            .unwrap();
        assert_eq!(put, 200);
        // Megan's session (still waiting) ends at once, and she is told why.
        helper
            .wait_for_text_containing("#session-status", "Remote help was turned off")
            .await
            .unwrap();
        helper.goto("/devices").await.unwrap();
        helper.click_button("Assist someone").await.unwrap();
        helper.wait_for_text_containing(".assist [role=alert]", "Remote help is turned off").await.unwrap();
        sharer.close().await;
    })
    .await;
}

#[tokio::test]
async fn an_expired_code_is_refused_and_the_helper_sees_it() {
    // Codes live 12 s on this server (its bound below the organization's
    // minutes), so the test waits for the expiry itself, not a minute.
    let options = ServerOptions {
        config_toml: Some("code_lifetime_max_seconds = 12\n".into()),
        ..ServerOptions::default()
    };
    let server = TestServer::start_with(options).await.unwrap();
    let browser = Browser::start(server.base_url()).await.unwrap();
    Env { server, browser }
        .run(async |env| {
            let helper = &env.browser;
            as_user(helper, "megan@contoso.test").await;
            let code = assist(helper).await;
            let first = session_id(helper).await;
            // A reload keeps the code on screen while it is valid.
            helper.reload().await.unwrap();
            helper
                .wait_for_text_containing("#security-code", &code[..4])
                .await
                .unwrap();
            helper
                .wait_for_text_containing("#share-address", "/share")
                .await
                .unwrap();
            helper
                .wait_for_text_containing("#session-status", "expired")
                .await
                .unwrap();
            // "New code" right there: a fresh code, without leaving the page.
            helper.click("#new-code").await.unwrap();
            helper
                .wait_for_text_containing("#session-status", "Waiting for the sharer")
                .await
                .unwrap();
            let fresh = helper
                .texts("#security-code")
                .await
                .unwrap()
                .remove(0)
                .replace(' ', "");
            assert_eq!(fresh.len(), 8);
            assert_ne!(fresh, code);
            assert_ne!(session_id(helper).await, first);
            let sharer = two_browsers(env).await;
            as_user(&sharer, "lynne@contoso.test").await;
            enter_code(&sharer, &code).await;
            sharer
                .wait_for_text_containing("#share-error", "This code has expired")
                .await
                .unwrap();
            sharer.close().await;
        })
        .await;
}
