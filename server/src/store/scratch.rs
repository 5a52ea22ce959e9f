//! Throwaway PostgreSQL schemas for tests: one new schema per test in the
//! maintenance database of a cluster that the test run made (see
//! `xtask/src/postgres.rs`), so that tests never share rows and never touch
//! a database they did not make. A schema costs a catalog row where a
//! database would cost a copy of `template1` (7.5 MB) per test.

use super::StoreResult;
use sqlx::{AnyConnection, Connection, Executor};

/// Creates a new, empty schema on the cluster whose maintenance database
/// `cluster_url` names, and returns a URL whose connections use it.
pub(super) async fn database(cluster_url: &str) -> StoreResult<String> {
    let name = format!("scratch_{}", uuid::Uuid::new_v4().simple());
    let mut admin = AnyConnection::connect(cluster_url).await?;
    // `name` is ours (letters, digits and `_`), never input.
    admin
        .execute(format!("CREATE SCHEMA {name}").as_str())
        .await?;
    admin.close().await?;
    Ok(in_schema(cluster_url, &name))
}

/// `url` whose connections find (and create) tables in `schema`.
fn in_schema(url: &str, schema: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options[search_path]={schema}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_is_added_to_the_options() {
        assert_eq!(
            in_schema("postgres://u@localhost/postgres?host=/tmp/x&port=5", "s1"),
            "postgres://u@localhost/postgres?host=/tmp/x&port=5&options[search_path]=s1"
        );
        assert_eq!(
            in_schema("postgres://u@h:5432/postgres", "s2"),
            "postgres://u@h:5432/postgres?options[search_path]=s2"
        );
    }
}
