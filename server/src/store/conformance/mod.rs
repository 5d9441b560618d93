//! What every [`Store`](super::Store) implementation must do, written once against the traits
//! and run over every backend. Hydra's `fosite_store_helpers.go` is the model: the checks are
//! the contract a backend must meet, so they call trait methods only (no SQL) and test what the
//! trait docs promise, not one engine's quirks.
//!
//! One file per aggregate, each check an `async fn` answering `StoreResult<()>`:
//!
//! | file | what it checks |
//! |---|---|
//! | `users.rs` | users, sessions, single-use login forms |
//! | `companies.rs` | companies, members, invitations, quotas, pages |
//! | `apps.rs` | apps and clients, secrets, updates, deletion, the catalog |
//! | `grants.rs` | codes, families, access and refresh tokens, the reuse interval |
//! | `races.rs` | consume-once, rotate-if-current and revoke-family under racing tasks |
//! | `installs.rs` | installs, uninstalling, what it revokes and queues |
//! | `outbox.rs` | due events, attempts, backoff, retries |
//! | `inbox.rs` | apps' notifications to users: who sees them, read marks, the rate, badges |
//! | `login_throttle.rs` | sign-in counts: claimed per key, settled, one key per slot, 20 racers, pruning |
//! | `oidc.rs` | signing-key versions, a code's claims, ID-token algorithms, logout URIs |
//! | `prune.rs` | pruning each kind in batches |
//!
//! `fixtures.rs` holds what the checks share: users, apps, a live token family, a fixed clock,
//! a pager that checks what every page promises, and [`fixtures::race`], which starts tasks
//! together behind a barrier. Besides `races.rs`, the other files race what a second backend
//! could get wrong with a check-then-act across two statements: a login form, the quotas, an
//! invitation, an install, a signing-key version, the outbox's writes (`..._by_20_...`).
//!
//! What a backend must also get right, that the checks rely on:
//! - "Fresh, empty" means migrated and holding only what migrations seed (the first-party
//!   desktop app, which the catalog leaves out).
//! - Lists sort by their text key as bytes (the checks use lowercase ASCII names, so any
//!   collation that orders those like bytes passes, but `COLLATE "C"` is the safe choice).
//! - Where a check reads something before changing it ("read once, maybe cached"), a backend
//!   that caches must drop what it holds when the change commits.
//!
//! A check takes `&dyn Store`, or `&Arc<dyn Store>` when it spawns racing tasks. [`suite!`]
//! lists every check, once; each backend instantiates the whole list with
//! `suite!(backend, open)`, where `open()` is an async function giving a guard that keeps the
//! store alive (a temporary directory, a throwaway schema) and a fresh, empty store of any type
//! that implements `Store` (the macro shares it as an `Arc<dyn Store>`). A check added to the
//! list runs on every backend, so no backend can silently skip one. The whole list runs in a
//! few seconds on SQLite: no check sleeps.

mod apps;
mod companies;
mod fixtures;

use std::sync::Arc;

use super::Store;

mod grants;
mod inbox;
mod installs;
mod login_throttle;
mod oidc;
mod outbox;
mod prune;
mod races;
mod users;

/// Instantiates every conformance check as a `#[tokio::test]` in a module named `$backend`.
/// The runtime has several worker threads, so checks with racing tasks really race.
macro_rules! suite {
    ($backend:ident, $open:ident) => {
        suite!(@tests $backend, $open;
            users::a_user_is_found_by_id_and_by_username,
            users::a_taken_username_is_a_conflict,
            users::a_session_lives_until_its_expiry,
            users::a_deleted_session_is_gone,
            users::a_login_form_is_consumed_once_until_it_is_forgotten,
            users::a_login_form_raced_by_20_is_consumed_once,
            companies::a_company_is_created_with_its_owner,
            companies::the_company_quota_counts_the_companies_a_user_owns,
            companies::the_company_quota_holds_under_20_racers,
            companies::an_invitation_is_sent_renewed_and_capped,
            companies::an_expired_invitation_is_neither_listed_nor_counted,
            companies::an_invitation_is_accepted_once_by_its_invitee,
            companies::an_invitation_raced_by_20_accepts_is_used_once,
            companies::an_invitation_to_a_member_is_used_up_without_changing_the_role,
            companies::an_invitation_is_revoked_by_its_company_or_declined_by_its_invitee,
            companies::a_users_invitations_are_newest_first_and_limited,
            companies::the_last_owner_cannot_leave,
            companies::memberships_page_by_name_and_id_without_duplicates,
            companies::members_page_by_username_and_id_without_duplicates,
            apps::an_app_is_read_back_as_its_client,
            apps::a_taken_client_id_is_a_conflict,
            apps::the_app_quota_counts_a_developers_live_apps,
            apps::the_app_quota_holds_under_20_racers,
            apps::a_new_secret_replaces_the_old_at_once,
            apps::an_update_changes_what_it_names_and_nothing_else,
            apps::a_deleted_app_is_gone_and_its_grants_end,
            apps::an_edit_after_a_delete_is_not_found,
            apps::the_catalog_pages_by_name_and_id_without_duplicates,
            grants::a_second_use_of_a_code_names_its_family_and_revokes_nothing,
            grants::a_code_replayed_before_its_tokens_are_written_issues_none,
            grants::a_rotated_refresh_token_is_reported_with_its_family_and_revokes_nothing,
            grants::a_deleted_app_gets_no_new_secret,
            grants::a_code_is_consumed_with_the_grant_it_was_saved_with,
            grants::an_access_token_is_live_until_its_expiry,
            grants::a_revoked_access_token_ends_alone,
            grants::a_refresh_token_tells_its_state,
            grants::a_grant_without_refresh_token_issues_an_access_token_only,
            grants::a_refresh_token_rotates_only_while_current_and_unexpired,
            grants::a_rotation_keeps_its_retry_until_the_window_closes,
            grants::a_retry_ends_when_its_successor_is_used_or_the_family_revoked,
            grants::a_revoked_family_ends_only_its_own_tokens,
            races::a_code_raced_by_20_is_consumed_once,
            races::a_refresh_token_raced_by_20_is_rotated_once,
            races::a_code_replayed_while_it_is_exchanged_leaves_no_live_token,
            races::a_family_revoked_while_it_is_rotated_keeps_no_live_token,
            installs::an_install_is_recorded_once_and_widened,
            installs::an_app_without_webhook_is_installed_without_event,
            installs::uninstalling_ends_the_installs_grants_and_is_announced,
            installs::an_install_raced_by_20_is_recorded_once,
            installs::an_uninstall_racing_issues_leaves_no_live_token,
            installs::installs_page_by_app_name_and_id_without_duplicates,
            installs::deleting_an_app_uninstalls_it_everywhere_and_announces_each,
            outbox::a_queued_event_is_due_from_its_time,
            outbox::due_events_come_earliest_first_and_capped_per_app,
            outbox::a_failed_attempt_defers_the_event_and_its_apps_earlier_ones,
            outbox::a_delivery_makes_its_apps_deferred_events_due,
            outbox::a_given_up_event_is_kept_until_retried,
            outbox::undelivered_events_are_newest_first_and_limited,
            outbox::events_queued_and_delivered_by_20_racers_are_each_handled_once,
            oidc::signing_keys_are_added_in_order_and_retire_the_older,
            oidc::a_signing_key_version_raced_by_20_is_added_once,
            oidc::a_codes_claims_are_kept_with_it,
            oidc::an_apps_id_token_algorithm_is_rs256_until_it_chooses,
            oidc::an_apps_post_logout_uris_are_replaced_as_a_whole,
            prune::sessions_expired_before_the_cutoff_are_pruned,
            prune::tokens_expired_before_the_cutoff_are_pruned,
            prune::a_family_is_pruned_once_its_tokens_are,
            prune::an_expired_code_is_pruned_once_its_family_is_gone,
            prune::delivered_events_are_pruned_and_undelivered_never,
            inbox::a_notification_reaches_its_addressee_or_the_whole_company,
            inbox::only_an_active_install_posts_and_only_to_its_members,
            inbox::read_marks_are_per_member_and_only_on_what_they_see,
            inbox::the_rate_limit_counts_the_window_and_says_when_to_retry,
            inbox::the_rate_limit_holds_under_20_racers,
            inbox::a_members_own_badge_wins_over_the_companys,
            inbox::notifications_posted_before_the_cutoff_are_pruned,
            login_throttle::sign_in_attempts_are_claimed_per_key_until_forgotten,
            login_throttle::a_success_forgets_the_username_and_gives_the_network_its_attempt_back,
            login_throttle::a_key_takes_over_a_slot_another_key_holds,
            login_throttle::sign_ins_raced_by_20_are_counted_one_after_the_other,
            login_throttle::forgotten_login_failures_are_pruned,
        );
    };
    (@tests $backend:ident, $open:ident; $($file:ident :: $check:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $check() {
                    // `None`: the backend is not available here (and may be skipped).
                    let Some((_guard, store)) = super::$open().await else { return };
                    let store: std::sync::Arc<dyn crate::store::Store> = std::sync::Arc::new(store);
                    let check = super::$file::$check(super::Given::given(&store));
                    tokio::time::timeout(super::BOUND, check)
                        .await
                        .expect("the check ends within its bound (a deadlock?)")
                        .expect("store");
                }
            )*
        }
    };
}

/// How long one check may take before it counts as hung: each takes well under a second on
/// SQLite, so a backend that deadlocks fails its check rather than stalling CI.
const BOUND: std::time::Duration = std::time::Duration::from_secs(60);

/// What a check takes, as its signature says: `&dyn Store`, or `&Arc<dyn Store>` to race.
trait Given<'a> {
    fn given(store: &'a Arc<dyn Store>) -> Self;
}

impl<'a> Given<'a> for &'a dyn Store {
    fn given(store: &'a Arc<dyn Store>) -> Self {
        store.as_ref()
    }
}

impl<'a> Given<'a> for &'a Arc<dyn Store> {
    fn given(store: &'a Arc<dyn Store>) -> Self {
        store
    }
}

/// A fresh SQLite store in a temporary directory.
async fn sqlite() -> Option<(tempfile::TempDir, crate::store::sqlite::SqliteStore)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = crate::db::Db::open(&dir.path().join("atrium.db")).expect("database");
    Some((dir, crate::store::sqlite::SqliteStore::new(db)))
}

suite!(sqlite, sqlite);

/// A fresh PostgreSQL store in a throwaway schema of the test database
/// (`ATRIUM_TEST_POSTGRES_URL`; unset, the checks are skipped, or fail under `CI=true`); see
/// [`crate::store::postgres::testing`].
async fn postgres() -> Option<(
    crate::store::postgres::testing::Schema,
    crate::store::postgres::PostgresStore,
)> {
    crate::store::postgres::testing::fresh_store().await
}

suite!(postgres, postgres);
