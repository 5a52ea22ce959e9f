//! Grants: what the sharer consented to, signed by the server with Ed25519.
//!
//! When the sharer allows a mode, the server signs a short-lived [`Grant`]
//! (session, mode, elevation, expiry) and sends it to the sharer's side. The
//! agent verifies it against the server's [`GrantKey`] before it sends a
//! pixel or injects an event, and stops when it expires or ends. The server
//! renews it while the session stays live.
//!
//! The signed bytes are `DOMAIN` followed by the payload's JSON, so a
//! signature over anything else the server signs can never pass as a grant.
//! Signing and checking need the `grants` feature; the types do not.

use crate::session::Mode;
use crate::{SessionId, UnixMillis};
use serde::{Deserialize, Serialize};

/// Prefix of every signed grant payload.
pub const DOMAIN: &[u8] = b"tandem-grant-v1\n";

/// What a grant allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub session: SessionId,
    pub mode: Mode,
    /// Whether the helper may act on UAC / secure-desktop prompts.
    pub elevation: bool,
    pub issued_at: UnixMillis,
    pub expires_at: UnixMillis,
    /// Which server key signed it ([`GrantKey::key_id`]).
    pub key_id: String,
}

/// A grant as it travels: the payload (base64url of the JSON) and the
/// Ed25519 signature over `DOMAIN ‖ JSON` (base64url).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedGrant {
    pub payload: String,
    pub signature: String,
}

/// The server's grant-signing public key.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantKey {
    pub key_id: String,
    /// The 32-byte Ed25519 public key, base64url without padding.
    pub public_key: String,
}

/// Why a grant was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantError {
    Encoding,
    BadSignature,
    WrongKey,
    WrongSession,
    Expired,
}

impl std::fmt::Display for GrantError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GrantError::Encoding => "the grant is not well formed",
            GrantError::BadSignature => "the grant's signature does not verify",
            GrantError::WrongKey => "the grant was signed by another key",
            GrantError::WrongSession => "the grant is for another session",
            GrantError::Expired => "the grant has expired",
        })
    }
}

#[cfg(feature = "grants")]
mod signing {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
    use sha2::{Digest, Sha256};

    fn signed_bytes(json: &[u8]) -> Vec<u8> {
        [DOMAIN, json].concat()
    }

    /// A key id: the first 8 bytes of SHA-256 of the public key, in hex.
    pub fn key_id(key: &VerifyingKey) -> String {
        Sha256::digest(key.as_bytes())[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    impl GrantKey {
        pub fn of(key: &VerifyingKey) -> Self {
            Self {
                key_id: key_id(key),
                public_key: URL_SAFE_NO_PAD.encode(key.as_bytes()),
            }
        }

        /// The verifying key this describes.
        pub fn verifying_key(&self) -> Result<VerifyingKey, GrantError> {
            let bytes: [u8; 32] = URL_SAFE_NO_PAD
                .decode(&self.public_key)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or(GrantError::Encoding)?;
            VerifyingKey::from_bytes(&bytes).map_err(|_| GrantError::Encoding)
        }
    }

    impl SignedGrant {
        /// Signs `grant` (whose `key_id` should name `key`).
        pub fn sign(grant: &Grant, key: &SigningKey) -> Result<Self, GrantError> {
            let json = serde_json::to_vec(grant).map_err(|_| GrantError::Encoding)?;
            let signature = key.sign(&signed_bytes(&json));
            Ok(Self {
                payload: URL_SAFE_NO_PAD.encode(&json),
                signature: URL_SAFE_NO_PAD.encode(signature.to_bytes()),
            })
        }

        /// The grant, if `key` signed it, it is for `session`, and it has not
        /// expired at `now`.
        pub fn verify(
            &self,
            key: &VerifyingKey,
            session: &SessionId,
            now: UnixMillis,
        ) -> Result<Grant, GrantError> {
            let json = URL_SAFE_NO_PAD
                .decode(&self.payload)
                .map_err(|_| GrantError::Encoding)?;
            let signature: [u8; 64] = URL_SAFE_NO_PAD
                .decode(&self.signature)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or(GrantError::Encoding)?;
            key.verify_strict(&signed_bytes(&json), &Signature::from_bytes(&signature))
                .map_err(|_| GrantError::BadSignature)?;
            let grant: Grant = serde_json::from_slice(&json).map_err(|_| GrantError::Encoding)?;
            if grant.key_id != key_id(key) {
                return Err(GrantError::WrongKey);
            }
            if &grant.session != session {
                return Err(GrantError::WrongSession);
            }
            if now >= grant.expires_at {
                return Err(GrantError::Expired);
            }
            Ok(grant)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn key(seed: u8) -> SigningKey {
            SigningKey::from_bytes(&[seed; 32])
        }

        fn grant(key: &SigningKey) -> Grant {
            Grant {
                session: SessionId::from("s1"),
                mode: Mode::Control,
                elevation: false,
                issued_at: UnixMillis(1_000),
                expires_at: UnixMillis(61_000),
                key_id: key_id(&key.verifying_key()),
            }
        }

        #[test]
        fn a_signed_grant_verifies_until_it_expires() {
            let signer = key(7);
            let public = GrantKey::of(&signer.verifying_key())
                .verifying_key()
                .unwrap_or_else(|_| signer.verifying_key());
            let signed = SignedGrant::sign(&grant(&signer), &signer);
            let signed = signed.unwrap_or_else(|e| panic!("{e}"));
            let session = SessionId::from("s1");
            assert_eq!(
                signed.verify(&public, &session, UnixMillis(60_999)),
                Ok(grant(&signer))
            );
            assert_eq!(
                signed.verify(&public, &session, UnixMillis(61_000)),
                Err(GrantError::Expired)
            );
            assert_eq!(
                signed.verify(&public, &SessionId::from("s2"), UnixMillis(2_000)),
                Err(GrantError::WrongSession)
            );
        }

        #[test]
        fn tampering_or_another_key_fails() {
            let signer = key(7);
            let signed =
                SignedGrant::sign(&grant(&signer), &signer).unwrap_or_else(|e| panic!("{e}"));
            let session = SessionId::from("s1");
            let other = key(8).verifying_key();
            assert_eq!(
                signed.verify(&other, &session, UnixMillis(2_000)),
                Err(GrantError::BadSignature)
            );
            // Upgrade the mode in the payload: the signature no longer fits.
            let mut forged = grant(&signer);
            forged.elevation = true;
            let forged_json = serde_json::to_vec(&forged).unwrap_or_default();
            let tampered = SignedGrant {
                payload: URL_SAFE_NO_PAD.encode(forged_json),
                signature: signed.signature.clone(),
            };
            assert_eq!(
                tampered.verify(&signer.verifying_key(), &session, UnixMillis(2_000)),
                Err(GrantError::BadSignature)
            );
            let garbage = SignedGrant {
                payload: "!!".into(),
                signature: signed.signature,
            };
            assert_eq!(
                garbage.verify(&signer.verifying_key(), &session, UnixMillis(2_000)),
                Err(GrantError::Encoding)
            );
        }
    }
}

#[cfg(feature = "grants")]
pub use signing::key_id;
