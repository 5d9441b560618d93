//! The cost of signing in is bounded: a username or a client that keeps failing must wait
//! (429 with `Retry-After`), and sign-ins beyond the password checks the server runs at once
//! wait a little, then get 503 with `Retry-After`. Every attempt uses a fresh sign-in page
//! (its own CSRF cookie and field), as a browser would.

use std::time::Duration;

use crate::helpers::*;

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds")
}

#[tokio::test]
async fn a_username_that_keeps_failing_gets_429_with_retry_after_even_with_the_right_password() {
    let app = spawn_app_configured(|s| s.login.user_free_failures = 3).await;
    app.user("ada").await;
    for i in 0..3 {
        let res = Browser::new(&app.base).login("ada", "wrong password").await;
        assert_eq!(res.status(), 401, "attempt {i}");
    }
    // The fourth failure starts the back-off; from then on even the right password waits.
    let res = Browser::new(&app.base).login("ada", "wrong password").await;
    assert_eq!(res.status(), 401);
    let res = Browser::new(&app.base).login("ada", PASSWORD).await;
    assert_eq!(res.status(), 429);
    assert!(
        (1..=2).contains(&retry_after(&res)),
        "{}",
        retry_after(&res)
    );
    // Another user is not held back by ada's attacker.
    app.user("grace").await;
    let res = Browser::new(&app.base).login("grace", PASSWORD).await;
    assert_eq!(res.status(), 303);
    // After the wait, the right password works and clears the count.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let res = Browser::new(&app.base).login("ada", PASSWORD).await;
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn a_client_that_keeps_failing_across_usernames_gets_429() {
    let app = spawn_app_configured(|s| s.login.ip_free_failures = 4).await;
    app.user("ada").await;
    for i in 0..5 {
        let res = Browser::new(&app.base)
            .login(&format!("guess{i}"), "wrong password")
            .await;
        assert_eq!(res.status(), 401, "attempt {i}");
    }
    let res = Browser::new(&app.base).login("guess-next", "x").await;
    assert_eq!(res.status(), 429);
    assert!(retry_after(&res) >= 1);
    let page = res.text().await.unwrap();
    assert!(page.contains("Too many failed sign-ins"), "{page}");
}

#[tokio::test]
async fn sign_ins_beyond_the_password_check_capacity_get_503_with_retry_after() {
    let app = spawn_app_configured(|s| {
        s.login.concurrency = 1;
        s.login.queue_timeout = Duration::from_millis(1);
    })
    .await;
    // Twelve usernames, so that no back-off (counted before the check) refuses any of them.
    let attempts: Vec<_> = (0..12)
        .map(|i| {
            let base = app.base.clone();
            let name = format!("guess{i}");
            tokio::spawn(async move { Browser::new(&base).login(&name, "wrong password").await })
        })
        .collect();
    let mut statuses = Vec::new();
    for a in attempts {
        let res = a.await.unwrap();
        if res.status() == 503 {
            assert_eq!(retry_after(&res), 1);
        }
        statuses.push(res.status().as_u16());
    }
    assert!(statuses.contains(&503), "{statuses:?}");
    assert!(statuses.contains(&401), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 503 || *s == 401),
        "{statuses:?}"
    );
}

/// Sends `attempts` sign-ins at once, with `name(i)` as the username, and answers their
/// statuses.
async fn at_once(app: &TestApp, attempts: usize, name: fn(usize) -> String) -> Vec<u16> {
    // Every attempt first gets its own sign-in form, so that the posts leave together.
    let mut browsers = Vec::new();
    for _ in 0..attempts {
        let b = Browser::new(&app.base);
        let form = b.login_form().await;
        browsers.push((b, form));
    }
    let posts: Vec<_> = browsers
        .into_iter()
        .enumerate()
        .map(|(i, (b, form))| {
            tokio::spawn(async move {
                let res = b.post_login(form, &name(i), "wrong password").await;
                res.status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for p in posts {
        statuses.push(p.await.unwrap().as_u16());
    }
    statuses
}

#[tokio::test]
async fn guesses_sent_at_once_for_one_username_are_counted_before_they_are_checked() {
    let app = spawn_app_configured(|s| {
        s.login.user_free_failures = 2;
        s.login.queue_timeout = Duration::from_secs(30);
    })
    .await;
    app.user("ada").await;
    let statuses = at_once(&app, 12, |_| "ada".to_string()).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    // Three attempts may be checked (after 0, 1 and 2 failures); every later one is refused
    // before its password is checked: it waits (429), or, losing a race for the count, is
    // told to retry (503).
    assert!((1..=3).contains(&checked), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [401, 429, 503].contains(s)),
        "{statuses:?}"
    );
    let res = Browser::new(&app.base).login("ada", PASSWORD).await;
    assert_eq!(res.status(), 429, "the guesses were all counted");
}

#[tokio::test]
async fn a_client_spraying_usernames_at_once_is_counted_before_they_are_checked() {
    let app = spawn_app_configured(|s| {
        s.login.ip_free_failures = 3;
        s.login.queue_timeout = Duration::from_secs(30);
    })
    .await;
    let statuses = at_once(&app, 12, |i| format!("guess{i}")).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert!((1..=4).contains(&checked), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [401, 429, 503].contains(s)),
        "{statuses:?}"
    );
}
