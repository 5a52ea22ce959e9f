//! Login rate limits, in the database (shared by every replica), judged
//! by the injected clock: failed
//! sign-ins per account, attempts per client address, and attempts per
//! bucket (a tenant, or "unknown accounts"; the "overall" limit is per
//! bucket). A locked-out account or address answers 429 with
//! `Retry-After`, right password or not. A full bucket is no off-switch:
//! it only admits attempts that turn out right ([`Admission::ValidOnly`]),
//! so one tenant's flood, or a flood of made-up e-mails, never stops
//! another tenant's people, nor valid credentials in the same tenant.
//! Every attempt counts as a failure of its account at once, in the same
//! statement as the check; the caller gives it back with `succeeded`.

use crate::clock::Clock;
use crate::store::live_limits::Counted;
use crate::store::{Store, StoreResult};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
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

/// Windows kept at most (about 100 bytes each, in the database). Past
/// this, even after pruning, accounts and addresses not seen yet get no
/// window of their own: the tenant's bucket still counts them, and
/// password checks stay bounded by the hashing limit, so a flood of
/// made-up accounts from many addresses costs bounded storage.
pub const MAX_WINDOWS: u64 = 200_000;

/// How often windows that are over are deleted (more often, at most once
/// a second, while the bound is reached).
const PRUNE_EVERY_MILLIS: i64 = 60_000;

/// Counts sign-in attempts and failures, in the database: every replica
/// sees the same counts, and each count is one atomic upsert, so parallel
/// guesses on any number of replicas cannot slip past a limit.
pub struct LoginThrottle {
    limits: Limits,
    clock: Arc<dyn Clock>,
    store: Store,
    /// Names this throttle's keys ("login", "code", "register").
    name: &'static str,
    max_windows: u64,
    /// Windows kept, as of the last prune plus the ones opened since here.
    kept: AtomicU64,
    pruned_at: Mutex<Option<UnixMillis>>,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("name", &self.name)
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
    /// A throttle named `name` (its keys never meet another's).
    pub fn new(limits: Limits, clock: Arc<dyn Clock>, store: Store, name: &'static str) -> Self {
        Self {
            limits,
            clock,
            store,
            name,
            max_windows: MAX_WINDOWS,
            kept: AtomicU64::new(0),
            pruned_at: Mutex::new(None),
        }
    }

    /// Seconds until the window is under `limit` again, if this attempt
    /// went over it.
    fn over(counted: Option<Counted>, limit: Limit, now: UnixMillis) -> Option<u64> {
        let counted = counted?;
        let elapsed = now.millis_since(counted.started_at);
        (counted.count > limit.max)
            .then(|| u64::try_from((limit.window_millis - elapsed + 999) / 1000).unwrap_or(1))
    }

    /// Deletes the windows that are over: once a minute, or once a second
    /// while the bound is reached.
    async fn prune_if_due(&self, now: UnixMillis) -> StoreResult<()> {
        let full = self.kept.load(Ordering::Relaxed) >= self.max_windows;
        let every = if full { 1_000 } else { PRUNE_EVERY_MILLIS };
        let due = self.pruned_at.lock().is_ok_and(|mut at| {
            let due = at.is_none_or(|t| now.millis_since(t) >= every);
            if due {
                *at = Some(now);
            }
            due
        });
        if due {
            let longest = self
                .limits
                .failures_per_account
                .window_millis
                .max(self.limits.attempts_per_address.window_millis)
                .max(self.limits.attempts_overall.window_millis);
            let left = self
                .store
                .prune_windows(UnixMillis(now.0 - longest))
                .await?;
            self.kept.store(left, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Counts one event in `key`'s window (opening one only within the
    /// bound on windows, unless `always`).
    async fn count(
        &self,
        key: &str,
        limit: Limit,
        now: UnixMillis,
        always: bool,
    ) -> StoreResult<Option<Counted>> {
        let create = always || self.kept.load(Ordering::Relaxed) < self.max_windows;
        let counted = self
            .store
            .count_in_window(key, limit.window_millis, now, create)
            .await?;
        if counted.is_some_and(|c| c.count == 1) {
            self.kept.fetch_add(1, Ordering::Relaxed);
        }
        Ok(counted)
    }

    fn account_key(&self, email: &str) -> String {
        format!("{}:account:{}", self.name, email.trim().to_lowercase())
    }

    /// Called before checking a password: counts the attempt, and says how
    /// long to wait if the account, the address or the server is over a
    /// limit. One bucket for everyone: only for callers with nothing to
    /// split by (agent registration).
    pub async fn attempt(
        &self,
        email: &str,
        address: &ClientAddress,
    ) -> StoreResult<Result<(), u64>> {
        Ok(match self.attempt_in(email, address, "overall").await? {
            Ok(Admission::Open) => Ok(()),
            Ok(Admission::ValidOnly { wait }) | Err(wait) => Err(wait),
        })
    }

    /// [`Self::attempt`] with the "overall" limit counted per `bucket` (a
    /// tenant, or all unknown accounts together). A full bucket admits the
    /// attempt on the condition that it is right. The attempt counts as a
    /// failure of its account until proven otherwise ([`Self::succeeded`]).
    pub async fn attempt_in(
        &self,
        email: &str,
        address: &ClientAddress,
        bucket: &str,
    ) -> StoreResult<Result<Admission, u64>> {
        let now = self.clock.now();
        self.prune_if_due(now).await?;
        let l = self.limits;
        let addr_key = format!("{}:address:{}", self.name, address_key(&address.0));
        let account_key = self.account_key(email);
        let bucket_key = format!("{}:bucket:{bucket}", self.name);
        let (addr, account, bucket) = if self.kept.load(Ordering::Relaxed) < self.max_windows {
            // The usual case: the three counts in one statement.
            let keys = [
                (addr_key.as_str(), l.attempts_per_address.window_millis),
                (account_key.as_str(), l.failures_per_account.window_millis),
                (bucket_key.as_str(), l.attempts_overall.window_millis),
            ];
            let counted = self.store.count_in_windows(&keys, now).await?;
            let opened = counted.iter().filter(|c| c.count == 1).count();
            self.kept
                .fetch_add(u64::try_from(opened).unwrap_or(0), Ordering::Relaxed);
            (
                counted.first().copied(),
                counted.get(1).copied(),
                counted.get(2).copied(),
            )
        } else {
            // Over the bound on windows: unknown accounts and addresses
            // get none; the bucket still counts them.
            (
                self.count(&addr_key, l.attempts_per_address, now, false)
                    .await?,
                self.count(&account_key, l.failures_per_account, now, false)
                    .await?,
                self.count(&bucket_key, l.attempts_overall, now, true)
                    .await?,
            )
        };
        let address_wait = Self::over(addr, l.attempts_per_address, now);
        let account_wait = Self::over(account, l.failures_per_account, now);
        if let Some(wait) = address_wait.max(account_wait) {
            // A refused attempt takes nothing from the bucket (a locked-out
            // flood must not fill everyone's), nor, when its address is
            // what refused it, from its account.
            self.store.uncount(&bucket_key).await?;
            if address_wait.is_some() {
                self.store.uncount(&account_key).await?;
            }
            return Ok(Err(wait));
        }
        Ok(Ok(match Self::over(bucket, l.attempts_overall, now) {
            Some(wait) => Admission::ValidOnly { wait },
            None => Admission::Open,
        }))
    }

    /// Called when an attempt for `email` turned out not to be a wrong
    /// guess (right password, valid code): gives its failure back. A
    /// failure to do so is logged; the account then keeps one failure
    /// more until its window ends.
    pub async fn succeeded(&self, email: &str) {
        if let Err(error) = self.store.uncount(&self.account_key(email)).await {
            tracing::warn!(%error, throttle = self.name, "giving back an attempt failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    async fn throttle(clock: Arc<ManualClock>) -> LoginThrottle {
        let store = Store::open_scratch().await.unwrap();
        LoginThrottle::new(Limits::default(), clock, store, "login")
    }

    async fn ok(t: &LoginThrottle, email: &str, ip: &ClientAddress) -> bool {
        t.attempt(email, ip).await.unwrap().is_ok()
    }

    #[tokio::test]
    async fn an_account_locks_after_five_failures_then_unlocks() {
        let clock = Arc::new(ManualClock::new(UnixMillis(0)));
        let t = throttle(clock.clone()).await;
        let ip = ClientAddress("10.0.0.1".into());
        // Right passwords give their attempt back.
        for _ in 0..10 {
            assert!(ok(&t, "ann@x.test", &ip).await);
            t.succeeded("ann@x.test").await;
        }
        for _ in 0..5 {
            assert!(ok(&t, "Ann@x.test", &ip).await);
        }
        let wait = t.attempt("ann@x.test", &ip).await.unwrap().unwrap_err();
        assert_eq!(wait, 900, "15 minutes");
        assert!(ok(&t, "bob@x.test", &ip).await, "other accounts are fine");
        clock.advance_millis(15 * 60_000);
        assert!(ok(&t, "ann@x.test", &ip).await);
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

    /// Eight guessers at once, on two replicas when the database allows
    /// it: the account's five failures are five in total.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn parallel_attempts_on_any_replica_cannot_pass_the_account_limit() {
        let clock = Arc::new(ManualClock::new(UnixMillis(0)));
        let a = Arc::new(throttle(clock.clone()).await);
        let b = match a.store.open_again().await {
            Ok(store) => Arc::new(LoginThrottle::new(Limits::default(), clock, store, "login")),
            Err(_) => a.clone(),
        };
        let guessers: Vec<_> = (0..8)
            .map(|i| {
                let t = if i % 2 == 0 { a.clone() } else { b.clone() };
                tokio::spawn(async move {
                    let ip = ClientAddress(format!("10.0.1.{i}"));
                    let mut passed = 0;
                    for _ in 0..4 {
                        passed += usize::from(ok(&t, "ann@x.test", &ip).await);
                    }
                    passed
                })
            })
            .collect();
        let mut passed = 0;
        for guesser in guessers {
            passed += guesser.await.unwrap();
        }
        assert_eq!(passed, 5);
    }

    #[tokio::test]
    async fn a_full_bucket_admits_only_right_answers_and_no_other_bucket_is_touched() {
        let clock = Arc::new(ManualClock::new(UnixMillis(0)));
        let limits = Limits {
            attempts_overall: Limit {
                max: 10,
                window_millis: 60_000,
            },
            ..Limits::default()
        };
        let store = Store::open_scratch().await.unwrap();
        let t = LoginThrottle::new(limits, clock.clone(), store, "login");
        let attempt = |email: String, ip: ClientAddress, bucket: &'static str| {
            let t = &t;
            async move { t.attempt_in(&email, &ip, bucket).await.unwrap() }
        };
        // Ten addresses flood tenant A's bucket.
        for i in 0..10 {
            let ip = ClientAddress(format!("10.0.2.{i}"));
            assert_eq!(
                attempt(format!("a{i}@a.test"), ip, "tenant:a").await,
                Ok(Admission::Open)
            );
        }
        let ip = ClientAddress("10.0.3.1".into());
        let full = attempt("ann@a.test".into(), ip.clone(), "tenant:a")
            .await
            .unwrap();
        assert_eq!(full, Admission::ValidOnly { wait: 60 });
        assert_eq!(full.wrong_answer(), Some(60));
        // Tenant B, and unknown accounts, are not A's bucket.
        assert_eq!(
            attempt("bob@b.test".into(), ip.clone(), "tenant:b").await,
            Ok(Admission::Open)
        );
        assert_eq!(
            attempt("nobody@x.test".into(), ip.clone(), "unknown").await,
            Ok(Admission::Open)
        );
        clock.advance_millis(60_000);
        assert_eq!(
            attempt("ann@a.test".into(), ip, "tenant:a").await,
            Ok(Admission::Open)
        );
    }

    /// A locked-out address that keeps trying takes nothing from its
    /// bucket: its flood cannot close the bucket to everyone else.
    #[tokio::test]
    async fn refused_attempts_leave_the_bucket_alone() {
        let clock = Arc::new(ManualClock::new(UnixMillis(0)));
        let limits = Limits {
            attempts_overall: Limit {
                max: 40,
                window_millis: 60_000,
            },
            ..Limits::default()
        };
        let store = Store::open_scratch().await.unwrap();
        let t = LoginThrottle::new(limits, clock, store, "register");
        let flood = ClientAddress("10.0.9.9".into());
        for i in 0..130 {
            let _ = t.attempt(&format!("token{i}"), &flood).await.unwrap();
        }
        assert!(
            !ok(&t, "token-x", &flood).await,
            "the address is locked out"
        );
        let other = ClientAddress("10.0.9.10".into());
        assert!(
            ok(&t, "token-y", &other).await,
            "30 attempts admitted, 100 refused: the bucket of 40 is not full"
        );
    }

    #[tokio::test]
    async fn an_address_is_limited_across_accounts() {
        let clock = Arc::new(ManualClock::new(UnixMillis(0)));
        let t = throttle(clock).await;
        let ip = ClientAddress("10.0.0.2".into());
        for i in 0..30 {
            assert!(ok(&t, &format!("u{i}@x.test"), &ip).await);
        }
        assert!(!ok(&t, "new@x.test", &ip).await);
        assert!(ok(&t, "new@x.test", &ClientAddress("10.0.0.3".into())).await);
    }

    #[tokio::test]
    async fn an_ipv6_network_is_one_address_and_the_windows_stay_bounded() {
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
        let mut throttle = throttle(clock.clone()).await;
        for i in 0..30 {
            let ip = ClientAddress(format!("2001:db8:1:2::{i:x}"));
            assert!(ok(&throttle, &format!("u{i}@x.test"), &ip).await, "{i}");
        }
        let next = ClientAddress("2001:db8:1:2:dead::beef".into());
        assert!(!ok(&throttle, "late@x.test", &next).await);
        let elsewhere = ClientAddress("2001:db8:1:3::1".into());
        assert!(ok(&throttle, "late@x.test", &elsewhere).await);

        // A flood of made-up accounts from many networks: the table stops
        // growing at its bound (small here), and known windows still count.
        throttle.max_windows = 100;
        for i in 0..300u32 {
            let ip = ClientAddress(format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255));
            let _ = throttle.attempt(&format!("made-up-{i}@x.test"), &ip).await;
        }
        let kept = throttle.store.prune_windows(UnixMillis(-1)).await.unwrap();
        assert!((100..=102).contains(&kept), "{kept} windows");
        // "late" failed once above (the attempt its address refused took
        // nothing): four more, then locked.
        for _ in 0..4 {
            assert!(ok(&throttle, "late@x.test", &elsewhere).await);
        }
        assert!(
            !ok(&throttle, "late@x.test", &elsewhere).await,
            "a known window still counts"
        );
    }
}
