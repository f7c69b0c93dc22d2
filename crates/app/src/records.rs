//! The records the ports read and write: orgs, users, tokens, tickets with their comments and
//! timeline, schedules, contact methods and deliveries, as the application sees them. The
//! stores map them to rows; the web front maps them to views.

use stringer_core::access::{self, Actor, EntryView, OrgRef, Scopes, UserRef};
use stringer_core::ids::{Deployment, OrgSlug, Severity, TicketId, TicketKey, Tier, UserId, UserRole};
use stringer_core::oncall::ScheduleSpec;
use stringer_core::ticket::{OrgProfile, Status, Ticket};

/// An org.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgRecord {
    /// URL-safe identifier.
    pub slug: OrgSlug,
    /// Display name.
    pub name: String,
    /// Contract tier.
    pub tier: Tier,
    /// shared | dedicated | federal.
    pub deployment: Deployment,
    /// The TAM.
    pub tam: Option<UserId>,
    /// Named on-call engineers.
    pub named_engineers: Vec<UserId>,
    /// The name of the org's shared channel, e.g. `#stringer-acme` (a Slack channel today;
    /// the API keeps Slack's word, `slack_channel`).
    pub channel: Option<String>,
    /// The routing tag of the org's support address (`support+TAG@…`).
    pub email_tag: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl OrgRecord {
    /// The part of the org the rules need.
    pub fn profile(&self) -> OrgProfile {
        OrgProfile { slug: self.slug.clone(), tier: self.tier.clone(), deployment: self.deployment }
    }

    /// The org as the access policy sees it.
    pub fn as_ref(&self) -> OrgRef<'_> {
        OrgRef { slug: self.slug.as_str(), deployment: self.deployment }
    }
}

/// A user (staff or customer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    /// Identifier.
    pub id: UserId,
    /// Login and contact address: unique among staff and within a customer org (the same
    /// address may have an account in several orgs).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: UserRole,
    /// The customer's org; `None` for staff.
    pub org: Option<OrgSlug>,
    /// May see federal orgs' data.
    pub federal_cleared: bool,
    /// Argon2 hash, when the user has a password.
    pub password_hash: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// The IANA time zone pages are shown in; `None`: UTC.
    pub time_zone: Option<String>,
    /// Unix seconds, once deactivated: the account's tokens and sessions stop working, and
    /// nothing of theirs is deleted.
    pub deactivated_at: Option<i64>,
}

/// An invitation into a customer org, sent by one of its admins: the account is made when the
/// invitee sets a password through the mailed link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationRecord {
    /// Identifier (`inv_…`), the id its link signs.
    pub id: String,
    /// The org invited into.
    pub org: OrgSlug,
    /// The invited address.
    pub email: String,
    /// The name the account will have.
    pub name: String,
    /// The customer role the account will have.
    pub role: UserRole,
    /// The org admin who invited.
    pub invited_by: UserId,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; the link works until then.
    pub expires_at: i64,
}

impl UserRecord {
    /// The user as the access policy's actor when they come through a channel that only
    /// names them (a mail's `From`, a chat member's confirmed email): they may read and
    /// write, never administer — such a name is a weaker credential than a password.
    pub fn as_sender(&self) -> Actor<'_> {
        Actor {
            user: self.id.as_str(),
            role: self.role,
            org: self.org.as_ref().map(|o| o.as_str()),
            federal_cleared: self.federal_cleared,
            scopes: Scopes::READ_WRITE,
        }
    }

    /// The user as an object of the access policy, given their org's record.
    pub fn as_object<'a>(&'a self, org: Option<&'a OrgRecord>) -> UserRef<'a> {
        UserRef {
            id: self.id.as_str(),
            role: self.role,
            org: org.map(OrgRecord::as_ref),
            federal_cleared: self.federal_cleared,
        }
    }
}

/// An API token: the secret itself is never stored, only its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    /// Identifier (shown; not secret).
    pub id: String,
    /// Owner.
    pub user_id: UserId,
    /// What it is for.
    pub name: String,
    /// SHA-256 of the secret, hex.
    pub secret_hash: String,
    /// What it allows.
    pub scopes: Scopes,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; `None` never expires.
    pub expires_at: Option<i64>,
    /// Unix seconds, once revoked.
    pub revoked_at: Option<i64>,
}

/// A browser session: the cookie's secret is known only by its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the cookie's secret, hex.
    pub id_hash: String,
    /// Whose.
    pub user_id: UserId,
    /// The token every form of the session carries (cross-site request forgery guard).
    pub csrf: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last request seen (kept to the minute).
    pub last_seen_at: i64,
    /// Unix seconds after which the session is over, whatever happens.
    pub expires_at: i64,
}

/// A general inquiry ("Contact us"): anyone may write; it is due on the contract's
/// general-inquiry target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InquiryRecord {
    /// Identifier.
    pub id: String,
    /// Who wrote, as they said.
    pub name: String,
    /// Where to answer.
    pub email: String,
    /// Their company, if given.
    pub company: Option<String>,
    /// What they wrote.
    pub body: String,
    /// Unix seconds.
    pub received_at: i64,
    /// Unix seconds: when the answer is due.
    pub due_at: i64,
    /// Unix seconds, once answered.
    pub answered_at: Option<i64>,
    /// Which staff member answered.
    pub answered_by: Option<UserId>,
    /// The answer, as recorded.
    pub answer: Option<String>,
}

impl InquiryRecord {
    /// A new, unanswered inquiry received at `now`, due on the contract's general-inquiry
    /// target: the one rule for the contact form and the inquiry mailboxes alike.
    pub fn received(
        id: String,
        who: (String, String, Option<String>),
        body: String,
        contract: &stringer_core::contract::Contract,
        now: jiff::Timestamp,
    ) -> InquiryRecord {
        let (name, email, company) = who;
        InquiryRecord {
            id,
            name,
            email,
            company,
            body,
            received_at: now.as_second(),
            due_at: contract.due(&contract.general_inquiry, now).as_second(),
            answered_at: None,
            answered_by: None,
            answer: None,
        }
    }
}

/// A file attached to a ticket (its bytes are read apart).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentRecord {
    /// Identifier.
    pub id: String,
    /// The ticket.
    pub ticket: TicketId,
    /// As uploaded (no path).
    pub filename: String,
    /// What the bytes are.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// The customer sees it.
    pub public: bool,
    /// Who attached it.
    pub uploaded_by: UserId,
    /// Unix seconds.
    pub created_at: i64,
}

/// A ticket: descriptive fields plus the rules' state.
#[derive(Clone, Debug, PartialEq)]
pub struct TicketRecord {
    /// Identifier.
    pub id: TicketId,
    /// The customer org.
    pub org: OrgSlug,
    /// Its number within the org (the `42` of `ACME-42`).
    pub number: i64,
    /// The customer user who asked.
    pub requester: Option<UserId>,
    /// One-line summary.
    pub subject: String,
    /// The request as written.
    pub description: String,
    /// The rules' state (severity, status, clocks, escalation …).
    pub state: Ticket,
    /// Incremented by every change.
    pub version: i64,
    /// Unix seconds of the last change.
    pub updated_at: i64,
}

impl TicketRecord {
    /// Its human key, e.g. `ACME-42`.
    pub fn key(&self) -> TicketKey {
        TicketKey { org: self.org.clone(), number: self.number }
    }
}

/// A comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommentRecord {
    /// Identifier.
    pub id: String,
    /// Who wrote it.
    pub author: UserId,
    /// Visible to the customer.
    pub public: bool,
    /// The text.
    pub body: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// One timeline entry: an event or a notice, in the simulator's vocabulary.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineRecord {
    /// Position in the timeline.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// `ticket.opened`, `page`, `sla.breached` …
    pub kind: String,
    /// Who caused it, when a person did.
    pub actor: Option<UserId>,
    /// The event or notice as JSON.
    pub body: serde_json::Value,
}

impl TimelineRecord {
    /// The entry as the access policy lets someone without internal access see it: `None`
    /// when hidden, else without the staff-only fields (and its actor, where the policy
    /// says so).
    pub fn customer_view(mut self) -> Option<TimelineRecord> {
        let public = self.body.get("public") != Some(&serde_json::Value::Bool(false));
        match access::customer_view(&self.kind, public) {
            EntryView::Hidden => None,
            EntryView::Redacted { actor } => {
                if let Some(body) = self.body.as_object_mut() {
                    for field in access::STAFF_ONLY_FIELDS {
                        body.remove(field);
                    }
                    if !actor {
                        body.remove("by");
                    }
                }
                if !actor {
                    self.actor = None;
                }
                Some(self)
            }
        }
    }
}

/// In which order a listing returns tickets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TicketOrder {
    /// Newest first (by id, which sorts by creation).
    #[default]
    Newest,
    /// The queue's order, what breaches first: breached tickets (longest breached first),
    /// then by the earliest running due time, then tickets without one by opening.
    DueFirst,
}

/// Which tickets a listing returns.
#[derive(Clone, Debug, Default)]
pub struct TicketFilter {
    /// Only this org's.
    pub org: Option<OrgSlug>,
    /// Leave out federal orgs' tickets (for staff not cleared for federal).
    pub hide_federal: bool,
    /// Only this status.
    pub status: Option<Status>,
    /// Only this severity.
    pub severity: Option<Severity>,
    /// Only tickets with a running clock due at or before this instant (Unix seconds).
    pub due_before: Option<i64>,
    /// Only tickets of orgs on this tier.
    pub tier: Option<Tier>,
    /// Leave out resolved tickets.
    pub unresolved: bool,
    /// Only tickets worked by this staff member (`Some(None)`: by nobody).
    pub assignee: Option<Option<UserId>>,
    /// Only tickets whose texts hold every word of this search; internal notes count only
    /// with `search_internal`.
    pub search: Option<String>,
    /// Search internal notes too (for staff).
    pub search_internal: bool,
    /// Only ids before this one (the cursor of [`TicketOrder::Newest`]).
    pub before_id: Option<TicketId>,
    /// At most this many.
    pub limit: i64,
    /// The order.
    pub order: TicketOrder,
}

/// An on-call schedule: the written form (layers and overrides), guarded by a version.
#[derive(Clone, Debug)]
pub struct ScheduleRecord {
    /// Identifier.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The org whose named engineers it rotates; `None` for the platform-wide schedule.
    pub org: Option<OrgSlug>,
    /// Layers and overrides.
    pub spec: ScheduleSpec,
    /// SHA-256 of the calendar-feed secret.
    pub ics_secret_hash: String,
    /// Incremented by every change.
    pub version: i64,
    /// Unix seconds.
    pub created_at: i64,
}

/// A staff member's contact method (with its signing secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactMethodRecord {
    /// Identifier.
    pub id: String,
    /// Owner.
    pub user_id: UserId,
    /// How.
    pub kind: MethodKind,
    /// Where.
    pub address: String,
    /// HMAC-SHA256 key for webhook signatures.
    pub secret: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// "Notify via this contact method N seconds after an unacknowledged page."
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationRuleRecord {
    /// Identifier.
    pub id: String,
    /// The contact method.
    pub method_id: String,
    /// Seconds after the page.
    pub after_seconds: i64,
}

/// How the newest delivery over a contact method that was tried went (sent, failed, or
/// failed and retried): what tells whether the method works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodOutcome {
    /// The contact method.
    pub method_id: String,
    /// Whether it was sent (else it failed, for good or for now).
    pub sent: bool,
    /// Unix seconds, when it was sent or given up — or, while it is retried, when it is
    /// tried again.
    pub at: i64,
    /// It failed and is retried at `at`.
    pub retrying: bool,
    /// Why it failed.
    pub error: Option<String>,
}

/// A test page to one contact method, sent through the deliveries like any page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestPage {
    /// The delivery's id (one test per method and minute).
    pub id: String,
    /// The person.
    pub user_id: UserId,
    /// The contact method.
    pub method_id: String,
    /// What is sent (JSON, shaped like a page's).
    pub payload: String,
    /// Unix seconds, when it is due.
    pub at: i64,
}

/// A delivery of a ticket's notice to a person (or the org's shared channel), as the console
/// shows it: who, how, and what became of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// The idempotency key.
    pub id: String,
    /// The person (`org:<slug>` for the org's shared channel).
    pub user_id: String,
    /// How.
    pub kind: MethodKind,
    /// pending | sent | failed | cancelled.
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Why the last attempt failed, or why it was cancelled.
    pub last_error: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, once sent.
    pub sent_at: Option<i64>,
}

/// What claiming an idempotency key found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyClaim {
    /// The key is the caller's to use now, under this claim.
    New {
        /// The claim the request holds (see [`crate::keyed::KeyedWrite`]).
        claim: String,
    },
    /// Another request with this key is running.
    InProgress,
    /// The key was used for a different request.
    OtherRequest,
    /// The request was done; its final response.
    Done {
        /// HTTP status.
        status: i64,
        /// The response body (without any one-time secret).
        body: String,
        /// Whether a one-time secret was taken out of the body.
        redacted: bool,
    },
    /// The request's write committed but the server died before it answered: what it wrote.
    Written(crate::keyed::Written),
}

/// What a letter carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The org's quarterly review of this quarter (e.g. `2026-Q3`); `tam` when it goes to the
    /// TAM, who is asked to complete the recommendations.
    Review {
        /// The quarter.
        quarter: String,
        /// Whether it goes to the TAM.
        tam: bool,
    },
    /// The org's welcome packet.
    Packet,
    /// Staff's answer to a "Contact us" inquiry (its id), with the question quoted.
    InquiryAnswer {
        /// The inquiry.
        inquiry: String,
    },
}

/// A letter to one person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Letter {
    /// Its id (derived from what it carries and the address: written once).
    pub id: String,
    /// The org (none for an inquiry's answer: the inquirer belongs to none).
    pub org: Option<OrgSlug>,
    /// What it carries.
    pub kind: Kind,
    /// The address.
    pub to: String,
    /// Attempts so far.
    pub attempts: i64,
}

/// How a contact method is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodKind {
    /// A JSON POST signed with HMAC-SHA256.
    Webhook,
    /// A direct message from the Slack app to a member ID, with Acknowledge/Resolve buttons.
    Slack,
    /// Mail through the SMTP relay.
    Email,
    /// A text message through the SMS provider.
    Sms,
    /// A phone call reading the page aloud.
    Voice,
    /// The person's "My pages" in the console: needs no outside system, so a desk without
    /// one (the demo) still delivers pages somewhere a person sees them.
    Console,
}

impl MethodKind {
    /// The name used in JSON, the database and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            MethodKind::Webhook => "webhook",
            MethodKind::Slack => "slack",
            MethodKind::Email => "email",
            MethodKind::Sms => "sms",
            MethodKind::Voice => "voice",
            MethodKind::Console => "console",
        }
    }
}
