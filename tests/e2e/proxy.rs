//! The nginx configuration the README shows (`deploy/nginx/tandem.conf`),
//! run as it is in front of two replicas on one PostgreSQL database, with
//! only its addresses and certificate paths replaced: sign-in and the API
//! over TLS, an agent's registration and control socket (a WebSocket)
//! through it, and requests still answered while one replica is stopped.

use crate::tls::{ca, leaf, trusting};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use tandem_protocol::routes;
use tandem_tests::desktop::Agent;
use tandem_tests::{
    DEMO_PASSWORD, Database, GroupChild, ServerOptions, TestServer, agent_binary, free_port,
};

/// `text` with `from` replaced by `to`, which must be there.
fn replaced(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "the nginx example no longer has {from:?}"
    );
    text.replacen(from, to, 1)
}

/// The shipped configuration for this test's addresses, inside the
/// `http { }` block of a whole nginx configuration of its own.
fn nginx_conf(dir: &Path, port: u16, a: &str, b: &str) -> String {
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/nginx/tandem.conf"),
    )
    .unwrap();
    let host = |url: &str| url.trim_start_matches("http://").to_owned();
    let mut conf = replaced(
        &shipped,
        "server 10.0.0.11:8080",
        &format!("server {}", host(a)),
    );
    conf = replaced(
        &conf,
        "server 10.0.0.12:8080",
        &format!("server {}", host(b)),
    );
    conf = replaced(
        &conf,
        "listen 443 ssl;",
        &format!("listen 127.0.0.1:{port} ssl;"),
    );
    let path = |name: &str| dir.join(name).display().to_string();
    conf = replaced(&conf, "/etc/tandem/tls/fullchain.pem", &path("cert.pem"));
    conf = replaced(&conf, "/etc/tandem/tls/privkey.pem", &path("key.pem"));
    format!(
        "user root;\ndaemon off;\npid {pid};\nerror_log {err} info;\nevents {{}}\nhttp {{\n\
         access_log {access};\nclient_body_temp_path {tmp};\nproxy_temp_path {tmp};\n{conf}\n}}\n",
        pid = path("nginx.pid"),
        err = path("error.log"),
        access = path("access.log"),
        tmp = path("tmp"),
    )
}

/// A cookie-keeping client that trusts only `ca_pem`.
fn browser_like(ca_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls(trusting(ca_pem))
        .cookie_store(true)
        .build()
        .unwrap()
}

#[test]
fn the_readme_shows_the_tested_nginx_configuration() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let shipped = std::fs::read_to_string(root.join("deploy/nginx/tandem.conf")).unwrap();
    let directives = |text: &str| -> Vec<String> {
        text.lines()
            .map(|line| line.split('#').next().unwrap_or_default().trim().to_owned())
            .filter(|line| !line.is_empty())
            .collect()
    };
    let block = readme
        .split("```nginx\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README has an nginx block");
    let shown = directives(block);
    assert!(shown.len() > 20, "{shown:?}");
    assert_eq!(
        shown,
        directives(&shipped),
        "the README shows another configuration"
    );
}

#[tokio::test]
async fn the_documented_nginx_configuration_serves_two_replicas() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tmp")).unwrap();
    let (ca_pem, issuer) = ca("Tandem proxy test CA");
    let (cert_pem, key_pem, _) = leaf(&issuer);
    std::fs::write(dir.path().join("ca.pem"), &ca_pem).unwrap();
    std::fs::write(dir.path().join("cert.pem"), cert_pem).unwrap();
    std::fs::write(dir.path().join("key.pem"), key_pem).unwrap();
    let port = free_port().unwrap();
    let public = format!("https://127.0.0.1:{port}");
    let options = ServerOptions {
        database: Database::Postgres,
        config_toml: Some(format!(
            "trusted_proxies = [\"127.0.0.1\"]\npublic_url = {public:?}\ndrain_seconds = 5\n"
        )),
        ..ServerOptions::default()
    };
    let mut a = TestServer::start_with(options).await.unwrap();
    let mut b = a.start_replica().await.unwrap();
    let conf = nginx_conf(dir.path(), port, a.base_url(), b.base_url());
    std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
    let mut command = Command::new("nginx");
    command
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .stdin(Stdio::null());
    let _nginx = GroupChild::spawn("nginx", command).unwrap();
    let http = browser_like(&ca_pem);
    let url = |path: &str| format!("{public}{path}");

    // nginx is up once it answers for the servers.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(response) = http.get(url(routes::READYZ)).send().await
            && response.status() == 200
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nginx never answered: {}",
            std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Sign-in and the API over TLS; the session works on either replica.
    let login = http
        .post(url(routes::AUTH_LOGIN))
        .json(&serde_json::json!({ "email": "megan@contoso.test", "password": DEMO_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    for _ in 0..4 {
        let me = http.get(url(routes::AUTH_ME)).send().await.unwrap();
        assert_eq!(me.status(), 200);
    }

    // An agent registers (HTTPS) and opens its control socket (WSS): the
    // pairing link it prints came over that socket.
    let state = tempfile::Builder::new()
        .prefix("tandem-agent-")
        .tempdir()
        .unwrap();
    let mut agent_command = Command::new(agent_binary().unwrap());
    agent_command
        .args(["--server", &public, "--no-browser", "--ca"])
        .arg(dir.path().join("ca.pem"))
        .arg("--state-dir")
        .arg(state.path())
        .env("DISPLAY", ":nonexistent");
    let agent = Agent::spawn(agent_command, state).unwrap();
    agent
        .wait_for_line("Open this link to continue: ", Duration::from_secs(30))
        .await
        .unwrap_or_else(|error| panic!("{error}; the agent said:\n{}", agent.output()));

    // The agent's replica stops (drains and exits): nginx sends
    // everything to the other, and the agent's socket comes back there.
    let online = |server: &TestServer| server.log().matches("agent online").count();
    let (gone, stays) = if online(&a) > 0 {
        (&mut a, &b)
    } else {
        (&mut b, &a)
    };
    let before = online(stays);
    let status = gone.stop(Duration::from_secs(15)).await.unwrap();
    assert!(status.success(), "{status}");
    for _ in 0..6 {
        let me = http.get(url(routes::AUTH_ME)).send().await.unwrap();
        assert_eq!(me.status(), 200, "with one replica stopped");
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while online(stays) == before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the agent never reached the other replica:\n{}\n{}",
            stays.log(),
            agent.output()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
