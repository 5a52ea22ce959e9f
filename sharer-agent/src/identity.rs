//! The device's identity: its Ed25519 key pair, generated on first run and
//! kept in the state directory (readable by the owner only), and the
//! device id the server gave it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer, SigningKey};
use std::path::{Path, PathBuf};
use tandem_protocol::agent::{DeviceCredentials, device_auth_message};
use tandem_protocol::{DeviceId, UnixMillis};

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("cannot use the state directory {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the device key in {0} is damaged; remove it to register again")]
    Corrupt(PathBuf),
}

/// The key pair and, once registered, the device id.
#[derive(Debug)]
pub struct Identity {
    dir: PathBuf,
    key: SigningKey,
    pub device: Option<DeviceId>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IdentityError + '_ {
    move |source| IdentityError::Io {
        path: path.to_owned(),
        source,
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), IdentityError> {
    let mut options = crate::platform::private_file();
    options.write(true).create(true).truncate(true);
    use std::io::Write;
    options
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(io(path))
}

impl Identity {
    /// Loads the key from `dir`, or makes and saves a new one.
    pub fn load_or_create(dir: &Path) -> Result<Self, IdentityError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let key_path = dir.join("device.key");
        let key = match std::fs::read(&key_path) {
            Ok(bytes) => {
                let seed: [u8; 32] = bytes
                    .try_into()
                    .map_err(|_| IdentityError::Corrupt(key_path.clone()))?;
                SigningKey::from_bytes(&seed)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut seed = [0u8; 32];
                getrandom(&mut seed).map_err(io(&key_path))?;
                write_private(&key_path, &seed)?;
                SigningKey::from_bytes(&seed)
            }
            Err(e) => return Err(io(&key_path)(e)),
        };
        let device = std::fs::read_to_string(dir.join("device.id"))
            .ok()
            .map(|s| DeviceId(s.trim().to_owned()))
            .filter(|d| !d.0.is_empty());
        Ok(Self {
            dir: dir.to_owned(),
            key,
            device,
        })
    }

    /// Remembers the device id the server gave.
    pub fn save_device(&mut self, device: DeviceId) -> Result<(), IdentityError> {
        write_private(&self.dir.join("device.id"), device.0.as_bytes())?;
        self.device = Some(device);
        Ok(())
    }

    /// The public key, base64url, for registration.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.verifying_key().to_bytes())
    }

    /// A fresh `Authorization` header for `GET path`.
    pub fn auth_header(&self, path: &str, now: UnixMillis) -> Option<String> {
        let device = self.device.clone()?;
        let mut nonce = [0u8; 16];
        getrandom(&mut nonce).ok()?;
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        let message = device_auth_message(&device, now, &nonce, "GET", path);
        let signature = URL_SAFE_NO_PAD.encode(self.key.sign(message.as_bytes()).to_bytes());
        Some(
            DeviceCredentials {
                device,
                at: now,
                nonce,
                signature,
            }
            .header_value(),
        )
    }
}

/// Fills `bytes` from the OS's random source.
fn getrandom(bytes: &mut [u8]) -> std::io::Result<()> {
    getrandom::fill(bytes).map_err(|e| std::io::Error::other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_survives_a_restart_and_signs_verifiable_headers() {
        let dir = std::env::temp_dir().join(format!("tandem-agent-id-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut first = Identity::load_or_create(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            first.auth_header("/x", UnixMillis(1)).is_none(),
            "not registered yet"
        );
        first
            .save_device(DeviceId("dev-9".into()))
            .unwrap_or_else(|e| panic!("{e}"));
        let second = Identity::load_or_create(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.public_key(), second.public_key());
        assert_eq!(second.device, Some(DeviceId("dev-9".into())));
        let header = second.auth_header("/x", UnixMillis(5)).unwrap_or_default();
        let parsed = DeviceCredentials::parse(&header).unwrap_or_else(|| panic!("{header}"));
        assert_eq!(parsed.at, UnixMillis(5));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
