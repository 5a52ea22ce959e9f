//! TLS without a proxy: the server terminates TLS with a certificate from
//! a CA the test makes; the agent trusts only the CA it is given and
//! refuses another, saying why; SIGHUP swaps the certificate for new
//! connections while the agent's open socket stays up.

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem_protocol::routes;
use tandem_tests::desktop::Agent;
use tandem_tests::{ServerOptions, TestServer, agent_binary};

const METRICS_TOKEN: &str = "metrics-token-of-the-tls-test-0123456789";

pub(crate) fn ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let mut params = CertificateParams::new(Vec::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    let pem = params.self_signed(&key).unwrap().pem();
    (pem, Issuer::new(params, key))
}

/// A server certificate for 127.0.0.1 and its key, both PEM.
pub(crate) fn leaf(issuer: &Issuer<'static, KeyPair>) -> (String, String, Vec<u8>) {
    let params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let certificate = params.signed_by(&key, issuer).unwrap();
    (
        certificate.pem(),
        key.serialize_pem(),
        certificate.der().to_vec(),
    )
}

/// A TLS client configuration that trusts only `ca_pem`.
pub(crate) fn trusting(ca_pem: &str) -> rustls::ClientConfig {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for der in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(der.unwrap()).unwrap();
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// A client that trusts only `ca_pem`, on a fresh connection pool.
fn client_trusting(ca_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls(trusting(ca_pem))
        .tls_info(true)
        .build()
        .unwrap()
}

/// `/metrics` over TLS, and the certificate the server presented.
async fn metrics(server: &TestServer, ca_pem: &str) -> (String, Vec<u8>) {
    let response = client_trusting(ca_pem)
        .get(server.url(routes::METRICS))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let presented = response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .unwrap()
        .to_vec();
    (response.text().await.unwrap(), presented)
}

fn agent_command(server: &TestServer, ca: &std::path::Path, state: &std::path::Path) -> Command {
    let mut command = Command::new(agent_binary().unwrap());
    command
        .args(["--server", server.base_url(), "--no-browser", "--ca"])
        .arg(ca)
        .arg("--state-dir")
        .arg(state)
        .env("DISPLAY", ":nonexistent");
    command
}

#[tokio::test]
async fn the_agent_trusts_only_its_ca_and_sighup_renews_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (ca_pem, issuer) = ca("Tandem test CA");
    let (other_ca_pem, _) = ca("Some other CA");
    let (cert_pem, key_pem, first_der) = leaf(&issuer);
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("ca.pem"), &ca_pem).unwrap();
    std::fs::write(path("other-ca.pem"), &other_ca_pem).unwrap();
    std::fs::write(path("cert.pem"), cert_pem).unwrap();
    std::fs::write(path("key.pem"), key_pem).unwrap();
    let options = ServerOptions {
        config_toml: Some(format!(
            "tls_cert = {:?}\ntls_key = {:?}\nmetrics_token = {METRICS_TOKEN:?}\n",
            path("cert.pem"),
            path("key.pem")
        )),
        ..ServerOptions::default()
    };
    let server = TestServer::start_with(options).await.unwrap();
    assert!(
        server.base_url().starts_with("https://"),
        "{}",
        server.base_url()
    );

    // Trusting another CA, the agent refuses the server and says why.
    let state = tempfile::tempdir().unwrap();
    let refused = tokio::task::spawn_blocking({
        let mut command = agent_command(&server, &path("other-ca.pem"), state.path());
        move || command.output().unwrap()
    })
    .await
    .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("certificate is not trusted") && said.contains("--ca"),
        "{said}"
    );

    // Trusting the right CA, it registers (https) and holds its control
    // socket (wss).
    let state = tempfile::Builder::new()
        .prefix("tandem-agent-")
        .tempdir()
        .unwrap();
    let command = agent_command(&server, &path("ca.pem"), state.path());
    let agent = Agent::spawn(command, state).unwrap();
    agent
        .wait_for_line("registered as", Duration::from_secs(20))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (text, presented) = metrics(&server, &ca_pem).await;
        assert_eq!(presented, first_der);
        if text.contains("tandem_sockets{kind=\"agent\"} 1") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the agent's socket never opened:\n{}",
            agent.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A renewed certificate: SIGHUP, and new connections get it.
    let (cert_pem, key_pem, second_der) = leaf(&issuer);
    std::fs::write(path("cert.pem"), cert_pem).unwrap();
    std::fs::write(path("key.pem"), key_pem).unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(server.pid()).unwrap()),
        nix::sys::signal::Signal::SIGHUP,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let (text, presented) = metrics(&server, &ca_pem).await;
        if presented == second_der {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate is never presented"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The agent's socket, opened under the old certificate, is still the
    // same one: counted, connected once, never dropped.
    assert!(text.contains("tandem_sockets{kind=\"agent\"} 1"), "{text}");
    let log = server.log();
    assert!(log.contains("reloaded the TLS certificate"));
    assert_eq!(log.matches("agent online").count(), 1, "{log}");
    assert_eq!(log.matches("agent offline").count(), 0, "{log}");
}
