//! The admin console: a custom role and an assignment made in the browser
//! change what the access review (and so the server) allows; the
//! directory is searched and imported; roles and groups are edited.
//! Enrollment tokens, users and assignments: `admin_directory`.

use tandem_protocol::routes::Console;
use tandem_tests::e2e;

const ALEX_ON_DIEGOS_DEVICE: &str = "/admin/access-review?helper=Alex&target=DT-DIEGO-02";

#[tokio::test]
async fn a_new_role_and_assignment_show_in_the_access_review() {
    e2e(async |env| {
        let browser = &env.browser;
        browser.sign_in_as("admin@contoso.test").await.unwrap();

        // Before: Alex (a trainee scoped to Finance) may not help Diego's device.
        browser.goto(ALEX_ON_DIEGOS_DEVICE).await.unwrap();
        browser
            .wait_for_text(
                "#review-result",
                "Nobody can help anyone matching these filters.",
            )
            .await
            .unwrap();
        assert_eq!(
            browser
                .client()
                .find(fantoccini::Locator::Css("#review-helper"))
                .await
                .unwrap()
                .prop("value")
                .await
                .unwrap()
                .as_deref(),
            Some("Alex"),
            "the filter comes from the URL"
        );

        browser.click("nav a[href='/admin/roles']").await.unwrap();
        browser.wait_for("table.roles").await.unwrap();
        browser.fill("#role-name", "Night shift").await.unwrap();
        browser
            .fill("#role-description", "Sales, after hours")
            .await
            .unwrap();
        browser.click_label("View screen").await.unwrap();
        browser.click_label("Take full control").await.unwrap();
        browser.click("form button[type=submit]").await.unwrap();
        browser
            .wait_for_text("p.form-status.ok", "Created \u{201c}Night shift\u{201d}.")
            .await
            .unwrap();
        let roles = browser.texts("table.roles tbody th").await.unwrap();
        assert!(
            roles.iter().any(|r| r.starts_with("Night shift")),
            "{roles:?}"
        );

        browser
            .click("nav a[href='/admin/assignments']")
            .await
            .unwrap();
        browser.wait_for("#assignment-role").await.unwrap();
        browser
            .fill("#assignment-name", "Trainees: Sales at night")
            .await
            .unwrap();
        browser
            .select("#assignment-role", "Night shift")
            .await
            .unwrap();
        browser
            .click_label_in(
                "Admin groups (their members get the role)",
                "Help Desk Trainees",
            )
            .await
            .unwrap();
        browser
            .click_label_in("Scope groups", "Sales")
            .await
            .unwrap();
        browser.click("form button[type=submit]").await.unwrap();
        browser
            .wait_for_text(
                "p.form-status.ok",
                "Created \u{201c}Trainees: Sales at night\u{201d}.",
            )
            .await
            .unwrap();
        let rows = browser.texts("table.assignments tbody tr").await.unwrap();
        let new = rows
            .iter()
            .find(|r| r.starts_with("Trainees: Sales at night"))
            .unwrap_or_else(|| panic!("no new assignment in {rows:?}"));
        assert!(
            new.contains("Night shift")
                && new.contains("Help Desk Trainees")
                && new.contains("Sales"),
            "{new}"
        );

        // After: the review shows Alex may view and control Diego's device.
        browser.goto(ALEX_ON_DIEGOS_DEVICE).await.unwrap();
        browser.wait_for("table.review tbody tr").await.unwrap();
        let rows = browser.texts("table.review tbody tr").await.unwrap();
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert!(rows[0].contains("Alex Wilber"), "{rows:?}");
        assert!(rows[0].contains("DT-DIEGO-02 (device)"), "{rows:?}");
        assert!(
            rows[0].contains("View screen, Take full control"),
            "{rows:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn helpers_see_no_admin_pages_and_the_api_refuses_them() {
    e2e(async |env| {
        let browser = &env.browser;
        browser.sign_in_as("megan@contoso.test").await.unwrap();
        let nav = browser.texts("nav a").await.unwrap();
        // Their own sessions, but no Monitor and no admin pages.
        assert_eq!(
            nav,
            ["Devices", "Get help", "Sessions"],
            "no admin links for a helper"
        );
        assert_eq!(
            browser.texts("nav a[aria-current='page']").await.unwrap(),
            ["Devices"]
        );
        browser.goto("/admin/roles").await.unwrap();
        browser
            .wait_for_text(
                "[role=alert]",
                "You need the \u{201c}Manage roles\u{201d} permission for this.",
            )
            .await
            .unwrap();
        assert_eq!(browser.fetch_status("/api/admin/roles").await.unwrap(), 403);
    })
    .await;
}

/// The console build the page runs: the one WASM module it loaded.
async fn loaded_build(browser: &tandem_tests::Browser) -> Console {
    let names = browser
        .eval(
            "return performance.getEntriesByType('resource')
                .map(r => new URL(r.name).pathname.slice(1))
                .filter(n => n.endsWith('.wasm'));",
            vec![],
        )
        .await
        .unwrap();
    let names: Vec<String> = serde_json::from_value(names).unwrap();
    let [name] = names.as_slice() else {
        panic!("not one WASM module: {names:?}");
    };
    let build = name.strip_prefix("tandem-frontend-").unwrap_or_default();
    if build.starts_with("share-") {
        Console::Sharer
    } else if build.starts_with("full-") {
        Console::Full
    } else {
        assert!(!build.is_empty() && !build.contains('-'), "{name}");
        Console::Helper
    }
}

#[tokio::test]
async fn the_helpers_console_hands_the_admin_pages_to_the_full_console() {
    e2e(async |env| {
        let browser = &env.browser;
        browser.sign_in_as("admin@contoso.test").await.unwrap();
        browser.wait_for("table.devices").await.unwrap();
        // Devices come from the lighter helper's console.
        assert_eq!(loaded_build(browser).await, Console::Helper);

        // A link to an admin page loads the full console, which shows it.
        browser.click("nav a[href='/admin/roles']").await.unwrap();
        browser.wait_for("table.roles").await.unwrap();
        browser.wait_for_path("/admin/roles").await.unwrap();
        assert_eq!(loaded_build(browser).await, Console::Full);
        assert_eq!(
            browser.texts("nav a[aria-current='page']").await.unwrap(),
            ["Roles"]
        );

        // From there every page stays in the full console, without a load.
        browser.click("nav a[href='/devices']").await.unwrap();
        browser.wait_for("table.devices").await.unwrap();
        assert_eq!(loaded_build(browser).await, Console::Full);
        // Back: one history entry a page, across the two builds: Roles,
        // then the devices page the link was on (a second Roles entry
        // would hold the browser there). Chromium keeps the entries made
        // before the load with the loaded page, so the full console shows
        // that one too.
        browser.client().back().await.unwrap();
        browser.wait_for("table.roles").await.unwrap();
        browser.client().back().await.unwrap();
        browser.wait_for_path("/devices").await.unwrap();
        browser.wait_for("table.devices").await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn the_sharers_pages_come_in_their_own_build() {
    e2e(async |env| {
        let browser = &env.browser;
        browser.sign_in_as("megan@contoso.test").await.unwrap();
        browser.wait_for("table.devices").await.unwrap();
        assert_eq!(loaded_build(browser).await, Console::Helper);

        // "Get help" loads the sharer's console, which shows the code form.
        browser.click("nav a[href='/share']").await.unwrap();
        browser.wait_for("#share-code").await.unwrap();
        browser.wait_for_path("/share").await.unwrap();
        assert_eq!(loaded_build(browser).await, Console::Sharer);
        // And its link to the devices loads the helper's console again.
        browser.click("nav a[href='/devices']").await.unwrap();
        browser.wait_for("table.devices").await.unwrap();
        assert_eq!(loaded_build(browser).await, Console::Helper);
        // Back: "Get help" in the sharer's console, then the devices.
        browser.client().back().await.unwrap();
        browser.wait_for_path("/share").await.unwrap();
        browser.wait_for("#share-code").await.unwrap();
        assert_eq!(loaded_build(browser).await, Console::Sharer);
        browser.client().back().await.unwrap();
        browser.wait_for_path("/devices").await.unwrap();
        browser.wait_for("table.devices").await.unwrap();

        // A sharer at the home page is sent on to "Get help", in her build.
        let _ = browser
            .fetch_post("/api/auth/logout", &serde_json::json!({}))
            .await;
        browser.sign_in_as("lynne@contoso.test").await.unwrap();
        browser.goto("/").await.unwrap();
        browser.wait_for_path("/share").await.unwrap();
        browser.wait_for("#share-code").await.unwrap();
        assert_eq!(loaded_build(browser).await, Console::Sharer);
        // `/` was replaced: Back leads to the page before it, instead of
        // to `/` and forward again.
        browser.client().back().await.unwrap();
        browser.wait_for_path("/devices").await.unwrap();
        browser.wait_for_text("h1", "Devices").await.unwrap();
    })
    .await;
}

/// Pastes `csv` into the import panel's `textarea` and submits it.
async fn submit_import(browser: &tandem_tests::Browser, textarea: &str, csv: &str) {
    browser.fill(textarea, csv).await.unwrap();
    browser
        .click("details.import button[type=submit]")
        .await
        .unwrap();
}

#[tokio::test]
async fn the_directory_is_searched_and_users_and_devices_are_imported_from_csv() {
    e2e(async |env| {
        let browser = &env.browser;
        browser.sign_in_as("admin@contoso.test").await.unwrap();
        browser.click("nav a[href='/admin/users']").await.unwrap();
        browser.wait_for("table.users tbody tr").await.unwrap();
        browser.fill("#directory-search", "lynne").await.unwrap();
        browser.click("form[role=search] button").await.unwrap();
        browser.wait_for_path("/admin/users?q=lynne").await.unwrap();
        browser
            .wait_for_text("nav.pager span", "Page 1 of 1 (1 in all)")
            .await
            .unwrap();
        assert_eq!(
            browser.texts("table.users tbody th").await.unwrap(),
            ["Lynne Robbins"]
        );

        // A users file that would change Lynne's password is refused until
        // the administrator asks for that, and then names her in the audit.
        browser.click("details.import summary").await.unwrap();
        let users = "email,display_name,job_title,company,password\n\
                     lynne@contoso.test,Lynne Robbins,,,a-new-passphrase-2026\n";
        submit_import(browser, "#import-users", users).await;
        browser
            .wait_for_text_containing(
                ".import-problems li",
                "lynne@contoso.test already has an account",
            )
            .await
            .unwrap();
        browser.click("#import-set-passwords").await.unwrap();
        submit_import(browser, "#import-users", users).await;
        browser
            .wait_for_text(
                "details.import .form-status.ok",
                "Imported: 0 created, 1 updated.",
            )
            .await
            .unwrap();
        let audit = browser.fetch_json("/api/admin/audit").await.unwrap();
        let import = audit
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["action"] == "directory.import"))
            .unwrap_or_else(|| panic!("no import in the audit: {audit}"));
        let after = import["after"].as_str().unwrap_or_default();
        assert!(
            after.contains(r#""passwords_set":["lynne@contoso.test"]"#),
            "{after}"
        );
        assert!(!after.contains("a-new-passphrase"), "{after}");

        browser.goto("/admin/devices").await.unwrap();
        browser.wait_for("table.devices").await.unwrap();
        browser.click("details.import summary").await.unwrap();
        let header = "name,os,os_version,primary_user_email,enrolled,compliance";
        submit_import(
            browser,
            "#import-devices",
            &format!("{header}\nLAB-01,Ubuntu,24.04,nobody@contoso.test,true,compliant\n"),
        )
        .await;
        browser
            .wait_for_text(
                ".import-problems li",
                "Line 2: There is no user nobody@contoso.test in this organization.",
            )
            .await
            .unwrap();
        submit_import(
            browser,
            "#import-devices",
            &format!("{header}\nLAB-01,Ubuntu,24.04,diego@contoso.test,true,compliant\n"),
        )
        .await;
        browser
            .wait_for_text(
                "details.import .form-status.ok",
                "Imported: 1 created, 0 updated.",
            )
            .await
            .unwrap();
        browser.wait_for("tr:nth-child(5)").await.unwrap();
        let names = browser.texts("table.devices tbody th").await.unwrap();
        assert!(names.contains(&"LAB-01".to_owned()), "{names:?}");
    })
    .await;
}

#[tokio::test]
async fn custom_roles_are_edited_and_group_members_managed_in_the_console() {
    e2e(async |env| {
        let browser = &env.browser;
        browser.sign_in_as("admin@contoso.test").await.unwrap();

        browser.goto("/admin/roles").await.unwrap();
        browser
            .click("button[aria-label='Edit role Tier 2 (no elevation)']")
            .await
            .unwrap();
        browser
            .wait_for_text(
                "#role-form-title",
                "Edit \u{201c}Tier 2 (no elevation)\u{201d}",
            )
            .await
            .unwrap();
        browser.click_label("Take full control").await.unwrap();
        browser.click("form button[type=submit]").await.unwrap();
        browser
            .wait_for_text(
                "p.form-status.ok",
                "Saved \u{201c}Tier 2 (no elevation)\u{201d}.",
            )
            .await
            .unwrap();
        let rows = browser.texts("table.roles tbody tr").await.unwrap();
        let tier2 = rows.iter().find(|r| r.starts_with("Tier 2")).unwrap();
        assert!(
            tier2.contains("View screen, Offer remote assistance"),
            "{tier2}"
        );
        assert!(!tier2.contains("Take full control"), "{tier2}");

        // Two admins at once: the form is opened, then the role is saved
        // elsewhere (another tab); saving the form is refused and says why,
        // instead of replacing that change unseen.
        browser
            .click("button[aria-label='Edit role Tier 2 (no elevation)']")
            .await
            .unwrap();
        browser.wait_for("#role-form-title").await.unwrap();
        let roles = browser.fetch_json("/api/admin/roles").await.unwrap();
        let role = roles
            .as_array()
            .and_then(|all| all.iter().find(|r| r["name"] == "Tier 2 (no elevation)"))
            .unwrap()
            .clone();
        let elsewhere = serde_json::json!({
            "name": role["name"],
            "description": "Changed in another tab",
            "permissions": role["permissions"],
            "version": role["version"],
        });
        let status = browser
            .eval_async(
                "const [path, body, done] = arguments; \
                 fetch(path, {method: 'PUT', headers: {'content-type': 'application/json'}, \
                   body: JSON.stringify(body)}).then(r => done(r.status), () => done(0));",
                vec![
                    serde_json::json!(format!("/api/admin/roles/{}", role["id"].as_str().unwrap())),
                    elsewhere,
                ],
            )
            .await
            .unwrap();
        assert_eq!(status, 200);
        browser.click_label("Take full control").await.unwrap();
        browser.click("form button[type=submit]").await.unwrap();
        browser
            .wait_for_text_containing(
                "form.stack p.form-status.error",
                "Someone else saved this role since you opened it",
            )
            .await
            .unwrap();
        browser.click_button("Cancel editing").await.unwrap();

        browser.goto("/admin/groups?q=sales").await.unwrap();
        browser
            .click("button[aria-label='Manage members of Sales']")
            .await
            .unwrap();
        browser
            .wait_for_text("#group-members-title", "Members of Sales")
            .await
            .unwrap();
        browser
            .fill("#member-email", "lynne@contoso.test")
            .await
            .unwrap();
        browser
            .click("section.group-members form button[type=submit]")
            .await
            .unwrap();
        browser
            .wait_for_text(
                "section.group-members .form-status.ok",
                "Added lynne@contoso.test.",
            )
            .await
            .unwrap();
        browser
            .wait_for("ul.members li:nth-child(2)")
            .await
            .unwrap();
        let members = browser
            .texts("ul.members li span")
            .await
            .unwrap()
            .join(" | ");
        assert!(
            members.contains("Lynne Robbins") && members.contains("Diego Siciliani"),
            "{members}"
        );

        browser
            .click("button[aria-label='Remove Lynne Robbins from the group']")
            .await
            .unwrap();
        browser
            .wait_for_text(
                "section.group-members .form-status.ok",
                "Removed Lynne Robbins.",
            )
            .await
            .unwrap();
        browser
            .fill("#member-email", "nobody@contoso.test")
            .await
            .unwrap();
        browser
            .click("section.group-members form button[type=submit]")
            .await
            .unwrap();
        browser
            .wait_for_text(
                "section.group-members [role=alert]",
                "There is no user nobody@contoso.test in this organization.",
            )
            .await
            .unwrap();
    })
    .await;
}
