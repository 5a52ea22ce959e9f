//! Agents against a real socket: registration with an enrollment token,
//! device authentication (and its refusals), the control WebSocket,
//! pairing a sharer's browser, a redemption bound to the device, the
//! agent's signaling, and a session started from the device page.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use axum::http::Method;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use std::time::Duration;
use support::agent_socket::{Agent, next, next_of, open, send};
use support::{App, app, consented};
use tandem_protocol::routes::*;
use tandem_protocol::{DeviceId, UnixMillis};
use tandem_server::clock::Clock;

async fn json_of(response: axum::http::Response<axum::body::Body>) -> Value {
    serde_json::from_slice(&support::body_bytes(response).await).unwrap()
}

async fn register(app: &App, token: Option<&str>, seed: u8) -> Agent {
    let key = SigningKey::from_bytes(&[seed; 32]);
    let body = json!({
        "public_key": URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()),
        "name": format!("KIOSK-{seed}"), "os": "Linux", "os_version": "Debian 12",
        "agent_version": "0.1.0", "enrollment_token": token,
    });
    let response = app
        .call(Method::POST, AGENT_REGISTER, Some(&body), None)
        .await;
    assert_eq!(response.status(), 201);
    let registration = json_of(response).await;
    Agent {
        key,
        device: DeviceId(registration["device"].as_str().unwrap().into()),
    }
}

#[tokio::test]
async fn an_enrolled_agent_pairs_shares_and_is_started_from_the_device_page() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    let megan = app.sign_in("megan@contoso.test").await;
    let lynne = app.sign_in("lynne@contoso.test").await;
    let token = app
        .call(
            Method::POST,
            ADMIN_ENROLLMENT_TOKENS,
            Some(&json!({ "label": "Kiosks", "valid_days": 7 })),
            Some(&admin),
        )
        .await;
    assert_eq!(token.status(), 201);
    let token = json_of(token).await["token"].as_str().unwrap().to_owned();

    // A wrong token is refused; the right one enrolls, twice to the same device.
    let bad = json!({ "public_key": URL_SAFE_NO_PAD.encode([9u8; 32]), "name": "x", "os": "Linux",
                      "os_version": "1", "agent_version": "0.1.0", "enrollment_token": "nope" });
    let refused = app
        .call(Method::POST, AGENT_REGISTER, Some(&bad), None)
        .await;
    assert_eq!(refused.status(), 403);
    let agent = register(&app, Some(&token), 7).await;
    assert_eq!(register(&app, Some(&token), 7).await.device, agent.device);

    // Device authentication: good once, then replay, old time, wrong key.
    let now = app.clock.now();
    let call = |auth: String| {
        let request = axum::http::Request::get(AGENT_CONNECT)
            .header("authorization", auth)
            .body(axum::body::Body::empty())
            .unwrap();
        app.send(request)
    };
    let good = agent.header(now, "n1", AGENT_CONNECT);
    assert_eq!(
        call(good.clone()).await.status(),
        400,
        "authenticated, but no upgrade"
    );
    assert_eq!(call(good).await.status(), 401, "replayed");
    let old = UnixMillis(now.0 - 120_000);
    assert_eq!(
        call(agent.header(old, "n2", AGENT_CONNECT)).await.status(),
        401
    );
    assert_eq!(
        call(agent.header(now, "n3", AGENT_SIGNAL)).await.status(),
        401,
        "other path"
    );
    let impostor = Agent {
        key: SigningKey::from_bytes(&[8; 32]),
        device: agent.device.clone(),
    };
    assert_eq!(
        call(impostor.header(now, "n4", AGENT_CONNECT))
            .await
            .status(),
        401
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let mut control = open(
        addr,
        AGENT_CONNECT,
        Some(&agent.header(now, "c1", AGENT_CONNECT)),
        None,
    )
    .await;
    let welcome = next(&mut control).await;
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(welcome["enrolled"], true);
    assert!(welcome["grant_key"]["public_key"].is_string());
    // A malformed frame gets an error; the connection stays.
    send(&mut control, json!({ "type": "launch" })).await;
    assert_eq!(next(&mut control).await["type"], "error");
    send(&mut control, json!({ "type": "pair" })).await;
    let pairing = next(&mut control).await;
    let path = pairing["path"].as_str().unwrap();
    let nonce = path.strip_prefix("/share?pair=").unwrap();

    // Lynne's browser is shown the device first; opening the link pairs
    // nothing, and neither does a pairing she did not confirm.
    let unconfirmed = json!({ "nonce": nonce });
    let preview = app
        .call(
            Method::POST,
            AGENT_PAIR_PREVIEW,
            Some(&unconfirmed),
            Some(&lynne),
        )
        .await;
    assert_eq!(preview.status(), 200);
    let preview = json_of(preview).await;
    assert_eq!(
        (
            preview["device_name"].as_str(),
            preview["os"].as_str(),
            preview["enrolled"].as_bool()
        ),
        (Some("KIOSK-7"), Some("Linux"), Some(true))
    );
    let refused = app
        .call(Method::POST, AGENT_PAIR, Some(&unconfirmed), Some(&lynne))
        .await;
    assert_eq!(refused.status(), 400);
    // Confirmed: paired (once), recorded, then Megan's code for the device.
    let pair = json!({ "nonce": nonce, "confirm": true });
    let paired = app
        .call(Method::POST, AGENT_PAIR, Some(&pair), Some(&lynne))
        .await;
    assert_eq!(paired.status(), 200);
    let audit = app.get_json(ADMIN_AUDIT, &admin).await.to_string();
    assert!(
        audit.contains("device.pair") && audit.contains("KIOSK-7"),
        "{audit}"
    );
    let used = app
        .call(
            Method::POST,
            AGENT_PAIR_PREVIEW,
            Some(&unconfirmed),
            Some(&lynne),
        )
        .await;
    assert_eq!(used.status(), 410, "a used link shows nothing either");
    assert_eq!(json_of(paired).await["device"], agent.device.0.as_str());
    let again = app
        .call(Method::POST, AGENT_PAIR, Some(&pair), Some(&lynne))
        .await;
    assert_eq!(again.status(), 410, "a pairing link works once");

    let issued = json_of(app.call(Method::POST, SESSIONS, None, Some(&megan)).await).await;
    let session = issued["session"]["id"].as_str().unwrap().to_owned();
    // Megan is not paired with the device: she cannot claim it.
    let redeem = json!({ "code": issued["code"], "device": agent.device.0 });
    let redeemed = app
        .call(Method::POST, SESSION_REDEEM, Some(&redeem), Some(&lynne))
        .await;
    assert_eq!(redeemed.status(), 200);
    let view = json_of(redeemed).await;
    assert_eq!(view["via_agent"], true);
    let bound = next(&mut control).await;
    assert_eq!(bound["type"], "session_bound");
    assert_eq!(bound["session"], session.as_str());

    // The agent joins the session's signaling as the media end.
    let mut media = open(
        addr,
        AGENT_SIGNAL,
        Some(&agent.header(app.clock.now(), "s1", AGENT_SIGNAL)),
        None,
    )
    .await;
    send(&mut media, json!({ "type": "join", "session": session })).await;
    let joined = next(&mut media).await;
    assert_eq!(joined["you"], "agent");
    let mut helper = open(addr, SIGNAL, None, Some(&megan)).await;
    send(&mut helper, json!({ "type": "join", "session": session })).await;
    assert_eq!(next(&mut helper).await["you"], "helper");
    let mut sharer = open(addr, SIGNAL, None, Some(&lynne)).await;
    send(&mut sharer, json!({ "type": "join", "session": session })).await;
    assert_eq!(next(&mut sharer).await["you"], "sharer");

    consented(&app, &megan, &lynne, &session, "view").await;
    // The grant goes to the agent, which offers; the helper gets the offer.
    let grant = next_of(&mut media, "grant").await;
    assert!(grant["grant"]["signature"].is_string());
    send(&mut media, json!({ "type": "offer", "sdp": "v=0 agent" })).await;
    assert_eq!(next_of(&mut helper, "offer").await["sdp"], "v=0 agent");
    send(
        &mut helper,
        json!({ "type": "answer", "sdp": "v=0 helper" }),
    )
    .await;
    assert_eq!(next_of(&mut media, "answer").await["sdp"], "v=0 helper");
    // The sharer's browser is not the media end of this session.
    send(
        &mut sharer,
        json!({ "type": "offer", "sdp": "v=0 browser" }),
    )
    .await;
    let refused = next_of(&mut sharer, "error").await;
    assert_eq!(refused["problem"]["status"], 409);

    // The device page: the agent is online and Lynne is signed in on it.
    let start = app
        .call(
            Method::POST,
            &DEVICE_SESSIONS.replace("{id}", &agent.device.0),
            None,
            Some(&megan),
        )
        .await;
    assert_eq!(start.status(), 201);
    let started = json_of(start).await;
    let request = next_of(&mut control, "help_request").await;
    assert_eq!(request["session"], started["session"]["id"]);
    assert_eq!(request["helper"]["display_name"], "Megan Bowen");
    assert!(
        request["path"]
            .as_str()
            .unwrap()
            .starts_with("/share?pair=")
    );
    // Lynne, signed in on the device, may see the request before the code.
    let seen = app
        .call(
            Method::GET,
            &SESSION.replace("{id}", started["session"]["id"].as_str().unwrap()),
            None,
            Some(&lynne),
        )
        .await;
    assert_eq!(seen.status(), 200);

    // Once the agent is gone, the device page says so.
    drop(control);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let offline = app
        .call(
            Method::POST,
            &DEVICE_SESSIONS.replace("{id}", &agent.device.0),
            None,
            Some(&megan),
        )
        .await;
    assert_eq!(offline.status(), 409);
}

#[tokio::test]
async fn an_unenrolled_agent_joins_its_sharers_tenant_and_no_other() {
    let app = app().await;
    let lynne = app.sign_in("lynne@contoso.test").await;
    let fabrikam = app.sign_in("admin@fabrikam.test").await;
    let agent = register(&app, None, 11).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let now = app.clock.now();
    let mut control = open(
        addr,
        AGENT_CONNECT,
        Some(&agent.header(now, "u1", AGENT_CONNECT)),
        None,
    )
    .await;
    assert_eq!(next(&mut control).await["enrolled"], false);
    let mut nonces = Vec::new();
    for _ in 0..3 {
        send(&mut control, json!({ "type": "pair" })).await;
        let path = next(&mut control).await["path"]
            .as_str()
            .unwrap()
            .to_owned();
        nonces.push(path.trim_start_matches("/share?pair=").to_owned());
    }
    // The sharer is told the device is not enrolled: its name is its own.
    let preview = app
        .call(
            Method::POST,
            AGENT_PAIR_PREVIEW,
            Some(&json!({ "nonce": nonces[0] })),
            Some(&lynne),
        )
        .await;
    assert_eq!(json_of(preview).await["enrolled"], false);
    let paired = app
        .call(
            Method::POST,
            AGENT_PAIR,
            Some(&json!({ "nonce": nonces[0], "confirm": true })),
            Some(&lynne),
        )
        .await;
    assert_eq!(paired.status(), 200);
    let foreign = app
        .call(
            Method::POST,
            AGENT_PAIR,
            Some(&json!({ "nonce": nonces[1], "confirm": true })),
            Some(&fabrikam),
        )
        .await;
    assert_eq!(foreign.status(), 403, "the device is Contoso's now");
    // Links are short-lived: past their lifetime, nothing pairs.
    app.clock
        .advance_millis(tandem_protocol::agent::PAIRING_LIFETIME_MILLIS + 1);
    let late = app
        .call(
            Method::POST,
            AGENT_PAIR,
            Some(&json!({ "nonce": nonces[2], "confirm": true })),
            Some(&lynne),
        )
        .await;
    assert_eq!(late.status(), 410);
    let devices = app
        .get_json(DEVICES, &app.sign_in("megan@contoso.test").await)
        .await;
    let kiosk = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "KIOSK-11")
        .expect("the paired device is listed");
    assert_eq!(kiosk["enrolled"], false);
    assert_eq!(kiosk["compliance"], "non_compliant");
}

#[tokio::test]
async fn an_unattended_device_is_helped_only_when_the_tenant_allows_it() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    let megan = app.sign_in("megan@contoso.test").await;
    let token = app
        .call(
            Method::POST,
            ADMIN_ENROLLMENT_TOKENS,
            Some(&json!({ "label": "Kiosks", "valid_days": 7 })),
            Some(&admin),
        )
        .await;
    let token = json_of(token).await["token"].as_str().unwrap().to_owned();
    let agent = register(&app, Some(&token), 21).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let now = app.clock.now();
    let mut control = open(
        addr,
        AGENT_CONNECT,
        Some(&agent.header(now, "u1", AGENT_CONNECT)),
        None,
    )
    .await;
    assert_eq!(next(&mut control).await["type"], "welcome");
    let device_sessions = DEVICE_SESSIONS.replace("{id}", &agent.device.0);
    let start = || app.call(Method::POST, &device_sessions, None, Some(&megan));

    // Nobody is signed in on the kiosk, and unattended access is off.
    let refused = start().await;
    assert_eq!(refused.status(), 403);
    let problem = json_of(refused).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("unattended"),
        "{problem}"
    );

    // The admin allows it: the session needs no sharer and no code.
    app.clock.advance_millis(1_000);
    let mut settings = app.get_json(ADMIN_SETTINGS, &admin).await;
    settings["allow_unattended"] = json!(true);
    let saved = app
        .call(Method::PUT, ADMIN_SETTINGS, Some(&settings), Some(&admin))
        .await;
    assert_eq!(saved.status(), 200);
    let started = start().await;
    assert_eq!(started.status(), 201);
    let started = json_of(started).await;
    assert_eq!(started["session"]["phase"], "sharer_joined", "{started}");
    let session = started["session"]["id"].as_str().unwrap().to_owned();
    let bound = next_of(&mut control, "session_bound").await;
    assert_eq!(bound["session"], session.as_str());

    // Full control is granted by the tenant's setting, to the agent only.
    let mut media = open(
        addr,
        AGENT_SIGNAL,
        Some(&agent.header(app.clock.now(), "u2", AGENT_SIGNAL)),
        None,
    )
    .await;
    send(&mut media, json!({ "type": "join", "session": session })).await;
    assert_eq!(next(&mut media).await["you"], "agent");
    let request = app
        .call(
            Method::POST,
            &SESSION_REQUEST.replace("{id}", &session),
            Some(&json!({ "mode": "control" })),
            Some(&megan),
        )
        .await;
    assert_eq!(request.status(), 200);
    let view = json_of(request).await;
    assert_eq!(
        (&view["phase"], &view["mode"]),
        (&json!("active"), &json!("control"))
    );
    let grant = next_of(&mut media, "grant").await;
    assert!(grant["grant"]["signature"].is_string());

    // The agent's control connection drops and comes back: it is told
    // about the session again.
    drop(control);
    let mut control = open(
        addr,
        AGENT_CONNECT,
        Some(&agent.header(app.clock.now(), "u3", AGENT_CONNECT)),
        None,
    )
    .await;
    assert_eq!(next(&mut control).await["type"], "welcome");
    let again = next_of(&mut control, "session_bound").await;
    assert_eq!(again["session"], session.as_str());

    // Turned off again: no new unattended session, and no new request.
    app.clock.advance_millis(1_000);
    settings["allow_unattended"] = json!(false);
    let saved = app
        .call(Method::PUT, ADMIN_SETTINGS, Some(&settings), Some(&admin))
        .await;
    assert_eq!(saved.status(), 200);
    assert_eq!(start().await.status(), 403);
}

#[tokio::test]
async fn guessing_enrollment_tokens_is_limited() {
    let app = app().await;
    let guess = |n: u8| {
        let key = SigningKey::from_bytes(&[n; 32]).verifying_key();
        json!({ "public_key": URL_SAFE_NO_PAD.encode(key.to_bytes()), "name": "x", "os": "Linux",
                "os_version": "1", "agent_version": "0.1.0", "enrollment_token": "guess" })
    };
    for n in 0..5 {
        let refused = app
            .call(Method::POST, AGENT_REGISTER, Some(&guess(n + 40)), None)
            .await;
        assert_eq!(refused.status(), 403, "wrong token {n}");
    }
    let locked = app
        .call(Method::POST, AGENT_REGISTER, Some(&guess(50)), None)
        .await;
    assert_eq!(locked.status(), 429);
    assert!(locked.headers().contains_key("retry-after"));
    let problem = json_of(locked).await;
    assert_eq!(problem["type"], "/problems/too-many-registrations");
    // Other registrations go on; the lock lifts with time.
    register(&app, None, 51).await;
    app.clock.advance_millis(15 * 60_000);
    let again = app
        .call(Method::POST, AGENT_REGISTER, Some(&guess(52)), None)
        .await;
    assert_eq!(again.status(), 403);
}
