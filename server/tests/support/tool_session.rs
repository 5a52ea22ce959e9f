//! A session in full control through the device's agent, for the tests of
//! the in-session tools: the app served on a port, the agent's and the
//! helper's signaling sockets joined, and the people's cookies.

use super::agent_socket::{Agent, Socket, next_of, open, send};
use super::{App, app, json_of, paired_device, redeem_on};
use axum::http::{Method, StatusCode};
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use tandem_protocol::DeviceId;
use tandem_protocol::routes::*;
use tandem_server::clock::Clock;

pub struct ToolSession {
    pub app: App,
    pub addr: std::net::SocketAddr,
    pub session: String,
    pub megan: String,
    pub lynne: String,
    pub admin: String,
    /// The device's agent, joined.
    pub media: Socket,
    /// The helper, joined.
    pub helper: Socket,
}

impl ToolSession {
    /// Megan helps Lynne on her paired device (`seed` makes its key), in
    /// full control.
    pub async fn in_full_control(seed: u8) -> Self {
        let this = Self::joined(seed).await;
        let (megan, lynne) = (this.megan.clone(), this.lynne.clone());
        this.act(SESSION_REQUEST, json!({ "mode": "view" }), &megan)
            .await;
        this.act(SESSION_CONSENT, json!({ "allow": true }), &lynne)
            .await;
        this.act(SESSION_REQUEST, json!({ "mode": "control" }), &megan)
            .await;
        this.act(SESSION_CONSENT, json!({ "allow": true }), &lynne)
            .await;
        this
    }

    /// The code redeemed on the device, the agent and the helper joined;
    /// no mode asked for yet.
    pub async fn joined(seed: u8) -> Self {
        let app = app().await;
        let megan = app.sign_in("megan@contoso.test").await;
        let lynne = app.sign_in("lynne@contoso.test").await;
        let admin = app.sign_in("admin@contoso.test").await;
        let device = paired_device(&app, &lynne, seed).await;
        let agent = Agent {
            key: SigningKey::from_bytes(&[seed; 32]),
            device: DeviceId(device.clone()),
        };
        let issued = json_of(app.call(Method::POST, SESSIONS, None, Some(&megan)).await).await;
        let session = issued["session"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let code = issued["code"].as_str().unwrap_or_default();
        assert_eq!(redeem_on(&app, &lynne, code, &device).await.status(), 200);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = app.router.clone();
        tokio::spawn(async move { axum::serve(listener, router).await });
        let mut media = open(
            addr,
            AGENT_SIGNAL,
            Some(&agent.header(app.clock.now(), "c1", AGENT_SIGNAL)),
            None,
        )
        .await;
        send(&mut media, json!({ "type": "join", "session": session })).await;
        assert_eq!(next_of(&mut media, "joined").await["you"], "agent");
        let mut helper = open(addr, SIGNAL, None, Some(&megan)).await;
        send(&mut helper, json!({ "type": "join", "session": session })).await;
        assert_eq!(next_of(&mut helper, "joined").await["you"], "helper");
        Self {
            app,
            addr,
            session,
            megan,
            lynne,
            admin,
            media,
            helper,
        }
    }

    /// POSTs `body` to the session's `route` as `cookie`; it must pass.
    pub async fn act(&self, route: &'static str, body: Value, cookie: &str) {
        let path = with_id(route, &self.session);
        let response = self
            .app
            .call(Method::POST, &path, Some(&body), Some(cookie))
            .await;
        assert_eq!(response.status(), 200, "POST {path}");
    }

    /// The session as `cookie`'s holder sees it.
    pub async fn view(&self, cookie: &str) -> Value {
        self.app
            .get_json(&with_id(SESSION, &self.session), cookie)
            .await
    }

    /// The session's record, as the administrator reads it.
    pub async fn report(&self) -> Value {
        self.app
            .get_json(&with_id(REPORT_SESSION, &self.session), &self.admin)
            .await["report"]
            .clone()
    }

    /// The administrator changes the tenant's settings with `edit`.
    pub async fn settings(&self, edit: impl FnOnce(&mut Value)) -> StatusCode {
        let mut settings = self.app.get_json(ADMIN_SETTINGS, &self.admin).await;
        edit(&mut settings);
        self.app
            .call(
                Method::PUT,
                ADMIN_SETTINGS,
                Some(&settings),
                Some(&self.admin),
            )
            .await
            .status()
    }

    /// The sharer's own signaling socket, joined.
    pub async fn sharer(&self) -> Socket {
        let mut sharer = open(self.addr, SIGNAL, None, Some(&self.lynne)).await;
        send(
            &mut sharer,
            json!({ "type": "join", "session": self.session }),
        )
        .await;
        assert_eq!(next_of(&mut sharer, "joined").await["you"], "sharer");
        sharer
    }
}
