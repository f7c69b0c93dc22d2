//! The chat desk's decisions over in-memory ports: who may act from an org's shared channel
//! (a member Slack vouched for by a confirmed address of one of the org's accounts, or
//! staff), what a message does (a top-level one opens a ticket, one in a ticket's thread is
//! a public comment), what the slash command answers, and that a retried message does it
//! once.

use super::*;
use crate::act::PageLimit;
use crate::fakes::{Inline, MemoryChat, Slack, World, org, user};
use crate::inbox::round;
use crate::store::NewComment;
use crate::thread_notes;
use std::sync::Mutex;
use stringer_core::contract::Contract;
use stringer_core::ids::{Severity, UserId, UserRole};

const NOW: &str = "2026-03-02T10:00:00Z";
/// Acme's shared channel, Globex's, and a channel of no org.
const ACME: &str = "C-ACME";
const GLOBEX: &str = "C-GLOBEX";
const RANDOM: &str = "C-RANDOM";

/// Acme (enterprise) and Globex (pro), each with its shared channel; Acme's member `ann`,
/// its deactivated member `dee`, its admin `ada` and deactivated admin `ode`, Globex's
/// member `bob`, the engineer `eng` and the TAM `tam`; in Slack, each of them but `ode` by a
/// confirmed address (`U-ANN` …), a member with no confirmed address (`U-NOBODY`) and one
/// whose address has no account (`U-STRANGER`).
async fn desk() -> (Arc<ChatDesk>, Arc<World>, Arc<MemoryChat>, Arc<Slack>) {
    let slack = Slack {
        channels: Mutex::new(
            [(ACME, "stringer-acme"), (GLOBEX, "stringer-globex"), (RANDOM, "random")]
                .map(|(id, name)| (id.to_string(), name.to_string()))
                .to_vec(),
        ),
        emails: emails(),
        ..Slack::default()
    };
    desk_with(slack).await
}

/// The members whose addresses Slack confirms: `U-ANN` is `ann@example.com`, and so on.
fn emails() -> Vec<(String, String)> {
    ["ann", "dee", "bob", "eng", "stranger", "tam", "ada"]
        .map(|who| (format!("U-{}", who.to_uppercase()), format!("{who}@example.com")))
        .to_vec()
}

/// The same, over `slack`.
async fn desk_with(slack: Slack) -> (Arc<ChatDesk>, Arc<World>, Arc<MemoryChat>, Arc<Slack>) {
    let world = World::new(Contract::default_contract(), NOW.parse().unwrap());
    world.add_org(OrgRecord { channel: Some("#stringer-acme".into()), ..org("acme", "enterprise") }).await;
    world.add_org(OrgRecord { channel: Some("#stringer-globex".into()), ..org("globex", "pro") }).await;
    world.add_user(user("ann", Some("acme"), UserRole::Member));
    world.add_user(UserRecord { deactivated_at: Some(1), ..user("dee", Some("acme"), UserRole::Member) });
    world.add_user(user("bob", Some("globex"), UserRole::Member));
    world.add_user(user("eng", None, UserRole::Engineer));
    world.add_user(user("tam", None, UserRole::Tam));
    world.add_user(user("ada", Some("acme"), UserRole::OrgAdmin));
    world.add_user(UserRecord { deactivated_at: Some(1), ..user("ode", Some("acme"), UserRole::OrgAdmin) });
    let chat = Arc::new(MemoryChat::default());
    let slack = Arc::new(slack);
    let ports =
        ChatPorts { commands: world.clone(), queries: world.clone(), accounts: world.clone(), chat: chat.clone() };
    let tickets = TicketDesk::new(
        world.clone(),
        world.clone(),
        world.clone(),
        world.clone(),
        PageLimit { limit: 10, window: 60 },
    );
    let desk = ChatDesk { ports, tickets, directory: slack.clone(), public_url: String::new() };
    (Arc::new(desk), world, chat, slack)
}

/// A message `ts` by `member` in `channel`, in the thread `thread` when given.
fn message(channel: &str, member: &str, ts: &str, thread: Option<&str>, text: &str) -> ChatMessage {
    ChatMessage {
        event_id: format!("Ev-{channel}-{ts}"),
        channel: channel.into(),
        user: member.into(),
        message_id: ts.into(),
        thread: thread.map(String::from),
        text: text.into(),
        received_at_ms: 1_772_445_600_000,
    }
}

/// Stores the messages and runs intake rounds until none is left; answers what each came to.
async fn process(desk: &Arc<ChatDesk>, chat: &MemoryChat, messages: &[ChatMessage]) -> Vec<String> {
    for m in messages {
        assert_eq!(chat.accept_message(m, &m.event_id).await.unwrap(), Accepted::New);
    }
    let now = desk.ports.commands.now().as_second();
    while round(desk, &Inline, now, now + 60, 100).await.claimed > 0 {}
    chat.settled().into_iter().map(|s| s.unwrap_or_else(|| "unsettled".into())).collect()
}

const NO_ACCOUNT: &str = "ignored: the Slack member has no Stringer account with a confirmed email";

#[tokio::test]
async fn a_top_level_message_opens_a_ticket_only_for_a_member_slack_vouched_for() {
    let cases = [
        // (why, channel, member, what it comes to)
        ("an org's member in its channel opens a ticket", ACME, "U-ANN", "opened ACME-1"),
        ("a member Slack confirmed no address of", ACME, "U-NOBODY", NO_ACCOUNT),
        ("an address with no account", ACME, "U-STRANGER", NO_ACCOUNT),
        ("another org's member in this org's channel", ACME, "U-BOB", NO_ACCOUNT),
        ("a deactivated member", ACME, "U-DEE", NO_ACCOUNT),
        ("staff outside a ticket's thread", ACME, "U-ENG", "ignored: staff talk outside a ticket's thread"),
        ("a channel that is no org's shared channel", RANDOM, "U-ANN", "ignored: not an org's shared channel"),
        ("a channel Slack does not know", "C-GONE", "U-ANN", "ignored: not an org's shared channel"),
    ];
    for (why, channel, member, expected) in cases {
        let (desk, world, chat, slack) = desk().await;
        let done = process(&desk, &chat, &[message(channel, member, "1.0", None, "Checkout fails\nsince 9:00")]).await;
        assert_eq!(done, [expected], "{why}");
        let opened = expected.starts_with("opened");
        assert_eq!(world.opened.lock().unwrap().len(), usize::from(opened), "{why}");
        assert_eq!(
            slack.posts.lock().unwrap().len(),
            usize::from(opened),
            "{why}: answered in the thread or not at all"
        );
    }
}

#[tokio::test]
async fn a_ticket_opened_from_the_channel_is_the_members_and_answered_in_its_thread() {
    let (desk, world, chat, slack) = desk().await;
    process(&desk, &chat, &[message(ACME, "U-ANN", "1.0", None, "Checkout fails")]).await;
    let opened = world.opened_tickets().await;
    let t = &opened[0];
    assert_eq!((t.org.as_str(), t.requester.as_ref().map(|u| u.as_str())), ("acme", Some("ann")));
    assert_eq!(t.state.intake, Some(Intake::Slack));
    let default = Contract::default_contract().default_severity(&stringer_core::ids::Tier::from("enterprise"));
    assert_eq!(t.state.severity, default, "the tier's default severity");
    assert_eq!(chat.thread_ticket(ACME, "1.0").await.unwrap(), Some(t.id.clone()), "the thread is the ticket's");
    assert_eq!(chat.channel_org(ACME).await.unwrap(), Some(OrgSlug::from("acme")), "the channel's org is learned");
    let posts = slack.posts.lock().unwrap().clone();
    assert_eq!(posts.len(), 1);
    let (channel, thread, text) = &posts[0];
    assert_eq!((channel.as_str(), thread.as_deref()), (ACME, Some("1.0")));
    assert!(text.starts_with(&format!("Opened ACME-1 (severity {default})")), "{text}");
}

#[tokio::test]
async fn a_message_in_a_tickets_thread_is_a_public_comment_of_who_may_write_it() {
    let cases = [
        // (why, resolved first, member, thread, what it comes to, comments, the ticket after)
        ("the customer's reply", false, "U-ANN", Some("1.0"), "comment on ACME-1", 1, "open"),
        (
            "the customer's reply reopens a resolved ticket",
            true,
            "U-ANN",
            Some("1.0"),
            "comment on ACME-1",
            1,
            "reopened",
        ),
        ("staff answer in the thread, a response", false, "U-ENG", Some("1.0"), "comment on ACME-1", 1, "responded"),
        (
            "staff write on a resolved ticket, which stays resolved",
            true,
            "U-ENG",
            Some("1.0"),
            "comment on ACME-1",
            1,
            "resolved",
        ),
        (
            "a thread that is no ticket's",
            false,
            "U-ANN",
            Some("7.0"),
            "ignored: a thread that is no ticket's",
            0,
            "open",
        ),
        ("a member Slack vouched for no account of", false, "U-NOBODY", Some("1.0"), NO_ACCOUNT, 0, "open"),
        ("another org's member", false, "U-BOB", Some("1.0"), NO_ACCOUNT, 0, "open"),
        (
            "a thread's own first message (thread = ts) is top-level",
            false,
            "U-ANN",
            Some("2.0"),
            "opened ACME-2",
            0,
            "open",
        ),
    ];
    for (why, resolved, member, thread, expected, comments, after) in cases {
        let (desk, world, chat, _) = desk().await;
        process(&desk, &chat, &[message(ACME, "U-ANN", "1.0", None, "Checkout fails")]).await;
        let ticket = world.opened_tickets().await[0].id.clone();
        if resolved {
            let resolve = Event::new(world.now(), ticket.clone(), EventKind::Resolved { by_customer: false });
            world
                .record(vec![resolve], Extras { actor: Some(UserId::from("eng")), ..Extras::default() })
                .await
                .unwrap();
        }
        let done = process(&desk, &chat, &[message(ACME, member, "2.0", thread, "Still failing")]).await;
        assert_eq!(done[1], expected, "{why}");
        let written = world.comments_of(&ticket);
        assert_eq!(written.len(), comments, "{why}");
        assert!(written.iter().all(|c| c.public && c.body == "Still failing"), "{why}: {written:?}");
        let t = &world.opened_tickets().await[0];
        let state = match (t.state.status, t.state.responded_at, resolved) {
            (Status::Resolved, _, _) => "resolved",
            (_, _, true) => "reopened",
            (_, Some(_), false) => "responded",
            _ => "open",
        };
        assert_eq!(state, after, "{why}");
    }
}

#[tokio::test]
async fn a_message_processed_twice_opens_and_comments_once() {
    let (desk, world, _, slack) = desk().await;
    let opening = ChatRecord { id: 1, message: message(ACME, "U-ANN", "1.0", None, "Checkout fails"), attempts: 1 };
    let reply = ChatRecord { id: 2, message: message(ACME, "U-ANN", "2.0", Some("1.0"), "Still"), attempts: 1 };
    for r in [&opening, &opening, &reply, &reply] {
        desk.process(&mut (), r).await.unwrap();
    }
    assert_eq!(world.opened.lock().unwrap().len(), 1, "one ticket");
    let ticket = world.opened_tickets().await[0].id.clone();
    assert_eq!(world.comments_of(&ticket).len(), 1, "one comment");
    assert_eq!(slack.posts.lock().unwrap().len(), 1, "answered once");
}

#[tokio::test]
async fn slacks_retry_of_an_event_is_stored_once() {
    let (_, _, chat, _) = desk().await;
    let m = message(ACME, "U-ANN", "1.0", None, "Checkout fails");
    assert_eq!(chat.accept_message(&m, "sig-1").await.unwrap(), Accepted::New);
    assert_eq!(chat.accept_message(&m, "sig-2").await.unwrap(), Accepted::Retry);
    assert_eq!(chat.accept_message(&m, "sig-1").await.unwrap(), Accepted::Replay);
    assert_eq!(chat.settled().len(), 1);
}

#[tokio::test]
async fn the_slash_command_answers_who_may_ask_what() {
    let usage = "Usage: /stringer new SUBJECT · /stringer page [TICKET] · /stringer status TICKET · /stringer oncall";
    let cases = [
        // (why, channel, member, text, shown to the channel, what the answer begins with)
        (
            "a channel of no org",
            RANDOM,
            "U-ANN",
            "new Down",
            false,
            "This channel is no org's shared channel: use /stringer in your org's channel.",
        ),
        (
            "a member Slack vouched for no account of",
            ACME,
            "U-NOBODY",
            "new Down",
            false,
            "Slack has not confirmed an email address of yours that belongs to a Stringer account of this org.",
        ),
        (
            "a member opens a ticket for all to see, due as the contract says (Enterprise P3: 8 hours)",
            ACME,
            "U-ANN",
            "new Checkout fails",
            true,
            "<@U-ANN> opened ACME-2 (severity P3): first response due by 2026-03-02T18:00:00Z",
        ),
        ("new without a subject", ACME, "U-ANN", "new", false, usage),
        ("an unknown verb", ACME, "U-ANN", "dance", false, usage),
        (
            "a member reads their org's ticket",
            ACME,
            "U-ANN",
            "status acme-1",
            false,
            "ACME-1 ·  · severity P3 · Open · response due 2026-03-02T18:00:00Z",
        ),
        ("a member reads no other org's ticket", ACME, "U-ANN", "status GLOBEX-1", false, "No such ticket."),
        ("staff read any org's", ACME, "U-ENG", "status GLOBEX-1", false, "GLOBEX-1 · "),
        (
            "nobody on call",
            ACME,
            "U-ANN",
            "oncall",
            false,
            "Nobody is on call for this org right now; mail support or open a ticket.",
        ),
        (
            "a page names no other org's ticket",
            ACME,
            "U-ANN",
            "page GLOBEX-1",
            false,
            "No such open ticket of this org.",
        ),
        (
            "Pro pages a P1 only once it is 30 minutes unacknowledged",
            GLOBEX,
            "U-BOB",
            "page GLOBEX-1",
            false,
            "Not paged: the on-call line opens for this ticket at 2026-03-02T10:30:00Z",
        ),
        (
            "Enterprise pages for its newest open ticket",
            ACME,
            "U-ANN",
            "page",
            true,
            "<@U-ANN> paged on-call for ACME-1.",
        ),
    ];
    for (why, channel, member, text, in_channel, expected) in cases {
        let (desk, world, _, _) = desk().await;
        for (org, severity) in [("acme", "P3"), ("globex", "P1")] {
            let opened = EventKind::Opened {
                org: OrgSlug::from(org),
                severity: Severity::from(severity),
                intake: Some(Intake::Portal),
                security: false,
            };
            let id = TicketId(format!("tkt_{org}"));
            world.record(vec![Event::new(world.now(), id, opened)], Extras::default()).await.unwrap();
        }
        let c = SlashCommand { channel: channel.into(), user: member.into(), text: text.into() };
        let reply = desk.command(&c).await.unwrap();
        assert!(reply.text.starts_with(expected), "{why}: {}", reply.text);
        assert_eq!(reply.in_channel, in_channel, "{why}");
    }
}

/// Acme's record as a kickoff reads it: its channel `#stringer-acme`, the TAM `tam` and the
/// named engineers `eng` and `ghost` (no account).
fn kicked(deployment: Deployment, tier: &str) -> OrgRecord {
    OrgRecord {
        deployment,
        channel: Some("#stringer-acme".into()),
        tam: Some(UserId::from("tam")),
        named_engineers: vec![UserId::from("eng"), UserId::from("ghost")],
        ..org("acme", tier)
    }
}

#[tokio::test]
async fn a_kickoff_stands_up_the_orgs_channel_with_its_people() {
    let admins = vec!["ada@example.com".to_string()];
    let cases = [
        // (why, deployment, the channel exists already, Slack Connect refused, created (private?), shared with)
        (
            "a new channel, its admins through Slack Connect",
            Deployment::Shared,
            false,
            false,
            Some(false),
            admins.clone(),
        ),
        ("a federal org's channel is private", Deployment::Federal, false, false, Some(true), admins.clone()),
        ("a channel of that name is found, not made again", Deployment::Shared, true, false, None, admins.clone()),
        ("Slack Connect refused is told, the rest done", Deployment::Shared, false, true, Some(false), vec![]),
    ];
    for (why, deployment, exists, refused, created, shared) in cases {
        let taken = if exists { vec![("C-OLD".to_string(), "stringer-acme".to_string())] } else { vec![] };
        let slack = Slack {
            channels: Mutex::new(taken),
            emails: emails(),
            connect_refused: refused.then(|| "Slack Connect is off in this workspace".to_string()),
            ..Slack::default()
        };
        let (desk, _, chat, slack) = desk_with(slack).await;
        let org = kicked(deployment, "enterprise");
        let done = desk.kickoff(&org).await.unwrap();
        assert_eq!(done.created, created.is_some(), "{why}");
        let made = slack.created.lock().unwrap().clone();
        assert_eq!(
            made,
            created.map(|private| ("stringer-acme".to_string(), private)).into_iter().collect::<Vec<_>>(),
            "{why}"
        );
        assert_eq!(done.invited, ["tam", "eng"], "{why}: the TAM and named engineers with accounts");
        let invited = vec![(done.channel.clone(), vec!["U-TAM".to_string(), "U-ENG".to_string()])];
        assert_eq!(*slack.invited.lock().unwrap(), invited, "{why}");
        assert_eq!(done.shared_with, shared, "{why}: its active admins, as far as Slack Connect lets");
        assert_eq!(done.shared_refused.is_some(), refused, "{why}");
        let pinned = vec![(done.channel.clone(), done.welcome.clone())];
        assert_eq!(*slack.pinned.lock().unwrap(), pinned, "{why}: the welcome pinned");
        assert_eq!(chat.channel_org(&done.channel).await.unwrap(), Some(org.slug.clone()), "{why}: the channel's org");
    }
}

#[tokio::test]
async fn an_org_without_a_channel_is_not_kicked_off() {
    let (desk, _, _, slack) = desk().await;
    let refused = desk.kickoff(&OrgRecord { channel: None, ..kicked(Deployment::Shared, "enterprise") }).await;
    assert!(matches!(refused, Err(AppError::Rejected(why)) if why == "org acme has no Slack channel"));
    assert!(slack.posts.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_welcome_says_how_the_customer_pages_as_the_contract_lets_them() {
    let cases = [
        // (tier, the welcome's paging line)
        ("enterprise", "`/stringer page TICKET` pages the on-call engineer for a P1/P2/P3/P4 ticket at any time."),
        (
            "pro",
            "`/stringer page TICKET` pages the on-call engineer for a P1 ticket still unacknowledged 30 minutes after it opened.",
        ),
    ];
    for (tier, expected) in cases {
        let (desk, _, _, slack) = desk().await;
        desk.kickoff(&kicked(Deployment::Shared, tier)).await.unwrap();
        let welcome = slack.posts.lock().unwrap().last().map(|(_, _, text)| text.clone()).expect("a welcome posted");
        assert!(welcome.contains(expected), "{tier}: {welcome}");
        assert!(welcome.contains("your TAM tam, eng (named engineer)"), "{tier}: {welcome}");
    }
}

#[tokio::test]
async fn a_threads_ticket_changes_and_comments_written_elsewhere_are_posted_there_once() {
    let (desk, _, chat, slack) = desk().await;
    process(&desk, &chat, &[message(ACME, "U-ANN", "1.0", None, "Checkout fails")]).await;
    let ticket = chat.thread_ticket(ACME, "1.0").await.unwrap().expect("the thread's ticket");
    let post = |id: &str, actor: Option<&str>, note: ThreadNote| ThreadPost {
        id: id.into(),
        ticket: ticket.clone(),
        actor: actor.map(UserId::from),
        note,
        channel: ACME.into(),
        thread: "1.0".into(),
        attempts: 0,
    };
    let comment = |author: &str| ThreadNote::Comment { author: UserId::from(author), body: "See the logs.".into() };
    *chat.thread_posts.lock().unwrap() = vec![
        post("tp:1", Some("eng"), ThreadNote::Acknowledged),
        post("tp:2", None, ThreadNote::SeverityChanged { severity: Severity::from("P2") }),
        post("tp:3", Some("eng"), ThreadNote::WaitingOnCustomer),
        post("tp:4", Some("eng"), ThreadNote::Resolved),
        post("tp:5", Some("ann"), ThreadNote::Reopened),
        post("cmt_1", Some("eng"), comment("eng")),
        post("cmt_2", Some("ann"), comment("ann")),
    ];
    slack.posts.lock().unwrap().clear();
    assert_eq!(desk.post_due(0).await.unwrap(), 7);
    let posted: Vec<String> = slack
        .posts
        .lock()
        .unwrap()
        .iter()
        .map(|(_, thread, text)| {
            assert_eq!(thread.as_deref(), Some("1.0"));
            text.clone()
        })
        .collect();
    assert_eq!(
        posted,
        [
            "ACME-1 was acknowledged by eng, who is on it.",
            "ACME-1 is now P2.",
            "ACME-1 waits on your answer: reply in this thread.",
            "ACME-1 was resolved. If it is not, reply in this thread.",
            "ACME-1 was reopened.",
            "*eng (support)*: See the logs.",
            "*ann*: See the logs.",
        ]
    );
    assert_eq!(desk.post_due(0).await.unwrap(), 0, "each once");
}

#[tokio::test]
async fn a_reply_longer_than_a_comment_takes_is_recorded_cut_as_mails_is() {
    let (desk, world, chat, _) = desk().await;
    process(&desk, &chat, &[message(ACME, "U-ANN", "1.0", None, "Checkout fails")]).await;
    let ticket = world.opened_tickets().await[0].id.clone();
    // Slack takes up to 40,000 characters (`MAX_TEXT`); a comment takes 32 KiB.
    let long = "log line 0123456789\n".repeat(MAX_TEXT / 20);
    let done = process(&desk, &chat, &[message(ACME, "U-ANN", "2.0", Some("1.0"), &long)]).await;
    assert_eq!(done[1], "comment on ACME-1", "the customer's words reach the ticket");
    let written = world.comments_of(&ticket);
    assert_eq!(written.len(), 1);
    assert!(written[0].body.len() <= crate::act::MAX_COMMENT && written[0].body.starts_with("log line"));
}

#[test]
fn a_change_tells_its_thread_of_its_state_and_of_public_comments_written_elsewhere() {
    let at = jiff::Timestamp::from_second(1_700_000_000).unwrap();
    let event = |kind| Event::new(at, TicketId::from("t1"), kind);
    let comment = |public, in_thread| NewComment {
        id: "cmt_1".into(),
        author: UserId::from("ann"),
        public,
        body: "Still broken".into(),
        in_thread,
    };
    let reopen_and_reply = [event(EventKind::Reopened), event(EventKind::CustomerReplied)];
    let said = ThreadNote::Comment { author: UserId::from("ann"), body: "Still broken".into() };
    assert_eq!(thread_notes(&reopen_and_reply, Some(&comment(true, false))), [ThreadNote::Reopened, said]);
    assert_eq!(
        thread_notes(&reopen_and_reply, Some(&comment(true, true))),
        [ThreadNote::Reopened],
        "a comment written in the thread is not posted back"
    );
    assert_eq!(thread_notes(&[], Some(&comment(false, false))), [], "an internal note stays inside");
    let states = [
        event(EventKind::Acknowledged { by: "eng".into() }),
        event(EventKind::StoppedWaiting),
        event(EventKind::SeverityChanged { severity: Severity::from("P2") }),
        event(EventKind::WaitingOnCustomer),
        event(EventKind::Resolved { by_customer: false }),
    ];
    assert_eq!(
        thread_notes(&states, None),
        [
            ThreadNote::Acknowledged,
            ThreadNote::SeverityChanged { severity: Severity::from("P2") },
            ThreadNote::WaitingOnCustomer,
            ThreadNote::Resolved
        ]
    );
}
