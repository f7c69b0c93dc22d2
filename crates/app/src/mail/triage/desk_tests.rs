//! Mail triage's decisions over in-memory ports: which held messages staff see (a federal
//! org's only the cleared; customers none), who may route one and where, lifting a stopped
//! address, and who sets an org's mail rules (staff admins: the policy's `UpdateOrg`).

use super::*;
use crate::fakes::{MemoryMailroom, World, org, user, verdict};
use crate::mail::{Door, Letter, MailOutcome, NewInbound, SettledMail};
use crate::records::UserRecord;
use std::sync::Arc;
use stringer_core::access::{Scope, Scopes};
use stringer_core::contract::Contract;
use stringer_core::ids::{Deployment, UserRole};
use stringer_core::mail_auth::MailAuth;

/// Acme (shared), Fedco (federal); the admin `adm`, the engineers `eng` and `fed` (cleared), Acme's admin
/// `ada` and member `ann`; three held messages: 1 of no org, 2 of Acme, 3 of Fedco; and 4,
/// done for Acme.
async fn triage() -> (MailTriage, Arc<World>, Arc<MemoryMailroom>) {
    let world = World::new(Contract::default_contract(), "2026-03-02T10:00:00Z".parse().unwrap());
    world.add_org(org("acme", "enterprise")).await;
    world.add_org(OrgRecord { deployment: Deployment::Federal, ..org("fedco", "enterprise") }).await;
    world.add_user(user("adm", None, UserRole::Admin));
    world.add_user(user("eng", None, UserRole::Engineer));
    world.add_user(UserRecord { federal_cleared: true, ..user("fed", None, UserRole::Engineer) });
    world.add_user(user("ada", Some("acme"), UserRole::OrgAdmin));
    world.add_user(user("ann", Some("acme"), UserRole::Member));
    let mailroom = Arc::new(MemoryMailroom::new(world.clone()));
    let held = |org: Option<&str>| MailOutcome::Held { reason: "held".into(), org: org.map(OrgSlug::from) };
    let done = MailOutcome::Ticket { ticket: "tkt_1".into(), org: OrgSlug::from("acme"), what: "opened".into() };
    for (i, outcome) in [held(None), held(Some("acme")), held(Some("fedco")), done].iter().enumerate() {
        let inbound = NewInbound {
            door: Door::Smtp,
            envelope_from: None,
            envelope_to: Vec::new(),
            raw: Vec::new(),
            received_at_ms: 0,
            peer: None,
            helo: None,
        };
        let id = mailroom.accept(&inbound).await.unwrap();
        assert_eq!(id, i as i64 + 1);
        let settled = SettledMail { id, outcome, letter: &Letter::default(), auth: &MailAuth::default() };
        mailroom.settle_inbound(&[settled], 0).await.unwrap();
    }
    let triage = MailTriage::new(TriagePorts { accounts: world.clone(), mailroom: mailroom.clone() });
    (triage, world, mailroom)
}

#[tokio::test]
async fn staff_see_held_mail_of_no_org_or_of_an_org_they_see() {
    let cases = [
        // (why, who, the held messages listed, newest first)
        ("an engineer: all but the federal org's", "eng", Ok(vec![2, 1])),
        ("a cleared engineer: all", "fed", Ok(vec![3, 2, 1])),
        ("a customer admin: none", "ada", Err("forbidden: this is for staff".to_string())),
    ];
    for (why, id, expected) in cases {
        let (triage, world, _) = triage().await;
        let listed = triage.messages(&world.signed_in(id, Scopes::READ_WRITE), MailState::Held).await;
        let listed = listed.map(|ms| ms.iter().map(|m| m.id).collect::<Vec<_>>()).map_err(|e| verdict::<()>(Err(e)));
        assert_eq!(listed, expected, "{why}");
    }
}

#[tokio::test]
async fn a_held_message_is_routed_by_staff_who_see_it_into_an_org_they_may_open_tickets_for() {
    let cases = [
        // (why, who, message, org, what happens)
        ("an engineer routes mail of no org to Acme", "eng", 1, "acme", "done"),
        ("and Acme's own held mail", "eng", 2, "acme", "done"),
        ("not into a federal org they do not see", "eng", 1, "fedco", "no org"),
        ("not a federal org's mail they do not see", "eng", 3, "acme", "no message"),
        ("a cleared engineer routes it", "fed", 3, "fedco", "done"),
        ("not into an org that does not exist", "eng", 1, "nope", "no org"),
        ("not a message that is not held", "eng", 4, "acme", "conflict: no held message with that id"),
        ("not a message that does not exist", "eng", 9, "acme", "no message"),
        ("not a customer", "ada", 2, "acme", "forbidden: this is for staff"),
    ];
    for (why, id, message, org, expected) in cases {
        let (triage, world, mailroom) = triage().await;
        let routed = triage.route(&world.signed_in(id, Scopes::READ_WRITE), message, org, 100).await;
        assert_eq!(verdict(routed), expected, "{why}");
        let m = mailroom.inbound(message).await.unwrap();
        let routed_to = m.and_then(|m| m.routed_to).map(|o| o.to_string());
        assert_eq!(routed_to.is_some(), expected == "done", "{why}");
    }
}

#[tokio::test]
async fn staff_lift_a_stopped_address_named_well() {
    let cases = [
        ("staff lift it", "eng", Scopes::READ_WRITE, "ann@example.com", "done", 0),
        ("a read-only token may not", "eng", Scopes::of(&[Scope::Read]), "ann@example.com", "forbidden: ", 1),
        ("a customer may not", "ada", Scopes::READ_WRITE, "ann@example.com", "forbidden: this is for staff", 1),
        ("not an address", "eng", Scopes::READ_WRITE, "ann", "invalid: address: one mail address", 1),
        (
            "not two lines",
            "eng",
            Scopes::READ_WRITE,
            "ann@example.com\r\nBcc: x@y",
            "invalid: address: one mail address",
            1,
        ),
    ];
    for (why, id, scopes, address, expected, left) in cases {
        let (triage, world, mailroom) = triage().await;
        mailroom.suppressed.lock().unwrap().push("ann@example.com".into());
        let got = verdict(triage.lift_suppression(&world.signed_in(id, scopes), address).await);
        assert!(got.starts_with(expected), "{why}: {got}");
        assert_eq!(mailroom.suppressed.lock().unwrap().len(), left, "{why}");
    }
}

#[tokio::test]
async fn an_orgs_mail_rules_are_set_by_staff_admins_only() {
    let rules = OrgMailPolicy {
        unknown_senders: UnknownSenders::Accept,
        subject_severity: false,
        accept_domains: vec!["Acme.Example".into()],
    };
    let cases = [
        // (why, who, their scopes, the org, what happens)
        ("a staff admin", "adm", Scopes::ALL, "acme", "done"),
        (
            "not with a token without the admin scope",
            "adm",
            Scopes::READ_WRITE,
            "acme",
            "forbidden: this credential lacks the \"admin\" scope",
        ),
        (
            "not the org's own admin: only admins manage orgs",
            "ada",
            Scopes::ALL,
            "acme",
            "forbidden: only admins manage orgs",
        ),
        ("nor an engineer", "eng", Scopes::ALL, "acme", "forbidden: only admins manage orgs"),
        ("nor for an org that does not exist", "adm", Scopes::ALL, "nope", "no org"),
    ];
    for (why, id, scopes, slug, expected) in cases {
        let (triage, world, mailroom) = triage().await;
        let got = verdict(triage.set_org_rules(&world.signed_in(id, scopes), slug, rules.clone()).await);
        assert!(got.starts_with(expected), "{why}: {got}");
        let stored = mailroom.mail_policy(&OrgSlug::from(slug)).await.unwrap();
        let changed = stored.unknown_senders == UnknownSenders::Accept;
        assert_eq!(changed, expected == "done", "{why}");
        if changed {
            assert_eq!(stored.accept_domains, ["acme.example"], "{why}: kept in lower case");
        }
    }
}
