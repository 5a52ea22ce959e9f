//! The admin console: a custom role and an assignment made in the browser
//! change what the access review (and so the server) allows; enrollment
//! tokens, users and assignments are managed in the console, deletes ask
//! first, and every change shows in the audit log.

use serde_json::json;
use tandem_tests::{Browser, e2e};

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

#[tokio::test]
async fn the_directory_is_searched_and_devices_are_imported_from_csv() {
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

        browser.goto("/admin/devices").await.unwrap();
        browser.wait_for("table.devices").await.unwrap();
        browser.click("details.import summary").await.unwrap();
        let header = "name,os,os_version,primary_user_email,enrolled,compliance";
        browser
            .fill(
                "#import-devices",
                &format!("{header}\nLAB-01,Ubuntu,24.04,nobody@contoso.test,true,compliant\n"),
            )
            .await
            .unwrap();
        browser
            .click("details.import button[type=submit]")
            .await
            .unwrap();
        browser
            .wait_for_text(
                ".import-problems li",
                "Line 2: There is no user nobody@contoso.test in this organization.",
            )
            .await
            .unwrap();
        browser
            .fill(
                "#import-devices",
                &format!("{header}\nLAB-01,Ubuntu,24.04,diego@contoso.test,true,compliant\n"),
            )
            .await
            .unwrap();
        browser
            .click("details.import button[type=submit]")
            .await
            .unwrap();
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

/// Agent keys (Ed25519 public keys of the seeds 1…1 and 2…2), to register
/// through the API as an agent would.
const AGENT_KEYS: [&str; 2] = [
    "iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w",
    "gTl3Dqh9F19Wo1Rmw0x-zMuNipG07jeiXfYPW4_Js5Q",
];

/// Registers an agent with `key` and `token` from the page; the status.
async fn register(browser: &Browser, key: &str, token: &str) -> u16 {
    let body = json!({
        "public_key": key, "name": "LOBBY-KIOSK", "os": "Linux", "os_version": "12",
        "agent_version": "0.1.0", "enrollment_token": token,
    });
    browser
        .fetch_post("/api/agent/register", &body)
        .await
        .unwrap()
        .0
}

/// The page's title and the navigation's current page.
async fn title_and_current(browser: &Browser) -> (String, Vec<String>) {
    let title = browser
        .eval("return document.title;", vec![])
        .await
        .unwrap();
    let current = browser.texts("nav a[aria-current='page']").await.unwrap();
    (title.as_str().unwrap_or_default().to_owned(), current)
}

/// The `aria-label` of the focused element.
async fn focused_label(browser: &Browser) -> String {
    let label = browser
        .eval(
            "return document.activeElement && document.activeElement.getAttribute('aria-label');",
            vec![],
        )
        .await
        .unwrap();
    label.as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_enrollment_token_is_shown_once_revoked_after_confirming_and_audited() {
    e2e(async |env| {
        let browser = &env.browser;
        browser.sign_in_as("admin@contoso.test").await.unwrap();
        browser
            .click("nav a[href='/admin/enrollment']")
            .await
            .unwrap();
        browser.wait_for_text("h1", "Enrollment").await.unwrap();
        assert_eq!(
            title_and_current(browser).await,
            (
                "Enrollment \u{2014} Tandem".to_owned(),
                vec!["Enrollment".to_owned()]
            )
        );

        // Created: the token is shown once, with the warning, and listed.
        browser.fill("#token-label", "Lobby kiosks").await.unwrap();
        browser
            .click("form.filters button[type=submit]")
            .await
            .unwrap();
        let token = browser.wait_for("#new-token-value").await.unwrap();
        let token = token.text().await.unwrap();
        assert!(token.len() >= 20, "{token}");
        browser
            .wait_for_text_containing(".new-token .warning", "it will not be shown again")
            .await
            .unwrap();
        let row = "table.tokens tbody tr:first-child";
        browser
            .wait_for_text(&format!("{row} th"), "Lobby kiosks")
            .await
            .unwrap();
        browser
            .wait_for_text(&format!("{row} .badge"), "Active")
            .await
            .unwrap();
        assert!(
            !browser.texts("table.tokens").await.unwrap()[0].contains(&token),
            "the list never shows the token"
        );
        // It enrolls a device.
        assert_eq!(register(browser, AGENT_KEYS[0], &token).await, 201);

        // Revoking asks first; Cancel keeps the token and the focus.
        let revoke = "button[aria-label='Revoke token \u{201c}Lobby kiosks\u{201d}']";
        browser.click(revoke).await.unwrap();
        browser
            .wait_for_text(
                ".confirm-delete .question",
                "Revoke token \u{201c}Lobby kiosks\u{201d}?",
            )
            .await
            .unwrap();
        browser.click_button("Cancel").await.unwrap();
        browser.wait_for(revoke).await.unwrap();
        assert_eq!(
            focused_label(browser).await,
            "Revoke token \u{201c}Lobby kiosks\u{201d}"
        );
        assert_eq!(
            browser.texts(&format!("{row} .badge")).await.unwrap(),
            ["Active"]
        );
        browser.click(revoke).await.unwrap();
        browser
            .click(".confirm-delete button.confirm")
            .await
            .unwrap();
        browser
            .wait_for_text(
                "#tokens-status",
                "Revoked \u{201c}Lobby kiosks\u{201d}: no device can enroll with it any more.",
            )
            .await
            .unwrap();
        browser
            .wait_for_text(&format!("{row} .badge"), "Revoked")
            .await
            .unwrap();
        browser
            .wait_for_text_containing(row, "1 registration")
            .await
            .unwrap();
        // The server refuses it now.
        assert_eq!(register(browser, AGENT_KEYS[1], &token).await, 403);

        // The audit log says so, in words, newest first.
        browser.click("nav a[href='/admin/audit']").await.unwrap();
        let newest = "#audit-result tbody tr:first-child";
        browser
            .wait_for_text(&format!("{newest} th"), "Revoked enrollment token")
            .await
            .unwrap();
        let text = browser.texts(newest).await.unwrap().join(" ");
        assert!(
            text.contains("Adele Vance") && text.contains("Lobby kiosks"),
            "{text}"
        );
        assert!(text.contains("Revoked: no \u{2192} yes"), "{text}");
        assert_eq!(
            title_and_current(browser).await,
            (
                "Audit log \u{2014} Tandem".to_owned(),
                vec!["Audit log".to_owned()]
            )
        );
        browser
            .select("#audit-kind", "Enrollment tokens")
            .await
            .unwrap();
        browser.click("form[role=search] button").await.unwrap();
        browser
            .wait_for_path("/admin/audit?kind=enrollment_token")
            .await
            .unwrap();
        browser
            .wait_for_text("#audit-result caption", "2 changes, newest first")
            .await
            .unwrap();
        assert_eq!(
            browser.texts("#audit-result tbody th").await.unwrap(),
            ["Revoked enrollment token", "Created enrollment token"]
        );
    })
    .await;
}

#[tokio::test]
async fn users_and_assignments_are_edited_and_a_delete_asks_first() {
    e2e(async |env| {
        let browser = &env.browser;
        browser.sign_in_as("admin@contoso.test").await.unwrap();

        // A new user, then a new name: both show in the list.
        browser.click("nav a[href='/admin/users']").await.unwrap();
        browser.wait_for("table.users tbody tr").await.unwrap();
        assert_eq!(
            title_and_current(browser).await,
            ("Users \u{2014} Tandem".to_owned(), vec!["Users".to_owned()])
        );
        browser
            .fill("#user-email", "nestor@contoso.test")
            .await
            .unwrap();
        browser.fill("#user-name", "Nestor Wilke").await.unwrap();
        browser
            .fill("#user-password", "a long enough password")
            .await
            .unwrap();
        browser
            .click("section.user-form button[type=submit]")
            .await
            .unwrap();
        browser
            .wait_for_text("#user-form-status", "Added \u{201c}Nestor Wilke\u{201d}.")
            .await
            .unwrap();
        browser
            .wait_for_text_containing("table.users tbody", "Nestor Wilke")
            .await
            .unwrap();
        browser
            .click("button[aria-label='Edit user Nestor Wilke']")
            .await
            .unwrap();
        browser
            .wait_for_text("#user-form-title", "Edit \u{201c}Nestor Wilke\u{201d}")
            .await
            .unwrap();
        browser
            .fill("#user-name", "Nestor Wilke-Smith")
            .await
            .unwrap();
        browser
            .click("section.user-form button[type=submit]")
            .await
            .unwrap();
        browser
            .wait_for_text(
                "#user-form-status",
                "Saved \u{201c}Nestor Wilke-Smith\u{201d}.",
            )
            .await
            .unwrap();
        browser
            .wait_for_text_containing("table.users tbody", "Nestor Wilke-Smith")
            .await
            .unwrap();
        let names = browser.texts("table.users tbody th").await.unwrap();
        assert!(
            names.contains(&"Nestor Wilke-Smith".to_owned())
                && !names.contains(&"Nestor Wilke".to_owned()),
            "{names:?}"
        );

        // An assignment edited in the form keeps its change after a reload.
        browser
            .click("nav a[href='/admin/assignments']")
            .await
            .unwrap();
        browser
            .click("button[aria-label='Edit assignment Trainees: Finance, view only']")
            .await
            .unwrap();
        browser
            .wait_for_text(
                "#assignment-form-title",
                "Edit \u{201c}Trainees: Finance, view only\u{201d}",
            )
            .await
            .unwrap();
        browser
            .click_label_in("Scope groups", "Sales")
            .await
            .unwrap();
        browser
            .click("form[aria-labelledby='assignment-form-title'] button[type=submit]")
            .await
            .unwrap();
        browser
            .wait_for_text(
                "p.form-status.ok",
                "Saved \u{201c}Trainees: Finance, view only\u{201d}.",
            )
            .await
            .unwrap();
        browser.reload().await.unwrap();
        browser
            .wait_for_text_containing("table.assignments tbody", "Sales")
            .await
            .unwrap();
        let rows = browser.texts("table.assignments tbody tr").await.unwrap();
        let trainees = rows
            .iter()
            .find(|r| r.starts_with("Trainees: Finance, view only"))
            .unwrap_or_else(|| panic!("{rows:?}"));
        assert!(
            trainees.contains("Finance") && trainees.contains("Sales"),
            "{trainees}"
        );

        // Deleting a role asks first: Cancel keeps it, Delete removes it.
        browser.goto("/admin/roles").await.unwrap();
        let delete = "button[aria-label='Delete role \u{201c}Tier 2 (no elevation)\u{201d}']";
        browser.click(delete).await.unwrap();
        browser
            .wait_for_text(
                ".confirm-delete .question",
                "Delete role \u{201c}Tier 2 (no elevation)\u{201d}?",
            )
            .await
            .unwrap();
        browser.click_button("Cancel").await.unwrap();
        browser.wait_for(delete).await.unwrap();
        assert_eq!(
            focused_label(browser).await,
            "Delete role \u{201c}Tier 2 (no elevation)\u{201d}"
        );
        browser.click(delete).await.unwrap();
        browser
            .click(".confirm-delete button.confirm")
            .await
            .unwrap();
        browser
            .wait_for_text(
                "#roles-status",
                "Deleted \u{201c}Tier 2 (no elevation)\u{201d}.",
            )
            .await
            .unwrap();
    })
    .await;
}
