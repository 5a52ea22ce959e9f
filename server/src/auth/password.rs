//! Password hashing with argon2id (OWASP parameters: 19 MiB, t=2, p=1).
//!
//! Hashing is CPU-bound and deliberately slow, so it runs on the blocking
//! pool, never on the async workers.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("hashing task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

fn argon2() -> Result<Argon2<'static>, PasswordError> {
    let params =
        Params::new(19 * 1024, 2, 1, None).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Hashes a password into a PHC string.
pub async fn hash_password(password: String) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

/// A hash of a random password, verified against when the account does not
/// exist, so that "no such user" takes as long as "wrong password".
fn decoy_hash() -> Option<&'static str> {
    static DECOY: OnceLock<Option<String>> = OnceLock::new();
    DECOY
        .get_or_init(|| hash_blocking(&uuid::Uuid::new_v4().to_string()).ok())
        .as_deref()
}

/// Checks `password` against `stored` (a PHC string), or against a decoy
/// when there is no stored hash. False on any mismatch or malformed hash.
pub async fn verify_password(
    password: String,
    stored: Option<String>,
) -> Result<bool, PasswordError> {
    tokio::task::spawn_blocking(move || {
        let (phc, real) = match stored.as_deref() {
            Some(phc) => (phc, true),
            None => (decoy_hash().unwrap_or_default(), false),
        };
        let Ok(parsed) = PasswordHash::new(phc) else {
            if real {
                tracing::error!("stored password hash is malformed");
            }
            return Ok(false);
        };
        let matches = argon2()?
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(real && matches)
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_are_salted_argon2id() {
        let a = hash_password("correct horse".into()).await.unwrap();
        let b = hash_password("correct horse".into()).await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_ne!(a, b, "each hash has its own salt");
        assert!(
            verify_password("correct horse".into(), Some(a.clone()))
                .await
                .unwrap()
        );
        assert!(!verify_password("wrong".into(), Some(a)).await.unwrap());
    }

    #[tokio::test]
    async fn missing_or_malformed_hashes_never_verify() {
        assert!(!verify_password("x".into(), None).await.unwrap());
        assert!(
            !verify_password("x".into(), Some("not-a-phc".into()))
                .await
                .unwrap()
        );
    }
}
