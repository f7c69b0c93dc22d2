//! The account desk's decisions about users over in-memory ports: who may change whom and
//! how (a staff role stays staff, clearance only for staff, granted by a cleared admin and
//! never withdrawn from someone still serving a federal org), what an org admin's
//! invitation answers (the same whoever holds the address), and deactivation.

use super::letter::Carries;
use super::users::{Created, NewUser, UserChange};
use super::*;
use crate::fakes::{World, account_desk, org, person, uid, verdict};
use crate::records::OrgRecord;
use stringer_core::contract::Contract;
use stringer_core::ids::{Deployment, UserRole};

/// Acme and Globex (shared), Fedco (federal, whose TAM is `fed`); the admins `adm` and
/// `cadm` (cleared for federal), the engineers `eng` and `fed` (cleared), Acme's admin
/// `ada` and member `ann`, Globex's member `ben`.
async fn desk() -> (AccountDesk, Arc<World>) {
    let world = World::new(Contract::default_contract(), "2026-03-02T10:00:00Z".parse().unwrap());
    world.add_org(org("acme", "enterprise")).await;
    world.add_org(org("globex", "pro")).await;
    let fedco =
        OrgRecord { deployment: Deployment::Federal, tam: Some(UserId(uid("fed"))), ..org("fedco", "enterprise") };
    world.add_org(fedco).await;
    let cleared = |u: UserRecord| UserRecord { federal_cleared: true, ..u };
    world.add_user(person("adm", None, UserRole::Admin));
    world.add_user(cleared(person("cadm", None, UserRole::Admin)));
    world.add_user(person("eng", None, UserRole::Engineer));
    world.add_user(cleared(person("fed", None, UserRole::Engineer)));
    world.add_user(person("ada", Some("acme"), UserRole::OrgAdmin));
    world.add_user(person("ann", Some("acme"), UserRole::Member));
    world.add_user(person("ben", Some("globex"), UserRole::Member));
    (account_desk(&world), world)
}

fn role(name: &str) -> UserChange {
    UserChange { role: Some(name.into()), ..UserChange::default() }
}

fn clearance(cleared: bool) -> UserChange {
    UserChange { federal_cleared: Some(cleared), ..UserChange::default() }
}

fn rename(name: &str) -> UserChange {
    UserChange { name: Some(name.into()), ..UserChange::default() }
}

#[tokio::test]
async fn a_user_is_changed_by_who_may_and_only_as_their_kind_allows() {
    let cases = [
        // (why, who, whom, the change, what happens)
        ("an admin makes an engineer a support lead", "adm", "eng", role("support_lead"), "done"),
        (
            "nobody changes themself",
            "adm",
            "adm",
            role("engineer"),
            "forbidden: ask another admin to change your own role or clearance",
        ),
        (
            "an engineer changes nobody",
            "eng",
            "fed",
            rename("Fed"),
            "forbidden: admins, and customer org admins for their own org, manage users",
        ),
        (
            "staff keep a staff role",
            "adm",
            "eng",
            role("member"),
            "invalid: role: staff keep a staff role and customers a customer role",
        ),
        ("customers keep a customer role", "adm", "ann", role("org_admin"), "done"),
        (
            "an org admin grants no staff role",
            "ada",
            "ann",
            role("engineer"),
            "forbidden: only admins grant staff roles",
        ),
        ("an org admin renames their org's member", "ada", "ann", rename("Ann A."), "done"),
        ("an org admin sees no other org's users", "ada", "ben", rename("Ben B."), "no user"),
        ("clearance is granted by a cleared admin", "cadm", "eng", clearance(true), "done"),
        (
            "not by another admin",
            "adm",
            "eng",
            clearance(true),
            "forbidden: only admins cleared for federal grant clearance",
        ),
        (
            "customers are not cleared",
            "cadm",
            "ann",
            clearance(true),
            "invalid: federal_cleared: customers are not cleared for federal data",
        ),
        (
            "clearance stays with who serves a federal org",
            "cadm",
            "fed",
            clearance(false),
            "invalid: fed still serves org fedco; reassign that first",
        ),
        ("an unknown role", "adm", "eng", role("boss"), "invalid: unknown role \"boss\"; roles are "),
        (
            "a time zone is an IANA one",
            "adm",
            "eng",
            UserChange { time_zone: Some(Some("Mars/Base".into())), ..UserChange::default() },
            "invalid: time_zone: \"Mars/Base\" is not an IANA time zone",
        ),
        ("a malformed id", "adm", "eng!", rename("X"), "malformed: malformed user id"),
    ];
    for (why, by, whom, change, expected) in cases {
        let (desk, world) = desk().await;
        let before = world.users.lock().unwrap().clone();
        let id = if whom.ends_with('!') { whom.to_string() } else { uid(whom) };
        let got = verdict(desk.change_user(&world.signed_in(by, Scopes::ALL), &id, change).await);
        assert!(got.starts_with(expected), "{why}: {got}");
        let changed = *world.users.lock().unwrap() != before;
        assert_eq!(changed, expected == "done", "{why}: stored only when done");
    }
}

fn new_user(email: &str, role: &str, org: Option<&str>, password: Option<&str>) -> NewUser {
    NewUser {
        email: email.into(),
        name: "New Person".into(),
        role: role.into(),
        org: org.map(String::from),
        federal_cleared: false,
        password: password.map(String::from),
    }
}

#[tokio::test]
async fn an_org_admin_invites_and_the_answer_is_the_same_whoever_holds_the_address() {
    let cases = [
        // (why, who, the new user, what it comes to, what its mail carries)
        (
            "an org admin invites a new address",
            "ada",
            new_user("new@acme.example", "member", Some("acme"), None),
            "invitation",
            "link",
        ),
        (
            "an address another org's user holds: the same answer, the holder told",
            "ada",
            new_user("ben@example.com", "member", Some("acme"), None),
            "invitation",
            "held",
        ),
        (
            "an address staff hold: the same",
            "ada",
            new_user("eng@example.com", "org_admin", Some("acme"), None),
            "invitation",
            "held",
        ),
        (
            "an org admin sets no password",
            "ada",
            new_user("new@acme.example", "member", Some("acme"), Some("correct horse battery")),
            "invalid: password: an org admin invites; the person chooses their own password through the mailed link",
            "",
        ),
        (
            "not into another org",
            "ada",
            new_user("new@globex.example", "member", Some("globex"), None),
            "invalid: unknown org \"globex\"",
            "",
        ),
        (
            "an org admin makes no staff",
            "ada",
            new_user("new@vendor.example", "engineer", None, None),
            "forbidden: ",
            "",
        ),
        ("an admin makes the account", "adm", new_user("new@vendor.example", "engineer", None, None), "account", ""),
        (
            "customers need an org",
            "adm",
            new_user("new@acme.example", "member", None, None),
            "invalid: staff users have no org; customer users need one",
            "",
        ),
        ("an address has an @", "adm", new_user("new", "engineer", None, None), "invalid: email: a valid address", ""),
    ];
    for (why, by, new, expected, carries) in cases {
        let (desk, world) = desk().await;
        let users_before = world.users.lock().unwrap().len();
        let got = match desk.add_user(&world.signed_in(by, Scopes::ALL), new).await {
            Ok(Created::Invitation(_)) => "invitation".to_string(),
            Ok(Created::Account(_)) => "account".to_string(),
            Err(e) => verdict::<()>(Err(e)),
        };
        assert!(got.starts_with(expected), "{why}: {got}");
        let mails: Vec<&str> = world
            .invitations
            .lock()
            .unwrap()
            .iter()
            .map(|(_, mail)| match mail.carries {
                Carries::Held { .. } => "held",
                Carries::Invitation { .. } => "link",
                Carries::PasswordLink { .. } => "password",
            })
            .collect();
        assert_eq!(mails, if carries.is_empty() { vec![] } else { vec![carries] }, "{why}");
        let added = world.users.lock().unwrap().len() - users_before;
        assert_eq!(added, usize::from(expected == "account"), "{why}: an invitation makes no account");
    }
}

#[tokio::test]
async fn a_deactivated_user_keeps_when_it_happened_and_nobody_deactivates_themself() {
    let (desk, world) = desk().await;
    let adm = world.signed_in("adm", Scopes::ALL);
    assert_eq!(
        verdict(desk.deactivate(&adm, &uid("adm")).await),
        "forbidden: ask another admin to change your own role or clearance"
    );
    let first = desk.deactivate(&adm, &uid("eng")).await.unwrap().deactivated_at;
    assert!(first.is_some());
    world.desk.clock().set("2026-03-03T10:00:00Z".parse().unwrap());
    let again = desk.deactivate(&adm, &uid("eng")).await.unwrap().deactivated_at;
    assert_eq!(again, first, "deactivating again changes nothing");
    let stored = world.users.lock().unwrap().iter().find(|u| u.name == "eng").unwrap().deactivated_at;
    assert_eq!(stored, first);
}
