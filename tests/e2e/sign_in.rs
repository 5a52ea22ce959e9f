//! Signing in with built-in accounts, the devices page, deep links, sign-out.

use tandem_tests::{
    Browser, DEMO_PASSWORD, Database, ServerOptions, TestServer, dist_dir, e2e, e2e_on,
};

const CONTOSO_DEVICES: [&str; 4] = [
    "DT-DIEGO-02",
    "KIOSK-LOBBY (self-reported)",
    "LT-LYNNE-01",
    "LT-SPARE-07",
];

#[tokio::test]
async fn signing_in_shows_the_seeded_devices_of_the_users_tenant() {
    signing_in_shows_the_seeded_devices_of_the_users_tenant_on(Database::Sqlite).await;
}

#[tokio::test]
async fn signing_in_on_postgres_shows_the_seeded_devices() {
    signing_in_shows_the_seeded_devices_of_the_users_tenant_on(Database::Postgres).await;
}

async fn signing_in_shows_the_seeded_devices_of_the_users_tenant_on(database: Database) {
    e2e_on(database, async |env| {
        let browser = &env.browser;
        browser.sign_in_as("megan@contoso.test").await.unwrap();

        // The list loads after the page: read it once its caption is there.
        browser.wait_for_text("caption", "4 devices").await.unwrap();
        assert_eq!(
            browser.texts("table.devices tbody th").await.unwrap(),
            CONTOSO_DEVICES
        );
        let rows = browser.texts("table.devices tbody tr").await.unwrap();
        let row = |name: &str| {
            rows.iter()
                .find(|r| r.starts_with(name))
                .cloned()
                .unwrap_or_else(|| panic!("no row for {name} in {rows:?}"))
        };
        let lynne = row("LT-LYNNE-01");
        assert!(
            lynne.contains("Lynne Robbins") && lynne.contains("Compliant"),
            "{lynne}"
        );
        assert!(row("DT-DIEGO-02").contains("Non-compliant"));
        assert!(row("KIOSK-LOBBY").contains("No"), "unenrolled");
        assert!(row("LT-SPARE-07").contains("Never"));
        assert!(
            rows.iter().all(|r| !r.contains("FAB-WS-001")),
            "no other tenant's device"
        );
        browser
            .wait_for_text(".account .name", "Megan Bowen")
            .await
            .unwrap();
        browser
            .wait_for_text(".account .tenant", "Contoso")
            .await
            .unwrap();
        assert!(
            browser
                .cookie_names()
                .await
                .unwrap()
                .contains(&"tandem_session".to_owned())
        );
    })
    .await;
}

#[tokio::test]
async fn a_wrong_password_gives_a_clear_error_and_no_session() {
    e2e(async |env| {
        let browser = &env.browser;
        browser.goto("/signin").await.unwrap();
        browser
            .submit_sign_in("megan@contoso.test", "not-the-password")
            .await
            .unwrap();
        browser
            .wait_for_text("[role=alert]", "Wrong e-mail address or password.")
            .await
            .unwrap();
        assert_eq!(browser.path().await.unwrap(), "/signin");
        assert!(
            !browser
                .cookie_names()
                .await
                .unwrap()
                .contains(&"tandem_session".to_owned())
        );
        assert_eq!(browser.fetch_status("/api/devices").await.unwrap(), 401);

        // The right password on the same page still works.
        browser
            .submit_sign_in("megan@contoso.test", DEMO_PASSWORD)
            .await
            .unwrap();
        browser.wait_for_path("/devices").await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_deep_link_survives_sign_in_and_reload() {
    e2e(async |env| {
        let browser = &env.browser;
        browser.goto("/devices").await.unwrap();
        browser
            .wait_for_path("/signin?next=/devices")
            .await
            .unwrap();
        browser
            .submit_sign_in("admin@contoso.test", DEMO_PASSWORD)
            .await
            .unwrap();
        browser.wait_for_path("/devices").await.unwrap();
        browser.wait_for("table.devices").await.unwrap();

        browser.reload().await.unwrap();
        browser.wait_for("table.devices tbody tr").await.unwrap();
        assert_eq!(browser.path().await.unwrap(), "/devices");
        assert_eq!(
            browser.texts("table.devices tbody th").await.unwrap(),
            CONTOSO_DEVICES
        );

        // An unknown client route gets the 404 page, also after a reload.
        browser.goto("/no/such/page").await.unwrap();
        browser.wait_for_text("h1", "Page not found").await.unwrap();
        browser.reload().await.unwrap();
        browser.wait_for_text("h1", "Page not found").await.unwrap();

        // A pairing link opened before signing in keeps its query: it
        // came back as `/sharepair=…` before.
        let _ = browser
            .fetch_post("/api/auth/logout", &serde_json::json!({}))
            .await;
        browser.goto("/share?pair=abc123").await.unwrap();
        browser.wait_for("#signin-email").await.unwrap();
        browser
            .submit_sign_in("lynne@contoso.test", DEMO_PASSWORD)
            .await
            .unwrap();
        browser.wait_for_path("/share?pair=abc123").await.unwrap();
        browser
            .wait_for_text_containing("#share-error", "cannot be paired")
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn signing_out_sends_protected_pages_back_to_sign_in() {
    e2e(async |env| {
        let browser = &env.browser;
        browser.sign_in_as("lynne@contoso.test").await.unwrap();
        browser.click(".account button").await.unwrap();
        browser.wait_for_path("/signin").await.unwrap();
        assert_eq!(browser.fetch_status("/api/devices").await.unwrap(), 401);

        browser.goto("/devices").await.unwrap();
        browser
            .wait_for_path("/signin?next=/devices")
            .await
            .unwrap();
        browser.wait_for("#signin-email").await.unwrap();
    })
    .await;
}

/// The page draws its shell (the top bar, "Starting the console…") before
/// the WASM runs; the console takes its place when it mounts. A console
/// that cannot start says so, rather than "Starting" for ever: a module
/// that is not WebAssembly, and JS glue the server no longer has (a page
/// of a newer build served by an older replica, say).
#[tokio::test]
async fn the_pages_shell_gives_way_to_the_console_or_says_it_could_not_start() {
    e2e(async |env| {
        let url = format!("{}/signin", env.server.base_url());
        let page = reqwest::get(&url).await.unwrap().text().await.unwrap();
        assert!(page.contains(r#"<div id="boot">"#), "{page}");
        assert!(page.contains(r#"id="boot-status""#), "{page}");

        let browser = &env.browser;
        browser.goto("/signin").await.unwrap();
        browser.wait_for("#signin-email").await.unwrap();
        let shown = browser
            .eval(
                "return [document.getElementById('boot') === null,
                         document.querySelectorAll('header.topbar').length,
                         performance.getEntriesByName('tandem:console-mounted', 'mark').length,
                         document.getElementById('signin-title').textContent];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(shown, serde_json::json!([true, 1, 1, "Sign in to Tandem"]));
    })
    .await;

    for broken in [Broken::NotWebAssembly, Broken::NoGlue] {
        let dist = broken_console(broken);
        let server = TestServer::start_with(ServerOptions {
            dist_dir: Some(dist.path().to_owned()),
            ..ServerOptions::default()
        })
        .await
        .unwrap();
        let browser = Browser::start(server.base_url()).await.unwrap();
        browser.goto("/signin").await.unwrap();
        let failed = browser
            .wait_for_text(
                "#boot-status[role=alert]",
                "The console could not start. Reload the page; if this stays, tell your help desk.",
            )
            .await;
        browser.close().await;
        failed.unwrap_or_else(|error| panic!("{broken:?}: {error}"));
    }
}

#[derive(Debug, Clone, Copy)]
enum Broken {
    /// The WASM modules hold bytes that are not WebAssembly.
    NotWebAssembly,
    /// The JS glue is gone (404).
    NoGlue,
}

/// A copy of the built console, broken as `broken` says (the compressed
/// copies of what is broken go too, or they would still be sent).
fn broken_console(broken: Broken) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    let copied = std::process::Command::new("cp")
        .arg("-a")
        .arg(dist_dir().unwrap().join("."))
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(copied.success());
    let mut touched = 0;
    for entry in std::fs::read_dir(copy.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(kind) = name.strip_prefix("tandem-frontend") else {
            continue;
        };
        match broken {
            Broken::NotWebAssembly if kind.ends_with(".wasm") => {
                std::fs::write(&path, b"this is not WebAssembly").unwrap();
                touched += 1;
            }
            Broken::NotWebAssembly if kind.ends_with(".wasm.br") || kind.ends_with(".wasm.gz") => {
                std::fs::remove_file(&path).unwrap();
            }
            Broken::NoGlue if kind.ends_with(".js") => {
                std::fs::remove_file(&path).unwrap();
                touched += 1;
            }
            Broken::NoGlue if kind.ends_with(".js.br") || kind.ends_with(".js.gz") => {
                std::fs::remove_file(&path).unwrap();
            }
            _ => {}
        }
    }
    assert_eq!(
        touched, 3,
        "{broken:?}: the helper's, the sharer's and the full console's"
    );
    copy
}
