//! The mail intake's decisions over in-memory ports, through the one intake round: which
//! org a message is for (its `support+<tag>` address, else its sender's only org), what a
//! proven, unproven or forged sender may do, what a stranger's mail becomes as the org
//! chose, what a reply to a ticket does, and that machine-made mail opens nothing.

use super::*;
use crate::act::PageLimit;
use crate::fakes::{Inline, MemoryMailroom, Post, World, org, user};
use crate::inbox::round;
use crate::mail::{Door, NewInbound, OrgMailPolicy, ReplySigner, UnknownSenders};
use stringer_core::contract::Contract;
use stringer_core::mail::Provenance;
use stringer_core::mail_auth::{Checker, DmarcPolicy, Outcome};

const NOW: &str = "2026-03-02T10:00:00Z";
const DOMAIN: &str = "support.vendor.example";
const REPLY_KEY: &str = "reply-key";

/// Acme (enterprise, holds strangers' mail) and Globex (pro, takes members from
/// `globex.example`); `ann` of Acme, `dee` of Acme (deactivated), `bob` of Globex, `two`
/// of both, and the engineer `eng`, each at their org's domain.
async fn desk() -> (Arc<MailDesk>, Arc<World>, Arc<MemoryMailroom>, Arc<Post>) {
    let world = World::new(Contract::default_contract(), NOW.parse().unwrap());
    world.add_org(org("acme", "enterprise")).await;
    world.add_org(org("globex", "pro")).await;
    let at = |u: UserRecord, email: &str| UserRecord { email: email.into(), ..u };
    world.add_user(at(user("ann", Some("acme"), UserRole::Member), "ann@acme.example"));
    world.add_user(UserRecord {
        deactivated_at: Some(1),
        ..at(user("dee", Some("acme"), UserRole::Member), "dee@acme.example")
    });
    world.add_user(at(user("bob", Some("globex"), UserRole::Member), "bob@globex.example"));
    world.add_user(at(user("two-a", Some("acme"), UserRole::Member), "two@shared.example"));
    world.add_user(at(user("two-g", Some("globex"), UserRole::Member), "two@shared.example"));
    world.add_user(at(user("eng", None, UserRole::Engineer), "eng@vendor.example"));
    let mailroom = Arc::new(MemoryMailroom::new(world.clone()));
    mailroom.mailed.lock().unwrap().push(("dlv1".into(), "ann@acme.example".into()));
    let accept = OrgMailPolicy {
        unknown_senders: UnknownSenders::Accept,
        accept_domains: vec!["globex.example".into()],
        ..OrgMailPolicy::default()
    };
    mailroom.policies.lock().unwrap().insert(OrgSlug::from("globex"), accept);
    let post = Arc::new(Post::default());
    let ports = MailPorts {
        commands: world.clone(),
        queries: world.clone(),
        accounts: world.clone(),
        inquiries: world.clone(),
        files: world.clone(),
        safeguards: world.clone(),
        mailroom: mailroom.clone(),
    };
    let tickets = TicketDesk::new(
        world.clone(),
        world.clone(),
        world.clone(),
        world.clone(),
        PageLimit { limit: 10, window: 60 },
    );
    let desk = MailDesk {
        ports,
        reader: post.clone(),
        addresses: MailAddresses { domains: vec![DOMAIN.into()], ..MailAddresses::default() },
        signer: ReplySigner::new(REPLY_KEY),
        checker: post.clone(),
        arc_sealers: Vec::new(),
        tickets,
    };
    (Arc::new(desk), world, mailroom, post)
}

/// What mail authentication proved.
#[derive(Clone, Copy, Debug)]
enum Proved {
    /// DMARC passed.
    Proven,
    /// Nobody checked.
    Unproven,
    /// DMARC failed under `p=reject`.
    Forged,
}

fn auth(proof: Proved) -> MailAuth {
    let relay = Checker::Relay { authserv_id: "mx.vendor.example".into() };
    match proof {
        Proved::Proven => MailAuth { checker: relay, dmarc: Outcome::Pass, ..MailAuth::default() },
        Proved::Unproven => MailAuth::default(),
        Proved::Forged => {
            MailAuth { checker: relay, dmarc: Outcome::Fail, dmarc_policy: DmarcPolicy::Reject, ..MailAuth::default() }
        }
    }
}

/// A person's letter from `from` to `to` (a local part of our domain, or a whole address).
fn letter(from: &str, to: &str, subject: &str) -> Letter {
    let to = if to.contains('@') { to.to_string() } else { format!("{to}@{DOMAIN}") };
    Letter {
        message_id: Some(format!("{subject}.{from}@client.example").replace(' ', "-")),
        from: from.into(),
        recipients: vec![to],
        subject: subject.into(),
        text: "It is broken.".into(),
        provenance: Provenance { from: from.into(), ..Provenance::default() },
        ..Letter::default()
    }
}

/// Hands the letters in as the SMTP door would, then runs intake rounds until none is left;
/// answers what every stored message came to, in words.
async fn process(
    (desk, mailroom, post): (&Arc<MailDesk>, &MemoryMailroom, &Post),
    letters: Vec<(Letter, Proved)>,
) -> Vec<String> {
    for (l, proof) in letters {
        let inbound = NewInbound {
            door: Door::Smtp,
            envelope_from: None,
            envelope_to: Vec::new(),
            raw: post.write(l, auth(proof)),
            received_at_ms: 1_772_445_600_000,
            peer: None,
            helo: None,
        };
        mailroom.accept(&inbound).await.unwrap();
    }
    let now = desk.ports.commands.now().as_second();
    while round(desk, &Inline, now, now + 60, 100).await.claimed > 0 {}
    mailroom.outcomes().iter().map(|o| o.as_ref().map_or_else(|| "unsettled".into(), words)).collect()
}

/// What a message came to, in words the table can hold.
fn words(o: &MailOutcome) -> String {
    match o {
        MailOutcome::Ticket { what, .. } => what.clone(),
        MailOutcome::Inquiry { .. } => "an inquiry".into(),
        MailOutcome::Held { reason, .. } => format!("held: {reason}"),
        MailOutcome::Ignored { reason, .. } => format!("ignored: {reason}"),
    }
}

use Proved::{Forged, Proven, Unproven};

#[tokio::test]
async fn a_new_message_opens_a_ticket_for_the_org_its_address_or_sender_names() {
    let auto = Letter {
        provenance: Provenance {
            auto_submitted: Some("auto-replied".into()),
            from: "ann@acme.example".into(),
            ..Provenance::default()
        },
        ..letter("ann@acme.example", "support+acme", "Out of office")
    };
    let ours = Letter {
        provenance: Provenance { ours: true, ..Provenance::default() },
        ..letter("ann@acme.example", "support+acme", "Checkout fails")
    };
    let cases: Vec<(&str, Letter, Proved, &str)> = vec![
        // (why, the letter, what its authentication proved, what it comes to)
        (
            "the org-tagged address opens a ticket for its org, at its tier's default",
            letter("ann@acme.example", "support+acme", "Checkout fails"),
            Proven,
            "opened ACME-1 (P3)",
        ),
        (
            "the tag is read in any case",
            letter("ann@acme.example", "Support+ACME", "Checkout fails"),
            Proven,
            "opened ACME-1 (P3)",
        ),
        (
            "without a tag, the sender's only org",
            letter("bob@globex.example", "support", "Checkout fails"),
            Proven,
            "opened GLOBEX-1 (P3)",
        ),
        (
            "without a tag, a sender of two orgs is held",
            letter("two@shared.example", "support", "Checkout fails"),
            Proven,
            "held: no org tag, and two@shared.example is a user of several orgs",
        ),
        (
            "without a tag, a stranger is held",
            letter("eve@elsewhere.example", "support", "Checkout fails"),
            Proven,
            "held: no org tag, and eve@elsewhere.example is not a user of any org",
        ),
        (
            "a tag no org has is held",
            letter("ann@acme.example", "support+nope", "Checkout fails"),
            Proven,
            "held: no org has the tag \"nope\"",
        ),
        (
            "a stranger's mail is held where the org holds it",
            letter("eve@elsewhere.example", "support+acme", "Checkout fails"),
            Proven,
            "held: eve@elsewhere.example is not a user of ACME, which holds mail from strangers for staff",
        ),
        (
            "a stranger of a domain the org takes members from becomes a member",
            letter("new@globex.example", "support+globex", "Checkout fails"),
            Proven,
            "opened GLOBEX-1 (P3)",
        ),
        (
            "a stranger of another domain is held where the org takes members",
            letter("eve@elsewhere.example", "support+globex", "Checkout fails"),
            Proven,
            "held: eve@elsewhere.example is not a user of GLOBEX, and not of a domain it takes members from by mail",
        ),
        (
            "a deactivated member is held",
            letter("dee@acme.example", "support+acme", "Checkout fails"),
            Proven,
            "held: dee@acme.example's account in ACME is deactivated",
        ),
        (
            "staff open a ticket on the org's behalf",
            letter("eng@vendor.example", "support+acme", "Checkout fails"),
            Proven,
            "opened ACME-1 (P3)",
        ),
        (
            "a [P1] in the subject sets the severity",
            letter("ann@acme.example", "support+acme", "[P1] Checkout down"),
            Proven,
            "opened ACME-1 (P1)",
        ),
        (
            "security@ opens a security incident, P1 for every tier",
            letter("bob@globex.example", "security+globex", "[P4] Leaked key"),
            Proven,
            "opened GLOBEX-1 (P1, security incident)",
        ),
        ("sales@ is a general inquiry", letter("eve@elsewhere.example", "sales", "Pricing"), Proven, "an inquiry"),
        (
            "an unproven sender's inquiry is still one",
            letter("eve@elsewhere.example", "contact", "Pricing"),
            Unproven,
            "an inquiry",
        ),
        (
            "an unproven sender opens nothing",
            letter("ann@acme.example", "support+acme", "Checkout fails"),
            Unproven,
            "held: its sender is not proven (nobody checked who sent it (no trusted Authentication-Results)): held, it \
             opens nothing as ann@acme.example",
        ),
        (
            "a forged sender is ignored",
            letter("ann@acme.example", "support+acme", "Checkout fails"),
            Forged,
            "ignored: DMARC failed for acme.example, whose policy is reject: not sent by ann@acme.example; nothing done",
        ),
        (
            "an automatic reply opens nothing",
            auto,
            Proven,
            "ignored: Auto-Submitted (an automatic reply or notification): opens nothing and is not answered",
        ),
        ("our own message coming back", ours, Proven, "ignored: a message this server sent came back"),
        (
            "mail to no support mailbox is held",
            letter("ann@acme.example", "ann@elsewhere.example", "Checkout fails"),
            Proven,
            "held: not addressed to one of the support mailboxes",
        ),
        (
            "a message naming no sender is held",
            letter("", "support+acme", "Checkout fails"),
            Proven,
            "held: the message names no sender address",
        ),
    ];
    for (why, l, proof, expected) in cases {
        let (desk, world, mailroom, post) = desk().await;
        let done = process((&desk, &mailroom, &post), vec![(l, proof)]).await;
        assert_eq!(done, [expected], "{why}");
        let opened = world.opened_tickets().await;
        assert_eq!(opened.len(), usize::from(expected.starts_with("opened")), "{why}");
        assert!(opened.iter().all(|t| t.state.intake == Some(Intake::Email)), "{why}");
        let inquiries = world.inquiries.lock().unwrap().len();
        assert_eq!(inquiries, usize::from(expected == "an inquiry"), "{why}");
    }
}

#[tokio::test]
async fn a_stranger_taken_as_a_member_is_the_tickets_requester() {
    let (desk, world, mailroom, post) = desk().await;
    let l = Letter { from_name: Some("Nia New".into()), ..letter("new@globex.example", "support+globex", "Down") };
    process((&desk, &mailroom, &post), vec![(l, Proven)]).await;
    let member = world.login_account("new@globex.example", Some(&OrgSlug::from("globex"))).await.unwrap();
    let member = member.expect("the stranger is a member now");
    assert_eq!((member.name.as_str(), member.role), ("Nia New", UserRole::Member));
    assert_eq!(world.opened_tickets().await[0].requester, Some(member.id));
}

#[tokio::test]
async fn a_reply_to_a_ticket_is_its_senders_public_comment_when_they_may_write_on_it() {
    let signer = ReplySigner::new(REPLY_KEY);
    let key = stringer_core::ids::TicketKey { org: OrgSlug::from("acme"), number: 1 };
    let reply_to = format!("support+acme.1.{}", signer.sign(&key));
    let auto = Letter {
        provenance: Provenance {
            precedence: Some("bulk".into()),
            from: "ann@acme.example".into(),
            ..Provenance::default()
        },
        ..letter("ann@acme.example", "support", "Re: [ACME-1] Checkout fails")
    };
    let cases: Vec<(&str, bool, Letter, Proved, &str, usize, &str)> = vec![
        // (why, resolved first, the reply, its proof, what it comes to, comments, the ticket after)
        (
            "the requester's reply, by the key in its subject",
            false,
            letter("ann@acme.example", "support", "Re: [ACME-1] Checkout fails"),
            Proven,
            "reply on ACME-1 from ann@acme.example",
            1,
            "open",
        ),
        (
            "a reply to the ticket's signed reply address",
            false,
            letter("ann@acme.example", &reply_to, "Re: Checkout fails"),
            Proven,
            "reply on ACME-1 from ann@acme.example",
            1,
            "open",
        ),
        (
            "a reply address whose signature does not check out",
            false,
            letter("ann@acme.example", "support+acme.1.00000000000000000000", "Re: Checkout fails"),
            Proven,
            "held: sent to the reply address of ACME-1, which does not check out for this sender",
            0,
            "open",
        ),
        (
            "a reply by the Message-ID it answers",
            false,
            Letter {
                references: vec!["Checkout-fails.ann@acme.example@client.example".into()],
                ..letter("ann@acme.example", "support", "Re: Checkout fails")
            },
            Proven,
            "reply on ACME-1 from ann@acme.example",
            1,
            "open",
        ),
        (
            "the customer's reply reopens a resolved ticket",
            true,
            letter("ann@acme.example", "support", "Re: [ACME-1] Checkout fails"),
            Proven,
            "reply on ACME-1 from ann@acme.example",
            1,
            "reopened",
        ),
        (
            "staff answer by mail",
            false,
            letter("eng@vendor.example", "support", "Re: [ACME-1] Checkout fails"),
            Proven,
            "reply on ACME-1 from eng@vendor.example",
            1,
            "open",
        ),
        (
            "another org's member naming the key opens a ticket of their own",
            false,
            letter("bob@globex.example", "support", "Re: [ACME-1] Checkout fails"),
            Proven,
            "opened GLOBEX-1 (P3)",
            0,
            "open",
        ),
        (
            "an unproven reply is held, never recorded as its sender",
            false,
            letter("ann@acme.example", "support", "Re: [ACME-1] Checkout fails"),
            Unproven,
            "held: answers ACME-1 but its sender is not proven (nobody checked who sent it (no trusted \
             Authentication-Results)): held, never recorded as ann@acme.example",
            0,
            "open",
        ),
        (
            "bulk mail on a ticket is kept, not added",
            false,
            auto,
            Proven,
            "ignored: Precedence: bulk, junk or list on ACME-1: kept here, not added to the ticket",
            0,
            "open",
        ),
    ];
    for (why, resolved, reply, proof, expected, comments, after) in cases {
        let (desk, world, mailroom, post) = desk().await;
        let first = letter("ann@acme.example", "support+acme", "Checkout fails");
        process((&desk, &mailroom, &post), vec![(first, Proven)]).await;
        let ticket = world.opened_tickets().await[0].id.clone();
        if resolved {
            let resolve = Event::new(world.now(), ticket.clone(), EventKind::Resolved { by_customer: false });
            world
                .record(vec![resolve], Extras { actor: Some(UserId::from("eng")), ..Extras::default() })
                .await
                .unwrap();
        }
        let done = process((&desk, &mailroom, &post), vec![(reply, proof)]).await;
        assert_eq!(done[1], expected, "{why}");
        let written = world.comments_of(&ticket);
        assert_eq!(written.len(), comments, "{why}");
        assert!(written.iter().all(|c| c.public && c.body == "It is broken."), "{why}: {written:?}");
        let status = world.opened_tickets().await[0].state.status;
        let state = match (status, resolved) {
            (Status::Resolved, _) => "resolved",
            (_, true) => "reopened",
            _ => "open",
        };
        assert_eq!(state, after, "{why}");
    }
}

#[tokio::test]
async fn a_message_processed_twice_opens_one_ticket_and_adds_one_comment() {
    let (desk, world, mailroom, post) = desk().await;
    let first = letter("ann@acme.example", "support+acme", "Checkout fails");
    let reply = letter("ann@acme.example", "support", "Re: [ACME-1] Checkout fails");
    process((&desk, &mailroom, &post), vec![(first, Proven), (reply, Proven)]).await;
    for id in [1, 2] {
        let message = mailroom.inbound(id).await.unwrap().expect("stored");
        let letter = post.read(&message.raw);
        desk.process(&mut (), &Received { message, letter }).await.unwrap();
    }
    assert_eq!(world.opened.lock().unwrap().len(), 1, "one ticket");
    assert_eq!(world.comments_of(&world.opened_tickets().await[0].id).len(), 1, "one comment");
}

#[tokio::test]
async fn a_sender_past_the_hourly_limit_is_held() {
    let cases = [
        // (why, messages counted this hour before, what the next comes to)
        ("within the limit", SENDER_HOURLY_LIMIT - 1, "opened ACME-1 (P3)"),
        ("past it", SENDER_HOURLY_LIMIT, "held: more than 60 messages from ann@acme.example within an hour"),
    ];
    for (why, before, expected) in cases {
        let (desk, world, mailroom, post) = desk().await;
        world.attempts.lock().unwrap().insert("mail-sender:ann@acme.example".into(), before);
        let done =
            process((&desk, &mailroom, &post), vec![(letter("ann@acme.example", "support+acme", "Down"), Proven)]);
        assert_eq!(done.await, [expected], "{why}");
    }
}

#[tokio::test]
async fn a_bounce_stops_mail_only_to_an_address_we_mailed() {
    let cases = [
        // (why, the message it returns, the addresses stopped)
        ("it returns our mail to the address", Some("<dlv1@stringer>"), vec!["ann@acme.example"]),
        ("it returns another delivery", Some("<dlv2@stringer>"), vec![]),
        ("it returns nothing of ours", Some("<x@elsewhere.example>"), vec![]),
        ("it returns nothing", None, vec![]),
    ];
    for (why, returned, stopped) in cases {
        let (desk, _, mailroom, post) = desk().await;
        let report = Letter {
            bounced: vec!["ann@acme.example".into()],
            bounced_message: returned.map(String::from),
            provenance: Provenance { report: true, from: "mailer-daemon@acme.example".into(), ..Provenance::default() },
            ..letter("mailer-daemon@acme.example", "support", "Undeliverable")
        };
        let done = process((&desk, &mailroom, &post), vec![(report, Proven)]).await;
        assert!(done[0].starts_with("ignored: delivery failure report"), "{why}: {done:?}");
        assert_eq!(*mailroom.suppressed.lock().unwrap(), stopped, "{why}");
    }
}

#[tokio::test]
async fn held_mail_staff_route_to_an_org_opens_its_ticket_as_the_sender_they_vouch_for() {
    let cases = [
        // (why, the letter, its proof, what it came to before, and after routing)
        (
            "a stranger's mail, held where the org holds it",
            letter("eve@elsewhere.example", "support+acme", "Down"),
            Proven,
            "held: eve@elsewhere.example is not a user of ACME, which holds mail from strangers for staff",
            "opened ACME-1 (P3)",
        ),
        (
            "an unproven sender's mail",
            letter("ann@acme.example", "support+acme", "Down"),
            Unproven,
            "held: its sender is not proven (nobody checked who sent it (no trusted Authentication-Results)): held, it \
             opens nothing as ann@acme.example",
            "opened ACME-1 (P3)",
        ),
        (
            "mail to security@ stays a security incident",
            letter("eve@elsewhere.example", "security", "Leak"),
            Unproven,
            "held: its sender is not proven (nobody checked who sent it (no trusted Authentication-Results)): held, it \
             opens nothing as eve@elsewhere.example",
            "opened ACME-1 (P1, security incident)",
        ),
    ];
    for (why, l, proof, before, after) in cases {
        let (desk, world, mailroom, post) = desk().await;
        let from = l.from.clone();
        assert_eq!(process((&desk, &mailroom, &post), vec![(l, proof)]).await, [before], "{why}");
        assert!(mailroom.route_held(1, &OrgSlug::from("acme"), "eng", 0).await.unwrap(), "{why}");
        assert_eq!(process((&desk, &mailroom, &post), vec![]).await, [after], "{why}");
        let requester = world.opened_tickets().await[0].requester.clone().expect("a requester");
        let requester = world.user(&requester).await.unwrap().expect("an account");
        assert_eq!((requester.email, requester.org), (from, Some(OrgSlug::from("acme"))), "{why}");
    }
}
