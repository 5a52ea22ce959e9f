//! Steps of a session that several suites (and the session benchmark) take
//! the same way in two browsers.

use crate::desktop::{Agent, KEEP_CHANNELS, enrollment_token};
use crate::network::Inside;
use crate::{Browser, HarnessError, TestServer};

/// The sharer, on the sharer page already (paired with a device, or not),
/// enters `code`; returns once the helper sees them join.
pub async fn join_with_code(
    helper: &Browser,
    sharer: &Browser,
    code: &str,
) -> Result<(), HarnessError> {
    sharer.fill("#share-code", code).await?;
    sharer.click("form button[type=submit]").await?;
    helper
        .wait_for_text_containing("#session-status", "Sharer joined")
        .await?;
    Ok(())
}

/// The sharer's browser opens the agent's pairing `path`, confirms the
/// device it is shown, and waits until it is paired.
pub async fn pair_browser(sharer: &Browser, path: &str) -> Result<(), HarnessError> {
    sharer.goto(path).await?;
    sharer.wait_for("#pairing-confirm").await?.click().await?;
    sharer
        .wait_for_text_containing("#paired-device", "Paired with")
        .await?;
    Ok(())
}

/// Which mode the helper asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    View,
    FullControl,
}

/// The helper asks for `mode`, the sharer allows it, and the helper's
/// status says it is connected in that mode.
pub async fn grant(helper: &Browser, sharer: &Browser, mode: Ask) -> Result<(), HarnessError> {
    let (button, status) = match mode {
        Ask::View => ("Screen sharing", "Connected (view only)"),
        Ask::FullControl => ("Request full control", "Connected (full control)"),
    };
    helper.click_button(button).await?;
    sharer.click_button("Allow").await?;
    helper
        .wait_for_text_containing("#session-status", status)
        .await?;
    Ok(())
}

/// Signs `email` in on `browser`, signing out whoever was.
pub async fn switch_user(browser: &Browser, email: &str) -> Result<(), HarnessError> {
    let _ = browser
        .fetch_post("/api/auth/logout", &serde_json::json!({}))
        .await;
    browser.sign_in_as(email).await
}

/// A device session under full control, as the benchmarks need it: an
/// administrator enrolls an agent on `display`; Lynne's browser pairs
/// through the agent's link; Megan, in `helper`, reads out a code and gets
/// full control, with the agent's data channels kept for the page. Returns
/// the sharer's browser and the agent.
pub async fn controlled_agent_session(
    helper: &Browser,
    base_url: &str,
    display: &str,
) -> Result<(Browser, Agent), HarnessError> {
    controlled_agent_session_with(helper, base_url, display, &[]).await
}

/// [`controlled_agent_session`] with more environment for the agent.
pub async fn controlled_agent_session_with(
    helper: &Browser,
    base_url: &str,
    display: &str,
    agent_env: &[(&str, &str)],
) -> Result<(Browser, Agent), HarnessError> {
    controlled_session(helper, base_url, display, agent_env, None).await
}

/// [`controlled_agent_session`] with the agent and the sharer's browser in
/// `sharer_site` (a site of a [`crate::network::TestNetwork`]).
pub async fn controlled_agent_session_in(
    helper: &Browser,
    base_url: &str,
    display: &str,
    sharer_site: &Inside,
) -> Result<(Browser, Agent), HarnessError> {
    controlled_session(helper, base_url, display, &[], Some(sharer_site)).await
}

async fn controlled_session(
    helper: &Browser,
    base_url: &str,
    display: &str,
    agent_env: &[(&str, &str)],
    sharer_site: Option<&Inside>,
) -> Result<(Browser, Agent), HarnessError> {
    switch_user(helper, "admin@contoso.test").await?;
    let token = enrollment_token(helper, "bench").await?;
    let agent = match sharer_site {
        Some(site) => Agent::start_in(site, base_url, display, Some(&token))?,
        None => Agent::start_with(base_url, display, Some(&token), agent_env)?,
    };
    let link = agent
        .wait_for_line(
            "Open this link to continue: ",
            std::time::Duration::from_secs(30),
        )
        .await?;
    let path = link
        .find("/share")
        .map(|at| link[at..].to_owned())
        .ok_or_else(|| HarnessError::Timeout {
            what: format!("a sharer link in {link:?}"),
            seconds: 30,
        })?;
    let sharer = match sharer_site {
        Some(site) => Browser::start_in(site, base_url).await?,
        None => Browser::start(base_url).await?,
    };
    switch_user(helper, "megan@contoso.test").await?;
    switch_user(&sharer, "lynne@contoso.test").await?;
    // The sharer confirms the device before anything is paired.
    pair_browser(&sharer, &path).await?;
    helper.goto("/devices").await?;
    helper.click_button("Assist someone").await?;
    helper.wait_for("#security-code").await?;
    let code = helper
        .texts("#security-code")
        .await?
        .into_iter()
        .next()
        .unwrap_or_default();
    helper.eval(KEEP_CHANNELS, vec![]).await?;
    join_with_code(helper, &sharer, &code).await?;
    grant(helper, &sharer, Ask::FullControl).await?;
    helper.wait_for("#remote-surface.controlling").await?;
    Ok((sharer, agent))
}

/// Signs `email` in over `http` (the demo password) and answers the
/// session cookie the server set (`tandem_session=…`).
pub async fn session_cookie(http: &reqwest::Client, server: &TestServer, email: &str) -> String {
    let login = http
        .post(server.url(tandem_protocol::routes::AUTH_LOGIN))
        .json(&serde_json::json!({ "email": email, "password": crate::DEMO_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200, "{email} signs in");
    login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tandem_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

/// A signaling WebSocket on `server`, signed in with `cookie`.
pub async fn signaling_socket(
    server: &TestServer,
    cookie: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = server
        .url(tandem_protocol::routes::SIGNAL)
        .replacen("http://", "ws://", 1);
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}
