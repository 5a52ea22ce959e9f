//! Short-lived facts every replica must agree on, kept in the database:
//! pairing links, the nonces of device-authenticated requests, and the
//! windows of rate limits. Each check-and-count is one atomic statement
//! (an upsert with `RETURNING`, or an insert that conflicts), so replicas
//! racing on one key can never let more through than the limit.

use super::{Store, StoreResult};
use sqlx::Row;
use tandem_protocol::{DeviceId, SessionId, UnixMillis};

/// What a pairing link leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pairing {
    pub device: DeviceId,
    pub session: Option<SessionId>,
    pub expires_at: UnixMillis,
}

/// Bounds on the pairing links kept.
#[derive(Debug, Clone, Copy)]
pub struct PairingBounds {
    /// Per device: a new link replaces the device's oldest.
    pub per_device: i64,
    /// Overall: a new link replaces the oldest of all.
    pub overall: i64,
}

/// What recording a device nonce found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceRecorded {
    First,
    Replayed,
    /// The device holds `max` nonces within the horizon; the oldest was
    /// seen at this time.
    Full {
        oldest: UnixMillis,
    },
}

/// A rate window after counting one more event in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub started_at: UnixMillis,
    pub count: u32,
}

const PAIRING_COLUMNS: &str = "device_id, session_id, expires_at";

fn pairing_from(row: &sqlx::any::AnyRow) -> StoreResult<Pairing> {
    let session: Option<String> = row.try_get(1)?;
    Ok(Pairing {
        device: DeviceId(row.try_get(0)?),
        session: session.map(SessionId),
        expires_at: UnixMillis(row.try_get(2)?),
    })
}

impl Store {
    /// Keeps a pairing link under the hash of its nonce, within `bounds`.
    pub async fn add_pairing(
        &self,
        token_hash: &str,
        pairing: &Pairing,
        now: UnixMillis,
        bounds: PairingBounds,
    ) -> StoreResult<()> {
        sqlx::query("DELETE FROM pairing_links WHERE expires_at <= $1")
            .bind(now.0)
            .execute(self.pool())
            .await?;
        self.trim_pairings(&pairing.device, bounds).await?;
        sqlx::query(
            "INSERT INTO pairing_links (token_hash, device_id, session_id, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(pairing.device.0.as_str())
        .bind(pairing.session.as_ref().map(|s| s.0.as_str()))
        .bind(pairing.expires_at.0)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Deletes the oldest links beyond the bounds, leaving room for one.
    async fn trim_pairings(&self, device: &DeviceId, bounds: PairingBounds) -> StoreResult<()> {
        for (filter, keep) in [
            ("WHERE device_id = $1", bounds.per_device - 1),
            ("WHERE $1 = $1", bounds.overall - 1),
        ] {
            let old: Vec<String> = sqlx::query_scalar(&format!(
                "SELECT token_hash FROM pairing_links {filter} \
                 ORDER BY expires_at DESC, token_hash LIMIT 1000 OFFSET $2"
            ))
            .bind(device.0.as_str())
            .bind(keep.max(0))
            .fetch_all(self.pool())
            .await?;
            for hash in old {
                sqlx::query("DELETE FROM pairing_links WHERE token_hash = $1")
                    .bind(hash)
                    .execute(self.pool())
                    .await?;
            }
        }
        Ok(())
    }

    /// The link's target, without using it.
    pub async fn peek_pairing(
        &self,
        token_hash: &str,
        now: UnixMillis,
    ) -> StoreResult<Option<Pairing>> {
        let row = sqlx::query(&format!(
            "SELECT {PAIRING_COLUMNS} FROM pairing_links WHERE token_hash = $1 AND expires_at > $2"
        ))
        .bind(token_hash)
        .bind(now.0)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(pairing_from).transpose()
    }

    /// Uses the link: whoever deletes it first has it.
    pub async fn take_pairing(
        &self,
        token_hash: &str,
        now: UnixMillis,
    ) -> StoreResult<Option<Pairing>> {
        let row = sqlx::query(&format!(
            "DELETE FROM pairing_links WHERE token_hash = $1 RETURNING {PAIRING_COLUMNS}"
        ))
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        let pairing = row.as_ref().map(pairing_from).transpose()?;
        Ok(pairing.filter(|p| p.expires_at > now))
    }

    /// Live pairing links of `device`.
    pub async fn pairings_of(&self, device: &DeviceId, now: UnixMillis) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pairing_links WHERE device_id = $1 AND expires_at > $2",
        )
        .bind(device.0.as_str())
        .bind(now.0)
        .fetch_one(self.pool())
        .await?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    /// Records a device's nonce, once: nonces older than `horizon_start`
    /// are forgotten, and a device holds at most `max` within it.
    pub async fn record_nonce(
        &self,
        device: &DeviceId,
        nonce: &str,
        now: UnixMillis,
        horizon_start: UnixMillis,
        max: i64,
    ) -> StoreResult<NonceRecorded> {
        sqlx::query("DELETE FROM device_nonces WHERE device_id = $1 AND seen_at < $2")
            .bind(device.0.as_str())
            .bind(horizon_start.0)
            .execute(self.pool())
            .await?;
        let row =
            sqlx::query("SELECT COUNT(*), MIN(seen_at) FROM device_nonces WHERE device_id = $1")
                .bind(device.0.as_str())
                .fetch_one(self.pool())
                .await?;
        let held: i64 = row.try_get(0)?;
        let oldest: Option<i64> = row.try_get(1)?;
        let inserted = sqlx::query(
            "INSERT INTO device_nonces (device_id, nonce, seen_at) VALUES ($1, $2, $3) \
             ON CONFLICT (device_id, nonce) DO NOTHING",
        );
        if held >= max {
            let seen: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM device_nonces WHERE device_id = $1 AND nonce = $2",
            )
            .bind(device.0.as_str())
            .bind(nonce)
            .fetch_one(self.pool())
            .await?;
            return Ok(if seen > 0 {
                NonceRecorded::Replayed
            } else {
                NonceRecorded::Full {
                    oldest: UnixMillis(oldest.unwrap_or(now.0)),
                }
            });
        }
        let done = inserted
            .bind(device.0.as_str())
            .bind(nonce)
            .bind(now.0)
            .execute(self.pool())
            .await?;
        Ok(if done.rows_affected() == 0 {
            NonceRecorded::Replayed
        } else {
            NonceRecorded::First
        })
    }

    /// Forgets every nonce seen before `before` (devices gone quiet).
    pub async fn forget_nonces(&self, before: UnixMillis) -> StoreResult<()> {
        sqlx::query("DELETE FROM device_nonces WHERE seen_at < $1")
            .bind(before.0)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Counts one event in `key`'s window of `window_millis` (a new window
    /// if the last one is over) and returns it. With `create` false, a key
    /// with no window gets none (`None`): the caller is over its bound on
    /// windows kept.
    pub async fn count_in_window(
        &self,
        key: &str,
        window_millis: i64,
        now: UnixMillis,
        create: bool,
    ) -> StoreResult<Option<Counted>> {
        if create {
            let counted = self.count_in_windows(&[(key, window_millis)], now).await?;
            return Ok(counted.into_iter().next());
        }
        let over = now.0 - window_millis;
        let sql = "UPDATE rate_windows SET \
             started_at = CASE WHEN started_at <= $3 THEN $2 ELSE started_at END, \
             count = CASE WHEN started_at <= $3 THEN 1 ELSE count + 1 END \
             WHERE key = $1 RETURNING started_at, count";
        let _gate = self.write_gate_for_rate_windows().await?;
        let row = sqlx::query(sql)
            .bind(key)
            .bind(now.0)
            .bind(over)
            .fetch_optional(self.conn().await?.connection()?)
            .await?;
        row.map(|row| {
            let count: i64 = row.try_get(1)?;
            Ok(Counted {
                started_at: UnixMillis(row.try_get(0)?),
                count: u32::try_from(count).unwrap_or(u32::MAX),
            })
        })
        .transpose()
    }

    /// Counts one event in each `(key, window_millis)` (distinct keys), in
    /// one statement, opening windows as needed; the windows in the
    /// order of `keys`.
    pub async fn count_in_windows(
        &self,
        keys: &[(&str, i64)],
        now: UnixMillis,
    ) -> StoreResult<Vec<Counted>> {
        let rows: Vec<String> = (0..keys.len())
            .map(|i| format!("(${}, $1, 1, ${})", 2 * i + 2, 2 * i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO rate_windows (key, started_at, count, window_millis) VALUES {} \
             ON CONFLICT (key) DO UPDATE SET \
             started_at = CASE WHEN rate_windows.started_at <= excluded.started_at - excluded.window_millis \
             THEN excluded.started_at ELSE rate_windows.started_at END, \
             count = CASE WHEN rate_windows.started_at <= excluded.started_at - excluded.window_millis \
             THEN 1 ELSE rate_windows.count + 1 END, \
             window_millis = excluded.window_millis \
             RETURNING key, started_at, count",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(now.0);
        for (key, window) in keys {
            query = query.bind(*key).bind(*window);
        }
        let _gate = self.write_gate_for_rate_windows().await?;
        let rows = query.fetch_all(self.conn().await?.connection()?).await?;
        let mut found = std::collections::HashMap::with_capacity(rows.len());
        for row in rows {
            let key: String = row.try_get(0)?;
            let count: i64 = row.try_get(2)?;
            let counted = Counted {
                started_at: UnixMillis(row.try_get(1)?),
                count: u32::try_from(count).unwrap_or(u32::MAX),
            };
            found.insert(key, counted);
        }
        keys.iter()
            .map(|(key, _)| {
                found
                    .remove(*key)
                    .ok_or_else(|| super::StoreError::Corrupt {
                        table: "rate_windows",
                        reason: "a counted window was not returned".into(),
                    })
            })
            .collect()
    }

    /// Takes one event back from `key`'s window.
    pub async fn uncount(&self, key: &str) -> StoreResult<()> {
        let _gate = self.write_gate_for_rate_windows().await?;
        sqlx::query("UPDATE rate_windows SET count = count - 1 WHERE key = $1 AND count > 0")
            .bind(key)
            .execute(self.conn().await?.connection()?)
            .await?;
        Ok(())
    }

    /// Deletes windows started before `before`; returns how many are left.
    pub async fn prune_windows(&self, before: UnixMillis) -> StoreResult<u64> {
        sqlx::query("DELETE FROM rate_windows WHERE started_at < $1")
            .bind(before.0)
            .execute(self.pool())
            .await?;
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rate_windows")
            .fetch_one(self.pool())
            .await?;
        Ok(u64::try_from(left).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: PairingBounds = PairingBounds {
        per_device: 3,
        overall: 10,
    };

    fn link(device: &str, expires_at: i64) -> Pairing {
        Pairing {
            device: DeviceId(device.into()),
            session: Some(SessionId::from("s")),
            expires_at: UnixMillis(expires_at),
        }
    }

    #[tokio::test]
    async fn pairings_work_once_and_expire() {
        let store = Store::open_scratch().await.unwrap();
        let at = UnixMillis;
        store
            .add_pairing("h1", &link("d", 100), at(0), BOUNDS)
            .await
            .unwrap();
        store
            .add_pairing("h2", &link("d", 100), at(0), BOUNDS)
            .await
            .unwrap();
        assert_eq!(
            store.peek_pairing("h1", at(50)).await.unwrap(),
            Some(link("d", 100))
        );
        assert_eq!(
            store.take_pairing("h1", at(50)).await.unwrap(),
            Some(link("d", 100))
        );
        assert_eq!(
            store.take_pairing("h1", at(50)).await.unwrap(),
            None,
            "used"
        );
        assert_eq!(
            store.peek_pairing("h2", at(100)).await.unwrap(),
            None,
            "expired"
        );
        assert_eq!(
            store.take_pairing("h2", at(100)).await.unwrap(),
            None,
            "expired"
        );
    }

    #[tokio::test]
    async fn one_device_holds_a_bounded_number_of_pairings() {
        let store = Store::open_scratch().await.unwrap();
        let at = UnixMillis;
        // A device asking again and again replaces its own oldest link
        // and never pushes out another device's.
        store
            .add_pairing("theirs", &link("e", 600_000), at(0), BOUNDS)
            .await
            .unwrap();
        for i in 0..50 {
            let mine = link("d", 600_000 + i);
            store
                .add_pairing(&format!("mine{i}"), &mine, at(1), BOUNDS)
                .await
                .unwrap();
        }
        let d = DeviceId("d".into());
        assert_eq!(store.pairings_of(&d, at(2)).await.unwrap(), 3);
        assert!(store.peek_pairing("theirs", at(2)).await.unwrap().is_some());
        assert!(store.peek_pairing("mine49", at(2)).await.unwrap().is_some());
        assert!(store.peek_pairing("mine46", at(2)).await.unwrap().is_none());
        // Past the overall bound the oldest of all goes.
        for i in 0..20 {
            let other = link(&format!("x{i}"), 700_000 + i);
            store
                .add_pairing(&format!("x{i}"), &other, at(3), BOUNDS)
                .await
                .unwrap();
        }
        let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pairing_links")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(kept, 10);
        assert!(store.peek_pairing("x19", at(4)).await.unwrap().is_some());
        assert!(store.peek_pairing("theirs", at(4)).await.unwrap().is_none());
    }
}
