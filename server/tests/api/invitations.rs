//! Company membership only with the member's consent: owners invite by username, the invitee
//! accepts or declines, members leave; the consent page makes the user choose a company.

use serde_json::{json, Value};

use crate::helpers::*;

/// Alice owns Acme; bob exists. Dashboard tokens for both.
struct Team {
    app: TestApp,
    acme: i64,
    alice: String,
    bob: String,
}

async fn team() -> Team {
    let app = spawn_app().await;
    let alice_id = app.user("alice").await;
    app.user("bob").await;
    let acme = app.company("Acme", alice_id).await;
    let alice = app.dashboard_token("alice").await;
    let bob = app.dashboard_token("bob").await;
    Team {
        app,
        acme,
        alice,
        bob,
    }
}

impl Team {
    async fn invite(&self, token: &str, username: &str, role: &str) -> reqwest::Response {
        self.app
            .call(
                "POST",
                &format!("/api/dashboard/companies/{}/invitations", self.acme),
                token,
                Some(json!({ "username": username, "role": role })),
            )
            .await
    }

    /// The pending invitations `token`'s user sees.
    async fn mine(&self, token: &str) -> Vec<Value> {
        let res = self
            .app
            .call("GET", "/api/dashboard/invitations", token, None)
            .await;
        assert_eq!(res.status(), 200);
        res.json::<Vec<Value>>().await.unwrap()
    }

    /// Alice invites bob with `role`; the id bob sees.
    async fn invite_bob(&self, role: &str) -> i64 {
        assert_eq!(self.invite(&self.alice, "bob", role).await.status(), 202);
        let mine = self.mine(&self.bob).await;
        assert_eq!(mine.len(), 1, "{mine:?}");
        assert_eq!(mine[0]["company_name"], "Acme");
        assert_eq!(mine[0]["role"], role);
        mine[0]["id"].as_i64().unwrap()
    }

    async fn decide(&self, token: &str, id: i64, what: &str) -> reqwest::Response {
        self.app
            .call(
                "POST",
                &format!("/api/dashboard/invitations/{id}/{what}"),
                token,
                None,
            )
            .await
    }

    /// Company ids and roles of `token`'s user.
    async fn companies(&self, token: &str) -> Vec<(i64, String)> {
        let page: Value = self
            .app
            .call("GET", "/api/dashboard/companies", token, None)
            .await
            .json()
            .await
            .unwrap();
        page["items"]
            .as_array()
            .expect("a page of companies")
            .iter()
            .map(|c| {
                (
                    c["id"].as_i64().unwrap(),
                    c["role"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

#[tokio::test]
async fn an_owner_cannot_make_a_user_a_member_or_an_owner_without_their_consent() {
    let t = team().await;
    // The old direct add is gone: it neither answers success nor makes bob a member.
    let res = t
        .app
        .call(
            "POST",
            &format!("/api/dashboard/companies/{}/members", t.acme),
            &t.alice,
            Some(json!({"username": "bob", "role": "owner"})),
        )
        .await;
    assert!(!res.status().is_success(), "direct add: {}", res.status());
    assert!(
        t.companies(&t.bob).await.is_empty(),
        "bob was made a member"
    );

    // An invitation as owner gives bob nothing until he accepts.
    let id = t.invite_bob("owner").await;
    assert!(t.companies(&t.bob).await.is_empty());
    let members = t
        .app
        .call(
            "GET",
            &format!("/api/dashboard/companies/{}/members", t.acme),
            &t.bob,
            None,
        )
        .await;
    assert_eq!(members.status(), 404, "bob can read Acme before accepting");
    let invite_more = t.invite(&t.bob, "carol", "member").await;
    assert_eq!(
        invite_more.status(),
        404,
        "bob acts as owner before accepting"
    );

    // Accepting makes him an owner.
    let res = t.decide(&t.bob, id, "accept").await;
    assert_eq!(res.status(), 200);
    let joined: Value = res.json().await.unwrap();
    assert_eq!(joined["id"], t.acme);
    assert_eq!(joined["role"], "owner");
    assert_eq!(t.companies(&t.bob).await, vec![(t.acme, "owner".into())]);
    assert!(t.mine(&t.bob).await.is_empty(), "the invitation is used up");
    assert_eq!(t.invite(&t.bob, "carol", "member").await.status(), 202);
}

#[tokio::test]
async fn the_answer_to_an_invitation_does_not_tell_whether_the_username_exists() {
    let t = team().await;
    // Neither the old direct add nor the invitation may tell bob (exists) from nobody.
    for path in ["members", "invitations"] {
        let mut answers = Vec::new();
        for username in ["bob", "nobody"] {
            let res = t
                .app
                .call(
                    "POST",
                    &format!("/api/dashboard/companies/{}/{path}", t.acme),
                    &t.alice,
                    Some(json!({ "username": username, "role": "member" })),
                )
                .await;
            let status = res.status();
            let mut headers: Vec<(String, String)> = res
                .headers()
                .iter()
                // Both differ on every response, whoever is invited.
                .filter(|(k, _)| *k != "date" && *k != "x-request-id")
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("?").to_string()))
                .collect();
            headers.sort();
            let body = res.bytes().await.unwrap();
            answers.push((status, headers, body));
        }
        assert_eq!(
            answers[0], answers[1],
            "POST .../{path}: bob and nobody are told apart"
        );
    }
    let res = t.invite(&t.alice, "someone-else", "member").await;
    assert_eq!(res.status(), 202);
    // The owner's pending list holds both, the same way.
    let pending: Vec<Value> = t
        .app
        .call(
            "GET",
            &format!("/api/dashboard/companies/{}/invitations", t.acme),
            &t.alice,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let mut names: Vec<&str> = pending
        .iter()
        .map(|i| i["username"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["bob", "nobody", "someone-else"]);
    let keys = |i: &Value| {
        let mut k: Vec<String> = i.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert!(pending.iter().all(|i| keys(i) == keys(&pending[0])));
}

#[tokio::test]
async fn a_declined_invitation_cannot_be_accepted() {
    let t = team().await;
    let id = t.invite_bob("member").await;
    assert_eq!(t.decide(&t.bob, id, "decline").await.status(), 200);
    assert!(t.mine(&t.bob).await.is_empty());
    assert_eq!(t.decide(&t.bob, id, "accept").await.status(), 404);
    assert!(t.companies(&t.bob).await.is_empty());
}

#[tokio::test]
async fn a_revoked_invitation_cannot_be_accepted() {
    let t = team().await;
    let id = t.invite_bob("owner").await;
    // Only an owner of the company revokes it; bob cannot revoke to snoop, alice can.
    let path = format!("/api/dashboard/companies/{}/invitations/{id}", t.acme);
    assert_eq!(
        t.app.call("DELETE", &path, &t.bob, None).await.status(),
        404
    );
    assert_eq!(
        t.app.call("DELETE", &path, &t.alice, None).await.status(),
        200
    );
    assert!(t.mine(&t.bob).await.is_empty());
    assert_eq!(t.decide(&t.bob, id, "accept").await.status(), 404);
    assert!(t.companies(&t.bob).await.is_empty());
}

#[tokio::test]
async fn an_expired_invitation_cannot_be_accepted() {
    let t = team().await;
    let id = t.invite_bob("member").await;
    t.app
        .db()
        .write(move |c| {
            Ok::<_, atrium_server::db::DbError>(c.execute(
                "UPDATE invitations SET expires_at = strftime('%s','now') - 1 WHERE id = ?1",
                [id],
            )?)
        })
        .await
        .unwrap();
    assert!(t.mine(&t.bob).await.is_empty(), "an expired one is listed");
    let res = t.decide(&t.bob, id, "accept").await;
    assert_eq!(res.status(), 410);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );
    assert!(t.companies(&t.bob).await.is_empty());
}

#[tokio::test]
async fn someone_elses_invitation_cannot_be_accepted_or_declined() {
    let t = team().await;
    t.app.user("mallory").await;
    let mallory = t.app.dashboard_token("mallory").await;
    let id = t.invite_bob("owner").await;
    assert!(t.mine(&mallory).await.is_empty());
    assert_eq!(t.decide(&mallory, id, "accept").await.status(), 404);
    assert_eq!(t.decide(&mallory, id, "decline").await.status(), 404);
    assert!(t.companies(&mallory).await.is_empty());
    // Still bob's to accept.
    assert_eq!(t.decide(&t.bob, id, "accept").await.status(), 200);
}

#[tokio::test]
async fn a_member_can_leave_a_company_but_its_last_owner_cannot() {
    let t = team().await;
    let leave = |token: String| {
        let path = format!("/api/dashboard/companies/{}/membership", t.acme);
        let app = &t.app;
        async move { app.call("DELETE", &path, &token, None).await }
    };
    let res = leave(t.alice.clone()).await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("last owner"),
        "{body}"
    );
    assert_eq!(t.companies(&t.alice).await, vec![(t.acme, "owner".into())]);

    let id = t.invite_bob("member").await;
    assert_eq!(t.decide(&t.bob, id, "accept").await.status(), 200);
    assert_eq!(leave(t.bob.clone()).await.status(), 200);
    assert!(t.companies(&t.bob).await.is_empty());
    // Not a member any more: nothing to leave, and nothing to see.
    assert_eq!(leave(t.bob.clone()).await.status(), 404);

    // With a second owner, the first may go.
    let id = t.invite_bob("owner").await;
    assert_eq!(t.decide(&t.bob, id, "accept").await.status(), 200);
    assert_eq!(leave(t.alice.clone()).await.status(), 200);
    assert!(t.companies(&t.alice).await.is_empty());
    assert_eq!(leave(t.bob.clone()).await.status(), 409);
}

#[tokio::test]
async fn invitations_are_bounded_per_company_and_in_length() {
    let t = team().await;
    for n in 0..50 {
        let res = t.invite(&t.alice, &format!("user{n}"), "member").await;
        assert_eq!(res.status(), 202, "invitation {n}");
    }
    let res = t.invite(&t.alice, "one-too-many", "member").await;
    assert_eq!(res.status(), 409);
    // Inviting someone already invited again renews it, within the cap.
    assert_eq!(t.invite(&t.alice, "user7", "owner").await.status(), 202);
    let long = "x".repeat(65);
    assert_eq!(t.invite(&t.alice, &long, "member").await.status(), 400);
    assert_eq!(t.invite(&t.alice, "bob", "admin").await.status(), 400);
    assert_eq!(
        t.invite(&t.alice, "bob smith", "member").await.status(),
        400
    );
    let pending: Vec<Value> = t
        .app
        .call(
            "GET",
            &format!("/api/dashboard/companies/{}/invitations", t.acme),
            &t.alice,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending.len(), 50);
}

#[tokio::test]
async fn members_who_are_not_owners_cannot_invite_or_see_invitations() {
    let t = team().await;
    let id = t.invite_bob("member").await;
    assert_eq!(t.decide(&t.bob, id, "accept").await.status(), 200);
    assert_eq!(t.invite(&t.bob, "carol", "owner").await.status(), 403);
    let list = t
        .app
        .call(
            "GET",
            &format!("/api/dashboard/companies/{}/invitations", t.acme),
            &t.bob,
            None,
        )
        .await;
    assert_eq!(list.status(), 403);
    // Inviting an existing member is refused plainly (the owner sees the members anyway).
    assert_eq!(t.invite(&t.alice, "bob", "owner").await.status(), 409);
}

/// Alice owns two companies; an app that asks only for `profile`.
async fn two_companies() -> (TestApp, Browser, TestClient, i64, i64) {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    let alice = app.user("alice").await;
    let a = app.company("Aardvark Ltd", alice).await;
    let b = app.company("Zebra Inc", alice).await;
    let client = app.register(dev, AppSpec::code("profile")).await;
    let browser = app.browser("alice").await;
    (app, browser, client, a, b)
}

async fn consent_page(browser: &Browser, client: &TestClient) -> String {
    let res = browser
        .authorize(
            &Authorize::code(&client.client_id)
                .scope("profile")
                .state("s"),
        )
        .await;
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

#[tokio::test]
async fn the_consent_page_preselects_no_company_when_the_user_owns_several() {
    let (_app, browser, client, a, b) = two_companies().await;
    let page = consent_page(&browser, &client).await;
    for id in [a, b] {
        let input = format!("<input type=\"radio\" name=\"company_id\" value=\"{id}\" required>");
        assert!(page.contains(&input), "no unchecked choice {input}: {page}");
    }
    assert!(
        !page.contains("checked"),
        "a company is pre-selected: {page}"
    );
    assert!(
        !page.contains("<option"),
        "a select pre-selects its first option: {page}"
    );
    assert!(hidden_inputs(&page).iter().all(|(k, _)| k != "company_id"));
}

#[tokio::test]
async fn a_consent_post_without_a_company_is_refused_when_the_user_owns_several() {
    let (app, browser, client, _a, b) = two_companies().await;
    let page = consent_page(&browser, &client).await;
    for extra in [vec![], vec![("company_id", "")]] {
        let res = browser.decide(&page, "allow", &extra).await;
        assert_eq!(res.status(), 400, "allowed without a company ({extra:?})");
        assert!(res.headers().get("location").is_none());
        assert!(res.text().await.unwrap().contains("Choose the company"));
    }
    // Choosing one installs there.
    let res = browser
        .decide(&page, "allow", &[("company_id", &b.to_string())])
        .await;
    assert_eq!(res.status(), 303);
    let installs = app.store.installs_of_company(b).await.unwrap();
    assert_eq!(installs.len(), 1);
}

#[tokio::test]
async fn the_consent_page_keeps_the_only_company_chosen() {
    let app = spawn_app().await;
    let dev = app.user("dev").await;
    let alice = app.user("alice").await;
    let only = app.company("Acme", alice).await;
    let client = app.register(dev, AppSpec::code("profile")).await;
    let browser = app.browser("alice").await;
    let page = consent_page(&browser, &client).await;
    assert!(hidden_inputs(&page).contains(&("company_id".into(), only.to_string())));
    let res = browser.decide(&page, "allow", &[]).await;
    assert_eq!(res.status(), 303);
}
