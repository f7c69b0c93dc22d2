//! One way to act on a ticket, for every door. A door's only job is to prove who is acting
//! — a token, a session, a signed link, a chat member, a phone caller — and to hand that
//! [`Principal`] to [`TicketDesk::act`] with what was asked ([`Command`]s). `act` reads the
//! ticket once, asks the access policy about every command, checks what the commands name
//! (a comment's size, an assignee, a bridge's address and who joined it), rate-limits the
//! customer's page, and records the events as one change: all of them, or none.
//!
//! A deactivated account is no principal at all ([`Principal::new`]): whatever a door
//! proved — an unexpired link, a linked chat member — it acts on nothing.

use crate::desk::{AppError, Recorded};
use crate::ports::{Accounts, Commands, Queries, Safeguards};
use crate::records::{TicketRecord, UserRecord};
use crate::store::{Extras, NewComment, StoreError, StoredTicket};
use jiff::Timestamp;
use std::sync::Arc;
use stringer_core::access::{self, Action, Actor, Decision, Object, OrgRef, Scopes};
use stringer_core::event::{Event, EventKind, NoticeBody};
use stringer_core::ids::{Deployment, OrgSlug, Severity, TicketId, TicketKey, UserId, UserRole};
use stringer_core::ticket::PageInFlight;

/// The longest comment, in bytes.
pub const MAX_COMMENT: usize = 32 * 1024;

/// A received message's words as a comment (mail, a channel reply): "(no text)" when there
/// are none, cut to the longest comment with a note (the whole message stays as it came in).
pub fn comment_text(text: &str) -> String {
    if text.trim().is_empty() {
        return "(no text)".into();
    }
    if text.len() <= MAX_COMMENT {
        return text.to_string();
    }
    let note = "\n\n(cut here: the whole message is kept as it came in)";
    let mut end = MAX_COMMENT - note.len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{note}", &text[..end])
}

/// The longest ticket subject, in bytes.
pub const MAX_SUBJECT: usize = 300;
/// The longest ticket description, in bytes (as long as a comment).
pub const MAX_TEXT: usize = MAX_COMMENT;
/// The longest incident-bridge address, in bytes.
pub const MAX_BRIDGE_URL: usize = 500;

/// How a door proved who is acting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proof {
    /// An API token; its scopes are the principal's.
    Token,
    /// A browser session, begun with the person's password.
    Session,
    /// A signed, expiring one-click link sent to the person.
    SignedLink,
    /// A member of a chat service (of the org's channel, or one a direct message went to)
    /// whose email the service confirmed is the person's, or whom an admin linked.
    ChannelMember,
    /// The phone line: the person answered a call put through to their number.
    Phone,
    /// The phone line: a caller who keyed in their org's phone PIN — a member of the org,
    /// not a known person.
    PhonePin,
    /// Mail whose From address mail authentication proved (DMARC, or a trusted relay's or
    /// forwarder's word), or that staff vouched for by routing it.
    Mail,
}

/// Who is acting, as a door proved it: an active user, the scopes the proof carries, and how
/// it was proven.
#[derive(Clone, Debug)]
pub struct Principal {
    user: UserRecord,
    scopes: Scopes,
    proof: Proof,
}

impl Principal {
    /// The principal `proof` shows: `None` for a deactivated account, which acts on nothing
    /// whatever its door proved.
    pub fn new(user: UserRecord, scopes: Scopes, proof: Proof) -> Option<Principal> {
        user.deactivated_at.is_none().then_some(Principal { user, scopes, proof })
    }

    /// A caller to the phone line who keyed in `org`'s phone PIN from `number`: a party of
    /// the org with a member's rights (open a ticket, page on-call, never administer), known
    /// only by the number (`phone:+…`).
    pub fn pin_caller(org: OrgSlug, number: &str, now: i64) -> Principal {
        let user = UserRecord {
            id: UserId(format!("phone:{number}")),
            email: String::new(),
            name: format!("{number} (known by the org's phone PIN)"),
            role: UserRole::Member,
            org: Some(org),
            federal_cleared: false,
            password_hash: None,
            created_at: now,
            time_zone: None,
            deactivated_at: None,
        };
        Principal { user, scopes: Scopes::READ_WRITE, proof: Proof::PhonePin }
    }

    /// The user.
    pub fn user(&self) -> &UserRecord {
        &self.user
    }

    /// What the proof allows.
    pub fn scopes(&self) -> Scopes {
        self.scopes
    }

    /// How the door proved it.
    pub fn proof(&self) -> Proof {
        self.proof
    }

    /// Staff (not a customer).
    pub fn is_staff(&self) -> bool {
        self.user.org.is_none()
    }

    /// The principal as the access policy sees them.
    pub fn actor(&self) -> Actor<'_> {
        Actor {
            user: self.user.id.as_str(),
            role: self.user.role,
            org: self.user.org.as_ref().map(|o| o.as_str()),
            federal_cleared: self.user.federal_cleared,
            scopes: self.scopes,
        }
    }

    /// Whether the policy lets the principal take `action` on `object`.
    pub fn allowed(&self, action: Action, object: Option<Object<'_>>) -> bool {
        access::decide(&self.actor(), action, object).allowed()
    }
}

/// Which ticket: its id (`tkt_…`) or its human key (`ACME-42`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TicketRef {
    /// The id.
    Id(TicketId),
    /// The key.
    Key(TicketKey),
}

impl TicketRef {
    /// Reads `tkt_…` or `ACME-42`; `None` for anything else.
    pub fn parse(s: &str) -> Option<TicketRef> {
        if crate::ids::is_id("tkt", s) {
            Some(TicketRef::Id(TicketId::from(s)))
        } else {
            TicketKey::parse(s).map(TicketRef::Key)
        }
    }
}

impl From<TicketId> for TicketRef {
    fn from(id: TicketId) -> TicketRef {
        TicketRef::Id(id)
    }
}

/// What a principal may ask of a ticket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Acknowledge it (and its pages): paging stops; the response for staff.
    Acknowledge,
    /// A comment with its id: staff write public replies or internal notes; a customer's
    /// comment is their reply.
    Comment {
        /// The comment's id.
        id: String,
        /// Visible to the customer.
        public: bool,
        /// The text.
        body: String,
    },
    /// Change the severity (a raise or a lowering, as the contract's order says).
    ChangeSeverity(Severity),
    /// Wait on the customer (pauses the clocks that pause).
    WaitOnCustomer,
    /// End the wait on the customer (staff, when the customer answered another way): the
    /// paused clocks run again. Asked of the policy as waiting is.
    StopWaiting,
    /// Resolve it.
    Resolve,
    /// Reopen a resolved ticket.
    Reopen,
    /// Give it to a staff member to work, or back to the queue (`None`).
    Assign(Option<UserId>),
    /// Someone joined a security incident's bridge (default: the principal), and where.
    RecordBridge {
        /// The bridge's http(s) address, when given.
        url: Option<String>,
        /// Who joined, when not the principal.
        joined_by: Option<UserId>,
    },
    /// The customer's "page on-call": refused with when it opens, or paged.
    PageOnCall,
}

/// A ticket read once, with its org's deployment (what the access policy asks about).
#[derive(Clone, Debug)]
pub struct Found {
    /// The ticket.
    pub ticket: TicketRecord,
    /// Its org's deployment.
    pub deployment: Deployment,
}

impl Found {
    /// The ticket as an object of the access policy.
    pub fn object(&self) -> Object<'_> {
        Object::Ticket(OrgRef { slug: self.ticket.org.as_str(), deployment: self.deployment })
    }
}

/// What [`TicketDesk::act`] did: the ticket afterwards and what the change decided.
#[derive(Clone, Debug)]
pub struct Acted {
    /// The ticket as it is now.
    pub found: Found,
    /// The committed change: new state, version, notices.
    pub recorded: Recorded,
}

impl Acted {
    /// A customer page's outcome: the roles paged, the page still in flight (nothing paged
    /// again), or the refusal with when the page opens.
    pub fn paged(&self) -> Result<PageOutcome, ActError> {
        let mut roles = Vec::new();
        for n in &self.recorded.notices {
            match &n.body {
                NoticeBody::CustomerPageRefused { opens_at, reason } => {
                    return Err(ActError::Refused { reason: reason.clone(), opens_at: *opens_at });
                }
                NoticeBody::CustomerPageInFlight { paged_at, escalates_at } => {
                    return Ok(PageOutcome::InFlight(PageInFlight {
                        paged_at: *paged_at,
                        escalates_at: *escalates_at,
                    }));
                }
                NoticeBody::Page { role, .. } => roles.push(role.as_str().to_string()),
                _ => {}
            }
        }
        Ok(PageOutcome::Paged(roles))
    }
}

/// What a customer's page did, when the contract let it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageOutcome {
    /// Paged these roles now.
    Paged(Vec<String>),
    /// The customer's last page is still unanswered: nothing paged again.
    InFlight(PageInFlight),
}

/// The customer's page in flight in words, the same at every door: "On-call was paged at
/// 10:02 UTC; they have not answered yet — we'll escalate at 10:07 UTC." `time` writes an
/// instant for the reader.
pub fn in_flight_words(f: &PageInFlight, time: impl Fn(Timestamp) -> String) -> String {
    let escalate = f.escalates_at.map(|at| format!(" — we'll escalate at {}", time(at))).unwrap_or_default();
    format!("On-call was paged at {}; they have not answered yet{escalate}.", time(f.paged_at))
}

/// Why [`TicketDesk::act`] did nothing.
#[derive(Debug, thiserror::Error)]
pub enum ActError {
    /// No such ticket — or one the principal may not see, answered exactly the same.
    #[error("no such ticket")]
    NotFound,
    /// The policy refused, with its reason (the principal sees the ticket).
    #[error("{0}")]
    Forbidden(String),
    /// What was asked cannot be (a comment too long, an assignee who may not see the ticket).
    #[error("{0}")]
    Invalid(String),
    /// A customer page refused by the contract: when it opens, if ever.
    #[error("{reason}")]
    Refused {
        /// Why.
        reason: String,
        /// When a page will be accepted.
        opens_at: Option<Timestamp>,
    },
    /// A customer page came too soon after the last one: wait that many seconds.
    #[error("this ticket was paged a moment ago; try again in {0} s")]
    TooSoon(i64),
    /// The rules or the store refused.
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<StoreError> for ActError {
    fn from(e: StoreError) -> ActError {
        ActError::App(AppError::Store(e))
    }
}

/// How often a ticket's customer may page: `limit` pages a `window` seconds.
#[derive(Clone, Copy, Debug)]
pub struct PageLimit {
    /// Pages allowed in one window.
    pub limit: i64,
    /// The window, in seconds.
    pub window: i64,
}

/// The one application call that acts on tickets.
#[derive(Clone)]
pub struct TicketDesk {
    commands: Arc<dyn Commands>,
    queries: Arc<dyn Queries>,
    accounts: Arc<dyn Accounts>,
    safeguards: Arc<dyn Safeguards>,
    page_limit: PageLimit,
}

impl TicketDesk {
    /// A desk over the ports it needs; `page_limit` bounds customer pages per ticket.
    pub fn new(
        commands: Arc<dyn Commands>,
        queries: Arc<dyn Queries>,
        accounts: Arc<dyn Accounts>,
        safeguards: Arc<dyn Safeguards>,
        page_limit: PageLimit,
    ) -> TicketDesk {
        TicketDesk { commands, queries, accounts, safeguards, page_limit }
    }

    /// The ticket, read once, before any decision: for a door that asks the policy about
    /// one of the ticket's own objects (its post-incident report) rather than the ticket.
    pub async fn lookup(&self, ticket: &TicketRef) -> Result<Option<Found>, StoreError> {
        Ok(match ticket {
            TicketRef::Id(id) => self.queries.ticket(id).await?,
            TicketRef::Key(key) => self.queries.ticket_by_key(key).await?,
        }
        .map(|(ticket, deployment)| Found { ticket, deployment }))
    }

    /// Reads the ticket once and asks the policy about each of `actions` on it: refused
    /// exactly as for a missing ticket when the principal may not see it.
    pub async fn find(&self, who: &Principal, ticket: &TicketRef, actions: &[Action]) -> Result<Found, ActError> {
        let found = self.lookup(ticket).await?;
        for action in actions {
            decided(access::decide(&who.actor(), *action, found.as_ref().map(Found::object)))?;
        }
        found.ok_or(ActError::NotFound)
    }

    /// Does what `commands` ask, as `who`, on `ticket`: everything, or nothing.
    pub async fn act(&self, who: &Principal, ticket: &TicketRef, commands: Vec<Command>) -> Result<Acted, ActError> {
        let found = self.find(who, ticket, &[Action::ReadTicket]).await?;
        self.act_on(who, found, commands).await
    }

    /// [`TicketDesk::act`] on a ticket the door has already read for this request: the
    /// change is made on that read (the ticket is read again only if it changed since).
    pub async fn act_on(&self, who: &Principal, found: Found, commands: Vec<Command>) -> Result<Acted, ActError> {
        let contract = self.commands.contract();
        let now = self.commands.now();
        let me = who.user.id.to_string();
        let mut kinds = Vec::new();
        let mut comment = None;
        for command in commands {
            let (action, kind) = match command {
                Command::Acknowledge => (Action::Acknowledge, EventKind::Acknowledged { by: me.clone() }),
                Command::Comment { id, public, body } => {
                    if body.trim().is_empty() || body.len() > MAX_COMMENT {
                        return Err(ActError::Invalid(format!("a comment takes 1 to {MAX_COMMENT} bytes")));
                    }
                    let action = if public { Action::CommentPublic } else { Action::CommentInternal };
                    let kind = if who.is_staff() {
                        EventKind::Replied { by: me.clone(), public }
                    } else {
                        EventKind::CustomerReplied
                    };
                    // A channel member comments only by writing in the ticket's thread.
                    let in_thread = who.proof() == Proof::ChannelMember;
                    comment = Some(NewComment { id, author: who.user.id.clone(), public, body, in_thread });
                    (action, kind)
                }
                Command::ChangeSeverity(severity) => {
                    let raise = contract.rank(&severity).map_err(AppError::from)?
                        <= contract.rank(&found.ticket.state.severity).map_err(AppError::from)?;
                    let action = if raise { Action::RaiseSeverity } else { Action::LowerSeverity };
                    (action, EventKind::SeverityChanged { severity })
                }
                Command::WaitOnCustomer => (Action::WaitOnCustomer, EventKind::WaitingOnCustomer),
                Command::StopWaiting => (Action::WaitOnCustomer, EventKind::StoppedWaiting),
                Command::Resolve => (Action::Resolve, EventKind::Resolved { by_customer: !who.is_staff() }),
                Command::Reopen => (Action::Reopen, EventKind::Reopened),
                Command::Assign(to) => {
                    let to = match to {
                        Some(to) => Some(self.staff_who_may_see(&found, &to).await?.id.to_string()),
                        None => None,
                    };
                    (Action::Assign, EventKind::Assigned { to })
                }
                Command::RecordBridge { url, joined_by } => {
                    (Action::RecordBridge, self.bridge_joined(who, &found, url, joined_by).await?)
                }
                Command::PageOnCall => (Action::PageOnCall, EventKind::CustomerPageRequested),
            };
            decided(access::decide(&who.actor(), action, Some(found.object())))?;
            if action == Action::PageOnCall {
                self.count_page(&found.ticket.id, now).await?;
            }
            kinds.push(kind);
        }
        let events = kinds.into_iter().map(|kind| Event::new(now, found.ticket.id.clone(), kind)).collect();
        let extras = Extras { actor: Some(who.user.id.clone()), details: None, comment, applies: None };
        let read = StoredTicket { ticket: found.ticket.state.clone(), version: found.ticket.version as u64 };
        let recorded = self.commands.record_read(read, events, extras).await?;
        let mut ticket = found.ticket;
        ticket.state = recorded.ticket.clone();
        ticket.version = recorded.version as i64;
        ticket.updated_at = now.as_second();
        Ok(Acted { found: Found { ticket, deployment: found.deployment }, recorded })
    }

    /// The active staff member `id`, who may see the ticket (cleared, for a federal org's).
    async fn staff_who_may_see(&self, found: &Found, id: &UserId) -> Result<UserRecord, ActError> {
        let user = self.accounts.user(id).await?;
        let Some(user) = user.filter(|u| u.org.is_none() && u.deactivated_at.is_none()) else {
            return Err(ActError::Invalid(format!("{:?} is not an active staff user", id.as_str())));
        };
        if !access::decide(&user.as_sender(), Action::ReadTicket, Some(found.object())).allowed() {
            return Err(ActError::Invalid(format!("{} may not see this ticket", user.name)));
        }
        Ok(user)
    }

    /// A bridge join on a security incident: an http(s) address, and a joiner who is active
    /// staff allowed to see the ticket; the joiner's role is what the contract counts.
    async fn bridge_joined(
        &self,
        who: &Principal,
        found: &Found,
        url: Option<String>,
        joined_by: Option<UserId>,
    ) -> Result<EventKind, ActError> {
        if found.ticket.state.bridge.is_none() {
            return Err(ActError::Invalid("only a security incident has an incident bridge".into()));
        }
        let url = url.filter(|u| !u.trim().is_empty());
        if let Some(u) = &url {
            check_bridge_url(u)?;
        }
        let joiner = match joined_by {
            Some(id) => self.staff_who_may_see(found, &id).await?,
            None => who.user.clone(),
        };
        Ok(EventKind::BridgeJoined { by: joiner.id.to_string(), role: joiner.role.as_str().to_string(), url })
    }

    /// Counts a customer page of `ticket`: refused while the last ones are too recent.
    async fn count_page(&self, ticket: &TicketId, now: Timestamp) -> Result<(), ActError> {
        let PageLimit { limit, window } = self.page_limit;
        let (start, attempts) =
            self.safeguards.count_attempt(&format!("page:{ticket}"), now.as_second(), window).await?;
        if attempts > limit { Err(ActError::TooSoon((start + window - now.as_second()).max(1))) } else { Ok(()) }
    }
}

/// Checks the bridge address a customer gives when reporting a security incident: a meeting
/// link (as [`check_bridge_url`]) or a phone bridge — `+` and the number (8 to 15 digits, spaces
/// and dashes allowed, `tel:` before it allowed), then its access code after `,` or `;` (digits,
/// `#`, `*`, more pauses) — at most [`MAX_BRIDGE_URL`] bytes. Answers it trimmed.
pub fn check_bridge_address(address: &str) -> Result<String, ActError> {
    let address = address.trim();
    if check_bridge_url(address).is_ok() || is_phone_bridge(address) {
        return Ok(address.to_string());
    }
    Err(ActError::Invalid(format!(
        "bridge: a meeting link (http or https) or a phone bridge (+ and the number, its access code after a comma), at most {MAX_BRIDGE_URL} bytes"
    )))
}

fn is_phone_bridge(s: &str) -> bool {
    let s = s.strip_prefix("tel:").unwrap_or(s);
    let Some(rest) = s.strip_prefix('+') else { return false };
    let (number, code) = rest.split_once([',', ';']).unwrap_or((rest, ""));
    let digits = number.chars().filter(char::is_ascii_digit).count();
    s.len() <= MAX_BRIDGE_URL
        && (8..=15).contains(&digits)
        && number.chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
        && code.chars().all(|c| c.is_ascii_digit() || "#*,; ".contains(c))
}

/// Checks a bridge address: http(s), at most [`MAX_BRIDGE_URL`] bytes, no spaces.
pub fn check_bridge_url(url: &str) -> Result<(), ActError> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= MAX_BRIDGE_URL
        && !url.contains(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(ActError::Invalid(format!("url: an http(s) address of at most {MAX_BRIDGE_URL} bytes")))
    }
}

fn decided(decision: Decision) -> Result<(), ActError> {
    match decision {
        Decision::Allow => Ok(()),
        Decision::NotFound => Err(ActError::NotFound),
        Decision::Forbidden(why) => Err(ActError::Forbidden(why.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::check_bridge_address;

    #[test]
    fn a_bridge_is_a_meeting_link_or_a_phone_bridge() {
        for ok in [
            "https://meet.example/war-room",
            " http://zoom.example/j/123 ",
            "+14155550100",
            "+1 415 555 0100,,987654#",
            "tel:+44-20-7946-0958;123*",
        ] {
            assert_eq!(check_bridge_address(ok).ok().as_deref(), Some(ok.trim()), "{ok}");
        }
        let long = format!("https://meet.example/{}", "x".repeat(500));
        for bad in ["", "call Alice", "javascript:alert(1)", "+1234", "+1 415 555 0100 ext 12", "415 555 0100", &long] {
            assert!(check_bridge_address(bad).is_err(), "{bad:?}");
        }
    }
}

#[cfg(test)]
mod desk_tests;
