//! What every [`Store`](super::Store) implementation must do, written once against
//! `&dyn Store` and run over every backend.
//!
//! Each check is an `async fn(&dyn Store) -> StoreResult<()>` in the file of its aggregate.
//! [`suite!`] lists them all, once; each backend instantiates the whole list with
//! `suite!(backend, open)`, where `open()` is an async function giving a fresh, empty store
//! and a guard that keeps it alive (a temporary directory, a throwaway schema). A check added to
//! the list runs on every backend, so no backend can silently skip one.

mod grants;

/// Instantiates every conformance check as a `#[tokio::test]` in a module named `$backend`.
/// The runtime has several worker threads, so checks with racing tasks really race.
macro_rules! suite {
    ($backend:ident, $open:ident) => {
        suite!(@tests $backend, $open;
            grants::a_second_use_of_a_code_names_its_family_and_revokes_nothing,
            grants::a_code_replayed_before_its_tokens_are_written_issues_none,
            grants::a_rotated_refresh_token_is_reported_with_its_family_and_revokes_nothing,
            grants::a_deleted_app_gets_no_new_secret,
        );
    };
    (@tests $backend:ident, $open:ident; $($file:ident :: $check:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $check() {
                    let (_guard, store) = super::$open().await;
                    super::$file::$check(&store).await.expect("store");
                }
            )*
        }
    };
}

/// A fresh SQLite store in a temporary directory.
async fn sqlite() -> (tempfile::TempDir, crate::store::sqlite::SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = crate::db::Db::open(&dir.path().join("atrium.db")).expect("database");
    (dir, crate::store::sqlite::SqliteStore::new(db))
}

suite!(sqlite, sqlite);
