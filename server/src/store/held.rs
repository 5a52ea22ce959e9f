//! One pooled connection held through a request (PostgreSQL).
//!
//! sqlx checks a connection each time it goes back to the pool (a round
//! trip, unconditional). A session setup's requests ran about twenty
//! statements, each on a connection of its own from the pool, so each
//! statement cost two round trips and PostgreSQL woke twice. Within
//! [`holding_a_connection`], the store's calls on the request's path use
//! one connection, [`Store::conn`], and the check runs once, when the
//! request ends.
//!
//! **No request waits for a connection while one sits in its slot.** The
//! held connection sits in the request's slot only between statements. A
//! store call that takes a connection any other way ([`Store::pool`], or a
//! write transaction) first gives the held one back to the pool. So a pool
//! that is all held empties as those requests end. (Two statements of one
//! request at once each take a connection, as they did before: the second
//! goes back to the pool. The marked routes run none at once.)
//!
//! **Only routes that do nothing slow between statements hold one** (the
//! route table marks them): a request that hashed a password, called the
//! identity provider or waited for a client while holding a connection
//! would keep it from everyone else meanwhile. Their bodies are read
//! before the scope begins (`http::hold_a_connection`), since a handler
//! loads the web session before it reads its body.
//!
//! SQLite holds none: its writers queue for a turn (`Store::write_gate`),
//! and a request holding one of its few connections while it waited for
//! the turn could keep the writer that has the turn from running. There
//! the check is a hop to the connection's thread, not a round trip.

use super::{Backend, Store};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection};
use std::cell::Cell;
use std::sync::atomic::Ordering;

tokio::task_local! {
    /// The current request's connection, between its statements.
    static HELD: Cell<Option<PoolConnection<Any>>>;
}

/// Runs `work` (one request) so that the store's calls on its path share
/// one connection, given back to the pool when `work` ends.
pub async fn holding_a_connection<F: std::future::Future>(work: F) -> F::Output {
    HELD.scope(Cell::new(None), work).await
}

/// Gives the current request's held connection back to the pool, if it
/// holds one: before the request takes a connection any other way.
pub(super) fn give_back_held() {
    // Outside a request's scope there is nothing held.
    let _ = HELD.try_with(|slot| drop(slot.take()));
}

/// A connection for one statement (or a few). Within a holding scope on
/// PostgreSQL it is the request's connection, back in the request's slot
/// when dropped; otherwise one from the pool, back in the pool when dropped.
#[derive(Debug)]
pub(crate) struct Lease {
    conn: Option<PoolConnection<Any>>,
    /// Whether the connection goes back to the request's slot.
    held: bool,
}

impl Lease {
    /// The connection, to run statements on.
    pub(crate) fn connection(&mut self) -> Result<&mut AnyConnection, sqlx::Error> {
        // Taken only by `drop`.
        self.conn.as_deref_mut().ok_or(sqlx::Error::PoolClosed)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if !self.held {
            return;
        }
        // Outside the scope (it cannot end while a lease of its own is
        // alive) the connection simply goes back to the pool.
        let _ = HELD.try_with(move |slot| match slot.take() {
            None => slot.set(Some(conn)),
            // Two leases at once (concurrent calls in one request): the
            // slot keeps one; the other goes back to the pool.
            Some(kept) => slot.set(Some(kept)),
        });
    }
}

impl Store {
    /// A connection for the next statement: the request's held one if
    /// there is one (see the module's comment).
    pub(crate) async fn conn(&self) -> Result<Lease, sqlx::Error> {
        let held = self.backend == Backend::Postgres && HELD.try_with(|_| ()).is_ok();
        if held && let Ok(Some(conn)) = HELD.try_with(Cell::take) {
            self.held_reuses.fetch_add(1, Ordering::Relaxed);
            return Ok(Lease {
                conn: Some(conn),
                held,
            });
        }
        Ok(Lease {
            conn: Some(self.pool.acquire().await?),
            held,
        })
    }

    /// How many statements ran on a connection a request held from an
    /// earlier one (tests: which routes hold one).
    #[doc(hidden)]
    pub fn held_connection_reuses(&self) -> u64 {
        self.held_reuses.load(Ordering::Relaxed)
    }

    /// How many connections the pool lends now (open minus idle): tests.
    #[cfg(test)]
    pub(crate) fn connections_lent(&self) -> usize {
        usize::try_from(self.pool.size())
            .unwrap_or(usize::MAX)
            .saturating_sub(self.pool.num_idle())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Whether the current request's slot holds a connection now.
    fn slot_holds() -> bool {
        HELD.try_with(|slot| {
            let conn = slot.take();
            let holds = conn.is_some();
            slot.set(conn);
            holds
        })
        .unwrap_or(false)
    }

    async fn one(store: &Store) -> i64 {
        let mut lease = store.conn().await.unwrap();
        sqlx::query_scalar("SELECT 1")
            .fetch_one(lease.connection().unwrap())
            .await
            .unwrap()
    }

    /// Waits until the pool lends `count` connections (a connection goes
    /// back in a task of its own, after sqlx's check); fails after 5 s.
    async fn lent_settles_at(store: &Store, count: usize) {
        for _ in 0..500 {
            if store.connections_lent() == count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(store.connections_lent(), count);
    }

    #[tokio::test]
    async fn a_request_runs_its_statements_on_one_connection_on_postgres() {
        let store = Store::open_scratch().await.unwrap();
        let postgres = store.backend() == Backend::Postgres;
        holding_a_connection(async {
            assert_eq!(one(&store).await, 1);
            // Between statements the request holds its connection on
            // PostgreSQL: it stays lent out of the pool. SQLite holds none.
            assert_eq!(slot_holds(), postgres);
            lent_settles_at(&store, usize::from(postgres)).await;
            assert_eq!(one(&store).await, 1);
            lent_settles_at(&store, usize::from(postgres)).await;
            // Taking a connection another way gives the held one back first.
            let _ = store.pool();
            assert!(!slot_holds());
            lent_settles_at(&store, 0).await;
        })
        .await;
        assert!(!slot_holds(), "outside a request nothing is held");
    }

    #[tokio::test]
    async fn the_held_connection_goes_back_when_the_request_ends() {
        let store = Store::open_scratch().await.unwrap();
        holding_a_connection(async {
            assert_eq!(one(&store).await, 1);
        })
        .await;
        lent_settles_at(&store, 0).await;
    }

    #[tokio::test]
    async fn a_write_transaction_gives_the_held_connection_back_first() {
        let store = Store::open_scratch().await.unwrap();
        holding_a_connection(async {
            assert_eq!(one(&store).await, 1);
            let (_gate, tx) = store.begin_write().await.unwrap();
            assert!(!slot_holds());
            lent_settles_at(&store, 1).await;
            drop(tx);
        })
        .await;
        lent_settles_at(&store, 0).await;
    }

    #[tokio::test]
    async fn two_leases_at_once_in_one_request_keep_one_in_the_slot() {
        let store = Store::open_scratch().await.unwrap();
        let postgres = store.backend() == Backend::Postgres;
        holding_a_connection(async {
            let a = store.conn().await.unwrap();
            if postgres {
                // (An in-memory SQLite database has one connection.)
                let b = store.conn().await.unwrap();
                assert_eq!(store.connections_lent(), 2);
                drop(b);
            }
            drop(a);
            assert_eq!(slot_holds(), postgres);
            lent_settles_at(&store, usize::from(postgres)).await;
        })
        .await;
        lent_settles_at(&store, 0).await;
    }
}
