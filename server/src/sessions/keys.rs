//! The server's session secrets: the key security codes are hashed with and
//! the Ed25519 key grants are signed with. Both are made on first start and
//! kept in the database, so codes and grants survive a restart.

use crate::store::{Store, StoreResult};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use ed25519_dalek::SigningKey;
use tandem_protocol::UnixMillis;
use tandem_protocol::grant::{Grant, GrantKey, SignedGrant};

fn random_32() -> Vec<u8> {
    let mut bytes = vec![0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// The session secrets.
pub struct SessionKeys {
    code_key: Vec<u8>,
    grant_key: SigningKey,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKeys")
            .field("grant_key", &self.public().key_id)
            .finish_non_exhaustive()
    }
}

impl SessionKeys {
    /// Loads the keys, making them on first use.
    pub async fn load(store: &Store, now: UnixMillis) -> StoreResult<Self> {
        let code_key = store.server_secret("code-hmac", random_32, now).await?;
        let seed = store.server_secret("grant-ed25519", random_32, now).await?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| crate::store::StoreError::Corrupt {
                table: "server_secrets",
                reason: "grant-ed25519 is not 32 bytes".into(),
            })?;
        Ok(Self {
            code_key,
            grant_key: SigningKey::from_bytes(&seed),
        })
    }

    /// The key security codes are hashed with.
    pub fn code_key(&self) -> &[u8] {
        &self.code_key
    }

    /// The public half of the grant key.
    pub fn public(&self) -> GrantKey {
        GrantKey::of(&self.grant_key.verifying_key())
    }

    /// Signs a grant for `session`.
    pub fn sign(
        &self,
        session: &tandem_protocol::SessionId,
        mode: tandem_protocol::session::Mode,
        elevation: bool,
        now: UnixMillis,
        lifetime_millis: i64,
    ) -> Option<SignedGrant> {
        let grant = Grant {
            session: session.clone(),
            mode,
            elevation,
            issued_at: now,
            expires_at: UnixMillis(now.0.saturating_add(lifetime_millis)),
            key_id: self.public().key_id,
        };
        SignedGrant::sign(&grant, &self.grant_key).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_protocol::SessionId;
    use tandem_protocol::session::Mode;

    #[tokio::test]
    async fn keys_survive_a_reload_and_grants_verify_with_the_public_key() {
        let store = Store::open_scratch().await.unwrap();
        let keys = SessionKeys::load(&store, UnixMillis(1)).await.unwrap();
        let again = SessionKeys::load(&store, UnixMillis(2)).await.unwrap();
        assert_eq!(keys.public(), again.public());
        assert_eq!(keys.code_key(), again.code_key());
        let session = SessionId::from("s1");
        let signed = keys
            .sign(&session, Mode::View, false, UnixMillis(10), 60_000)
            .unwrap();
        let public = again.public().verifying_key().unwrap();
        let grant = signed.verify(&public, &session, UnixMillis(20)).unwrap();
        assert_eq!(grant.mode, Mode::View);
        assert_eq!(grant.expires_at, UnixMillis(60_010));
    }
}
