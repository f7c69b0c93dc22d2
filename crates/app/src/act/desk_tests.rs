//! The one way to act on a ticket, over in-memory ports: every command asked of the policy
//! as the principal, all of a request or nothing, what the customer may do (reply, raise,
//! resolve, reopen, page — not note, acknowledge or lower), who a ticket may be given to,
//! and how often its customer may page.

use super::*;
use crate::fakes::{World, org, person, uid};
use crate::records::OrgRecord;
use stringer_core::access::Scope;
use stringer_core::contract::Contract;
use stringer_core::ids::{Intake, UserRole};
use stringer_core::ticket::Status;

/// Acme (enterprise, shared) with its P3 `tkt_a` and its security incident `tkt_s`, Fedco
/// (federal) with its P2 `tkt_f`; the engineers `eng` and `fed` (cleared), Acme's member
/// `ann`, Globex's member `ben`.
async fn desk(limit: i64) -> (TicketDesk, Arc<World>) {
    let world = World::new(Contract::default_contract(), "2026-03-02T10:00:00Z".parse().unwrap());
    world.add_org(org("acme", "enterprise")).await;
    world.add_org(org("globex", "pro")).await;
    world.add_org(OrgRecord { deployment: Deployment::Federal, ..org("fedco", "enterprise") }).await;
    world.add_user(person("eng", None, UserRole::Engineer));
    world.add_user(UserRecord { federal_cleared: true, ..person("fed", None, UserRole::Engineer) });
    world.add_user(person("ann", Some("acme"), UserRole::Member));
    world.add_user(person("ben", Some("globex"), UserRole::Member));
    for (id, org, severity, security) in
        [("tkt_a", "acme", "P3", false), ("tkt_s", "acme", "P1", true), ("tkt_f", "fedco", "P2", false)]
    {
        let opened = EventKind::Opened {
            org: OrgSlug::from(org),
            severity: Severity::from(severity),
            intake: Some(Intake::Portal),
            security,
        };
        world.record(vec![Event::new(world.now(), TicketId::from(id), opened)], Extras::default()).await.unwrap();
    }
    let desk =
        TicketDesk::new(world.clone(), world.clone(), world.clone(), world.clone(), PageLimit { limit, window: 60 });
    (desk, world)
}

fn comment(public: bool, body: &str) -> Command {
    Command::Comment { id: "cmt_1".into(), public, body: body.into() }
}

/// What acting came to, in words the table can hold.
fn verdict(r: &Result<Acted, ActError>) -> String {
    match r {
        Ok(_) => "done".into(),
        Err(ActError::NotFound) => "no such ticket".into(),
        Err(ActError::Forbidden(why)) => format!("forbidden: {why}"),
        Err(ActError::Invalid(why)) => format!("invalid: {why}"),
        Err(e) => format!("{e}"),
    }
}

#[tokio::test]
async fn each_command_is_asked_of_the_policy_as_the_principal_and_all_or_nothing() {
    let rw = Scopes::READ_WRITE;
    let ro = Scopes::of(&[Scope::Read]);
    let p2 = Command::ChangeSeverity(Severity::from("P2"));
    let p4 = Command::ChangeSeverity(Severity::from("P4"));
    let cases = [
        // (why, who, their scopes, ticket, commands, what happens)
        ("the customer replies", "ann", rw, "tkt_a", vec![comment(true, "Still down")], "done"),
        (
            "the customer writes no internal note",
            "ann",
            rw,
            "tkt_a",
            vec![comment(false, "psst")],
            "forbidden: internal notes are for staff",
        ),
        (
            "the customer does not acknowledge",
            "ann",
            rw,
            "tkt_a",
            vec![Command::Acknowledge],
            "forbidden: only staff acknowledge tickets",
        ),
        ("the customer raises the severity", "ann", rw, "tkt_a", vec![p2.clone()], "done"),
        (
            "the customer does not lower it",
            "ann",
            rw,
            "tkt_a",
            vec![p4.clone()],
            "forbidden: only staff lower a ticket's severity",
        ),
        ("staff lower it", "eng", rw, "tkt_a", vec![p4], "done"),
        ("the customer resolves their ticket", "ann", rw, "tkt_a", vec![Command::Resolve], "done"),
        ("another org's customer does not see it", "ben", rw, "tkt_a", vec![comment(true, "Hi")], "no such ticket"),
        (
            "uncleared staff do not see a federal ticket",
            "eng",
            rw,
            "tkt_f",
            vec![Command::Acknowledge],
            "no such ticket",
        ),
        ("cleared staff do", "fed", rw, "tkt_f", vec![Command::Acknowledge], "done"),
        (
            "a read-only credential writes nothing",
            "eng",
            ro,
            "tkt_a",
            vec![comment(true, "Hi")],
            "forbidden: this credential lacks the \"write\" scope",
        ),
        (
            "an empty comment",
            "eng",
            rw,
            "tkt_a",
            vec![comment(true, "  ")],
            "invalid: a comment takes 1 to 32768 bytes",
        ),
        (
            "all or nothing: a reply with a refused acknowledgement writes nothing",
            "ann",
            rw,
            "tkt_a",
            vec![comment(true, "Still down"), Command::Acknowledge],
            "forbidden: only staff acknowledge tickets",
        ),
        ("a ticket that does not exist", "eng", rw, "tkt_x", vec![Command::Acknowledge], "no such ticket"),
        (
            "a bridge only on a security incident",
            "eng",
            rw,
            "tkt_a",
            vec![Command::RecordBridge { url: None, joined_by: None }],
            "invalid: only a security incident has an incident bridge",
        ),
        (
            "a bridge's address is http(s)",
            "eng",
            rw,
            "tkt_s",
            vec![Command::RecordBridge { url: Some("javascript:alert(1)".into()), joined_by: None }],
            "invalid: url: an http(s) address of at most 500 bytes",
        ),
        (
            "staff join the bridge",
            "eng",
            rw,
            "tkt_s",
            vec![Command::RecordBridge { url: Some("https://meet.example/war".into()), joined_by: None }],
            "done",
        ),
    ];
    for (why, name, scopes, ticket, commands, expected) in cases {
        let (desk, world) = desk(10).await;
        let before = world.ticket(&TicketId::from(ticket)).await.unwrap().map(|(t, _)| t.version);
        let writes = commands.iter().any(|c| matches!(c, Command::Comment { .. }));
        let acted = desk.act(&world.signed_in(name, scopes), &TicketRef::Id(TicketId::from(ticket)), commands).await;
        let got = verdict(&acted);
        assert!(got.starts_with(expected), "{why}: {got}");
        let after = world.ticket(&TicketId::from(ticket)).await.unwrap().map(|(t, _)| t.version);
        assert_eq!(after != before, expected == "done", "{why}: changed only when done");
        let written = world.comments.lock().unwrap().len();
        assert_eq!(written, usize::from(writes && expected == "done"), "{why}: a comment only with its change");
    }
}

#[tokio::test]
async fn a_customers_resolution_is_theirs_and_their_reply_reopens_it() {
    let (desk, world) = desk(10).await;
    let ann = world.signed_in("ann", Scopes::READ_WRITE);
    let a = TicketRef::Id(TicketId::from("tkt_a"));
    let resolved = desk.act(&ann, &a, vec![Command::Resolve]).await.unwrap();
    assert_eq!(resolved.found.ticket.state.status, Status::Resolved);
    let reopened = desk.act(&ann, &a, vec![Command::Reopen, comment(true, "It is back")]).await.unwrap();
    assert_ne!(reopened.found.ticket.state.status, Status::Resolved);
    let written = world.comments_of(&TicketId::from("tkt_a"));
    assert_eq!((written.len(), written[0].author.as_str()), (1, uid("ann").as_str()));
}

#[tokio::test]
async fn a_ticket_is_given_only_to_active_staff_who_may_see_it() {
    let not_staff = format!("invalid: {:?} is not an active staff user", uid("ann"));
    let cases = [
        // (why, ticket, assignee, what happens)
        ("an engineer who sees it", "tkt_a", Some("eng"), "done"),
        ("back to the queue", "tkt_a", None, "done"),
        ("not a customer", "tkt_a", Some("ann"), not_staff.as_str()),
        ("not staff who may not see a federal ticket", "tkt_f", Some("eng"), "invalid: eng may not see this ticket"),
        ("cleared staff may", "tkt_f", Some("fed"), "done"),
    ];
    for (why, ticket, to, expected) in cases {
        let (desk, world) = desk(10).await;
        let fed = world.signed_in("fed", Scopes::READ_WRITE);
        let assign = Command::Assign(to.map(|name| UserId(uid(name))));
        let acted = desk.act(&fed, &TicketRef::Id(TicketId::from(ticket)), vec![assign]).await;
        assert_eq!(verdict(&acted), expected, "{why}");
        if let Ok(acted) = acted {
            assert_eq!(acted.found.ticket.state.assignee, to.map(uid), "{why}");
        }
    }
}

#[tokio::test]
async fn a_customer_pages_a_few_times_a_window_at_most() {
    let (desk, world) = desk(2).await;
    let ann = world.signed_in("ann", Scopes::READ_WRITE);
    let a = TicketRef::Id(TicketId::from("tkt_a"));
    let first = desk.act(&ann, &a, vec![Command::PageOnCall]).await.unwrap().paged();
    assert!(matches!(first, Ok(PageOutcome::Paged(ref roles)) if !roles.is_empty()), "{first:?}");
    let second = desk.act(&ann, &a, vec![Command::PageOnCall]).await.unwrap().paged();
    assert!(matches!(second, Ok(PageOutcome::InFlight(_))), "the page in flight is not paged again: {second:?}");
    let third = desk.act(&ann, &a, vec![Command::PageOnCall]).await;
    assert!(matches!(third, Err(ActError::TooSoon(s)) if (1..=60).contains(&s)), "{:?}", third.map(|_| ()));
    let ben = world.signed_in("ben", Scopes::READ_WRITE);
    let refused = desk.act(&ben, &a, vec![Command::PageOnCall]).await;
    assert!(matches!(refused, Err(ActError::NotFound)), "another org's customer pages nothing");
}
