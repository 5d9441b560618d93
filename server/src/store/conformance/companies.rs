//! Companies: owners and members, quotas, invitations, and the pages of both lists.

use std::sync::Arc;

use super::fixtures::{all_pages, keys, race, sorted, user, AT};
use crate::store::{
    Accepted, After, Invitation, Invited, Left, Membership, NewInvitation, Role, Store, StoreError,
    StoreResult, User,
};

fn invitation(company: i64, username: &str, role: Role, expires_at: i64) -> NewInvitation {
    NewInvitation {
        company,
        username: username.into(),
        role,
        invited_by: None,
        expires_at,
    }
}

fn membership_key(m: &Membership) -> After {
    After {
        key: m.company.name.clone(),
        id: m.company.id,
    }
}

fn member_key((u, _): &(User, Role)) -> After {
    After {
        key: u.username.clone(),
        id: u.id,
    }
}

fn ids(invitations: &[Invitation]) -> Vec<i64> {
    invitations.iter().map(|i| i.id).collect()
}

pub(crate) async fn a_company_is_created_with_its_owner(store: &dyn Store) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let grace = user(store, "grace").await?;
    let acme = store.create_company("acme", ada, None).await?;
    let company = store.company(acme).await?.expect("created");
    assert_eq!((company.id, company.name.as_str()), (acme, "acme"));
    assert_eq!(store.role(acme, ada).await?, Some(Role::Owner));
    assert_eq!(store.role(acme, grace).await?, None);
    let memberships = store.memberships(ada).await?;
    assert_eq!(
        memberships,
        vec![Membership {
            company,
            role: Role::Owner
        }]
    );
    assert!(store.memberships(grace).await?.is_empty());
    store.add_member(acme, grace, Role::Member).await?;
    let members = store.company_members(acme).await?;
    let names: Vec<_> = members
        .iter()
        .map(|(u, r)| (u.username.as_str(), *r))
        .collect();
    assert_eq!(names, [("ada", Role::Owner), ("grace", Role::Member)]);
    let again = store.add_member(acme, grace, Role::Owner).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(store.role(acme, grace).await?, Some(Role::Member));
    assert!(store.company(acme + 1000).await?.is_none());
    assert!(store.company_members(acme + 1000).await?.is_empty());
    Ok(())
}

pub(crate) async fn the_company_quota_counts_the_companies_a_user_owns(
    store: &dyn Store,
) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let grace = user(store, "grace").await?;
    let theirs = store.create_company("theirs", grace, None).await?;
    store.add_member(theirs, ada, Role::Member).await?;
    store.create_company("one", ada, Some(2)).await?;
    store.create_company("two", ada, Some(2)).await?;
    let third = store.create_company("three", ada, Some(2)).await;
    assert!(
        matches!(
            third,
            Err(StoreError::Quota {
                what: "companies",
                limit: 2
            })
        ),
        "{third:?}"
    );
    assert_eq!(
        store.memberships(ada).await?.len(),
        3,
        "nothing was written"
    );
    store.create_company("three", ada, None).await?;
    Ok(())
}

pub(crate) async fn the_company_quota_holds_under_20_racers(
    store: &Arc<dyn Store>,
) -> StoreResult<()> {
    let ada = user(store.as_ref(), "ada").await?;
    let answers = race(store, 20, |s, i| async move {
        s.create_company(&format!("company{i}"), ada, Some(3)).await
    })
    .await;
    let created = answers.iter().filter(|a| a.is_ok()).count();
    assert_eq!(created, 3, "the count and the insert are one transaction");
    for a in answers {
        match a {
            Ok(_) | Err(StoreError::Quota { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    assert_eq!(store.memberships(ada).await?.len(), 3);
    Ok(())
}

pub(crate) async fn an_invitation_is_sent_renewed_and_capped(store: &dyn Store) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let acme = store.create_company("acme", ada, None).await?;
    let cap = 2;
    let sent = store
        .invite(invitation(acme, "bob", Role::Member, AT + 100), AT, cap)
        .await?;
    assert_eq!(sent, Invited::Sent, "the invitee need not exist");
    let mut renewal = invitation(acme, "bob", Role::Owner, AT + 200);
    renewal.invited_by = Some(ada);
    assert_eq!(store.invite(renewal, AT + 1, cap).await?, Invited::Sent);
    let pending = store.company_invitations(acme, AT + 1).await?;
    assert_eq!(pending.len(), 1, "renewed, not added");
    let bob = &pending[0];
    assert_eq!((bob.username.as_str(), bob.role), ("bob", Role::Owner));
    assert_eq!((bob.created_at, bob.expires_at), (AT + 1, AT + 200));
    assert_eq!(bob.invited_by.as_deref(), Some("ada"));
    assert_eq!(bob.company.name, "acme");
    let carol = invitation(acme, "carol", Role::Member, AT + 100);
    assert_eq!(store.invite(carol, AT + 2, cap).await?, Invited::Sent);
    let dave = invitation(acme, "dave", Role::Member, AT + 100);
    assert_eq!(store.invite(dave, AT + 3, cap).await?, Invited::TooMany);
    let renewal = invitation(acme, "carol", Role::Member, AT + 300);
    assert_eq!(
        store.invite(renewal, AT + 3, cap).await?,
        Invited::Sent,
        "a renewal adds nothing to the count"
    );
    let member = invitation(acme, "ada", Role::Member, AT + 100);
    assert_eq!(
        store.invite(member, AT + 3, cap).await?,
        Invited::AlreadyMember
    );
    let names: Vec<_> = store
        .company_invitations(acme, AT + 3)
        .await?
        .into_iter()
        .map(|i| i.username)
        .collect();
    assert_eq!(names, ["bob", "carol"], "oldest first");
    Ok(())
}

pub(crate) async fn an_expired_invitation_is_neither_listed_nor_counted(
    store: &dyn Store,
) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let bob = user(store, "bob").await?;
    let acme = store.create_company("acme", ada, None).await?;
    let expires_at = AT + 10;
    let to_bob = invitation(acme, "bob", Role::Member, expires_at);
    store.invite(to_bob, AT, 1).await?;
    let id = store.company_invitations(acme, expires_at - 1).await?[0].id;
    assert_eq!(
        ids(&store.invitations_for(bob, expires_at - 1, 10).await?),
        [id]
    );
    assert!(store
        .company_invitations(acme, expires_at)
        .await?
        .is_empty());
    assert!(store.invitations_for(bob, expires_at, 10).await?.is_empty());
    assert_eq!(
        store.accept_invitation(id, bob, expires_at).await?,
        Accepted::Expired,
        "expired at its expiry"
    );
    assert_eq!(store.role(acme, bob).await?, None);
    let carol = invitation(acme, "carol", Role::Member, AT + 100);
    assert_eq!(
        store.invite(carol, expires_at, 1).await?,
        Invited::Sent,
        "an expired invitation does not hold the cap"
    );
    Ok(())
}

pub(crate) async fn an_invitation_is_accepted_once_by_its_invitee(
    store: &dyn Store,
) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let bob = user(store, "bob").await?;
    let carol = user(store, "carol").await?;
    let acme = store.create_company("acme", ada, None).await?;
    let to_bob = invitation(acme, "bob", Role::Owner, AT + 100);
    store.invite(to_bob, AT, 10).await?;
    let id = store.invitations_for(bob, AT, 10).await?[0].id;
    assert!(store.invitations_for(carol, AT, 10).await?.is_empty());
    assert_eq!(
        store.accept_invitation(id, carol, AT).await?,
        Accepted::NotFound
    );
    assert!(!store.decline_invitation(id, carol).await?);
    let joined = store.accept_invitation(id, bob, AT).await?;
    let Accepted::Joined(membership) = joined else {
        panic!("the invitee joins: {joined:?}");
    };
    assert_eq!(membership.company.id, acme);
    assert_eq!(membership.role, Role::Owner, "with the invitation's role");
    assert_eq!(store.role(acme, bob).await?, Some(Role::Owner));
    assert_eq!(
        store.accept_invitation(id, bob, AT).await?,
        Accepted::NotFound
    );
    assert!(
        store.company_invitations(acme, AT).await?.is_empty(),
        "used up"
    );
    assert_eq!(
        store.accept_invitation(id + 1000, bob, AT).await?,
        Accepted::NotFound
    );
    Ok(())
}

pub(crate) async fn an_invitation_raced_by_20_accepts_is_used_once(
    store: &Arc<dyn Store>,
) -> StoreResult<()> {
    let ada = user(store.as_ref(), "ada").await?;
    let bob = user(store.as_ref(), "bob").await?;
    let acme = store.create_company("acme", ada, None).await?;
    let to_bob = invitation(acme, "bob", Role::Member, AT + 100);
    store.invite(to_bob, AT, 10).await?;
    let id = store.invitations_for(bob, AT, 10).await?[0].id;
    let answers = race(store, 20, |s, _| async move {
        s.accept_invitation(id, bob, AT).await
    })
    .await
    .into_iter()
    .collect::<StoreResult<Vec<_>>>()?;
    let joined = answers
        .iter()
        .filter(|a| matches!(a, Accepted::Joined(_)))
        .count();
    assert_eq!(joined, 1, "{answers:?}");
    assert!(answers.iter().all(|a| matches!(
        a,
        Accepted::Joined(_) | Accepted::NotFound | Accepted::AlreadyMember
    )));
    assert_eq!(store.company_members(acme).await?.len(), 2);
    Ok(())
}

pub(crate) async fn an_invitation_to_a_member_is_used_up_without_changing_the_role(
    store: &dyn Store,
) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let bob = user(store, "bob").await?;
    let acme = store.create_company("acme", ada, None).await?;
    let to_bob = invitation(acme, "bob", Role::Owner, AT + 100);
    store.invite(to_bob, AT, 10).await?;
    let id = store.company_invitations(acme, AT).await?[0].id;
    store.add_member(acme, bob, Role::Member).await?;
    assert_eq!(
        store.accept_invitation(id, bob, AT).await?,
        Accepted::AlreadyMember
    );
    assert_eq!(store.role(acme, bob).await?, Some(Role::Member));
    assert!(store.company_invitations(acme, AT).await?.is_empty());
    Ok(())
}

pub(crate) async fn an_invitation_is_revoked_by_its_company_or_declined_by_its_invitee(
    store: &dyn Store,
) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let bob = user(store, "bob").await?;
    let acme = store.create_company("acme", ada, None).await?;
    let other = store.create_company("other", ada, None).await?;
    for name in ["bob", "carol"] {
        let invite = invitation(acme, name, Role::Member, AT + 100);
        store.invite(invite, AT, 10).await?;
    }
    let pending = store.company_invitations(acme, AT).await?;
    let (to_bob, to_carol) = (pending[0].id, pending[1].id);
    assert!(
        !store.revoke_invitation(other, to_carol).await?,
        "not its own"
    );
    assert!(store.revoke_invitation(acme, to_carol).await?);
    assert!(!store.revoke_invitation(acme, to_carol).await?);
    assert!(store.decline_invitation(to_bob, bob).await?);
    assert!(!store.decline_invitation(to_bob, bob).await?);
    assert!(store.company_invitations(acme, AT).await?.is_empty());
    assert_eq!(
        store.accept_invitation(to_bob, bob, AT).await?,
        Accepted::NotFound
    );
    Ok(())
}

pub(crate) async fn a_users_invitations_are_newest_first_and_limited(
    store: &dyn Store,
) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let bob = user(store, "bob").await?;
    let mut companies = Vec::new();
    for (i, name) in ["first", "second", "third"].into_iter().enumerate() {
        let company = store.create_company(name, ada, None).await?;
        let to_bob = invitation(company, "bob", Role::Member, AT + 100);
        store.invite(to_bob, AT + i as i64, 10).await?;
        companies.push(company);
    }
    let newest: Vec<_> = store
        .invitations_for(bob, AT + 3, 2)
        .await?
        .into_iter()
        .map(|i| i.company.id)
        .collect();
    assert_eq!(newest, [companies[2], companies[1]]);
    Ok(())
}

pub(crate) async fn the_last_owner_cannot_leave(store: &dyn Store) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let bob = user(store, "bob").await?;
    let carol = user(store, "carol").await?;
    let acme = store.create_company("acme", ada, None).await?;
    store.add_member(acme, carol, Role::Member).await?;
    assert_eq!(store.leave_company(acme, ada).await?, Left::LastOwner);
    assert_eq!(store.role(acme, ada).await?, Some(Role::Owner));
    assert_eq!(store.leave_company(acme, bob).await?, Left::NotMember);
    store.add_member(acme, bob, Role::Owner).await?;
    assert_eq!(store.leave_company(acme, ada).await?, Left::Left);
    assert_eq!(store.role(acme, ada).await?, None);
    assert_eq!(store.leave_company(acme, carol).await?, Left::Left);
    assert_eq!(store.leave_company(acme, bob).await?, Left::LastOwner);
    Ok(())
}

pub(crate) async fn memberships_page_by_name_and_id_without_duplicates(
    store: &dyn Store,
) -> StoreResult<()> {
    let ada = user(store, "ada").await?;
    let grace = user(store, "grace").await?;
    // Two companies share a name: the id breaks the tie.
    for name in ["delta", "alpha", "charlie", "alpha", "bravo"] {
        store.create_company(name, ada, None).await?;
    }
    store.create_company("hidden", grace, None).await?;
    let read = all_pages(2, membership_key, |p| store.memberships_page(ada, p)).await?;
    let all = store.memberships(ada).await?;
    assert_eq!(read, all, "the pages hold the whole list, in its order");
    let got = keys(&read, membership_key);
    assert_eq!(got, sorted(got.clone()));
    assert_eq!(got.len(), 5);
    let first = store
        .memberships_page(
            ada,
            crate::store::PageReq {
                after: None,
                limit: 2,
            },
        )
        .await?;
    // Added between two pages: after the cursor it comes later; before it, never.
    store.create_company("aardvark", ada, None).await?;
    store.create_company("zulu", ada, None).await?;
    let rest = all_pages(2, membership_key, |mut p| {
        if p.after.is_none() {
            p.after = first.next.clone();
        }
        store.memberships_page(ada, p)
    })
    .await?;
    let names: Vec<_> = rest.iter().map(|m| m.company.name.as_str()).collect();
    assert_eq!(names, ["bravo", "charlie", "delta", "zulu"]);
    Ok(())
}

pub(crate) async fn members_page_by_username_and_id_without_duplicates(
    store: &dyn Store,
) -> StoreResult<()> {
    let owner = user(store, "owner").await?;
    let acme = store.create_company("acme", owner, None).await?;
    for name in ["mia", "ben", "zoe", "ann", "kim"] {
        let id = user(store, name).await?;
        store.add_member(acme, id, Role::Member).await?;
    }
    let read = all_pages(2, member_key, |p| store.company_members_page(acme, p)).await?;
    let got = keys(&read, member_key);
    assert_eq!(got, sorted(got.clone()));
    let names: Vec<_> = read.iter().map(|(u, _)| u.username.as_str()).collect();
    assert_eq!(names, ["ann", "ben", "kim", "mia", "owner", "zoe"]);
    let listed = keys(&store.company_members(acme).await?, member_key);
    assert_eq!(listed, got);
    let empty = all_pages(2, member_key, |p| store.company_members_page(acme + 1, p)).await?;
    assert!(empty.is_empty());
    Ok(())
}
