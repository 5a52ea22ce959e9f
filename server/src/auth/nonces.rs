//! The nonces of device-authenticated requests: each is accepted once
//! within the replay horizon (two clock skews), and a device may make only
//! so many requests within it. Kept in the database, so a request replayed
//! to another replica is refused there too; the clock check refuses
//! anything older than the horizon anyway.

use crate::store::live_limits::NonceRecorded;
use crate::store::{Store, StoreResult};
use std::sync::{Arc, Mutex};
use tandem_protocol::agent::DEVICE_AUTH_SKEW_MILLIS;
use tandem_protocol::{DeviceId, UnixMillis};

/// Device-authenticated requests one device may make within the replay
/// horizon (two clock skews, 2 minutes): 5 a second, far above what an
/// agent needs (it connects, reconnects and asks for a pairing link).
pub const MAX_NONCES_PER_DEVICE: usize = 600;

/// How often the nonces of devices gone quiet are deleted.
const FORGET_EVERY_MILLIS: i64 = 10_000;

/// What [`NonceLog::first_use`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceUse {
    First,
    Replayed,
    /// The device made too many requests within the horizon; it may try
    /// again after this many seconds.
    TooMany(u64),
}

/// The nonces seen. Cheap to clone.
#[derive(Debug, Clone)]
pub struct NonceLog {
    store: Store,
    forgot_at: Arc<Mutex<Option<UnixMillis>>>,
}

impl NonceLog {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            forgot_at: Arc::new(Mutex::new(None)),
        }
    }

    /// Accepts a device-auth nonce once.
    pub async fn first_use(
        &self,
        device: &DeviceId,
        nonce: &str,
        now: UnixMillis,
    ) -> StoreResult<NonceUse> {
        let horizon = 2 * DEVICE_AUTH_SKEW_MILLIS;
        let horizon_start = UnixMillis(now.0 - horizon);
        // Devices quiet for a whole horizon are forgotten, at most every
        // 10 s, so the table holds only recently active devices.
        let forget = self.forgot_at.lock().is_ok_and(|mut at| {
            let due = at.is_none_or(|t| now.millis_since(t) > FORGET_EVERY_MILLIS);
            if due {
                *at = Some(now);
            }
            due
        });
        if forget {
            self.store.forget_nonces(horizon_start).await?;
        }
        let max = i64::try_from(MAX_NONCES_PER_DEVICE).unwrap_or(i64::MAX);
        Ok(
            match self
                .store
                .record_nonce(device, nonce, now, horizon_start, max)
                .await?
            {
                NonceRecorded::First => NonceUse::First,
                NonceRecorded::Replayed => NonceUse::Replayed,
                NonceRecorded::Full { oldest } => {
                    let wait = horizon - now.millis_since(oldest);
                    NonceUse::TooMany(u64::try_from(wait.max(0) / 1000 + 1).unwrap_or(1))
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn log() -> (NonceLog, Store) {
        let store = Store::open_scratch().await.unwrap();
        (NonceLog::new(store.clone()), store)
    }

    #[tokio::test]
    async fn a_nonce_passes_once() {
        let (nonces, _) = log().await;
        let d = DeviceId("d".into());
        let first = |device: DeviceId, nonce: &'static str, at: i64| {
            let nonces = nonces.clone();
            async move {
                nonces
                    .first_use(&device, nonce, UnixMillis(at))
                    .await
                    .unwrap()
            }
        };
        assert_eq!(first(d.clone(), "n", 0).await, NonceUse::First);
        assert_eq!(first(d.clone(), "n", 1).await, NonceUse::Replayed);
        assert_eq!(first(DeviceId("e".into()), "n", 1).await, NonceUse::First);
    }

    #[tokio::test]
    async fn a_nonce_replayed_to_another_replica_is_refused_there() {
        let (a, store) = log().await;
        let Ok(other) = store.open_again().await else {
            // SQLite: one server, so one log; the check above covers it.
            return assert!(!store.shared_by_replicas());
        };
        let b = NonceLog::new(other);
        let d = DeviceId("d".into());
        assert_eq!(
            a.first_use(&d, "n", UnixMillis(0)).await.unwrap(),
            NonceUse::First
        );
        assert_eq!(
            b.first_use(&d, "n", UnixMillis(1)).await.unwrap(),
            NonceUse::Replayed
        );
    }

    #[tokio::test]
    async fn one_device_holds_a_bounded_number_of_nonces() {
        let (nonces, store) = log().await;
        let (d, other) = (DeviceId("d".into()), DeviceId("e".into()));
        for i in 0..MAX_NONCES_PER_DEVICE {
            let at = UnixMillis(i64::try_from(i).unwrap());
            assert_eq!(
                nonces.first_use(&d, &format!("n{i}"), at).await.unwrap(),
                NonceUse::First
            );
        }
        // The next request of the same device waits for the oldest nonce
        // to leave the 2-minute horizon; other devices are not affected,
        // and a replay is still a replay.
        let at = |millis| UnixMillis(millis);
        assert_eq!(
            nonces.first_use(&d, "one-more", at(1_000)).await.unwrap(),
            NonceUse::TooMany(120)
        );
        assert_eq!(
            nonces.first_use(&d, "n5", at(1_000)).await.unwrap(),
            NonceUse::Replayed
        );
        assert_eq!(
            nonces.first_use(&other, "x", at(1_000)).await.unwrap(),
            NonceUse::First
        );
        assert_eq!(
            nonces.first_use(&d, "one-more", at(120_001)).await.unwrap(),
            NonceUse::First
        );
        // Only the horizon's nonces stay, and quiet devices go.
        nonces
            .first_use(&DeviceId("f".into()), "y", at(400_000))
            .await
            .unwrap();
        let held = store
            .record_nonce(
                &DeviceId("g".into()),
                "z",
                at(400_000),
                at(400_000 - 120_000),
                600,
            )
            .await
            .unwrap();
        assert_eq!(held, NonceRecorded::First);
        for device in [&d, &other] {
            assert_eq!(
                store
                    .record_nonce(device, "probe", at(400_000), at(0), 1)
                    .await
                    .unwrap(),
                NonceRecorded::First,
                "the device's old nonces were deleted"
            );
        }
    }
}
