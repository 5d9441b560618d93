//! What the conformance checks share: users, apps, a live token family, a fixed clock, a pager
//! and a way to start racing tasks together.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

use crate::domain::redirect::{ApplicationType, RedirectUri};
use crate::domain::scope::ScopeSet;
use crate::domain::secret::TokenDigest;
use crate::store::{
    After, CodeGrant, Consumed, Grant, Issue, NewApp, NewToken, NewUser, Page, PageReq, Store,
    StoreResult,
};

/// The clock of the checks whose primitives take the time as an argument.
pub(super) const AT: i64 = 1_000_000;

/// How long the tokens of [`token`] live.
pub(super) const TTL: i64 = 3600;

pub(super) const REDIRECT: &str = "https://app.example/cb";

/// The digest of a named secret: checks name their tokens and codes.
pub(super) fn d(name: &str) -> TokenDigest {
    TokenDigest::of(name)
}

/// A token issued at [`AT`] that lives [`TTL`] seconds.
pub(super) fn token(name: &str) -> NewToken {
    token_at(name, AT, AT + TTL)
}

pub(super) fn token_at(name: &str, issued_at: i64, expires_at: i64) -> NewToken {
    NewToken {
        digest: d(name),
        issued_at,
        expires_at,
    }
}

pub(super) async fn user(store: &dyn Store, username: &str) -> StoreResult<i64> {
    store
        .create_user(NewUser {
            username: username.into(),
            email: Some(format!("{username}@example.com")),
            display_name: username.to_uppercase(),
            password_hash: format!("hash-of-{username}"),
        })
        .await
}

/// A confidential web app named `name`, without a webhook.
pub(super) fn new_app(client_id: &str, name: &str, developer: Option<i64>) -> NewApp {
    NewApp {
        client_id: client_id.into(),
        secret_digest: Some(d(&format!("secret-of-{client_id}"))),
        name: name.into(),
        description: format!("{name}, for the checks"),
        developer_id: developer,
        redirect_uris: vec![REDIRECT.into()],
        iframe_url: None,
        webhook_url: None,
        install_url: None,
        scopes: ScopeSet::from_stored("profile"),
        allow_code: true,
        allow_token: false,
        application_type: ApplicationType::Web,
    }
}

/// An app named after its client id; `webhook` gives it a webhook URL.
pub(super) async fn app(
    store: &dyn Store,
    client_id: &str,
    developer: Option<i64>,
    webhook: bool,
) -> StoreResult<i64> {
    let mut app = new_app(client_id, client_id, developer);
    if webhook {
        app.webhook_url = Some(format!("https://{client_id}.example/hook"));
    }
    store.create_app(app, None).await
}

pub(super) fn code_grant(app: i64, user: i64, install: Option<i64>) -> CodeGrant {
    CodeGrant {
        app_id: app,
        user_id: user,
        company_id: None,
        redirect_uri: RedirectUri::absolute(REDIRECT).expect("a constant URL"),
        scopes: ScopeSet::from_stored("profile"),
        code_challenge: Some("challenge".into()),
        expires_at: AT + 60,
        install_id: install,
    }
}

pub(super) fn grant(app: i64, user: Option<i64>, install: Option<i64>) -> Grant {
    Grant {
        app_id: app,
        user_id: user,
        company_id: None,
        scopes: ScopeSet::from_stored("profile"),
        install_id: install,
    }
}

/// A user `ada`, an app `app`, and a live family with the access token `access-1` and the
/// refresh token `refresh-1`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Family {
    pub app: i64,
    pub user: i64,
    pub family: i64,
}

/// [`Family`], issued without a code.
pub(super) async fn family(store: &dyn Store) -> StoreResult<Family> {
    let user = user(store, "ada").await?;
    let app = app(store, "app", Some(user), false).await?;
    let family = issued(
        store
            .issue(
                grant(app, Some(user), None),
                None,
                token("access-1"),
                Some(token("refresh-1")),
            )
            .await?,
    );
    Ok(Family { app, user, family })
}

/// [`Family`], issued from the code `code` (saved and consumed first).
pub(super) async fn family_from_code(store: &dyn Store, code: &str) -> StoreResult<Family> {
    let user = user(store, "ada").await?;
    let app = app(store, "app", Some(user), false).await?;
    assert!(
        store
            .save_code(d(code), code_grant(app, user, None))
            .await?
    );
    let Consumed::Fresh(consumed) = store.consume_code(d(code), AT).await? else {
        panic!("a fresh code is consumed once");
    };
    let family = issued(
        store
            .issue(
                grant(app, Some(consumed.user_id), None),
                Some(d(code)),
                token("access-1"),
                Some(token("refresh-1")),
            )
            .await?,
    );
    Ok(Family { app, user, family })
}

/// The family of an `Issued` answer.
pub(super) fn issued(issue: Issue) -> i64 {
    match issue {
        Issue::Issued { family } => family,
        other => panic!("a grant that can be issued is: {other:?}"),
    }
}

/// Whether the access token named `name` is live at `at`.
pub(super) async fn live(store: &dyn Store, name: &str, at: i64) -> StoreResult<bool> {
    Ok(store.access_token(d(name), at).await?.is_some())
}

/// Runs `n` copies of `task` (given the store and their index) at once: every task waits at a
/// barrier until all have started, so they hit the store together. Their answers, in index
/// order; a task that panics fails the check.
pub(super) async fn race<T, F, Fut>(store: &Arc<dyn Store>, n: usize, task: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<dyn Store>, usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let run = task(store.clone(), i);
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                run.await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for h in handles {
        out.push(h.await.expect("a racing task panicked"));
    }
    out
}

/// Reads a whole list `limit` items at a time, following the cursor, and checks what every
/// page promises: no page is longer than asked, only the last one has no cursor, and no item
/// comes twice. The items, in the order read.
pub(super) async fn all_pages<T, F, Fut>(
    limit: usize,
    key: impl Fn(&T) -> After,
    mut read: F,
) -> StoreResult<Vec<T>>
where
    F: FnMut(PageReq) -> Fut,
    Fut: Future<Output = StoreResult<Page<T>>>,
{
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    let mut after = None;
    for _ in 0..1000 {
        let page = read(PageReq { after, limit }).await?;
        assert!(page.items.len() <= limit, "a page holds at most its limit");
        for item in &page.items {
            let k = key(item);
            assert!(seen.insert((k.key, k.id)), "an item comes once");
        }
        if page.next.is_some() {
            assert_eq!(page.items.len(), limit, "only the last page is short");
            assert_eq!(
                page.next,
                page.items.last().map(&key),
                "the cursor is the last item"
            );
        }
        items.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(items),
        }
    }
    panic!("a list of a few items ends");
}

/// The sort keys of a list, to compare with the order every page promises.
pub(super) fn keys<T>(items: &[T], key: impl Fn(&T) -> After) -> Vec<(String, i64)> {
    items
        .iter()
        .map(|i| {
            let k = key(i);
            (k.key, k.id)
        })
        .collect()
}

/// `keys` sorted: by text key, then id.
pub(super) fn sorted(mut keys: Vec<(String, i64)>) -> Vec<(String, i64)> {
    keys.sort();
    keys
}
