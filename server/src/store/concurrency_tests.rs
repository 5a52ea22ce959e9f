//! Races the store must settle the same way on SQLite and on PostgreSQL
//! (`cargo xtask test` runs these on both): transitions racing on one
//! session, and two admins editing one role. On PostgreSQL the racers run
//! on separate pooled connections, so the database really interleaves them.

use super::{RbacChangeError, Store};
use crate::auth::{Authorized, ManageRoles, TenantScope};
use crate::domain::local_time::local_start;
use crate::domain::machine::{Event, State};
use crate::store::{Change, SessionRecord};
use futures_util::future::join_all;
use tandem_protocol::rbac::{Permission, RoleDraft};
use tandem_protocol::session::Party;
use tandem_protocol::{UnixMillis, UserId};

const RACERS: usize = 8;

async fn seeded() -> Store {
    let store = Store::open_scratch().await.unwrap();
    crate::seed::seed_demo(&store, UnixMillis(1_000))
        .await
        .unwrap();
    store
}

/// A seeded store with one new session of Megan's, its code `code`.
async fn seeded_session(code: &'static str) -> (Store, TenantScope, SessionRecord) {
    let store = seeded().await;
    let helper = store
        .user_by_email_for_sign_in("megan@contoso.test")
        .await
        .unwrap()
        .unwrap();
    let scope = TenantScope::for_tests(helper.tenant_id.clone());
    let local = local_start(&jiff::tz::TimeZone::UTC, UnixMillis(1_000));
    let record = store
        .create_session(
            &scope,
            &helper.id,
            (code, UnixMillis(61_000)),
            None,
            UnixMillis(1_000),
            &local,
        )
        .await
        .unwrap();
    (store, scope, record)
}

/// Racer `n`'s change: `event` by `actor`, to `next`, at its own time.
fn racer<'a>(
    (actor, actor_id): (Party, Option<&'a UserId>),
    event: &'a Event,
    next: &'a State,
    n: usize,
) -> Change<'a> {
    Change {
        actor,
        actor_id,
        event,
        next,
        sharer: None,
        device: None,
        elevation_held: false,
        elevation_used: false,
        at: UnixMillis(2_000 + i64::try_from(n).unwrap()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_transitions_on_one_session_let_exactly_one_win() {
    let (store, scope, record) = seeded_session("race").await;
    let next = State::Redeemed;
    let racers = (0..RACERS).map(|n| {
        let (store, record, next) = (&store, &record, &next);
        async move {
            let change = racer((Party::Sharer, None), &Event::Redeem, next, n);
            store.apply_session_change(record, &change).await.unwrap()
        }
    });
    let outcomes = join_all(racers).await;
    let winners: Vec<_> = outcomes.iter().flatten().collect();
    assert_eq!(winners.len(), 1, "exactly one racer wins: {outcomes:?}");
    let stored = store.session(&scope, &record.id).await.unwrap().unwrap();
    assert_eq!(&stored, winners[0]);
    // One event for the creation, one for the winner: no lost or doubled
    // transition, and the sequence has no gap.
    let log = store.session_events(&scope, &record.id).await.unwrap();
    let seqs: Vec<i64> = log.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2]);
    assert_eq!(log[1].at, winners[0].updated_at);
}

/// A transition that keeps the state (a reconnect) is still
/// compare-and-set on it, so racing ones all win, one after another: each
/// must be logged once, with a number of its own. On PostgreSQL a racer
/// that waited for the row's lock writes from a snapshot taken before the
/// others committed; its log number must come from the row it holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_transitions_that_keep_the_state_are_each_logged_once() {
    let (store, scope, record) = seeded_session("reconnects").await;
    let racers = (0..RACERS).map(|n| {
        let (store, record) = (&store, &record);
        async move {
            let change = racer(
                (Party::Helper, Some(&record.helper_id)),
                &Event::Reconnect,
                &record.state,
                n,
            );
            store.apply_session_change(record, &change).await.unwrap()
        }
    });
    let outcomes = join_all(racers).await;
    assert!(
        outcomes.iter().all(Option::is_some),
        "every racer wins: {outcomes:?}"
    );
    let stored = store.session(&scope, &record.id).await.unwrap().unwrap();
    assert_eq!(stored.reconnects, u32::try_from(RACERS).unwrap());
    let log = store.session_events(&scope, &record.id).await.unwrap();
    let seqs: Vec<i64> = log.iter().map(|e| e.seq).collect();
    let expected: Vec<i64> = (1..=i64::try_from(RACERS).unwrap() + 1).collect();
    assert_eq!(seqs, expected, "one number each, no gap");
    let reconnects = log.iter().filter(|e| e.event == Event::Reconnect).count();
    assert_eq!(reconnects, RACERS);
    // Each winner learns the version its change made (what the other
    // replicas order the bus's news of it by).
    let mut versions: Vec<i64> = outcomes.iter().flatten().map(|r| r.version).collect();
    versions.sort_unstable();
    assert_eq!(versions, expected[1..], "a version of its own each");
    assert_eq!(stored.version, expected[expected.len() - 1]);
    // The record counted each of them too.
    let counted: i64 =
        sqlx::query_scalar("SELECT reconnects FROM session_reports WHERE session_id = $1")
            .bind(record.id.0.as_str())
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(counted, i64::try_from(RACERS).unwrap());
}

/// During a rolling upgrade a replica of the version before shares the
/// database: it creates sessions without a count and logs without moving
/// it. A transition of this version still takes the next number.
#[tokio::test]
async fn a_log_written_by_the_version_before_keeps_its_numbering() {
    let (store, scope, record) = seeded_session("upgrade").await;
    // What the version before leaves: no count, and an entry it logged.
    sqlx::query("UPDATE remote_sessions SET event_count = 0 WHERE id = $1")
        .bind(record.id.0.as_str())
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO session_events (session_id, seq, at, actor, actor_id, event, state) \
         VALUES ($1, 2, 1500, 'helper', NULL, $2, $3)",
    )
    .bind(record.id.0.as_str())
    .bind(serde_json::to_string(&Event::Reconnect).unwrap())
    .bind(serde_json::to_string(&record.state).unwrap())
    .execute(store.pool())
    .await
    .unwrap();
    let change = racer(
        (Party::Helper, Some(&record.helper_id)),
        &Event::Reconnect,
        &record.state,
        0,
    );
    assert!(
        store
            .apply_session_change(&record, &change)
            .await
            .unwrap()
            .is_some()
    );
    let log = store.session_events(&scope, &record.id).await.unwrap();
    let seqs: Vec<i64> = log.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_admins_editing_one_role_never_lose_an_edit() {
    let store = seeded().await;
    let contoso = store
        .user_by_email_for_sign_in("admin@contoso.test")
        .await
        .unwrap()
        .unwrap()
        .tenant_id;
    let auth = Authorized::<ManageRoles>::system(contoso.clone(), "test");
    let draft = |name: String| RoleDraft {
        name,
        description: String::new(),
        permissions: [Permission::ViewScreen].into_iter().collect(),
        version: None,
    };
    let role = store
        .create_role(&auth, &draft("Racing".into()), UnixMillis(1_000))
        .await
        .unwrap();
    let editors = (0..RACERS).map(|n| {
        let (store, auth, role, draft) = (&store, &auth, &role, &draft);
        async move {
            store
                .update_role(
                    auth,
                    &role.id,
                    &draft(format!("Edit {n}")),
                    UnixMillis(2_000),
                )
                .await
        }
    });
    let outcomes = join_all(editors).await;
    let mut saved = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(view) => saved.push(view.name),
            Err(RbacChangeError::Conflict(_)) => {}
            Err(other) => panic!("an edit failed otherwise: {other:?}"),
        }
    }
    assert!(!saved.is_empty(), "at least one edit is saved");
    // Every saved edit has its audit entry, and the entries form one chain
    // from the created role to the stored one: each "before" is the
    // previous "after", so no edit overwrote another unseen.
    let scope = TenantScope::for_tests(contoso);
    let mut entries: Vec<_> = store
        .audit_entries(&scope)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.object_id == role.id.0 && e.action == "role.update")
        .collect();
    assert_eq!(entries.len(), saved.len(), "one audit entry per saved edit");
    let name_of = |json: &Option<String>| -> String {
        let value: serde_json::Value = serde_json::from_str(json.as_deref().unwrap()).unwrap();
        value["name"].as_str().unwrap().to_owned()
    };
    let mut current = "Racing".to_owned();
    while !entries.is_empty() {
        let next = entries
            .iter()
            .position(|e| name_of(&e.before) == current)
            .unwrap_or_else(|| panic!("no edit starts from {current:?}: a lost update"));
        current = name_of(&entries.remove(next).after);
    }
    let stored = store
        .roles(&scope)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.id == role.id)
        .unwrap();
    assert_eq!(stored.name, current, "the stored role ends the chain");
}

/// An admin who opened the role before another saved it: their save names
/// the version they saw and is refused, instead of replacing the other's
/// change unseen; from the fresh version it goes through.
#[tokio::test]
async fn a_save_from_a_stale_form_is_refused() {
    let store = Store::open_scratch().await.unwrap();
    crate::seed::seed_demo(&store, UnixMillis(0)).await.unwrap();
    let contoso = store
        .user_by_email_for_sign_in("admin@contoso.test")
        .await
        .unwrap()
        .unwrap()
        .tenant_id;
    let auth = Authorized::<ManageRoles>::system(contoso, "test");
    let draft = |name: &str, version: Option<u64>| RoleDraft {
        name: name.into(),
        description: String::new(),
        permissions: [Permission::ViewScreen].into_iter().collect(),
        version,
    };
    let opened = store
        .create_role(&auth, &draft("Opened", None), UnixMillis(1_000))
        .await
        .unwrap();
    assert_eq!(opened.version, 0);
    let theirs = store
        .update_role(
            &auth,
            &opened.id,
            &draft("Theirs", Some(0)),
            UnixMillis(2_000),
        )
        .await
        .unwrap();
    assert_eq!(theirs.version, 1);
    let stale = store
        .update_role(
            &auth,
            &opened.id,
            &draft("Mine", Some(0)),
            UnixMillis(3_000),
        )
        .await;
    assert!(
        matches!(stale, Err(RbacChangeError::Conflict(_))),
        "{stale:?}"
    );
    let fresh = store
        .update_role(
            &auth,
            &opened.id,
            &draft("Mine", Some(1)),
            UnixMillis(4_000),
        )
        .await
        .unwrap();
    assert_eq!((fresh.name.as_str(), fresh.version), ("Mine", 2));
}
