//! Password hashing with argon2id (OWASP parameters: 19 MiB, t=2, p=1).
//!
//! Hashing is CPU-bound and deliberately slow, so it runs off the async
//! workers. Each hash holds a 19 MiB block, so the sign-in path goes
//! through a [`PasswordHasher`], which runs only a few at once (one per
//! core, at most [`MAX_CONCURRENT_HASHES`]) on its own threads and makes
//! the rest queue for a bounded time: a flood of sign-ins then costs at
//! most that many blocks, and the requests that wait too long are told to
//! come back later instead of piling up.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::Semaphore;

/// The most hashes that run at once, whatever the number of cores.
pub const MAX_CONCURRENT_HASHES: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("hashing task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// Every hashing slot stayed taken for the whole wait.
    #[error("too many password checks at once")]
    Busy,
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

/// Hashes a password into a PHC string, outside any [`PasswordHasher`]
/// bound (seeding, and administrators setting passwords).
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

/// Computes `phc`'s hash of `password` in `memory` (grown as the
/// parameters need, then kept by the caller) and compares it in constant
/// time. False when the hash cannot be computed.
fn matches_phc(password: &[u8], phc: &PasswordHash<'_>, memory: &mut Vec<Block>) -> bool {
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(phc.algorithm) else {
        return false;
    };
    let version = match phc.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(phc) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut computed = vec![0u8; expected.len()];
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password,
        salt,
        &mut computed,
        &mut memory[..blocks],
    );
    // `Output`'s equality is constant-time.
    hashed.is_ok() && Output::new(&computed).is_ok_and(|computed| computed == *expected)
}

/// Checks `password` against `stored`, or the decoy, hashing in `memory`.
fn verify_blocking(
    password: &str,
    stored: Option<&str>,
    memory: &mut Vec<Block>,
) -> Result<bool, PasswordError> {
    let (phc, real) = match stored {
        Some(phc) => (phc, true),
        None => (decoy_hash().unwrap_or_default(), false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        if real {
            tracing::error!("stored password hash is malformed");
        }
        return Ok(false);
    };
    let matches = matches_phc(password.as_bytes(), &parsed, memory);
    Ok(real && matches)
}

/// Checks `password` against `stored` (a PHC string), or against a decoy
/// when there is no stored hash, outside any [`PasswordHasher`] bound.
/// False on any mismatch or malformed hash.
pub async fn verify_password(
    password: String,
    stored: Option<String>,
) -> Result<bool, PasswordError> {
    tokio::task::spawn_blocking(move || {
        verify_blocking(&password, stored.as_deref(), &mut Vec::new())
    })
    .await?
}

/// How many hashes a [`PasswordHasher`] runs at once, and how long a request
/// waits for a free slot.
#[derive(Debug, Clone, Copy)]
pub struct HashLimits {
    pub max_concurrent: usize,
    pub wait: Duration,
}

impl Default for HashLimits {
    /// One slot per core, 1 to [`MAX_CONCURRENT_HASHES`]; a 10 s wait.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Self {
            max_concurrent: cores.clamp(1, MAX_CONCURRENT_HASHES),
            wait: Duration::from_secs(10),
        }
    }
}

/// A password check handed to a hashing thread.
/// It gets its thread's hashing memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Runs password checks (decoy checks included) on its own
/// `HashLimits::max_concurrent` threads, one check per thread at a time.
///
/// Each thread keeps its 19 MiB of hashing memory and reuses it for every
/// check: with argon2 allocating and freeing it per hash, glibc's malloc
/// (which raises its mmap threshold after the first such free) kept
/// hundreds of MiB resident after a burst of failed sign-ins.
pub struct PasswordHasher {
    limits: HashLimits,
    slots: Arc<Semaphore>,
    jobs: std::sync::mpsc::Sender<Job>,
    running: Arc<AtomicUsize>,
    max_seen: Arc<AtomicUsize>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Counts one running hash from creation to drop.
struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs jobs until the hasher is dropped (the channel closes).
fn hashing_thread(jobs: &Mutex<std::sync::mpsc::Receiver<Job>>) {
    let mut memory = Vec::new();
    loop {
        let job = {
            let jobs = jobs
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            jobs.recv()
        };
        let Ok(job) = job else { return };
        // A panicking check fails its own request, not the thread.
        let run = std::panic::AssertUnwindSafe(|| job(&mut memory));
        if std::panic::catch_unwind(run).is_err() {
            tracing::error!("a password check panicked");
        }
    }
}

impl PasswordHasher {
    /// Starts the hashing threads; they stop when the hasher is dropped.
    pub fn new(limits: HashLimits) -> std::io::Result<Self> {
        let limits = HashLimits {
            max_concurrent: limits.max_concurrent.max(1),
            ..limits
        };
        let (jobs, receiver) = std::sync::mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..limits.max_concurrent {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || hashing_thread(&receiver))?;
        }
        Ok(Self {
            slots: Arc::new(Semaphore::new(limits.max_concurrent)),
            limits,
            jobs,
            running: Arc::new(AtomicUsize::new(0)),
            max_seen: Arc::new(AtomicUsize::new(0)),
        })
    }

    pub fn limits(&self) -> HashLimits {
        self.limits
    }

    /// The most hashes seen running at the same time so far.
    pub fn max_concurrent_seen(&self) -> usize {
        self.max_seen.load(Ordering::SeqCst)
    }

    /// Checks `password` like [`verify_password`], once a slot is free.
    /// [`PasswordError::Busy`] when none frees up within the wait.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, PasswordError> {
        let permit = tokio::time::timeout(self.limits.wait, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| PasswordError::Busy)?
            // The semaphore is never closed.
            .map_err(|_| PasswordError::Busy)?;
        let running = Arc::clone(&self.running);
        let max_seen = Arc::clone(&self.max_seen);
        let (reply, result) = tokio::sync::oneshot::channel();
        // The permit moves into the job: a caller that gives up (a closed
        // connection) does not free the slot before the hash is done. As
        // many slots as threads, so a job never waits for a thread.
        let job: Job = Box::new(move |memory| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            let counted = Running(running);
            max_seen.fetch_max(now, Ordering::SeqCst);
            let verified = verify_blocking(&password, stored.as_deref(), memory);
            // Uncounted before the slot is free, even after a panic.
            drop(counted);
            drop(permit);
            let _ = reply.send(verified);
        });
        self.jobs
            .send(job)
            .map_err(|_| PasswordError::Hash("the hashing threads have stopped".into()))?;
        result
            .await
            .map_err(|_| PasswordError::Hash("the password check panicked".into()))?
    }
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

    #[tokio::test]
    async fn hashes_with_other_parameters_verify_in_reused_memory() {
        let hasher = PasswordHasher::new(HashLimits::default()).unwrap();
        let salt = SaltString::generate(&mut OsRng);
        let small = Params::new(8 * 1024, 1, 1, Some(16)).unwrap();
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x10, small)
            .hash_password(b"pw", &salt)
            .unwrap()
            .to_string();
        let ours = hash_password("pw".into()).await.unwrap();
        for stored in [&ours, &argon2i, &ours] {
            assert!(
                hasher
                    .verify("pw".into(), Some(stored.clone()))
                    .await
                    .unwrap()
            );
            assert!(
                !hasher
                    .verify("pW".into(), Some(stored.clone()))
                    .await
                    .unwrap()
            );
        }
        assert!(!hasher.verify("pw".into(), None).await.unwrap());
    }

    #[test]
    fn the_default_bound_follows_the_cores_within_one_to_four() {
        let limits = HashLimits::default();
        assert!((1..=MAX_CONCURRENT_HASHES).contains(&limits.max_concurrent));
        let zero = PasswordHasher::new(HashLimits {
            max_concurrent: 0,
            wait: Duration::from_secs(1),
        })
        .unwrap();
        assert_eq!(zero.limits().max_concurrent, 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checks_beyond_the_bound_wait_and_then_give_up() {
        let hasher = Arc::new(
            PasswordHasher::new(HashLimits {
                max_concurrent: 1,
                wait: Duration::from_millis(1),
            })
            .unwrap(),
        );
        let stored = hash_password("pw".into()).await.unwrap();
        let checks: Vec<_> = (0..4)
            .map(|_| {
                let hasher = Arc::clone(&hasher);
                let stored = stored.clone();
                tokio::spawn(async move { hasher.verify("pw".into(), Some(stored)).await })
            })
            .collect();
        let mut busy = 0;
        let mut verified = 0;
        for check in checks {
            match check.await.unwrap() {
                Ok(true) => verified += 1,
                Err(PasswordError::Busy) => busy += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(
            verified >= 1 && busy >= 1,
            "{verified} verified, {busy} busy"
        );
        assert_eq!(hasher.max_concurrent_seen(), 1);
    }
}
