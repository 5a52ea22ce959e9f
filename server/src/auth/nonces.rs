//! The nonces of device-authenticated requests: each is accepted once
//! within the replay horizon (two clock skews), and a device may make only
//! so many requests within it. In memory: a restart forgets them, and the
//! clock check refuses anything older than the horizon anyway.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tandem_protocol::agent::DEVICE_AUTH_SKEW_MILLIS;
use tandem_protocol::{DeviceId, UnixMillis};

/// Device-authenticated requests one device may make within the replay
/// horizon (two clock skews, 2 minutes): 5 a second, far above what an
/// agent needs (it connects, reconnects and asks for a pairing link).
pub const MAX_NONCES_PER_DEVICE: usize = 600;

/// What [`NonceLog::first_use`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceUse {
    First,
    Replayed,
    /// The device made too many requests within the horizon; it may try
    /// again after this many seconds.
    TooMany(u64),
}

#[derive(Debug, Default)]
struct Inner {
    /// Per device, the nonces seen within the horizon, oldest first.
    seen: HashMap<DeviceId, VecDeque<(UnixMillis, String)>>,
    swept_at: Option<UnixMillis>,
}

/// The nonces seen. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct NonceLog {
    inner: Arc<Mutex<Inner>>,
}

impl NonceLog {
    /// Accepts a device-auth nonce once; false if it was seen before.
    pub fn first_use(&self, device: &DeviceId, nonce: &str, now: UnixMillis) -> NonceUse {
        let horizon = 2 * DEVICE_AUTH_SKEW_MILLIS;
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Devices quiet for a whole horizon are forgotten, in a sweep at
        // most every 10 s, so the map holds only recently active devices.
        if inner
            .swept_at
            .is_none_or(|at| now.millis_since(at) > 10_000)
        {
            inner.swept_at = Some(now);
            inner.seen.retain(|_, seen| {
                seen.back()
                    .is_some_and(|(at, _)| now.millis_since(*at) <= horizon)
            });
        }
        let seen = inner.seen.entry(device.clone()).or_default();
        while seen
            .front()
            .is_some_and(|(at, _)| now.millis_since(*at) > horizon)
        {
            seen.pop_front();
        }
        if seen.iter().any(|(_, n)| n == nonce) {
            return NonceUse::Replayed;
        }
        if seen.len() >= MAX_NONCES_PER_DEVICE {
            let oldest = seen.front().map_or(now, |(at, _)| *at);
            let wait = horizon - now.millis_since(oldest);
            return NonceUse::TooMany(u64::try_from(wait.max(0) / 1000 + 1).unwrap_or(1));
        }
        seen.push_back((now, nonce.to_owned()));
        NonceUse::First
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_passes_once() {
        let agents = NonceLog::default();
        let d = DeviceId("d".into());
        assert_eq!(agents.first_use(&d, "n", UnixMillis(0)), NonceUse::First);
        assert_eq!(agents.first_use(&d, "n", UnixMillis(1)), NonceUse::Replayed);
        assert_eq!(
            agents.first_use(&DeviceId("e".into()), "n", UnixMillis(1)),
            NonceUse::First
        );
    }

    #[test]
    fn one_device_holds_a_bounded_number_of_nonces() {
        let agents = NonceLog::default();
        let (d, other) = (DeviceId("d".into()), DeviceId("e".into()));
        for i in 0..MAX_NONCES_PER_DEVICE {
            let at = UnixMillis(i64::try_from(i).unwrap());
            assert_eq!(agents.first_use(&d, &format!("n{i}"), at), NonceUse::First);
        }
        // The next request of the same device waits for the oldest nonce
        // to leave the 2-minute horizon; other devices are not affected.
        assert_eq!(
            agents.first_use(&d, "one-more", UnixMillis(1_000)),
            NonceUse::TooMany(120)
        );
        assert_eq!(
            agents.first_use(&other, "x", UnixMillis(1_000)),
            NonceUse::First
        );
        assert_eq!(
            agents.first_use(&d, "one-more", UnixMillis(120_001)),
            NonceUse::First
        );
        // Memory: only the horizon's nonces stay, and quiet devices go.
        assert!(agents.inner.lock().unwrap().seen[&d].len() <= MAX_NONCES_PER_DEVICE);
        agents.first_use(&DeviceId("f".into()), "y", UnixMillis(400_000));
        assert_eq!(agents.inner.lock().unwrap().seen.len(), 1);
    }
}
