//! Enrollment tokens, users and assignments managed in the console:
//! a token is shown once, revoked after confirming and audited; users are
//! added and edited; assignments edited; deletes ask first.

use serde_json::json;
use tandem_tests::{Browser, e2e};

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

/// Clicks `button` (labelled `label`), checks that it asks "`label`?",
/// cancels, and checks that the button is still there and has the focus.
async fn ask_then_cancel(browser: &Browser, button: &str, label: &str) {
    browser.click(button).await.unwrap();
    browser
        .wait_for_text(".confirm-delete .question", &format!("{label}?"))
        .await
        .unwrap();
    browser.click_button("Cancel").await.unwrap();
    browser.wait_for(button).await.unwrap();
    assert_eq!(focused_label(browser).await, label);
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
        ask_then_cancel(browser, revoke, "Revoke token \u{201c}Lobby kiosks\u{201d}").await;
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
        ask_then_cancel(
            browser,
            delete,
            "Delete role \u{201c}Tier 2 (no elevation)\u{201d}",
        )
        .await;
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
