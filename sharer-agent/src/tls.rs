//! Whom the agent trusts when the server is `https://`: the system's root
//! certificates, or only the CA in `--ca FILE` (an organization's private
//! CA). One rustls configuration (on ring) serves the HTTP client and the
//! WebSockets. A certificate from any other CA is refused with a message
//! that says so and what to do.

use crate::client::ClientError;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the CA file {path}: {reason}")]
    CaFile { path: PathBuf, reason: String },
    #[error("the CA file {0} holds no certificate")]
    EmptyCa(PathBuf),
    #[error("this system has no root certificates to check the server with; pass --ca FILE")]
    NoSystemRoots,
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Where trust comes from.
#[derive(Debug, Clone)]
enum Trust {
    System,
    Ca(PathBuf),
}

impl Trust {
    fn describe(&self) -> String {
        match self {
            Trust::System => "a CA this system trusts".into(),
            Trust::Ca(path) => format!("the CA in {}", path.display()),
        }
    }
}

static TRUST: OnceLock<Trust> = OnceLock::new();
static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();

/// Sets whom to trust, once, before the first connection: the CA in `ca`
/// (checked now, so a bad file is an error at start), or the system's
/// roots (read at the first `https://` connection).
pub fn configure(ca: Option<&Path>) -> Result<(), TlsError> {
    // The process's provider too, for clients that pick their own (a
    // plain-HTTP reqwest client still builds its TLS half): rustls cannot
    // choose one by itself when the build enables more than one, as the
    // Windows build does.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let trust = match ca {
        Some(path) => {
            let config = build(&Trust::Ca(path.to_owned()))?;
            let _ = CONFIG.set(config);
            Trust::Ca(path.to_owned())
        }
        None => Trust::System,
    };
    let _ = TRUST.set(trust);
    Ok(())
}

fn trust() -> &'static Trust {
    TRUST.get_or_init(|| Trust::System)
}

/// The client configuration for `https://` and `wss://`.
pub fn client_config() -> Result<Arc<rustls::ClientConfig>, ClientError> {
    if let Some(config) = CONFIG.get() {
        return Ok(config.clone());
    }
    let config = build(trust()).map_err(|e| ClientError::Untrusted(e.to_string()))?;
    Ok(CONFIG.get_or_init(|| config).clone())
}

fn build(trust: &Trust) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    match trust {
        Trust::Ca(path) => {
            let unreadable = |reason: String| TlsError::CaFile {
                path: path.clone(),
                reason,
            };
            for certificate in
                CertificateDer::pem_file_iter(path).map_err(|e| unreadable(e.to_string()))?
            {
                roots
                    .add(certificate.map_err(|e| unreadable(e.to_string()))?)
                    .map_err(|e| unreadable(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(TlsError::EmptyCa(path.clone()));
            }
        }
        Trust::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(TlsError::NoSystemRoots);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// An HTTP client for `server` that, for `https://`, trusts what
/// [`configure`] said.
pub fn http_client(server: &str) -> Result<reqwest::Client, ClientError> {
    if !server.starts_with("https://") {
        return Ok(reqwest::Client::new());
    }
    let config = client_config()?;
    reqwest::Client::builder()
        .use_preconfigured_tls((*config).clone())
        .build()
        .map_err(|e| ClientError::Unreachable(e.to_string()))
}

/// The clear message for a connection that failed because the server's
/// certificate is not trusted, if that is why `error` happened.
pub fn untrusted(error: &(dyn std::error::Error + 'static)) -> Option<ClientError> {
    let mut current = Some(error);
    while let Some(error) = current {
        let rustls_error = rustls_in(error);
        if let Some(rustls::Error::InvalidCertificate(why)) = rustls_error {
            use rustls::CertificateError::{BadSignature, UnknownIssuer};
            return Some(ClientError::Untrusted(match why {
                UnknownIssuer | BadSignature => format!(
                    "the server's certificate is not trusted ({why:?}): it is not issued by {}. \
                     Ask your administrator for the organization's CA and pass it with --ca FILE",
                    trust().describe()
                ),
                // Expired, for another name, revoked: the CA is not the
                // problem, the server's certificate is.
                other => format!(
                    "the server's certificate is not valid ({other:?}); the server's \
                     administrator must renew or correct it"
                ),
            }));
        }
        current = error.source();
    }
    None
}

/// The rustls error in `error`, looking through `io::Error` wrappers (whose
/// `source()` skips the error they wrap).
fn rustls_in<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    if let Some(found) = error.downcast_ref::<rustls::Error>() {
        return Some(found);
    }
    let inner = error.downcast_ref::<std::io::Error>()?.get_ref()?;
    rustls_in(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_refusal_is_found_inside_nested_io_errors() {
        let rustls_error =
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let inner = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls_error);
        let outer = std::io::Error::other(inner);
        let message = untrusted(&outer).map(|e| e.to_string());
        assert!(
            message
                .as_deref()
                .is_some_and(|m| m.contains("not trusted") && m.contains("--ca")),
            "{message:?}"
        );
        let expired = std::io::Error::other(rustls::Error::InvalidCertificate(
            rustls::CertificateError::Expired,
        ));
        let message = untrusted(&expired).map(|e| e.to_string());
        assert!(
            message
                .as_deref()
                .is_some_and(|m| m.contains("not valid (Expired)") && !m.contains("--ca")),
            "{message:?}"
        );
        let unrelated = std::io::Error::other("connection refused");
        assert!(untrusted(&unrelated).is_none());
    }

    #[test]
    fn a_ca_file_without_a_certificate_is_refused_at_start() {
        let dir = std::env::temp_dir().join(format!("tandem-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        assert!(matches!(
            build(&Trust::Ca(empty.clone())),
            Err(TlsError::EmptyCa(_))
        ));
        assert!(matches!(
            build(&Trust::Ca(dir.join("missing.pem"))),
            Err(TlsError::CaFile { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
