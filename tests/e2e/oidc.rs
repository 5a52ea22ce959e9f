//! Organization sign-in against a real OpenID Connect provider (panva's
//! oidc-provider, started by the harness), in headless Chromium and, for
//! the callback attacks, with a plain HTTP client acting as the browser.

use reqwest::StatusCode;
use reqwest::header::LOCATION;
use tandem_protocol::auth::OidcError;
use tandem_tests::idp::{IDP_PASSWORD, IdpAccount, TestIdp};
use tandem_tests::{Browser, Env, ServerOptions, TestServer, free_port};

const ACCOUNTS: &[IdpAccount] = &[
    IdpAccount {
        sub: "u-nina",
        email: "nina@contoso.test",
        name: "Nina Novak",
        tid: "contoso-tid",
        groups: &["Help Desk Trainees"],
        job_title: "Service Desk Analyst",
    },
    IdpAccount {
        sub: "u-eve",
        email: "eve@elsewhere.test",
        name: "Eve Outsider",
        tid: "elsewhere-tid",
        groups: &[],
        job_title: "Intruder",
    },
    IdpAccount {
        sub: "u-mallory",
        email: "mallory@contoso.test",
        name: "Mallory Forger",
        tid: "contoso-tid",
        groups: &["Help Desk"],
        job_title: "Forger",
    },
];

/// A server configured with the IdP (Contoso's tenant allowed), and a browser.
async fn with_idp(test: impl AsyncFnOnce(&Env)) {
    let port = free_port().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let idp = TestIdp::start(
        &format!("{base}/auth/oidc/callback"),
        ACCOUNTS,
        &["u-mallory"],
    )
    .await
    .unwrap();
    let config = format!(
        r#"public_url = "{base}"

[[oidc]]
id = "contoso"
name = "Contoso ID"
issuer = "{issuer}"
client_id = "{id}"
client_secret = "{secret}"
tenants = {{ "contoso-tid" = "contoso" }}
"#,
        issuer = idp.issuer(),
        id = tandem_tests::idp::CLIENT_ID,
        secret = tandem_tests::idp::CLIENT_SECRET,
    );
    let options = ServerOptions {
        port: Some(port),
        config_toml: Some(config),
        ..ServerOptions::default()
    };
    let server = TestServer::start_with(options).await.unwrap();
    let browser = Browser::start(server.base_url()).await.unwrap();
    Env { server, browser }.run(test).await;
    drop(idp);
}

/// In the browser: from our sign-in page through the IdP's own form.
async fn sign_in_at_idp(browser: &Browser, email: &str, password: &str) {
    browser.goto("/signin").await.unwrap();
    browser
        .wait_for_text("a.button", "Sign in with Contoso ID")
        .await
        .unwrap();
    browser.click("a.button").await.unwrap();
    browser.fill("#login", email).await.unwrap();
    browser.fill("#password", password).await.unwrap();
    browser.click("#submit").await.unwrap();
}

#[tokio::test]
async fn organization_sign_in_lands_in_the_console_with_the_identity_card() {
    with_idp(async |env| {
        let browser = &env.browser;
        sign_in_at_idp(browser, "nina@contoso.test", IDP_PASSWORD).await;
        browser.wait_for_path("/devices").await.unwrap();
        browser
            .wait_for_text(".account .name", "Nina Novak")
            .await
            .unwrap();
        browser
            .wait_for_text(".account .tenant", "Contoso")
            .await
            .unwrap();

        let me = browser.fetch_json("/api/auth/me").await.unwrap();
        assert_eq!(me["user"]["email"], "nina@contoso.test");
        assert_eq!(me["user"]["job_title"], "Service Desk Analyst");
        assert_eq!(me["user"]["company"], "contoso.test");
        assert_eq!(me["user"]["verified_domain"], "contoso.test");
        assert_eq!(me["tenant"]["id"], "contoso");

        // The groups claim made Nina a trainee: Finance's device only.
        browser.wait_for("table.devices tbody tr").await.unwrap();
        assert_eq!(
            browser.texts("table.devices tbody th").await.unwrap(),
            ["LT-LYNNE-01"]
        );
    })
    .await;
}

#[tokio::test]
async fn a_wrong_password_at_the_idp_signs_nobody_in() {
    with_idp(async |env| {
        let browser = &env.browser;
        sign_in_at_idp(browser, "nina@contoso.test", "wrong").await;
        browser
            .wait_for_text("#error", "Invalid email or password.")
            .await
            .unwrap();
        browser.goto("/signin").await.unwrap();
        assert_eq!(browser.fetch_status("/api/auth/me").await.unwrap(), 401);
    })
    .await;
}

#[tokio::test]
async fn a_user_of_a_foreign_tenant_is_refused() {
    with_idp(async |env| {
        let browser = &env.browser;
        sign_in_at_idp(browser, "eve@elsewhere.test", IDP_PASSWORD).await;
        browser
            .wait_for_path("/signin?error=oidc_tenant")
            .await
            .unwrap();
        browser
            .wait_for_text(".error.banner", OidcError::Tenant.message())
            .await
            .unwrap();
        assert_eq!(browser.fetch_status("/api/auth/me").await.unwrap(), 401);
    })
    .await;
}

#[tokio::test]
async fn a_tampered_id_token_is_refused() {
    with_idp(async |env| {
        let browser = &env.browser;
        sign_in_at_idp(browser, "mallory@contoso.test", IDP_PASSWORD).await;
        browser
            .wait_for_path("/signin?error=oidc_token")
            .await
            .unwrap();
        browser
            .wait_for_text(".error.banner", OidcError::Token.message())
            .await
            .unwrap();
        assert_eq!(browser.fetch_status("/api/auth/me").await.unwrap(), 401);
    })
    .await;
}

/// A cookie-keeping HTTP client that does not follow redirects.
fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Follows the flow by hand, through the IdP's login form, up to (not
/// into) our callback; returns the callback URL.
async fn callback_url(client: &reqwest::Client, base: &str, email: &str) -> reqwest::Url {
    let mut url = reqwest::Url::parse(&format!("{base}/auth/oidc/contoso/start")).unwrap();
    for _ in 0..10 {
        let response = client.get(url.clone()).send().await.unwrap();
        if response.status() == StatusCode::OK {
            // The IdP's login form: post the credentials to its action.
            let form_action = format!("{}/login", url.path());
            let login = url.join(&form_action).unwrap();
            let response = client
                .post(login)
                .form(&[("login", email), ("password", IDP_PASSWORD)])
                .send()
                .await
                .unwrap();
            assert!(
                response.status().is_redirection(),
                "login: {}",
                response.status()
            );
            url = url
                .join(response.headers()[LOCATION].to_str().unwrap())
                .unwrap();
            continue;
        }
        assert!(
            response.status().is_redirection(),
            "{url}: {}",
            response.status()
        );
        let next = url
            .join(response.headers()[LOCATION].to_str().unwrap())
            .unwrap();
        if next
            .as_str()
            .starts_with(&format!("{base}/auth/oidc/callback"))
        {
            return next;
        }
        url = next;
    }
    panic!("never reached the callback");
}

async fn get_location(client: &reqwest::Client, url: &str) -> String {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{url}");
    response.headers()[LOCATION].to_str().unwrap().to_owned()
}

async fn me_status(client: &reqwest::Client, base: &str) -> StatusCode {
    client
        .get(format!("{base}/api/auth/me"))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_wrong_state_is_refused_and_burns_the_attempt() {
    with_idp(async |env| {
        let base = env.server.base_url();
        let client = http_client();
        let mut callback = callback_url(&client, base, "nina@contoso.test").await;
        assert!(
            callback.query_pairs().any(|(k, _)| k == "iss"),
            "RFC 9207 iss is sent"
        );
        let genuine = callback.clone();
        let forged: Vec<(String, String)> = callback
            .query_pairs()
            .map(|(k, v)| {
                let value = if k == "state" {
                    "forged".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), value)
            })
            .collect();
        callback.query_pairs_mut().clear().extend_pairs(forged);
        assert_eq!(
            get_location(&client, callback.as_str()).await,
            "/signin?error=oidc_state"
        );
        // The attempt is spent: even the genuine answer no longer works.
        assert_eq!(
            get_location(&client, genuine.as_str()).await,
            "/signin?error=oidc_state"
        );
        assert_eq!(me_status(&client, base).await, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn a_replayed_callback_is_refused() {
    with_idp(async |env| {
        let base = env.server.base_url();
        let client = http_client();
        let callback = callback_url(&client, base, "nina@contoso.test").await;
        assert_eq!(get_location(&client, callback.as_str()).await, "/devices");
        assert_eq!(me_status(&client, base).await, StatusCode::OK);

        // The same browser, again: the pending sign-in was used up.
        assert_eq!(
            get_location(&client, callback.as_str()).await,
            "/signin?error=oidc_state"
        );
        // Another browser that got hold of the URL: no pending sign-in at all.
        let thief = http_client();
        assert_eq!(
            get_location(&thief, callback.as_str()).await,
            "/signin?error=oidc_state"
        );
        assert_eq!(me_status(&thief, base).await, StatusCode::UNAUTHORIZED);
    })
    .await;
}
