//! Router tests of the security measures: CSRF guard, login throttling,
//! the console's CSP, and admin changes that apply at once and are audited.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use axum::http::{Method, StatusCode, header};
use base64::Engine;
use serde_json::json;
use support::{ORIGIN, app, app_with, body_bytes, problem};
use tandem_protocol::routes;
use tandem_server::seed::DEMO_PASSWORD;

fn login_body(email: &str, password: &str) -> String {
    json!({ "email": email, "password": password }).to_string()
}

#[tokio::test]
async fn cross_site_state_changes_are_refused() {
    let app = app().await;
    let cookie = app.sign_in("admin@contoso.test").await;
    for origin in ["https://evil.test", "null", "http://127.0.0.1:9999"] {
        let request = axum::http::Request::post(routes::AUTH_LOGOUT)
            .header(header::ORIGIN, origin)
            .header(header::COOKIE, &cookie)
            .body(axum::body::Body::empty())
            .unwrap();
        let response = app.send(request).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin}");
        assert_eq!(problem(response).await.kind, "/problems/cross-site");
    }
    // Still signed in: the forged logouts did nothing.
    assert_eq!(
        app.get(routes::AUTH_ME, Some(&cookie)).await.status(),
        StatusCode::OK
    );

    let same_site = axum::http::Request::post(routes::AUTH_LOGIN)
        .header(header::ORIGIN, ORIGIN)
        .header(header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(login_body(
            "megan@contoso.test",
            DEMO_PASSWORD,
        )))
        .unwrap();
    assert_eq!(app.send(same_site).await.status(), StatusCode::OK);
    // Reads are not state changes.
    let read = axum::http::Request::get(routes::AUTH_ME)
        .header(header::ORIGIN, "https://evil.test")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(app.send(read).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_account_is_locked_after_five_wrong_passwords() {
    let app = app().await;
    for _ in 0..5 {
        let response = app.login("megan@contoso.test", "wrong").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = app.login("megan@contoso.test", DEMO_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()[header::RETRY_AFTER], "900");
    let problem = problem(response).await;
    assert_eq!(
        problem.message(),
        "Too many sign-in attempts. Try again in 15 minutes."
    );
    assert_eq!(
        app.login("alex@contoso.test", DEMO_PASSWORD).await.status(),
        StatusCode::OK,
        "other accounts are not locked"
    );
    app.clock.advance_millis(15 * 60_000);
    assert_eq!(
        app.login("megan@contoso.test", DEMO_PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_console_is_served_with_a_strict_csp() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<script type=\"module\">import init from '/a.js'; await init();</script>",
    )
    .unwrap();
    let app = app_with(dist.path()).await;
    let response = app.get("/devices", None).await;
    let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.starts_with("default-src 'none'; script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
}

#[tokio::test]
async fn settings_changes_apply_at_once_and_are_audited() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    app.clock.advance_millis(1_000); // the edit comes after the seed
    let mut settings = app.get_json(routes::ADMIN_SETTINGS, &admin).await;
    assert_eq!(settings["remote_help_enabled"], true);
    settings["remote_help_enabled"] = json!(false);
    settings["code_lifetime_minutes"] = json!(5);
    let response = app
        .call(
            Method::PUT,
            routes::ADMIN_SETTINGS,
            Some(&settings),
            Some(&admin),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let now = app.get_json(routes::ADMIN_SETTINGS, &admin).await;
    assert_eq!(now["remote_help_enabled"], false);
    assert_eq!(now["code_lifetime_minutes"], 5);

    settings["code_lifetime_minutes"] = json!(11);
    let response = app
        .call(
            Method::PUT,
            routes::ADMIN_SETTINGS,
            Some(&settings),
            Some(&admin),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        problem(response)
            .await
            .message()
            .contains("between 1 and 10")
    );

    let audit = app.get_json(routes::ADMIN_AUDIT, &admin).await;
    let newest = &audit[0];
    assert_eq!(newest["action"], "settings.update");
    assert_eq!(newest["actor_name"], "Adele Vance");
    let before: serde_json::Value =
        serde_json::from_str(newest["before"].as_str().unwrap()).unwrap();
    let after: serde_json::Value = serde_json::from_str(newest["after"].as_str().unwrap()).unwrap();
    assert_eq!(
        (
            before["remote_help_enabled"].clone(),
            after["remote_help_enabled"].clone()
        ),
        (json!(true), json!(false))
    );
    // The seed's own changes are there too, by "system".
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "assignment.create")
    );
}

#[tokio::test]
async fn roles_in_use_and_built_in_roles_cannot_be_deleted() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    let path = routes::with_id(routes::ADMIN_ROLE, "builtin-administrator");
    let response = app.call(Method::DELETE, &path, None, Some(&admin)).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);

    let role = app
        .call(
            Method::POST,
            routes::ADMIN_ROLES,
            Some(&json!({ "name": "Temp", "permissions": ["view_screen"] })),
            Some(&admin),
        )
        .await;
    assert_eq!(role.status(), StatusCode::CREATED);
    let role: serde_json::Value = serde_json::from_slice(&body_bytes(role).await).unwrap();
    let groups = app.get_json(routes::ADMIN_GROUPS, &admin).await;
    let finance = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "Finance")
        .unwrap()["id"]
        .clone();
    let assignment = json!({
        "name": "Temp use", "role_id": role["id"], "admin_groups": [finance], "all_users": true,
    });
    let created = app
        .call(
            Method::POST,
            routes::ADMIN_ASSIGNMENTS,
            Some(&assignment),
            Some(&admin),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let path = routes::with_id(routes::ADMIN_ROLE, role["id"].as_str().unwrap());
    let response = app.call(Method::DELETE, &path, None, Some(&admin)).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(
        problem(response)
            .await
            .message()
            .contains("is used by 1 assignment")
    );
    // Duplicate names are refused clearly.
    let dup = app
        .call(
            Method::POST,
            routes::ADMIN_ROLES,
            Some(&json!({ "name": "Temp", "permissions": ["view_screen"] })),
            Some(&admin),
        )
        .await;
    assert_eq!(dup.status(), StatusCode::CONFLICT);
    assert_eq!(
        problem(dup).await.message(),
        "A role named \u{201c}Temp\u{201d} already exists."
    );
}

#[tokio::test]
async fn hashed_assets_are_sent_compressed_and_cached_for_good_and_the_page_is_not() {
    let dist = tempfile::tempdir().unwrap();
    let file = |name: &str, body: &str| std::fs::write(dist.path().join(name), body).unwrap();
    file("index.html", "<p>console</p>");
    let wasm = "app-0123456789abcdef_bg.wasm";
    file(wasm, "plain wasm");
    file(&format!("{wasm}.br"), "brotli bytes");
    file(&format!("{wasm}.gz"), "gzip bytes");
    let app = app_with(dist.path()).await;
    let get = |path: String, encodings: Option<&'static str>| {
        let mut request = axum::http::Request::get(path);
        if let Some(e) = encodings {
            request = request.header(header::ACCEPT_ENCODING, e);
        }
        app.send(request.body(axum::body::Body::empty()).unwrap())
    };
    let body = |response| async move { String::from_utf8(body_bytes(response).await).unwrap() };

    let brotli = get(format!("/{wasm}"), Some("gzip, deflate, br")).await;
    assert_eq!(brotli.status(), StatusCode::OK);
    let headers = brotli.headers().clone();
    assert_eq!(headers[header::CONTENT_ENCODING], "br");
    assert_eq!(headers[header::CONTENT_TYPE], "application/wasm");
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert!(
        headers
            .get_all(header::VARY)
            .iter()
            .any(|v| v == "accept-encoding")
    );
    assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
    assert_eq!(body(brotli).await, "brotli bytes");

    let gzip = get(format!("/{wasm}"), Some("gzip")).await;
    assert_eq!(gzip.headers()[header::CONTENT_ENCODING], "gzip");
    assert_eq!(body(gzip).await, "gzip bytes");
    let plain = get(format!("/{wasm}"), None).await;
    assert!(!plain.headers().contains_key(header::CONTENT_ENCODING));
    assert_eq!(body(plain).await, "plain wasm");

    // The page and deep links are revalidated every time.
    for path in ["/", "/index.html", "/devices"] {
        let page = get(path.into(), Some("br")).await;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        assert_eq!(page.headers()[header::CACHE_CONTROL], "no-cache", "{path}");
        assert_eq!(body(page).await, "<p>console</p>");
    }
    // A hashed name that is not there is a 404, never the page cached as it.
    let missing = get("/app-fedcba9876543210.js".into(), None).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.headers()[header::CACHE_CONTROL], "no-cache");
}

#[tokio::test]
async fn each_page_gets_the_console_build_that_has_it() {
    let dist = tempfile::tempdir().unwrap();
    let file = |name: &str, body: &str| std::fs::write(dist.path().join(name), body).unwrap();
    file("index.html", "<script>helper()</script>");
    file("full.html", "<script>full()</script>");
    file("full.html.gz", "gzipped full page");
    file("share.html", "<script>sharer()</script>");
    file("share.html.gz", "gzipped sharer page");
    let app = app_with(dist.path()).await;
    let body = |response| async move { String::from_utf8(body_bytes(response).await).unwrap() };
    for (path, page) in [
        ("/admin/users?q=megan", "<script>full()</script>"),
        ("/admin", "<script>full()</script>"),
        ("/reports/0193", "<script>full()</script>"),
        ("/monitor", "<script>full()</script>"),
        ("/devices", "<script>helper()</script>"),
        ("/sessions/0193", "<script>helper()</script>"),
        ("/adminx", "<script>helper()</script>"),
        ("/", "<script>helper()</script>"),
        ("/signin?next=/share", "<script>helper()</script>"),
        ("/share", "<script>sharer()</script>"),
        ("/share/0193?x=1", "<script>sharer()</script>"),
        ("/sharex", "<script>helper()</script>"),
    ] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "no-cache",
            "{path}"
        );
        // One policy allows every page's bootstrap, by hash.
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        for script in ["helper()", "sharer()", "full()"] {
            let hash = base64::engine::general_purpose::STANDARD
                .encode(<sha2::Sha256 as sha2::Digest>::digest(script.as_bytes()));
            assert!(csp.contains(&format!("'sha256-{hash}'")), "{path}: {csp}");
        }
        assert_eq!(body(response).await, page, "{path}");
    }
    // The other pages' pre-compressed copies are sent too.
    for (path, page) in [
        ("/reports", "gzipped full page"),
        ("/share/0193", "gzipped sharer page"),
    ] {
        let gzip = app
            .send(
                axum::http::Request::get(path)
                    .header(header::ACCEPT_ENCODING, "gzip")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(gzip.headers()[header::CONTENT_ENCODING], "gzip", "{path}");
        assert_eq!(body(gzip).await, page, "{path}");
    }

    // One build missing: its pages get the helper's console, the other
    // build's pages still get theirs.
    std::fs::remove_file(dist.path().join("share.html")).unwrap();
    std::fs::remove_file(dist.path().join("share.html.gz")).unwrap();
    let app = app_with(dist.path()).await;
    for (path, page) in [
        ("/share", "<script>helper()</script>"),
        ("/admin", "<script>full()</script>"),
    ] {
        let response = app.get(path, None).await;
        assert_eq!(body(response).await, page, "{path}");
    }

    // Without the full or the sharer's build, their pages get the helper's
    // console, which says the page is unavailable rather than failing.
    std::fs::remove_file(dist.path().join("full.html")).unwrap();
    let app = app_with(dist.path()).await;
    for path in ["/admin/users", "/share/0193"] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(body(response).await, "<script>helper()</script>", "{path}");
    }
}

/// A signed-in client that sends a session request's headers and then sits
/// on its body holds no database connection meanwhile: the routes that
/// hold one through the request (PostgreSQL) read the body first.
/// Otherwise sixteen such requests would take every pooled connection.
#[tokio::test]
async fn a_client_sitting_on_its_body_holds_no_database_connection() {
    let app = app().await;
    let (helper, code, id) = support::issue(&app, "megan@contoso.test").await;
    let sharer = app.sign_in("lynne@contoso.test").await;
    assert_eq!(support::redeem(&app, &sharer, &code).await.status(), 200);

    // A body that says when the server starts reading it, then waits.
    let (reading_tx, reading) = tokio::sync::oneshot::channel::<()>();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let body = futures_util::stream::once(async move {
        let _ = reading_tx.send(());
        let _ = released.await;
        Ok::<_, std::io::Error>(axum::body::Bytes::from(json!({"mode": "view"}).to_string()))
    });
    let request = axum::http::Request::post(routes::with_id(routes::SESSION_REQUEST, &id))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, &helper)
        .body(axum::body::Body::from_stream(body))
        .unwrap();
    let router = app.router.clone();
    let answer = tokio::spawn(async move {
        use tower::ServiceExt;
        router.oneshot(request).await.unwrap()
    });
    reading.await.unwrap();

    // While the body is awaited, every pooled connection is back in the
    // pool (the earlier requests' go back in tasks of their own).
    let mut lent = usize::MAX;
    for _ in 0..500 {
        let (open, idle) = app.store.pool_use();
        lent = usize::try_from(open).unwrap().saturating_sub(idle);
        if lent == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(lent, 0, "a connection is held while the body is awaited");

    // Then the body arrives and the request is answered.
    release.send(()).unwrap();
    let response = answer.await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let view: serde_json::Value = serde_json::from_slice(&body_bytes(response).await).unwrap();
    assert_eq!(view["requested"], "view");

    // A body over the bound is refused as on every route.
    let huge = json!({ "code": "x".repeat(tandem_server::http::MAX_API_BODY_BYTES) });
    let response = app
        .send(support::json_post(
            routes::SESSION_REDEEM,
            &huge.to_string(),
            Some(&sharer),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem(response).await.kind, "/problems/payload-too-large");
}
