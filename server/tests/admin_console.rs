//! Router tests of what the admin console added: enrollment tokens listed
//! and revoked, users created and edited, the audit log searched and paged,
//! and whether a helper may offer help on each device.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::{App, MINUTE, app, json_of, problem};
use tandem_protocol::routes;

/// A fresh agent key's registration body, with `token`.
fn registration(seed: u8, token: &str) -> Value {
    use base64::Engine;
    let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    let public =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes());
    json!({
        "public_key": public, "name": format!("KIOSK-{seed}"), "os": "Linux",
        "os_version": "12", "agent_version": "0.1.0", "enrollment_token": token,
    })
}

async fn tokens(app: &App, cookie: &str) -> Vec<Value> {
    app.get_json(routes::ADMIN_ENROLLMENT_TOKENS, cookie)
        .await
        .as_array()
        .unwrap()
        .clone()
}

async fn audit(app: &App, cookie: &str, query: &str) -> Value {
    app.get_json(&format!("{}?{query}", routes::ADMIN_AUDIT_LOG), cookie)
        .await
}

#[tokio::test]
async fn enrollment_tokens_count_their_uses_and_a_revoked_one_is_refused() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    let created = app
        .call(
            Method::POST,
            routes::ADMIN_ENROLLMENT_TOKENS,
            Some(&json!({ "label": "Lobby kiosks", "valid_days": 7 })),
            Some(&admin),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = json_of(created).await;
    let (id, token) = (
        created["id"].as_str().unwrap().to_owned(),
        created["token"].as_str().unwrap().to_owned(),
    );
    let listed = tokens(&app, &admin).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["label"], "Lobby kiosks");
    assert_eq!(listed[0]["created_by"], "Adele Vance");
    assert_eq!(
        (listed[0]["uses"].clone(), listed[0]["revoked"].clone()),
        (json!(0), json!(false))
    );
    assert!(listed[0]["last_used_at"].is_null());
    assert!(
        !listed[0].to_string().contains(&token),
        "the token is shown once"
    );

    app.clock.advance_millis(MINUTE);
    let registered = app
        .call(
            Method::POST,
            routes::AGENT_REGISTER,
            Some(&registration(1, &token)),
            None,
        )
        .await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    let listed = tokens(&app, &admin).await;
    assert_eq!(listed[0]["uses"], 1);
    assert!(listed[0]["last_used_at"].as_i64().unwrap() > 0);
    // The same agent registering again (a restart with --enroll) enrolls
    // nothing new: no use is counted.
    let again = app
        .call(
            Method::POST,
            routes::AGENT_REGISTER,
            Some(&registration(1, &token)),
            None,
        )
        .await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(tokens(&app, &admin).await[0]["uses"], 1);

    // Only the tenant's administrators revoke it, and only their own.
    let revoke = routes::with_id(routes::ADMIN_ENROLLMENT_TOKEN_REVOKE, &id);
    let megan = app.sign_in("megan@contoso.test").await;
    let fabrikam = app.sign_in("admin@fabrikam.test").await;
    let refused = app.call(Method::POST, &revoke, None, Some(&megan)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let foreign = app.call(Method::POST, &revoke, None, Some(&fabrikam)).await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    let unknown = routes::with_id(routes::ADMIN_ENROLLMENT_TOKEN_REVOKE, "no-such-token");
    let unknown = app.call(Method::POST, &unknown, None, Some(&admin)).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(problem(unknown).await.status, 404);
    assert_eq!(tokens(&app, &admin).await[0]["revoked"], false);

    app.clock.advance_millis(MINUTE);
    let revoked = app.call(Method::POST, &revoke, None, Some(&admin)).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(json_of(revoked).await["revoked"], true);
    assert_eq!(tokens(&app, &admin).await[0]["revoked"], true);
    // Revoking again changes nothing and records nothing.
    let again = app.call(Method::POST, &revoke, None, Some(&admin)).await;
    assert_eq!(again.status(), StatusCode::OK);

    // A new agent cannot register with it any more.
    let refused = app
        .call(
            Method::POST,
            routes::AGENT_REGISTER,
            Some(&registration(2, &token)),
            None,
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(tokens(&app, &admin).await[0]["uses"], 1);

    // Both changes are in the audit log, by label, never with the token.
    let entries = audit(&app, &admin, "kind=enrollment_token").await;
    assert_eq!(entries["total"], 2);
    let actions: Vec<&str> = entries["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["enrollment_token.revoke", "enrollment_token.create"]
    );
    assert_eq!(entries["items"][0]["object_name"], "Lobby kiosks");
    assert_eq!(entries["items"][0]["actor_name"], "Adele Vance");
    assert!(!entries.to_string().contains(&token));
}

#[tokio::test]
async fn users_are_created_and_edited_with_checked_fields_and_an_audit_entry() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    let create = |body: Value| {
        let admin = admin.clone();
        let app = &app;
        async move {
            app.call(Method::POST, routes::ADMIN_USERS, Some(&body), Some(&admin))
                .await
        }
    };
    let password = "a long enough password";
    let created = create(json!({
        "email": " Nestor.Wilke@Contoso.test ", "display_name": "Nestor Wilke",
        "job_title": "Operations", "company": "  ", "password": password,
    }))
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let nestor = json_of(created).await;
    assert_eq!(nestor["email"], "nestor.wilke@contoso.test");
    assert_eq!(nestor["password_set"], true);
    assert!(nestor["company"].is_null(), "blank is no company");
    assert_eq!(nestor["from_idp"], false);
    let id = nestor["id"].as_str().unwrap().to_owned();
    let signed_in = app.login("nestor.wilke@contoso.test", password).await;
    assert_eq!(signed_in.status(), StatusCode::OK);

    // Refused drafts say why; nothing is written.
    for (body, status, says) in [
        (
            json!({ "email": "nestor.wilke@contoso.test", "display_name": "Again" }),
            StatusCode::CONFLICT,
            "already in use",
        ),
        (
            json!({ "email": "admin@fabrikam.test", "display_name": "Theirs" }),
            StatusCode::CONFLICT,
            "already in use",
        ),
        (
            json!({ "email": "not-an-address", "display_name": "X" }),
            StatusCode::BAD_REQUEST,
            "not an e-mail address",
        ),
        (
            json!({ "email": "x@contoso.test", "display_name": "x".repeat(201) }),
            StatusCode::BAD_REQUEST,
            "200 characters",
        ),
        (
            json!({ "email": "x@contoso.test", "display_name": "Bell\u{7}" }),
            StatusCode::BAD_REQUEST,
            "control characters",
        ),
        (
            json!({ "email": "x@contoso.test", "display_name": "X", "password": "short" }),
            StatusCode::BAD_REQUEST,
            "at least 12",
        ),
    ] {
        let response = create(body.clone()).await;
        assert_eq!(response.status(), status, "{body}");
        let message = problem(response).await.message().to_owned();
        assert!(message.contains(says), "{body}: {message}");
    }

    // Edit: a new name, and a new password.
    app.clock.advance_millis(MINUTE);
    let path = routes::with_id(routes::ADMIN_USER, &id);
    let new_password = "another long password";
    let edit = json!({
        "email": "nestor.wilke@contoso.test", "display_name": "Nestor Wilke-Smith",
        "job_title": "Operations lead", "password": new_password,
    });
    let edited = app
        .call(Method::PUT, &path, Some(&edit), Some(&admin))
        .await;
    assert_eq!(edited.status(), StatusCode::OK);
    assert_eq!(json_of(edited).await["display_name"], "Nestor Wilke-Smith");
    let old = app.login("nestor.wilke@contoso.test", password).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = app.login("nestor.wilke@contoso.test", new_password).await;
    assert_eq!(new.status(), StatusCode::OK);
    let found = app
        .get_json(&format!("{}?q=wilke", routes::ADMIN_USERS), &admin)
        .await;
    assert_eq!(found["items"][0]["display_name"], "Nestor Wilke-Smith");
    assert_eq!(found["items"][0]["job_title"], "Operations lead");

    // Only the tenant's administrators edit, and only their own users.
    let megan = app.sign_in("megan@contoso.test").await;
    let fabrikam = app.sign_in("admin@fabrikam.test").await;
    let refused = app
        .call(Method::PUT, &path, Some(&edit), Some(&megan))
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let foreign = app
        .call(Method::PUT, &path, Some(&edit), Some(&fabrikam))
        .await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    let unknown = routes::with_id(routes::ADMIN_USER, "no-such-user");
    let unknown = app
        .call(Method::PUT, &unknown, Some(&edit), Some(&admin))
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    // The audit log names the account, and never holds a password.
    let entries = audit(&app, &admin, "kind=user").await;
    assert_eq!(entries["total"], 2);
    let update = &entries["items"][0];
    assert_eq!(update["action"], "user.update");
    assert_eq!(update["object_name"], "Nestor Wilke-Smith");
    let before: Value = serde_json::from_str(update["before"].as_str().unwrap()).unwrap();
    let after: Value = serde_json::from_str(update["after"].as_str().unwrap()).unwrap();
    assert_eq!(before["display_name"], "Nestor Wilke");
    assert_eq!(after["email"], "nestor.wilke@contoso.test");
    assert_eq!(after["password_changed"], true);
    let text = entries.to_string();
    assert!(!text.contains(password) && !text.contains(new_password));
    assert!(!text.contains("argon2"), "no hash either");
    assert_eq!(entries["items"][1]["action"], "user.create");
}

#[tokio::test]
async fn the_audit_log_is_searched_filtered_and_paged_newest_first() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    for name in ["Night shift", "Weekend desk"] {
        app.clock.advance_millis(MINUTE);
        let role = json!({ "name": name, "permissions": ["view_screen"] });
        let created = app
            .call(Method::POST, routes::ADMIN_ROLES, Some(&role), Some(&admin))
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    // Members changed: the entry holds members only; the name comes from
    // the directory.
    app.clock.advance_millis(MINUTE);
    let groups = app.get_json(routes::ADMIN_GROUPS, &admin).await;
    let sales = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "Sales")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let members = routes::with_id(routes::ADMIN_GROUP_MEMBERS, &sales);
    let body = json!({ "emails": ["lynne@contoso.test"] });
    let changed = app
        .call(Method::PUT, &members, Some(&body), Some(&admin))
        .await;
    assert_eq!(changed.status(), StatusCode::OK);

    let newest = audit(&app, &admin, "per_page=1").await;
    assert_eq!(newest["items"][0]["action"], "group.members");
    assert_eq!(newest["items"][0]["object_name"], "Sales");
    assert!(
        newest["total"].as_u64().unwrap() > 5,
        "the seed's entries too"
    );

    let roles = audit(&app, &admin, "kind=role").await;
    let names: Vec<&str> = roles["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["object_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Weekend desk", "Night shift", "Tier 2 (no elevation)"]
    );
    let second = audit(&app, &admin, "kind=role&per_page=1&page=2").await;
    assert_eq!(second["items"][0]["object_name"], "Night shift");
    assert_eq!(
        (second["total"].clone(), second["page"].clone()),
        (json!(3), json!(2))
    );
    let found = audit(&app, &admin, "q=NIGHT").await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["object_name"], "Night shift");
    // An unknown kind filters nothing; wildcards are literal.
    assert!(
        audit(&app, &admin, "kind=nope").await["total"]
            .as_u64()
            .unwrap()
            > 5
    );
    assert_eq!(audit(&app, &admin, "q=%25").await["total"], 0);
    let bad = app
        .get(&format!("{}?page=x", routes::ADMIN_AUDIT_LOG), Some(&admin))
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem(bad).await.status, 400);

    // Another tenant sees only its own entries; a helper sees none.
    let fabrikam = app.sign_in("admin@fabrikam.test").await;
    let theirs = audit(&app, &fabrikam, "per_page=200").await.to_string();
    for contoso in ["Night shift", "Sales", "Tier 2", "Help desk"] {
        assert!(!theirs.contains(contoso), "{contoso} leaks: {theirs}");
    }
    let megan = app.sign_in("megan@contoso.test").await;
    let refused = app.get(routes::ADMIN_AUDIT_LOG, Some(&megan)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn devices_say_whether_the_caller_may_offer_help_on_them() {
    let app = app().await;
    let offers = |list: &Value| -> Vec<(String, bool)> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["name"].as_str().unwrap().to_owned(),
                    d["can_offer"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    // Megan (Help Desk Operator for everyone) may offer help everywhere.
    let megan = app.sign_in("megan@contoso.test").await;
    let list = app.get_json(routes::DEVICES, &megan).await;
    assert!(offers(&list).iter().all(|(_, can)| *can), "{list}");
    // Alex sees Lynne's device (Finance) as a view-only helper: no offer.
    let alex = app.sign_in("alex@contoso.test").await;
    let list = app.get_json(routes::DEVICES, &alex).await;
    assert_eq!(offers(&list), [("LT-LYNNE-01".to_owned(), false)]);
    // The admin's list of all devices says it too.
    let admin = app.sign_in("admin@contoso.test").await;
    let page = app.get_json(routes::ADMIN_DEVICES, &admin).await;
    assert!(offers(&page["items"]).iter().all(|(_, can)| *can), "{page}");
}
