//! The org's shared channel as a way in, whatever its kind (Slack today: its ids, threads and
//! formatting stay in `stringer_integrations::slack`). The channel's door stores each channel
//! message before it answers (the [`ChatRoom`] port; a retried event, same `event_id`, is
//! stored once); [`ChatDesk`] then turns it into ticket events: a customer's top-level
//! message in the org's channel opens a ticket and the desk answers in its thread; a reply in
//! that thread becomes a public comment (the customer's message, or a staff reply). The
//! `/stringer` slash command ([`ChatDesk::command`]) opens, pages, tells a ticket's state
//! and who is on call. Who is who comes from the email addresses the channel confirmed (the
//! [`ChannelDirectory`]), never from a member ID a user typed; what anyone may do is the access policy's answer.

use crate::act::{ActError, Command, PageOutcome, Principal, Proof, TicketDesk, TicketRef, in_flight_words};
use crate::delivery::SendError;
use crate::desk::AppError;
use crate::ids::seeded_ulid;
use crate::inbox::{Done, Inbox, Stored, WayIn};
use crate::outbox::{Carrier, Claimable, Policy, Sendings, Tried, send_due};
use crate::ports::{Accounts, Commands, Queries};
use crate::records::{OrgRecord, TicketRecord, UserRecord};
use crate::store::{Extras, StoreError, TicketDetails};
use async_trait::async_trait;
use jiff::Timestamp;
use std::sync::Arc;
use stringer_core::access::{self, Action, Decision, Object, OrgRef, Scopes};
use stringer_core::event::{Event, EventKind};
use stringer_core::ids::{Deployment, Intake, OrgSlug, TicketId, TicketKey};
use stringer_core::ticket::Status;

/// How many times a stored message is tried before it is settled as failed.
pub const MAX_PROCESS_ATTEMPTS: i64 = 5;
/// The longest message text kept.
pub const MAX_TEXT: usize = 40_000;

/// A message posted in a channel, as the channel's door told it. Its ids are the channel's
/// own, opaque here (for Slack: the channel id, the message's `ts`, the thread's `thread_ts`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatMessage {
    /// The channel's event id (retries carry the same).
    pub event_id: String,
    /// The channel's id.
    pub channel: String,
    /// The channel member who wrote it.
    pub user: String,
    /// The message's id within the channel.
    pub message_id: String,
    /// The id of the thread it replies in (`None` for a top-level message).
    pub thread: Option<String>,
    /// What it says.
    pub text: String,
    /// When it was received (Unix milliseconds).
    pub received_at_ms: i64,
}

/// A stored message, claimed for processing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatRecord {
    /// Its sequence number.
    pub id: i64,
    /// The message.
    pub message: ChatMessage,
    /// Processing attempts so far, this one included.
    pub attempts: i64,
}

/// What storing a message came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// Stored for processing.
    New,
    /// Its event was stored already from a request signed otherwise: the channel retrying.
    Retry,
    /// The very request that stored it, again: a replay.
    Replay,
}

/// Channel messages (claimed through the [`Inbox`] every way in shares), the channels' orgs
/// and the threads' tickets.
#[async_trait]
pub trait ChatRoom: Inbox<ChatRecord> + Sendings<OwedKickoff> + Sendings<ThreadPost> {
    /// Stores a message for processing, with the signature of the request that brought it
    /// (one write, so a busy server still answers the channel at once); a second request for
    /// the same event is the channel's retry, or a replay when its signature is the same.
    async fn accept_message(&self, message: &ChatMessage, signature: &str) -> Result<Accepted, StoreError>;
    /// Records, in one write, what became of messages (each: its id, what it came to in
    /// words, the ticket it opened or joined); they are not claimed again.
    async fn settle_messages(&self, settled: &[(i64, &str, Option<&TicketId>)], at: i64) -> Result<(), StoreError>;
    /// The org whose shared channel has this id, as learned.
    async fn channel_org(&self, channel: &str) -> Result<Option<OrgSlug>, StoreError>;
    /// Remembers the org of a channel id.
    async fn set_channel_org(&self, channel: &str, org: &OrgSlug) -> Result<(), StoreError>;
    /// The channel id learned for an org's shared channel.
    async fn channel_org_id(&self, org: &OrgSlug) -> Result<Option<String>, StoreError>;
    /// The ticket a thread (channel, thread id) belongs to.
    async fn thread_ticket(&self, channel: &str, thread: &str) -> Result<Option<TicketId>, StoreError>;
    /// Binds a thread to a ticket at `at` (a second binding of the same thread is ignored).
    async fn set_thread_ticket(
        &self,
        channel: &str,
        thread: &str,
        ticket: &TicketId,
        at: i64,
    ) -> Result<(), StoreError>;
    /// Records that a post is in its thread under its mark (a thread post's id, a ticket's
    /// opening answer: `opened:` and the ticket id), or that one was tried (`try:` and the mark).
    async fn mark_posted(&self, mark: &str, at: i64) -> Result<(), StoreError>;
    /// Whether something was marked posted under `mark`.
    async fn posted(&self, mark: &str) -> Result<bool, StoreError>;
    /// Writes that `org`'s channel is owed a kickoff (`id` is the kickoff's), due at `at`.
    async fn owe_kickoff(&self, id: &str, org: &OrgSlug, at: i64) -> Result<(), StoreError>;
}

/// An org's channel owed a kickoff, as claimed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwedKickoff {
    /// The kickoff's id.
    pub id: String,
    /// The org.
    pub org: OrgSlug,
    /// Attempts so far.
    pub attempts: i64,
}

impl Claimable for OwedKickoff {
    fn id(&self) -> &str {
        &self.id
    }
    fn attempts(&self) -> i64 {
        self.attempts
    }
}

/// How owed kickoffs are claimed and retried: 16 a round, two minutes' lease, 30 s doubling
/// to an hour, given up after 8 attempts (`POST /api/v1/orgs/{slug}/kickoff` runs one again
/// by hand).
pub const KICKOFFS: Policy =
    Policy { name: "channel kickoff", batch: 16, lease_seconds: 120, first_wait: 30, longest_wait: 3600, attempts: 8 };
/// Owed kickoffs claimed per round.
pub const KICKOFF_BATCH: i64 = KICKOFFS.batch;

/// What the desk asks of the org's channel's service: names, members, posts (each kind's
/// client implements it; Slack's Web API calls are named beside each method).
#[async_trait]
pub trait ChannelDirectory: Send + Sync {
    /// A channel's name without `#` (`conversations.info`).
    async fn channel_name(&self, channel: &str) -> Result<Option<String>, SendError>;
    /// A member's email address, when the service has confirmed it (`users.info`).
    async fn member_email(&self, member: &str) -> Result<Option<String>, SendError>;
    /// Posts `text` in a channel, in a thread when given (`chat.postMessage`); answers the
    /// message's id.
    async fn post(&self, channel: &str, thread: Option<&str>, text: &str) -> Result<String, SendError>;
    /// Posts `text` in a thread under `mark`, carried with the message (Slack: as its
    /// metadata) so the post can be found there again (`chat.postMessage`); answers the
    /// message's id.
    async fn post_marked(&self, channel: &str, thread: &str, text: &str, mark: &str) -> Result<String, SendError>;
    /// The id of the message posted in a thread under `mark`, if it is there
    /// (`conversations.replies`, page by page).
    async fn find_marked(&self, channel: &str, thread: &str, mark: &str) -> Result<Option<String>, SendError>;
    /// Creates a channel (`conversations.create`), private when asked; `None` when the name
    /// is taken.
    async fn create_channel(&self, name: &str, private: bool) -> Result<Option<String>, SendError>;
    /// The id of the channel of that name (`conversations.list`, page by page).
    async fn find_channel(&self, name: &str) -> Result<Option<String>, SendError>;
    /// The member whose email address is `email` (`users.lookupByEmail`).
    async fn member_by_email(&self, email: &str) -> Result<Option<String>, SendError>;
    /// Invites members of the workspace to a channel (`conversations.invite`; those in it
    /// already are no error).
    async fn invite(&self, channel: &str, members: &[String]) -> Result<(), SendError>;
    /// Invites people outside the workspace by email (Slack Connect's
    /// `conversations.inviteShared`); refused where the workspace does not allow it.
    async fn invite_shared(&self, channel: &str, emails: &[String]) -> Result<(), SendError>;
    /// Pins a message (`pins.add`).
    async fn pin(&self, channel: &str, message: &str) -> Result<(), SendError>;
    /// A member named in a post so that the service shows who (Slack: `<@U024BE7LH>`).
    fn mention(&self, member: &str) -> String;
    /// A link to `url` shown as `text` (Slack: `<url|text>`).
    fn link(&self, url: &str, text: &str) -> String;
    /// Text set in bold (Slack: `*text*`).
    fn bold(&self, text: &str) -> String;
    /// How a ticket opened in the channel came in, as its timeline records it.
    fn intake(&self) -> Intake;
    /// The service's name as people know it (`Slack`), for what the desk answers them.
    fn name(&self) -> &'static str;
}

/// What a channel kickoff did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kickoff {
    /// The channel's id.
    pub channel: String,
    /// Whether it was created now (else it existed).
    pub created: bool,
    /// Staff invited (their Stringer ids).
    pub invited: Vec<String>,
    /// Staff who could not be invited, with why.
    pub not_invited: Vec<String>,
    /// The customer admins invited from outside the workspace.
    pub shared_with: Vec<String>,
    /// Why invitations from outside the workspace were not sent, when they were not.
    pub shared_refused: Option<String>,
    /// The pinned welcome message's id.
    pub welcome: String,
}

/// A slash command as the channel's door hands it in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlashCommand {
    /// The channel it was typed in.
    pub channel: String,
    /// Who typed it.
    pub user: String,
    /// What follows the command (`new Checkout fails`).
    pub text: String,
}

/// The answer to a slash command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// Shown to everyone in the channel (else only to who typed it).
    pub in_channel: bool,
    /// What it says.
    pub text: String,
}

impl Reply {
    fn private(text: impl Into<String>) -> Reply {
        Reply { in_channel: false, text: text.into() }
    }

    fn public(text: impl Into<String>) -> Reply {
        Reply { in_channel: true, text: text.into() }
    }
}

/// What the chat desk reads and changes: the shared channels' messages and the tickets and
/// people they speak of.
#[derive(Clone)]
pub struct ChatPorts {
    /// Changes tickets (and tells the time and the contract).
    pub commands: Arc<dyn Commands>,
    /// The read port: tickets, comments, timelines.
    pub queries: Arc<dyn Queries>,
    /// Orgs, users, tokens.
    pub accounts: Arc<dyn Accounts>,
    /// Messages from the orgs' shared channels, the channels' orgs, the threads' tickets.
    pub chat: Arc<dyn ChatRoom>,
}

impl Stored for ChatRecord {
    fn id(&self) -> i64 {
        self.id
    }

    fn attempts(&self) -> i64 {
        self.attempts
    }
}

/// Channel messages through the one intake round ([`crate::inbox::round`]): one channel's
/// messages in the order posted, so that a reply finds the ticket its thread opened;
/// different channels' at once; a round's outcomes settled in one write.
#[async_trait]
impl WayIn for ChatDesk {
    type Item = ChatRecord;
    type Key = ();
    /// What it came to in words, and the ticket it opened or joined.
    type Outcome = (String, Option<TicketId>);

    async fn claim(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<ChatRecord>, AppError> {
        Ok(Inbox::claim(self.ports.chat.as_ref(), now, lease_until, limit).await?)
    }

    fn order_key(&self, r: &ChatRecord) -> String {
        r.message.channel.clone()
    }

    async fn begin(&self, firsts: &[&ChatRecord]) -> Result<Vec<()>, AppError> {
        Ok(vec![(); firsts.len()])
    }

    /// Processes one message. A store or channel failure leaves it pending for the next
    /// claim (until [`MAX_PROCESS_ATTEMPTS`]; then it is settled as failed).
    async fn process(&self, _: &mut (), r: &ChatRecord) -> Result<(String, Option<TicketId>), AppError> {
        match self.decide(&r.message).await {
            Ok(done) => Ok(done),
            Err(e) if r.attempts < MAX_PROCESS_ATTEMPTS => Err(e),
            Err(e) => Ok((format!("failed: {e}"), None)),
        }
    }

    async fn settle(&self, done: &[Done<ChatDesk>]) -> Result<(), AppError> {
        let settled: Vec<(i64, &str, Option<&TicketId>)> = done
            .iter()
            .flat_map(|d| &d.settled)
            .map(|(r, (what, ticket))| (r.id, what.as_str(), ticket.as_ref()))
            .collect();
        self.ports.chat.settle_messages(&settled, self.ports.commands.now().as_second()).await?;
        Ok(())
    }
}

/// Turns channel messages and slash commands into ticket events.
pub struct ChatDesk {
    /// The application's ports.
    pub ports: ChatPorts,
    /// Acts on tickets as the member the channel vouched for.
    pub tickets: TicketDesk,
    /// The channel's service (Slack's Web API today).
    pub directory: Arc<dyn ChannelDirectory>,
    /// The server's public address, for links in replies.
    pub public_url: String,
}

impl ChatDesk {
    async fn decide(&self, m: &ChatMessage) -> Result<(String, Option<TicketId>), AppError> {
        let Some(org) = self.org_of_channel(&m.channel).await? else {
            return Ok(("ignored: not an org's shared channel".into(), None));
        };
        let Some(user) = self.member(&m.user, &org).await? else {
            let name = self.directory.name();
            return Ok((format!("ignored: the {name} member has no Stringer account with a confirmed email"), None));
        };
        let thread = m.thread.as_deref().filter(|t| *t != m.message_id);
        match thread {
            Some(thread) => match self.ports.chat.thread_ticket(&m.channel, thread).await? {
                Some(ticket) => self.comment(m, &user, &ticket).await,
                None => Ok(("ignored: a thread that is no ticket's".into(), None)),
            },
            None if user.org.is_none() => Ok(("ignored: staff talk outside a ticket's thread".into(), None)),
            None => self.open(m, &org, &user, &user).await,
        }
    }

    /// The org of a channel: learned before, or the org whose shared channel has the name
    /// the channel's service gives the id.
    async fn org_of_channel(&self, channel: &str) -> Result<Option<OrgRecord>, AppError> {
        if let Some(slug) = self.ports.chat.channel_org(channel).await? {
            return Ok(self.ports.accounts.org(&slug).await?);
        }
        let name = self.directory.channel_name(channel).await.map_err(channel_failed)?;
        let Some(name) = name else { return Ok(None) };
        let orgs = self.ports.accounts.orgs().await?;
        let found = orgs
            .into_iter()
            .find(|o| o.channel.as_deref().is_some_and(|c| c.trim_start_matches('#').eq_ignore_ascii_case(&name)));
        if let Some(org) = &found {
            self.ports.chat.set_channel_org(channel, &org.slug).await?;
        }
        Ok(found)
    }

    /// The Stringer user a channel member is: by the email address the service confirmed, the org's
    /// user or a staff user.
    async fn member(&self, member: &str, org: &OrgRecord) -> Result<Option<UserRecord>, AppError> {
        let Some(email) = self.directory.member_email(member).await.map_err(channel_failed)? else { return Ok(None) };
        let user = match self.ports.accounts.login_account(&email, Some(&org.slug)).await? {
            Some(customer) => Some(customer),
            // Else the staff account (staff accounts sort first).
            None => self.ports.accounts.login_account(&email, None).await?.filter(|u| u.org.is_none()),
        };
        Ok(user.filter(|u| u.deactivated_at.is_none()))
    }

    /// Opens a ticket from a message, as `user`, for the message's author `requester` (the
    /// same person, but for the message shortcut).
    async fn open(
        &self,
        m: &ChatMessage,
        org: &OrgRecord,
        user: &UserRecord,
        requester: &UserRecord,
    ) -> Result<(String, Option<TicketId>), AppError> {
        if access::decide(&user.as_sender(), Action::OpenTicket, Some(Object::Org(org.as_ref()))) != Decision::Allow {
            return Ok(("ignored: the member may not open tickets for this org".into(), None));
        }
        let id = TicketId(message_id("tkt", m));
        let existing = self.ports.queries.ticket(&id).await?;
        if existing.is_none() {
            let severity = self.ports.commands.contract().default_severity(&org.tier);
            let kind = EventKind::Opened {
                org: org.slug.clone(),
                severity,
                intake: Some(self.directory.intake()),
                security: false,
            };
            let first_line = m.text.lines().find(|l| !l.trim().is_empty()).unwrap_or("(no text)");
            let details = TicketDetails {
                subject: first_line.chars().take(200).collect(),
                description: m.text.clone(),
                requester: requester.org.as_ref().map(|_| requester.id.clone()),
            };
            let extras = Extras { actor: Some(user.id.clone()), details: Some(details), comment: None, applies: None };
            let now = self.ports.commands.now();
            if let Err(e) = self.ports.commands.record(vec![Event::new(now, id.clone(), kind)], extras).await
                && self.ports.queries.ticket(&id).await?.is_none()
            {
                return Err(e);
            }
        }
        self.ports
            .chat
            .set_thread_ticket(&m.channel, &m.message_id, &id, self.ports.commands.now().as_second())
            .await?;
        let (ticket, _) =
            self.ports.queries.ticket(&id).await?.ok_or_else(|| AppError::UnknownTicket(id.to_string()))?;
        // Answered once: a retry after the channel failed to take the answer posts it then.
        let mark = format!("opened:{id}");
        if !self.ports.chat.posted(&mark).await? {
            let text = format!(
                "Opened {} (severity {}): {}. Replies in this thread go to the ticket. {}",
                ticket.key(),
                ticket.state.severity,
                self.first_response(&ticket),
                self.link(&ticket)
            );
            self.post_in_thread(&m.channel, &m.message_id, &text, &mark).await?;
        }
        Ok((format!("opened {}", ticket.key()), Some(id)))
    }

    /// A member's message in a ticket's thread: their public comment through the one
    /// application call (a customer's on a resolved ticket reopens it first, when they may).
    async fn comment(
        &self,
        m: &ChatMessage,
        user: &UserRecord,
        ticket: &TicketId,
    ) -> Result<(String, Option<TicketId>), AppError> {
        let Some(found) = self.tickets.lookup(&TicketRef::Id(ticket.clone())).await? else {
            return Ok(("ignored: the thread's ticket is gone".into(), None));
        };
        let Some(who) = Principal::new(user.clone(), Scopes::READ_WRITE, Proof::ChannelMember)
            .filter(|who| who.allowed(Action::CommentPublic, Some(found.object())))
        else {
            return Ok(("ignored: the member may not comment on this ticket".into(), Some(ticket.clone())));
        };
        let key = found.ticket.key();
        let comment_id = message_id("cmt", m);
        if self.ports.queries.comments(ticket).await?.iter().any(|c| c.id == comment_id) {
            return Ok((format!("comment on {key}"), Some(ticket.clone())));
        }
        let mut commands = Vec::new();
        if !who.is_staff() && found.ticket.state.status == Status::Resolved {
            commands.push(Command::Reopen);
        }
        commands.push(Command::Comment {
            id: comment_id.clone(),
            public: true,
            body: crate::act::comment_text(&m.text),
        });
        match self.tickets.act_on(&who, found, commands).await {
            Ok(_) => Ok((format!("comment on {key}"), Some(ticket.clone()))),
            Err(ActError::App(AppError::Rejected(why))) => Ok((format!("ignored: {why}"), Some(ticket.clone()))),
            Err(ActError::App(e)) => Err(e),
            Err(refused) => Ok((format!("ignored: {refused}"), Some(ticket.clone()))),
        }
    }

    /// Posts `text` into a thread once under `mark`, even across a kill: the post is first
    /// recorded as tried (`try:` and the mark), so one tried before — which may have reached
    /// the channel before the kill took its record — is looked for in the thread first and
    /// posted only when it is not there. A first try costs no look. Then it is recorded under
    /// `mark`.
    async fn post_in_thread(&self, channel: &str, thread: &str, text: &str, mark: &str) -> Result<(), AppError> {
        let chat = &self.ports.chat;
        let tried = format!("try:{mark}");
        let found = if chat.posted(&tried).await? {
            self.directory.find_marked(channel, thread, mark).await.map_err(channel_failed)?
        } else {
            chat.mark_posted(&tried, self.ports.commands.now().as_second()).await?;
            None
        };
        if found.is_none() {
            self.directory.post_marked(channel, thread, text, mark).await.map_err(channel_failed)?;
        }
        chat.mark_posted(mark, self.ports.commands.now().as_second()).await?;
        Ok(())
    }

    /// Runs the kickoffs owed at `now` through the outbox (claimed with a lease): each org's
    /// channel as it is then; a failure is tried again with back-off, and given up after a
    /// few attempts. Answers how many were claimed.
    pub async fn kick_off_due(&self, now: i64) -> Result<usize, AppError> {
        let kickoffs: &dyn Sendings<OwedKickoff> = self.ports.chat.as_ref();
        Ok(send_due(kickoffs, self, &KICKOFFS, now).await?.claimed)
    }

    /// Kicks off an org's shared channel: creates it if missing, invites its TAM and named
    /// engineers, invites the org's admins from outside the workspace where it allows
    /// it, and posts and pins the welcome message. Running it again invites anyone missing
    /// and posts the welcome anew.
    pub async fn kickoff(&self, org: &OrgRecord) -> Result<Kickoff, AppError> {
        let Some(channel_name) = org.channel.as_deref().map(|c| c.trim_start_matches('#').to_string()) else {
            return Err(AppError::Rejected(format!("org {} has no {} channel", org.slug, self.directory.name())));
        };
        let mut done = Kickoff::default();
        let known = match self.ports.chat.channel_org_id(&org.slug).await? {
            Some(id) => Some(id),
            None => self.directory.find_channel(&channel_name).await.map_err(channel_failed)?,
        };
        done.channel = match known {
            Some(id) => id,
            // A federal org's channel is private: only those invited see its pages.
            None => match self
                .directory
                .create_channel(&channel_name, org.deployment == Deployment::Federal)
                .await
                .map_err(channel_failed)?
            {
                Some(id) => {
                    done.created = true;
                    id
                }
                None => self.directory.find_channel(&channel_name).await.map_err(channel_failed)?.ok_or_else(|| {
                    AppError::Rejected(format!(
                        "{} says #{channel_name} is taken but lists no such channel",
                        self.directory.name()
                    ))
                })?,
            },
        };
        self.ports.chat.set_channel_org(&done.channel, &org.slug).await?;
        let mut members = Vec::new();
        for id in org.tam.iter().chain(org.named_engineers.iter()) {
            let Some(user) = self.ports.accounts.user(id).await? else { continue };
            match self.directory.member_by_email(&user.email).await.map_err(channel_failed)? {
                Some(member) => {
                    members.push(member);
                    done.invited.push(user.id.to_string());
                }
                None => done.not_invited.push(format!(
                    "{}: no {} member has the address {}",
                    user.id,
                    self.directory.name(),
                    user.email
                )),
            }
        }
        if !members.is_empty() {
            self.directory.invite(&done.channel, &members).await.map_err(channel_failed)?;
        }
        let admins: Vec<String> = self
            .ports
            .accounts
            .users(Some(&org.slug))
            .await?
            .into_iter()
            .filter(|u| u.role == stringer_core::ids::UserRole::OrgAdmin && u.deactivated_at.is_none())
            .map(|u| u.email)
            .collect();
        if !admins.is_empty() {
            match self.directory.invite_shared(&done.channel, &admins).await {
                Ok(()) => done.shared_with = admins,
                Err(e) => done.shared_refused = Some(e.to_string()),
            }
        }
        let welcome = self.welcome(org).await?;
        done.welcome = self.directory.post(&done.channel, None, &welcome).await.map_err(channel_failed)?;
        self.directory.pin(&done.channel, &done.welcome).await.map_err(channel_failed)?;
        Ok(done)
    }

    /// The welcome message: what the channel is for and how to get help, from the contract.
    async fn welcome(&self, org: &OrgRecord) -> Result<String, AppError> {
        let contract = self.ports.commands.contract();
        let mut people = Vec::new();
        if let Some(tam) = &org.tam
            && let Some(u) = self.ports.accounts.user(tam).await?
        {
            people.push(format!("your TAM {}", u.name));
        }
        for id in &org.named_engineers {
            if let Some(u) = self.ports.accounts.user(id).await? {
                people.push(format!("{} (named engineer)", u.name));
            }
        }
        let rule = &contract.escalation(&org.tier)?.customer_page;
        let severities: Vec<&str> = rule.severities.iter().map(|s| s.as_str()).collect();
        let page = if severities.is_empty() {
            "Paging on-call from here is not part of your plan.".to_string()
        } else {
            format!(
                "`/stringer page TICKET` pages the on-call engineer for a {} ticket{}.",
                severities.join("/"),
                if rule.opens_after.seconds > 0 {
                    format!(" still unacknowledged {} after it opened", rule.opens_after)
                } else {
                    " at any time".to_string()
                }
            )
        };
        Ok(format!(
            "Welcome to {}'s support channel with us ({} plan).\n\
             • Post here to open a ticket; replies in its thread go to the ticket, and we answer there.\n\
             • `/stringer new SUBJECT` opens one, `/stringer status TICKET` tells where it stands, \
             `/stringer oncall` says who is on call.\n\
             • {page}\n\
             • Your team here: {}.{}",
            org.name,
            org.tier,
            if people.is_empty() { "our support engineers".to_string() } else { people.join(", ") },
            if self.public_url.is_empty() {
                String::new()
            } else {
                let base = self.public_url.trim_end_matches('/');
                format!(
                    "\n• The portal: {base}\n• Your welcome packet (addresses, targets, escalation): {base}/packet/{}",
                    org.slug
                )
            }
        ))
    }

    /// The message shortcut "Open a ticket from this message": `presser` opens a ticket from
    /// `message` (its author, when one of the org's users, is the requester); the ticket is
    /// bound to the message's thread and answered there.
    pub async fn open_from_message(&self, presser: &str, message: &ChatMessage) -> Result<Reply, AppError> {
        let Some(org) = self.org_of_channel(&message.channel).await? else {
            return Ok(Reply::private("This channel is no org's shared channel."));
        };
        let Some(user) = self.member(presser, &org).await? else {
            return Ok(Reply::private(format!(
                "{} has not confirmed an email address of yours that belongs to a Stringer account of this org.",
                self.directory.name()
            )));
        };
        if let Some(ticket) = self.ports.chat.thread_ticket(&message.channel, &message.message_id).await? {
            let key = self.ports.queries.ticket(&ticket).await?.map(|(t, _)| t.key().to_string()).unwrap_or_default();
            return Ok(Reply::private(format!("This message is ticket {key}'s already.")));
        }
        let requester = self.member(&message.user, &org).await?.unwrap_or_else(|| user.clone());
        let (what, ticket) = self.open(message, &org, &user, &requester).await?;
        Ok(Reply::private(match ticket {
            Some(_) => format!("Done: {what}."),
            None => what.replace("ignored: the member", "You"),
        }))
    }

    /// Answers `/stringer …` typed in a channel: `new SUBJECT`, `page [TICKET]`,
    /// `status TICKET`, `oncall`, `help`.
    pub async fn command(&self, c: &SlashCommand) -> Result<Reply, AppError> {
        let Some(org) = self.org_of_channel(&c.channel).await? else {
            return Ok(Reply::private("This channel is no org's shared channel: use /stringer in your org's channel."));
        };
        let Some(user) = self.member(&c.user, &org).await? else {
            return Ok(Reply::private(format!(
                "{} has not confirmed an email address of yours that belongs to a Stringer account of this org.",
                self.directory.name()
            )));
        };
        let text = c.text.trim();
        let (verb, rest) = text.split_once(char::is_whitespace).map_or((text, ""), |(v, r)| (v, r.trim()));
        match verb.to_ascii_lowercase().as_str() {
            "new" if !rest.is_empty() => self.command_new(c, &org, &user, rest).await,
            "page" => self.command_page(c, &org, &user, rest).await,
            "status" if !rest.is_empty() => self.command_status(&user, rest).await,
            "oncall" | "on-call" => self.command_oncall(&org, &user).await,
            _ => Ok(Reply::private(
                "Usage: /stringer new SUBJECT · /stringer page [TICKET] · /stringer status TICKET · /stringer oncall",
            )),
        }
    }

    async fn command_new(
        &self,
        c: &SlashCommand,
        org: &OrgRecord,
        user: &UserRecord,
        subject: &str,
    ) -> Result<Reply, AppError> {
        if access::decide(&user.as_sender(), Action::OpenTicket, Some(Object::Org(org.as_ref()))) != Decision::Allow {
            return Ok(Reply::private("You may not open tickets for this org."));
        }
        let now = self.ports.commands.now();
        let seed = format!("{}|{}|{}|{}", c.channel, c.user, subject, now);
        let id = TicketId(seeded_ulid("tkt", now.as_millisecond(), &seed));
        let severity = self.ports.commands.contract().default_severity(&org.tier);
        let kind = EventKind::Opened {
            org: org.slug.clone(),
            severity,
            intake: Some(self.directory.intake()),
            security: false,
        };
        let details = TicketDetails {
            subject: subject.chars().take(200).collect(),
            description: subject.to_string(),
            requester: user.org.as_ref().map(|_| user.id.clone()),
        };
        let extras = Extras { actor: Some(user.id.clone()), details: Some(details), comment: None, applies: None };
        self.ports.commands.record(vec![Event::new(now, id.clone(), kind)], extras).await?;
        let (ticket, _) =
            self.ports.queries.ticket(&id).await?.ok_or_else(|| AppError::UnknownTicket(id.to_string()))?;
        Ok(Reply::public(format!(
            "{} opened {} (severity {}): {}. {}",
            self.directory.mention(&c.user),
            ticket.key(),
            ticket.state.severity,
            self.first_response(&ticket),
            self.link(&ticket)
        )))
    }

    /// The contract's customer page: Enterprise at any time, Pro only as the contract allows
    /// (the refusal says when it opens). Without a ticket, the org's newest open one.
    async fn command_page(
        &self,
        c: &SlashCommand,
        org: &OrgRecord,
        user: &UserRecord,
        which: &str,
    ) -> Result<Reply, AppError> {
        let ticket = if which.is_empty() {
            let filter = crate::records::TicketFilter {
                org: Some(org.slug.clone()),
                unresolved: true,
                limit: 1,
                ..Default::default()
            };
            self.ports.queries.tickets(&filter).await?.into_iter().next()
        } else {
            self.find(user, which).await?
        };
        // A refusal never names a ticket the member may not see: it answers as for none.
        let none = || Ok(Reply::private("No such open ticket of this org."));
        let Some(ticket) = ticket else { return none() };
        let Some(who) = Principal::new(user.clone(), Scopes::READ_WRITE, Proof::ChannelMember) else {
            return none();
        };
        // Read again with its own org's deployment: the ticket named may be another org's.
        let acted = match self.tickets.act(&who, &TicketRef::Id(ticket.id.clone()), vec![Command::PageOnCall]).await {
            Ok(acted) => acted,
            Err(ActError::NotFound) => return none(),
            Err(ActError::App(AppError::Rejected(why)) | ActError::Forbidden(why) | ActError::Invalid(why)) => {
                return Ok(Reply::private(format!("Not paged: {why}.")));
            }
            Err(e @ ActError::TooSoon(_)) => return Ok(Reply::private(format!("Not paged: {e}."))),
            Err(ActError::Refused { reason, opens_at }) => return Ok(refused(&reason, opens_at)),
            Err(ActError::App(e)) => return Err(e),
        };
        match acted.paged() {
            Err(ActError::Refused { reason, opens_at }) => return Ok(refused(&reason, opens_at)),
            Ok(PageOutcome::InFlight(f)) => {
                let words = in_flight_words(&f, |t| t.strftime("%H:%M UTC").to_string());
                return Ok(Reply::private(format!("{}: not paged again. {words}", ticket.key())));
            }
            _ => {}
        }
        Ok(Reply::public(format!(
            "{} paged on-call for {}. {}",
            self.directory.mention(&c.user),
            ticket.key(),
            self.link(&ticket)
        )))
    }

    async fn command_status(&self, user: &UserRecord, which: &str) -> Result<Reply, AppError> {
        let Some(t) = self.find(user, which).await? else { return Ok(Reply::private("No such ticket.")) };
        let s = &t.state;
        let mut text = format!("{} · {} · severity {} · {:?}", t.key(), t.subject, s.severity, s.status);
        if let Some((at, _)) = &s.acknowledged {
            text.push_str(&format!(" · acknowledged {at}"));
        }
        for clock in &s.clocks {
            if let Some(due) = clock.due {
                text.push_str(&format!(" · {} due {due}", clock.target));
            }
        }
        text.push_str(&format!(" · {}", self.link(&t)));
        Ok(Reply::private(text))
    }

    /// Who is paged first for the org now: its on-call role as the roster routes it.
    async fn command_oncall(&self, org: &OrgRecord, user: &UserRecord) -> Result<Reply, AppError> {
        if access::decide(&user.as_sender(), Action::ReadOrg, Some(Object::Org(org.as_ref()))) != Decision::Allow {
            return Ok(Reply::private("No such org."));
        }
        let now = self.ports.commands.now();
        let people = self.ports.commands.on_call(&org.slug, now).await?;
        if people.is_empty() {
            return Ok(Reply::private("Nobody is on call for this org right now; mail support or open a ticket."));
        }
        let mut names = Vec::new();
        for id in &people {
            names.push(self.ports.accounts.user(id).await?.map_or_else(|| id.to_string(), |u| u.name));
        }
        Ok(Reply::private(format!("On call for {} now: {}.", org.name, names.join(", "))))
    }

    /// A ticket by key or id, if the user may read it.
    async fn find(&self, user: &UserRecord, which: &str) -> Result<Option<TicketRecord>, AppError> {
        let which = which.trim().trim_start_matches('#');
        let found = match TicketKey::parse(&which.to_ascii_uppercase()) {
            Some(key) => self.ports.queries.ticket_by_key(&key).await?,
            None if crate::ids::is_id("tkt", which) => self.ports.queries.ticket(&TicketId::from(which)).await?,
            None => None,
        };
        Ok(found.and_then(|(t, deployment)| {
            let object = Object::Ticket(OrgRef { slug: t.org.as_str(), deployment });
            (access::decide(&user.as_sender(), Action::ReadTicket, Some(object)) == Decision::Allow).then_some(t)
        }))
    }

    fn first_response(&self, t: &TicketRecord) -> String {
        let due = t.state.clocks.iter().find(|c| c.target == "response").and_then(|c| c.due);
        due.map_or_else(|| "no response target".into(), |d: Timestamp| format!("first response due by {d}"))
    }

    fn link(&self, t: &TicketRecord) -> String {
        if self.public_url.is_empty() {
            String::new()
        } else {
            let url = format!("{}/tickets/{}", self.public_url.trim_end_matches('/'), t.key());
            self.directory.link(&url, &format!("Open {}", t.key()))
        }
    }
}

fn channel_failed(e: SendError) -> AppError {
    AppError::Store(StoreError::Backend(format!("the org's channel: {e}")))
}

/// An id derived from a message's event: the same on every try.
fn message_id(prefix: &str, m: &ChatMessage) -> String {
    seeded_ulid(prefix, m.received_at_ms, &format!("{prefix}|{}|{}", m.event_id, m.message_id))
}

/// The reply to a customer page the contract refused: why, and when the line opens if ever.
fn refused(reason: &str, opens_at: Option<Timestamp>) -> Reply {
    let next = match opens_at {
        Some(t) => format!(" It opens at {t}. Until then, reply in the ticket's thread or mail support."),
        None => " Reply in the ticket's thread or mail support.".into(),
    };
    Reply::private(format!("Not paged: {reason}.{next}"))
}

#[async_trait]
impl Carrier<OwedKickoff> for ChatDesk {
    type Error = AppError;
    async fn carry(&self, k: &OwedKickoff, _now: i64) -> Result<Tried, AppError> {
        let outcome = match self.ports.accounts.org(&k.org).await? {
            Some(org) => self.kickoff(&org).await,
            None => Err(AppError::UnknownOrg(k.org.to_string())),
        };
        Ok(match outcome {
            Ok(done) => {
                tracing::info!(org = %k.org, channel = %done.channel, created = done.created, invited = done.invited.len(), "org channel kicked off");
                Tried::Sent(None)
            }
            Err(e) => Tried::Failed(SendError::Temporary(e.to_string())),
        })
    }
}

mod thread_posts;

pub use crate::store::ThreadNote;
pub use thread_posts::{THREAD_POSTS, ThreadPost};

#[cfg(test)]
mod tests;
