//! The account desk's decisions about orgs and tokens over in-memory ports: who creates and
//! changes an org and with what (a tier of the contract, a slug, staff who may serve it, a
//! federal org only by the cleared), what a new org gets (an Enterprise org its channel, a
//! dedicated or federal one its status page), and a token's scopes never beyond the
//! credential that makes or revokes it.

use super::orgs::{NewOrg, OrgChange};
use super::*;
use crate::fakes::{Elsewhere, Pages, World, account_desk_with, org, person, uid, verdict};
use crate::records::TokenRecord;
use stringer_core::access::Scope;
use stringer_core::contract::Contract;
use stringer_core::ids::{Deployment, UserRole};

/// Acme (enterprise, shared) and Fedco (federal); the admins `adm` and `cadm` (cleared),
/// the engineers `eng` and `fed` (cleared), Acme's admin `ada`.
async fn desk() -> (AccountDesk, Arc<World>, Arc<Pages>) {
    let world = World::new(Contract::default_contract(), "2026-03-02T10:00:00Z".parse().unwrap());
    world.add_org(org("acme", "enterprise")).await;
    world.add_org(OrgRecord { deployment: Deployment::Federal, ..org("fedco", "enterprise") }).await;
    let cleared = |u: UserRecord| UserRecord { federal_cleared: true, ..u };
    world.add_user(person("adm", None, UserRole::Admin));
    world.add_user(cleared(person("cadm", None, UserRole::Admin)));
    world.add_user(person("eng", None, UserRole::Engineer));
    world.add_user(cleared(person("fed", None, UserRole::Engineer)));
    world.add_user(person("ada", Some("acme"), UserRole::OrgAdmin));
    let pages = Arc::new(Pages::default());
    (account_desk_with(&world, Arc::new(Elsewhere), None, pages.clone()), world, pages)
}

fn new_org(slug: &str, tier: &str, deployment: Deployment, tam: Option<&str>) -> NewOrg {
    NewOrg {
        slug: slug.into(),
        name: slug.to_uppercase(),
        tier: tier.into(),
        deployment,
        tam: tam.map(uid),
        named_engineers: Vec::new(),
    }
}

#[tokio::test]
async fn an_org_is_created_by_an_admin_with_what_its_tier_and_deployment_give_it() {
    use Deployment::{Dedicated, Federal, Shared};
    let not_staff = format!("invalid: {:?} is not a staff user", uid("ada"));
    let cases = [
        // (why, who, the new org, what happens, its Slack channel, its own status page)
        (
            "an Enterprise org gets its channel",
            "adm",
            new_org("initech", "enterprise", Shared, Some("eng")),
            "done",
            Some("#stringer-initech"),
            false,
        ),
        ("a Pro org gets none", "adm", new_org("initech", "pro", Shared, None), "done", None, false),
        (
            "a dedicated org gets its own status page",
            "adm",
            new_org("initech", "pro", Dedicated, None),
            "done",
            None,
            true,
        ),
        (
            "a cleared admin creates a federal org",
            "cadm",
            new_org("initech", "enterprise", Federal, Some("fed")),
            "done",
            Some("#stringer-initech"),
            true,
        ),
        (
            "not an uncleared admin",
            "adm",
            new_org("initech", "enterprise", Federal, None),
            "forbidden: only admins cleared for federal create federal orgs",
            None,
            false,
        ),
        (
            "not an engineer",
            "eng",
            new_org("initech", "pro", Shared, None),
            "forbidden: only admins manage orgs",
            None,
            false,
        ),
        (
            "not a customer admin",
            "ada",
            new_org("initech", "pro", Shared, None),
            "forbidden: only admins manage orgs",
            None,
            false,
        ),
        (
            "a federal org's TAM is cleared",
            "cadm",
            new_org("initech", "enterprise", Federal, Some("eng")),
            "invalid: eng (usr_00000000000000000000000ENG) cannot serve initech: only staff cleared for federal serve a federal org",
            None,
            false,
        ),
        ("a TAM is staff", "adm", new_org("initech", "pro", Shared, Some("ada")), not_staff.as_str(), None, false),
        (
            "a slug of lowercase letters",
            "adm",
            new_org("Initech!", "pro", Shared, None),
            "invalid: slug: 2–40 lowercase letters, digits or dashes",
            None,
            false,
        ),
        (
            "a tier of the contract",
            "adm",
            new_org("initech", "gold", Shared, None),
            "invalid: unknown tier \"gold\"; tiers are ",
            None,
            false,
        ),
    ];
    for (why, by, new, expected, channel, own_page) in cases {
        let (desk, world, pages) = desk().await;
        let got = desk.create_org(&world.signed_in(by, Scopes::ALL), new).await;
        let created = got.as_ref().ok().cloned();
        let got = verdict(got);
        assert!(got.starts_with(expected), "{why}: {got}");
        assert_eq!(created.as_ref().and_then(|o| o.channel.clone()).as_deref(), channel, "{why}");
        let stored = world.orgs.lock().unwrap().iter().any(|o| o.slug.as_str() == "initech");
        assert_eq!(stored, expected == "done", "{why}");
        let page = pages.made.lock().unwrap().iter().any(|p| p.org.as_ref().is_some_and(|o| o.as_str() == "initech"));
        assert_eq!(page, own_page, "{why}");
    }
}

#[tokio::test]
async fn an_org_is_changed_as_it_would_be_created() {
    let cases = [
        // (why, who, org, the change, what happens)
        (
            "an admin renames it",
            "adm",
            "acme",
            OrgChange { name: Some("Acme Inc".into()), ..OrgChange::default() },
            "done",
        ),
        (
            "a channel is '#' and a name",
            "adm",
            "acme",
            OrgChange { channel: Some(Some("acme support".into())), ..OrgChange::default() },
            "invalid: slack_channel: '#' and a channel name without spaces",
        ),
        (
            "an email tag is a slug",
            "adm",
            "acme",
            OrgChange { email_tag: Some("ACME".into()), ..OrgChange::default() },
            "invalid: email_tag: 2–40 lowercase letters, digits or dashes",
        ),
        (
            "an uncleared admin does not make it federal",
            "adm",
            "acme",
            OrgChange { deployment: Some(Deployment::Federal), ..OrgChange::default() },
            "no org",
        ),
        (
            "nor does a cleared one while its TAM is not cleared",
            "cadm",
            "acme",
            OrgChange { deployment: Some(Deployment::Federal), tam: Some(Some(uid("eng"))), ..OrgChange::default() },
            "invalid: eng ",
        ),
        ("an uncleared admin does not see a federal org", "adm", "fedco", OrgChange::default(), "no org"),
        (
            "a tier of the contract",
            "adm",
            "acme",
            OrgChange { tier: Some("gold".into()), ..OrgChange::default() },
            "invalid: unknown tier \"gold\"",
        ),
    ];
    for (why, by, slug, change, expected) in cases {
        let (desk, world, _) = desk().await;
        let before = world.orgs.lock().unwrap().clone();
        let got = verdict(desk.change_org(&world.signed_in(by, Scopes::ALL), slug, change).await);
        assert!(got.starts_with(expected), "{why}: {got}");
        let changed = world
            .orgs
            .lock()
            .unwrap()
            .iter()
            .zip(&before)
            .any(|(a, b)| a.name != b.name || a.deployment != b.deployment);
        assert_eq!(changed, expected == "done", "{why}");
    }
}

#[tokio::test]
async fn a_token_has_at_most_the_scopes_of_the_credential_that_makes_it() {
    let rw = Scopes::READ_WRITE;
    let s = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    let cases = [
        // (why, the credential's scopes, the token's, days, name, what happens)
        ("a read token from a session", Scopes::ALL, s(&["read"]), 30, "ci", "done"),
        ("as many scopes as the credential", rw, s(&["read", "write"]), 30, "ci", "done"),
        (
            "not more",
            rw,
            s(&["admin"]),
            30,
            "ci",
            "forbidden: a token's scopes are a non-empty subset of the calling credential's",
        ),
        (
            "not none",
            rw,
            s(&[]),
            30,
            "ci",
            "forbidden: a token's scopes are a non-empty subset of the calling credential's",
        ),
        ("scopes by name", rw, s(&["root"]), 30, "ci", "invalid: scopes: each one of read, write, admin"),
        ("for a year at most", rw, s(&["read"]), 367, "ci", "invalid: expires_in_days: 1 to 366"),
        ("for a day at least", rw, s(&["read"]), 0, "ci", "invalid: expires_in_days: 1 to 366"),
        ("with a name", rw, s(&["read"]), 30, " ", "invalid: name: 1 to 100 characters"),
    ];
    for (why, credential, scopes, days, name, expected) in cases {
        let (desk, world, _) = desk().await;
        let made = desk.create_token(&world.signed_in("eng", credential), name, &scopes, days).await;
        let secret = made.as_ref().ok().map(|t| (t.secret.clone(), t.record.secret_hash.clone()));
        assert_eq!(verdict(made), expected, "{why}");
        assert_eq!(world.tokens.lock().unwrap().len(), usize::from(expected == "done"), "{why}");
        if let Some((secret, hash)) = secret {
            assert!(
                secret.starts_with("stg_") && hash == tokens::token_hash(&secret) && !hash.contains(&secret),
                "{why}"
            );
        }
    }
}

#[tokio::test]
async fn a_token_is_revoked_by_its_owner_with_a_credential_that_covers_it() {
    let token = |id: &str, owner: &str, scopes: Scopes| TokenRecord {
        id: id.into(),
        user_id: UserId(uid(owner)),
        name: "ci".into(),
        secret_hash: String::new(),
        scopes,
        created_at: 0,
        expires_at: None,
        revoked_at: None,
    };
    let cases = [
        // (why, the credential's scopes, the token, what happens)
        ("its owner", Scopes::ALL, "tok_0000000000000000000000000A", "done"),
        (
            "not with a credential lacking its admin scope",
            Scopes::READ_WRITE,
            "tok_0000000000000000000000000A",
            "forbidden: a token cannot revoke a token with scopes it does not have itself",
        ),
        ("not another's", Scopes::ALL, "tok_0000000000000000000000000B", "no token"),
        ("not one that does not exist", Scopes::ALL, "tok_0000000000000000000000000C", "no token"),
        ("an id of a token's shape", Scopes::ALL, "tok_1", "malformed: malformed token id"),
    ];
    for (why, credential, id, expected) in cases {
        let (desk, world, _) = desk().await;
        *world.tokens.lock().unwrap() = vec![
            token("tok_0000000000000000000000000A", "eng", Scopes::ALL),
            token("tok_0000000000000000000000000B", "fed", Scopes::of(&[Scope::Read])),
        ];
        assert_eq!(verdict(desk.revoke_token(&world.signed_in("eng", credential), id).await), expected, "{why}");
        let revoked = world.tokens.lock().unwrap().iter().filter(|t| t.revoked_at.is_some()).count();
        assert_eq!(revoked, usize::from(expected == "done"), "{why}");
    }
}
