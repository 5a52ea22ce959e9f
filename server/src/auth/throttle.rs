//! Login rate limits, in memory, judged by the injected clock: failed
//! sign-ins per account, attempts per client address, and attempts per
//! bucket (a tenant, or "unknown accounts"; the "overall" limit is per
//! bucket). A locked-out account or address answers 429 with
//! `Retry-After`, right password or not. A full bucket is no off-switch:
//! it only admits attempts that turn out right ([`Admission::ValidOnly`]),
//! so one tenant's flood, or a flood of made-up e-mails, never stops
//! another tenant's people, nor valid credentials in the same tenant.
//! Every attempt counts as a failure of its account at once, under the
//! same lock as the check; the caller gives it back with `succeeded`.

use crate::clock::Clock;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tandem_protocol::UnixMillis;

/// One limit: at most `max` events per `window_millis`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: u32,
    pub window_millis: i64,
}

/// The limits of [`LoginThrottle`].
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub failures_per_account: Limit,
    pub attempts_per_address: Limit,
    pub attempts_overall: Limit,
}

impl Limits {
    /// The usual shape: `failures` wrong answers per account and
    /// `per_address` attempts per address in 15 minutes, and `overall`
    /// attempts a minute per bucket.
    pub fn per_quarter_hour(failures: u32, per_address: u32, overall: u32) -> Self {
        const FIFTEEN_MINUTES: i64 = 15 * 60_000;
        Self {
            failures_per_account: Limit {
                max: failures,
                window_millis: FIFTEEN_MINUTES,
            },
            attempts_per_address: Limit {
                max: per_address,
                window_millis: FIFTEEN_MINUTES,
            },
            attempts_overall: Limit {
                max: overall,
                window_millis: 60_000,
            },
        }
    }
}

impl Default for Limits {
    /// Sign-in: 5 failures per account, 30 attempts per address, 600 a
    /// minute per tenant.
    fn default() -> Self {
        Self::per_quarter_hour(5, 30, 600)
    }
}

/// What an attempt may do, when no per-account or per-address limit stops
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Checked as usual.
    Open,
    /// Its bucket is over its limit: only a right answer (password, code)
    /// goes through; a wrong one gets 429 with this wait, in seconds.
    ValidOnly { wait: u64 },
}

impl Admission {
    /// The refusal for a wrong answer: a 429 under a full bucket.
    pub fn wrong_answer(self) -> Option<u64> {
        match self {
            Admission::Open => None,
            Admission::ValidOnly { wait } => Some(wait),
        }
    }
}

/// Keys kept before old windows are pruned.
const PRUNE_ABOVE: usize = 10_000;
/// Keys kept at most (about 100 bytes each). Past this, even after
/// pruning, accounts and addresses not seen yet get no window of their
/// own: the tenant's bucket still counts them, and password checks stay
/// bounded by the hashing limit, so a flood of made-up accounts from many
/// addresses costs bounded memory.
pub const MAX_WINDOWS: usize = 200_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    started: UnixMillis,
    count: u32,
}

/// Counts sign-in attempts and failures.
pub struct LoginThrottle {
    limits: Limits,
    clock: Arc<dyn Clock>,
    windows: Mutex<HashMap<String, Window>>,
    pruned_at: Mutex<Option<UnixMillis>>,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// The client's address: the connection's peer, or, when the peer is one
/// of the configured trusted proxies, the nearest untrusted address in
/// `X-Forwarded-For` (read from the right, so a client cannot forge its way
/// past the proxy). "unknown" when the server runs without connect info,
/// as in router tests.
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

/// The key an address is limited under: an IPv4 address itself, an IPv6
/// address's /64 (one subscriber's network: the rest of the address is
/// theirs to change at will).
pub fn address_key(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            let prefix = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{prefix}/64")
        }
        Ok(IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map_or_else(|| address.to_owned(), |v4| v4.to_string()),
        _ => address.to_owned(),
    }
}

/// Picks the client address from the peer and `X-Forwarded-For`.
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpAddr],
) -> String {
    let Some(peer) = peer else {
        return "unknown".to_owned();
    };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    forwarded_for
        .into_iter()
        .flat_map(|header| header.rsplit(','))
        .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
        .find(|hop| !trusted.contains(hop))
        .unwrap_or(peer)
        .to_string()
}

impl LoginThrottle {
    pub fn new(limits: Limits, clock: Arc<dyn Clock>) -> Self {
        Self {
            limits,
            clock,
            windows: Mutex::new(HashMap::new()),
            pruned_at: Mutex::new(None),
        }
    }

    fn windows(&self) -> std::sync::MutexGuard<'_, HashMap<String, Window>> {
        // A panic while holding the lock leaves plain counters: still usable.
        self.windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Seconds until `key` is under `limit` again, if it is over it now.
    fn blocked(
        windows: &HashMap<String, Window>,
        key: &str,
        limit: Limit,
        now: UnixMillis,
    ) -> Option<u64> {
        let window = windows.get(key)?;
        let elapsed = now.millis_since(window.started);
        (elapsed < limit.window_millis && window.count >= limit.max)
            .then(|| u64::try_from((limit.window_millis - elapsed + 999) / 1000).unwrap_or(1))
    }

    fn bump(windows: &mut HashMap<String, Window>, key: String, limit: Limit, now: UnixMillis) {
        let window = windows.entry(key).or_insert(Window {
            started: now,
            count: 0,
        });
        if now.millis_since(window.started) >= limit.window_millis {
            *window = Window {
                started: now,
                count: 0,
            };
        }
        window.count = window.count.saturating_add(1);
    }

    /// Called before checking a password: counts the attempt, and says how
    /// long to wait if the account, the address or the server is over a
    /// limit. One bucket for everyone: only for callers with nothing to
    /// split by (agent registration).
    pub fn attempt(&self, email: &str, address: &ClientAddress) -> Result<(), u64> {
        match self.attempt_in(email, address, "overall")? {
            Admission::Open => Ok(()),
            Admission::ValidOnly { wait } => Err(wait),
        }
    }

    /// [`Self::attempt`] with the "overall" limit counted per `bucket` (a
    /// tenant, or all unknown accounts together). A full bucket admits the
    /// attempt on the condition that it is right.
    pub fn attempt_in(
        &self,
        email: &str,
        address: &ClientAddress,
        bucket: &str,
    ) -> Result<Admission, u64> {
        let now = self.clock.now();
        let account = format!("account:{}", email.trim().to_lowercase());
        let addr = format!("address:{}", address_key(&address.0));
        let mut windows = self.windows();
        // Pruning walks every window: at most once a second.
        if windows.len() > PRUNE_ABOVE
            && self
                .pruned_at
                .lock()
                .map(|mut at| {
                    let due = at.is_none_or(|t| now.millis_since(t) >= 1000);
                    if due {
                        *at = Some(now);
                    }
                    due
                })
                .unwrap_or(true)
        {
            let longest = self
                .limits
                .failures_per_account
                .window_millis
                .max(self.limits.attempts_per_address.window_millis);
            windows.retain(|_, w| now.millis_since(w.started) < longest);
        }
        let l = self.limits;
        let bucket = format!("bucket:{bucket}");
        let wait = [
            Self::blocked(&windows, &addr, l.attempts_per_address, now),
            Self::blocked(&windows, &account, l.failures_per_account, now),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        let admission = match Self::blocked(&windows, &bucket, l.attempts_overall, now) {
            Some(wait) => Admission::ValidOnly { wait },
            None => {
                Self::bump(&mut windows, bucket, l.attempts_overall, now);
                Admission::Open
            }
        };
        // Counted as a failure until proven otherwise, under the same lock
        // as the check: parallel guesses cannot all slip past the limit.
        for (key, limit) in [
            (addr, l.attempts_per_address),
            (account, l.failures_per_account),
        ] {
            if windows.len() < MAX_WINDOWS || windows.contains_key(&key) {
                Self::bump(&mut windows, key, limit, now);
            }
        }
        Ok(admission)
    }

    /// Called when an attempt for `email` turned out not to be a wrong
    /// guess (right password, valid code): gives its failure back.
    pub fn succeeded(&self, email: &str) {
        let key = format!("account:{}", email.trim().to_lowercase());
        if let Some(window) = self.windows().get_mut(&key) {
            window.count = window.count.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn throttle(clock: Arc<ManualClock>) -> LoginThrottle {
        LoginThrottle::new(Limits::default(), clock)
    }

    #[test]
    fn an_account_locks_after_five_failures_then_unlocks() {
        let clock = Arc::new(ManualClock::new(UnixMillis(0)));
        let t = throttle(clock.clone());
        let ip = ClientAddress("10.0.0.1".into());
        // Right passwords give their attempt back.
        for _ in 0..10 {
            assert!(t.attempt("ann@x.test", &ip).is_ok());
            t.succeeded("ann@x.test");
        }
        for _ in 0..5 {
            assert!(t.attempt("Ann@x.test", &ip).is_ok());
        }
        let wait = t.attempt("ann@x.test", &ip).unwrap_err();
        assert_eq!(wait, 900, "15 minutes");
        assert!(
            t.attempt("bob@x.test", &ip).is_ok(),
            "other accounts are fine"
        );
        clock.advance_millis(15 * 60_000);
        assert!(t.attempt("ann@x.test", &ip).is_ok());
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.9".parse().unwrap();
        let trusted = [proxy];
        let client = Some("203.0.113.7, 198.51.100.2");
        // Straight from the internet: the header is ignored.
        let direct: IpAddr = "198.51.100.50".parse().unwrap();
        assert_eq!(
            client_address(Some(direct), client, &trusted),
            "198.51.100.50"
        );
        // Through our proxy: the nearest hop it saw, not what the client claims.
        assert_eq!(
            client_address(Some(proxy), client, &trusted),
            "198.51.100.2"
        );
        assert_eq!(
            client_address(Some(proxy), Some("garbage"), &trusted),
            "10.0.0.9"
        );
        assert_eq!(client_address(None, client, &trusted), "unknown");
    }

    #[test]
    fn parallel_attempts_cannot_pass_the_account_limit() {
        let clock = Arc::new(ManualClock::new(UnixMillis(0)));
        let t = Arc::new(throttle(clock));
        let passed: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let t = t.clone();
                    scope.spawn(move || {
                        let ip = ClientAddress(format!("10.0.1.{i}"));
                        (0..4)
                            .filter(|_| t.attempt("ann@x.test", &ip).is_ok())
                            .count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
        });
        assert_eq!(passed, 5);
    }

    #[test]
    fn a_full_bucket_admits_only_right_answers_and_no_other_bucket_is_touched() {
        let clock = Arc::new(ManualClock::new(UnixMillis(0)));
        let limits = Limits {
            attempts_overall: Limit {
                max: 10,
                window_millis: 60_000,
            },
            ..Limits::default()
        };
        let t = LoginThrottle::new(limits, clock.clone());
        // Ten addresses flood tenant A's bucket.
        for i in 0..10 {
            let ip = ClientAddress(format!("10.0.2.{i}"));
            assert_eq!(
                t.attempt_in(&format!("a{i}@a.test"), &ip, "tenant:a"),
                Ok(Admission::Open)
            );
        }
        let ip = ClientAddress("10.0.3.1".into());
        let full = t.attempt_in("ann@a.test", &ip, "tenant:a").unwrap();
        assert_eq!(full, Admission::ValidOnly { wait: 60 });
        assert_eq!(full.wrong_answer(), Some(60));
        // Tenant B, and unknown accounts, are not A's bucket.
        assert_eq!(
            t.attempt_in("bob@b.test", &ip, "tenant:b"),
            Ok(Admission::Open)
        );
        assert_eq!(
            t.attempt_in("nobody@x.test", &ip, "unknown"),
            Ok(Admission::Open)
        );
        clock.advance_millis(60_000);
        assert_eq!(
            t.attempt_in("ann@a.test", &ip, "tenant:a"),
            Ok(Admission::Open)
        );
    }

    #[test]
    fn an_address_is_limited_across_accounts() {
        let clock = Arc::new(ManualClock::new(UnixMillis(0)));
        let t = throttle(clock);
        let ip = ClientAddress("10.0.0.2".into());
        for i in 0..30 {
            assert!(t.attempt(&format!("u{i}@x.test"), &ip).is_ok());
        }
        assert!(t.attempt("new@x.test", &ip).is_err());
        assert!(
            t.attempt("new@x.test", &ClientAddress("10.0.0.3".into()))
                .is_ok()
        );
    }

    #[test]
    fn an_ipv6_network_is_one_address_and_the_map_stays_bounded() {
        assert_eq!(address_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            address_key("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            "2001:db8:1:2::/64"
        );
        assert_eq!(address_key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(address_key("192.0.2.7"), "192.0.2.7");
        assert_eq!(address_key("unknown"), "unknown");

        // Thirty attempts from one /64, each from another address in it:
        // the 31st is refused, as from one IPv4 address.
        let clock = Arc::new(ManualClock::new(UnixMillis(0)));
        let throttle = throttle(clock.clone());
        for i in 0..30 {
            let ip = ClientAddress(format!("2001:db8:1:2::{i:x}"));
            assert!(
                throttle.attempt(&format!("u{i}@x.test"), &ip).is_ok(),
                "{i}"
            );
        }
        let next = ClientAddress("2001:db8:1:2:dead::beef".into());
        assert!(throttle.attempt("late@x.test", &next).is_err());
        let elsewhere = ClientAddress("2001:db8:1:3::1".into());
        assert!(throttle.attempt("late@x.test", &elsewhere).is_ok());

        // A flood of made-up accounts from many networks: the map stops
        // growing at its bound, and known windows still count.
        for i in 0..(MAX_WINDOWS as u32 / 2 + 5_000) {
            let ip = ClientAddress(format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255));
            let _ = throttle.attempt(&format!("made-up-{i}@x.test"), &ip);
        }
        let size = throttle.windows().len();
        assert!(size <= MAX_WINDOWS + 1, "{size} windows");
    }
}
