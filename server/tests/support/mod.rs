//! Shared helpers of the router tests: the app over an in-memory database
//! with the demo tenants, a manual clock, and request/response helpers.
#![allow(dead_code)] // each test binary uses its own subset

pub mod agent_socket;
pub mod tool_session;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use std::path::Path;
use std::sync::Arc;
use tandem_protocol::{Problem, UnixMillis, routes};
use tandem_server::auth::{HashLimits, PasswordHasher, SessionPolicy};
use tandem_server::clock::{Clock, ManualClock, SystemClock};
use tandem_server::http::AppState;
use tandem_server::http::operations::MetricsAccess;
use tandem_server::http::{CookiePolicy, SESSION_COOKIE, router};
use tandem_server::seed::{DEMO_PASSWORD, seed_demo};
use tandem_server::store::Store;
use tower::ServiceExt;

pub const MINUTE: i64 = 60_000;
/// The origin the test app believes it is served at.
pub const ORIGIN: &str = "http://127.0.0.1:8080";

pub struct App {
    pub router: Router,
    pub clock: Arc<ManualClock>,
    pub sessions: tandem_server::sessions::Sessions,
    pub store: Store,
}

pub async fn app_with(dist: &Path) -> App {
    app_configured(dist, Options::default()).await
}

/// What a test may change in the app's limits.
pub struct Options {
    pub login_limits: tandem_server::auth::throttle::Limits,
    pub hasher: Arc<PasswordHasher>,
    pub timing: tandem_server::sessions::Timing,
    /// STUN/TURN servers handed out (none by default).
    pub ice: tandem_server::domain::ice::IceConfig,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            login_limits: tandem_server::auth::throttle::Limits::default(),
            hasher: Arc::new(PasswordHasher::new(HashLimits::default()).unwrap()),
            timing: tandem_server::sessions::Timing::default(),
            ice: tandem_server::domain::ice::IceConfig::default(),
        }
    }
}

/// Today at 12:00 UTC: a real date, but never near midnight in any time
/// zone a test uses, so sessions a test starts minutes apart never fall
/// on two days (a run just after midnight split them before).
pub fn noon_today() -> UnixMillis {
    const DAY: i64 = 86_400_000;
    let now = SystemClock.now().0;
    UnixMillis(now - now.rem_euclid(DAY) + DAY / 2)
}

pub async fn app_configured(dist: &Path, options: Options) -> App {
    let store = Store::open_scratch().await.unwrap();
    let clock = Arc::new(ManualClock::new(noon_today()));
    seed_demo(&store, clock.now()).await.unwrap();
    let throttle = Arc::new(tandem_server::auth::throttle::LoginThrottle::new(
        options.login_limits,
        clock.clone(),
        store.clone(),
        "login",
    ));
    let sessions = tandem_server::sessions::Sessions::start(
        store.clone(),
        clock.clone(),
        options.ice,
        options.timing,
    )
    .await
    .unwrap();
    let state = AppState {
        sessions: sessions.clone(),
        store: store.clone(),
        throttle,
        hasher: options.hasher,
        public_origin: Some(ORIGIN.into()),
        trusted_proxies: Vec::new().into(),
        clock: clock.clone(),
        policy: SessionPolicy::from_minutes(30, 12 * 60),
        oidc: tandem_server::auth::oidc::OidcProviders::new(Vec::new(), "http://127.0.0.1:1")
            .unwrap(),
    };
    App {
        router: router(
            state,
            dist,
            CookiePolicy { secure: false },
            MetricsAccess::token(METRICS_TOKEN),
        ),
        clock,
        sessions,
        store,
    }
}

/// The bearer token the test apps' `/metrics` asks for.
pub const METRICS_TOKEN: &str = "metrics-token-for-the-router-tests-only";

pub async fn app() -> App {
    app_with(Path::new("/nonexistent-dist")).await
}

impl App {
    pub async fn send(&self, request: Request<Body>) -> Response<Body> {
        self.router.clone().oneshot(request).await.unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> Response<Body> {
        let body = serde_json::json!({ "email": email, "password": password });
        self.send(json_post(routes::AUTH_LOGIN, &body.to_string(), None))
            .await
    }

    /// Signs in and returns the session cookie (`name=value`).
    pub async fn sign_in(&self, email: &str) -> String {
        let response = self.login(email, DEMO_PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        session_cookie(&response).expect("login sets the session cookie")
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Response<Body> {
        let mut request = Request::get(path);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }
}

pub fn json_post(path: &str, body: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

pub fn session_cookie(response: &Response<Body>) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{SESSION_COOKIE}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

pub async fn body_bytes(response: Response<Body>) -> Vec<u8> {
    response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec()
}

pub async fn problem(response: Response<Body>) -> Problem {
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    serde_json::from_slice(&body_bytes(response).await).unwrap()
}

impl App {
    /// Sends `method path` with an optional JSON body and session cookie.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        cookie: Option<&str>,
    ) -> Response<Body> {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let request = match body {
            // A JSON string stands for a raw text body (CSV imports).
            Some(serde_json::Value::String(text)) => request
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from(text.clone())),
            Some(json) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json.to_string())),
            None => request.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    /// `GET path` as `cookie`, decoded as JSON; panics unless 200.
    pub async fn get_json(&self, path: &str, cookie: &str) -> serde_json::Value {
        let response = self.get(path, Some(cookie)).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        serde_json::from_slice(&body_bytes(response).await).unwrap()
    }
}

// Sessions through the API, shared by the session and report suites.

pub async fn json_of(response: axum::response::Response) -> serde_json::Value {
    serde_json::from_slice(&body_bytes(response).await).unwrap()
}

/// Signs in `email` and issues a code; returns (cookie, code, session id).
pub async fn issue(app: &App, email: &str) -> (String, String, String) {
    let cookie = app.sign_in(email).await;
    let response = app
        .call(
            axum::http::Method::POST,
            tandem_protocol::routes::SESSIONS,
            None,
            Some(&cookie),
        )
        .await;
    assert_eq!(response.status(), 201);
    let issued = json_of(response).await;
    let code = issued["code"].as_str().unwrap().to_owned();
    let id = issued["session"]["id"].as_str().unwrap().to_owned();
    assert_eq!(issued["session"]["phase"], "waiting_for_sharer");
    assert!(issued["session"]["code_expires_at"].as_i64().unwrap() > 0);
    (cookie, code, id)
}

pub async fn redeem(app: &App, cookie: &str, code: &str) -> axum::response::Response {
    app.call(
        axum::http::Method::POST,
        tandem_protocol::routes::SESSION_REDEEM,
        Some(&serde_json::json!({ "code": code })),
        Some(cookie),
    )
    .await
}

pub async fn post(
    app: &App,
    cookie: &str,
    route: &str,
    id: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let response = app
        .call(
            axum::http::Method::POST,
            &tandem_protocol::routes::with_id(route, id),
            body.as_ref(),
            Some(cookie),
        )
        .await;
    assert_eq!(response.status(), 200, "POST {route}");
    json_of(response).await
}

/// The helper (`helper` cookie) asks for `mode` and the sharer allows it;
/// both answer 200. Returns the session view after the consent.
pub async fn consented(
    app: &App,
    helper: &str,
    sharer: &str,
    id: &str,
    mode: &str,
) -> serde_json::Value {
    let request = serde_json::json!({ "mode": mode });
    post(
        app,
        helper,
        tandem_protocol::routes::SESSION_REQUEST,
        id,
        Some(request),
    )
    .await;
    let allow = serde_json::json!({ "allow": true });
    post(
        app,
        sharer,
        tandem_protocol::routes::SESSION_CONSENT,
        id,
        Some(allow),
    )
    .await
}

/// Enrolls a device with a fresh agent key (seed `seed`) and pairs it with
/// the sharer `sharer_cookie` through a one-time link; returns the device
/// id, to redeem codes with (`redeem_on`), so the agent is the media end.
pub async fn paired_device(app: &App, sharer_cookie: &str, seed: u8) -> String {
    use base64::Engine;
    let admin = app.sign_in("admin@contoso.test").await;
    let token = app
        .call(
            Method::POST,
            routes::ADMIN_ENROLLMENT_TOKENS,
            Some(&serde_json::json!({ "label": "tests", "valid_days": 1 })),
            Some(&admin),
        )
        .await;
    assert_eq!(token.status(), 201);
    let token = json_of(token).await["token"].as_str().unwrap().to_owned();
    let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    let public =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes());
    let body = serde_json::json!({
        "public_key": public, "name": format!("LT-TEST-{seed}"), "os": "Windows",
        "os_version": "11", "agent_version": "0.1.0", "enrollment_token": token,
    });
    let registered = app
        .call(Method::POST, routes::AGENT_REGISTER, Some(&body), None)
        .await;
    assert_eq!(registered.status(), 201);
    let device = json_of(registered).await["device"]
        .as_str()
        .unwrap()
        .to_owned();
    let (path, _) = app
        .sessions
        .pairing_link(&tandem_protocol::DeviceId(device.clone()), None)
        .await
        .unwrap();
    let nonce = path.strip_prefix("/share?pair=").unwrap();
    let paired = app
        .call(
            Method::POST,
            routes::AGENT_PAIR,
            Some(&serde_json::json!({ "nonce": nonce, "confirm": true })),
            Some(sharer_cookie),
        )
        .await;
    assert_eq!(paired.status(), 200);
    device
}

/// Redeems `code` for the paired `device`: its agent shares the screen.
pub async fn redeem_on(
    app: &App,
    cookie: &str,
    code: &str,
    device: &str,
) -> axum::response::Response {
    app.call(
        Method::POST,
        routes::SESSION_REDEEM,
        Some(&serde_json::json!({ "code": code, "device": device })),
        Some(cookie),
    )
    .await
}
