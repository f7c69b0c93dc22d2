//! The access policy: the one answer to "may this caller do this?", for every door — the
//! JSON API, one-click acknowledgement links, Slack button presses, the paging dispatcher (who
//! may be paged for a ticket) and, as they come, the portal, mail, phone and status pages.
//! Routes and handlers ask [`decide`] (or [`reach`] for listings); none re-derives a rule.
//!
//! The answer never depends on whether something exists unless the caller may see it: the
//! token's scopes and the caller's role are checked first (they do not depend on the object),
//! then visibility (another tenant's object answers [`Decision::NotFound`], exactly as a
//! missing one), and only then the rules about the object itself ([`Decision::Forbidden`]).
//!
//! Tenant isolation: a customer sees only their own org; staff see every org except federal
//! ones, which only staff cleared for federal see. Clearance also bounds who is paged for,
//! who serves (TAM, named engineer, schedule member) and who acts on a federal org's tickets.

use crate::ids::{Deployment, UserRole};
use std::fmt;

/// One permission a token carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Read what the caller may see.
    Read,
    /// Work tickets, comment, page; manage one's own tokens and contact methods.
    Write,
    /// Administer: orgs, users, roles and clearance.
    Admin,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Admin];

    /// The name used in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    /// The scope of that name.
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }

    fn bit(self) -> u8 {
        match self {
            Scope::Read => 1,
            Scope::Write => 2,
            Scope::Admin => 4,
        }
    }
}

/// A set of scopes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Scopes(u8);

impl Scopes {
    /// No scope.
    pub const NONE: Scopes = Scopes(0);
    /// Every scope (internal callers such as the paging dispatcher, and admins' sign-ins).
    pub const ALL: Scopes = Scopes(7);
    /// Reading and writing, not administering: what a person proven by a link, a Slack
    /// member, a phone call or their mail may do.
    pub const READ_WRITE: Scopes = Scopes(3);

    /// The set of these scopes.
    pub fn of(scopes: &[Scope]) -> Scopes {
        Scopes(scopes.iter().fold(0, |bits, s| bits | s.bit()))
    }

    /// Parses scope names; `None` when one is unknown.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Option<Scopes> {
        names.iter().map(|n| Scope::parse(n.as_ref())).collect::<Option<Vec<_>>>().map(|v| Scopes::of(&v))
    }

    /// Whether the set holds `scope`.
    pub fn has(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether every scope of `other` is in this set.
    pub fn covers(self, other: Scopes) -> bool {
        other.0 & !self.0 == 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The names, in the order read, write, admin.
    pub fn names(self) -> Vec<&'static str> {
        Scope::ALL.into_iter().filter(|s| self.has(*s)).map(Scope::as_str).collect()
    }

    /// What signing in with a password grants a role: everything the role may do.
    pub fn for_role(role: UserRole) -> Scopes {
        match role {
            UserRole::Admin | UserRole::OrgAdmin => Scopes::ALL,
            _ => Scopes::of(&[Scope::Read, Scope::Write]),
        }
    }
}

impl serde::Serialize for Scopes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.names())
    }
}

impl<'de> serde::Deserialize<'de> for Scopes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Scopes, D::Error> {
        let names = Vec::<String>::deserialize(deserializer)?;
        Scopes::parse(&names).ok_or_else(|| serde::de::Error::custom("scopes are read, write and admin"))
    }
}

/// Who asks: a user, with the scopes of the credential they came with.
#[derive(Clone, Copy, Debug)]
pub struct Actor<'a> {
    /// The user's id.
    pub user: &'a str,
    /// Their role.
    pub role: UserRole,
    /// The customer's org (`None` for staff).
    pub org: Option<&'a str>,
    /// Cleared for federal orgs' data.
    pub federal_cleared: bool,
    /// What the credential allows.
    pub scopes: Scopes,
}

impl Actor<'_> {
    /// Staff (not a customer).
    pub fn is_staff(&self) -> bool {
        self.org.is_none()
    }

    /// Whether the actor may see an org's data at all.
    pub fn sees(&self, org: OrgRef<'_>) -> bool {
        match self.org {
            Some(own) => own == org.slug,
            None => org.deployment != Deployment::Federal || self.federal_cleared,
        }
    }
}

/// An org, as far as the policy needs to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrgRef<'a> {
    /// Its slug.
    pub slug: &'a str,
    /// How its platform is deployed (federal orgs need clearance).
    pub deployment: Deployment,
}

/// A user as an object of an action.
#[derive(Clone, Copy, Debug)]
pub struct UserRef<'a> {
    /// Their id.
    pub id: &'a str,
    /// Their role.
    pub role: UserRole,
    /// The customer's org (`None` for staff).
    pub org: Option<OrgRef<'a>>,
    /// Cleared for federal data.
    pub federal_cleared: bool,
}

/// What an action is about.
#[derive(Clone, Copy, Debug)]
pub enum Object<'a> {
    /// A ticket of this org, or anything of one (comments, timeline, deliveries).
    Ticket(OrgRef<'a>),
    /// An org (also: the org a new user or a new ticket is created in).
    Org(OrgRef<'a>),
    /// The vendor's staff as a whole (where a new staff user is created).
    Staff,
    /// A user.
    User(UserRef<'a>),
    /// An API token: its owner and scopes.
    Token {
        /// The owner's id.
        owner: &'a str,
        /// What it allows.
        scopes: Scopes,
    },
    /// An on-call schedule: of an org, or platform-wide (`None`).
    Schedule(Option<OrgRef<'a>>),
    /// A user's own account (what their tokens belong to), by user id.
    Account(&'a str),
    /// A status page: a tenant's (of this org) or the public platform page (`None`).
    StatusPage(Option<OrgRef<'a>>),
    /// The installation's ledger (docs/ledger.md): its signed heads and consistency proofs,
    /// which name no org.
    Ledger,
    /// A ticket's post-incident report: its org, and whether it is published.
    Report {
        /// The ticket's org.
        org: OrgRef<'a>,
        /// Published (customers see only published reports).
        published: bool,
    },
}

/// What the caller wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// See a ticket, its public conversation and timeline.
    ReadTicket,
    /// See a ticket's internal notes and the staff-only details of its timeline.
    ReadInternal,
    /// Open a ticket in an org.
    OpenTicket,
    /// Write a public comment (a reply, or the customer's message).
    CommentPublic,
    /// Write an internal note.
    CommentInternal,
    /// Acknowledge a ticket and its pages (also through a link or a Slack button).
    Acknowledge,
    /// Make a ticket more severe.
    RaiseSeverity,
    /// Make a ticket less severe (which may stop paging).
    LowerSeverity,
    /// Set a ticket to wait on the customer (pauses clocks).
    WaitOnCustomer,
    /// Resolve a ticket (also through a Slack button).
    Resolve,
    /// Reopen a resolved ticket.
    Reopen,
    /// Page the on-call engineer for a ticket (the contract's customer page).
    PageOnCall,
    /// See the deliveries of a ticket's pages.
    ReadDeliveries,
    /// Give a ticket to a staff member to work, or take it back to the queue.
    Assign,
    /// Record who joined a security incident's bridge, and where it is.
    RecordBridge,
    /// Open the engineer console (the queue, on-call, pages received).
    OpenConsole,
    /// See the general inquiries of "Contact us".
    ReadInquiries,
    /// Answer them.
    HandleInquiries,
    /// See received mail: held for triage (unrouted, from unknown senders, over a sender's
    /// budget) or left alone, and the original of a message.
    ReadMail,
    /// Route held mail to an org.
    TriageMail,
    /// Hand in raw mail for the mail intake (the `mailgate` command, an inbound-mail service).
    DeliverMail,
    /// Create, list and revoke an org's integration keys (the credentials monitoring tools
    /// raise alerts with).
    ManageIntegrations,
    /// See an org.
    ReadOrg,
    /// Create an org.
    CreateOrg,
    /// Change an org (tier, TAM, named engineers, channel, tag).
    UpdateOrg,
    /// See a user.
    ReadUser,
    /// Create a user with this role, cleared for federal or not.
    CreateUser {
        /// The new user's role.
        role: UserRole,
        /// Whether they are cleared for federal data.
        cleared: bool,
    },
    /// Change a user's role and/or clearance (`None`: unchanged).
    UpdateUser {
        /// The new role.
        role: Option<UserRole>,
        /// The new clearance.
        cleared: Option<bool>,
    },
    /// Set or clear a user's phone number, the caller ID the P1 line knows them by: one's
    /// own, or as an admin (a customer org's admin: for their org's users).
    SetCallerId,
    /// Put a phone number in force for a user at once, without the code sent to it by SMS
    /// coming back (staff admins, for users they see): a caller ID says who calls the P1
    /// line, so anyone else proves the phone is theirs.
    SetCallerIdUnconfirmed,
    /// See one's own account and its tokens.
    ReadAccount,
    /// Change one's own settings (time zone, password).
    UpdateOwnSettings,
    /// Create a token for oneself with these scopes.
    CreateToken(Scopes),
    /// Revoke a token.
    RevokeToken,
    /// See a schedule, who is on call and its shifts.
    ReadSchedule,
    /// Create or change a schedule or its overrides.
    ManageSchedule,
    /// See a staff user's contact methods.
    ReadContactMethods,
    /// Add contact methods, set notification rules, issue a calendar feed, for a staff user.
    ManageContactMethods,
    /// Link a chat member ID (a Slack member today) to a user without the chat service
    /// confirming it is theirs.
    LinkChatMemberUnverified,
    /// See a status page (its HTML, JSON and feeds). Anyone sees the public page (see
    /// [`view_status_page`]); a tenant's page is seen by its org's users and by staff who
    /// see the org (for a federal org: staff cleared for federal).
    ViewStatusPage,
    /// Run a status page: its components, incidents and maintenance (staff only).
    ManageStatus,
    /// Configure how a status page is reached and fed: bind it to a host name (which takes
    /// over that host's `/`), and grant integration keys leave to set its components (admins,
    /// on pages they see).
    ConfigureStatusPage,
    /// See a status page's subscribers (staff only: they are people's addresses).
    ReadSubscribers,
    /// Read a post-incident report: staff who see the org, at any stage; the org's own
    /// people once it is published (before that, to them it does not exist).
    ReadReport,
    /// Write a report, comment on it, submit it for review, publish it once approved, or
    /// start one on demand (staff).
    WriteReport,
    /// Approve a report for publication, or send it back (support leads and the VP of
    /// Engineering, as the contract's review).
    ReviewReport,
    /// See an org's quarterly operational review: staff who see the org, and the org's own
    /// admins (the review is presented to them).
    ReadReview,
    /// Write the recommendations of an org's quarterly review: the TAM completes them before
    /// presenting; a support lead, the VP of Engineering or an admin may too.
    WriteReview,
    /// Replay past tickets under a proposed contract and compare (the what-if on history):
    /// admins and support leads, who decide what the desk promises; the replay covers only
    /// the orgs the actor sees.
    RunWhatIf,
    /// Download a ticket's ledger bundle: its timeline entries as the reader may see them,
    /// with inclusion proofs under a signed head (decided as [`Action::ReadTicket`]; what
    /// the bundle discloses is what the timeline shows the reader).
    ProveTicket,
    /// Read the ledger's signed heads and consistency proofs (every signed-in role: they
    /// name no org and disclose no entry). Anyone reads the published key and heads (see
    /// [`view_ledger`]).
    ReadLedger,
    /// Sign a tree head now rather than at the notary's next round (admins).
    SignLedgerHead,
    /// See the ledger's audit: whether a stored event no longer matches its leaf (the admin
    /// pages' banner). Admins only.
    AuditLedger,
    /// Be paged (and sent a link) for a ticket of this org.
    ReceivePage,
    /// Serve an org: be its TAM, a named engineer, or on its schedule.
    ServeOrg,
}

impl Action {
    /// The scope the credential must carry (`None`: the action is not taken with a token, e.g.
    /// being paged).
    fn scope(self) -> Option<Scope> {
        use Action::*;
        match self {
            ReadTicket | ReadInternal | ReadDeliveries | ReadOrg | ReadUser | ReadAccount | ReadSchedule
            | ReadContactMethods | OpenConsole | ReadInquiries | ReadMail | ViewStatusPage | ReadSubscribers
            | ReadReport | ReadReview | RunWhatIf | ProveTicket | ReadLedger | AuditLedger => Some(Scope::Read),
            OpenTicket
            | CommentPublic
            | CommentInternal
            | Acknowledge
            | RaiseSeverity
            | LowerSeverity
            | WaitOnCustomer
            | Resolve
            | Reopen
            | PageOnCall
            | CreateToken(_)
            | RevokeToken
            | ManageSchedule
            | ManageContactMethods
            | LinkChatMemberUnverified
            | Assign
            | RecordBridge
            | HandleInquiries
            | TriageMail
            | DeliverMail
            | UpdateOwnSettings
            | SetCallerId
            | SetCallerIdUnconfirmed
            | ManageStatus
            | WriteReport
            | ReviewReport
            | WriteReview => Some(Scope::Write),
            CreateOrg
            | UpdateOrg
            | ManageIntegrations
            | ConfigureStatusPage
            | CreateUser { .. }
            | UpdateUser { .. }
            | SignLedgerHead => Some(Scope::Admin),
            ReceivePage | ServeOrg => None,
        }
    }
}

/// The policy's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Answer exactly as for something that does not exist.
    NotFound,
    /// Refused; the reason can be told.
    Forbidden(&'static str),
}

impl Decision {
    /// Whether the action is allowed.
    pub fn allowed(self) -> bool {
        self == Decision::Allow
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Allow => f.write_str("allowed"),
            Decision::NotFound => f.write_str("not found"),
            Decision::Forbidden(why) => f.write_str(why),
        }
    }
}

use Decision::{Allow, Forbidden, NotFound};

/// Whether `actor` may take `action` on `object` (`None`: it does not exist).
pub fn decide(actor: &Actor<'_>, action: Action, object: Option<Object<'_>>) -> Decision {
    if let Some(scope) = action.scope()
        && !actor.scopes.has(scope)
    {
        return Forbidden(match scope {
            Scope::Read => "this credential lacks the \"read\" scope",
            Scope::Write => "this credential lacks the \"write\" scope",
            Scope::Admin => "this credential lacks the \"admin\" scope",
        });
    }
    if let Some(refusal) = refused_by_role(actor, action) {
        return Forbidden(refusal);
    }
    let Some(object) = object else { return NotFound };
    on_object(actor, action, object)
}

/// Refusals that depend only on who asks, never on the object, so they cannot reveal
/// whether it exists.
fn refused_by_role(actor: &Actor<'_>, action: Action) -> Option<&'static str> {
    use Action::*;
    let staff = actor.is_staff();
    match action {
        CommentInternal if !staff => Some("internal notes are for staff"),
        Acknowledge if !staff => Some("only staff acknowledge tickets"),
        LowerSeverity if !staff => Some("only staff lower a ticket's severity"),
        WaitOnCustomer if !staff => Some("only staff set a ticket to wait on the customer"),
        ReadInternal | ReadDeliveries | OpenConsole | ReadInquiries | HandleInquiries | ReadMail | TriageMail
            if !staff =>
        {
            Some("this is for staff")
        }
        Assign if !staff => Some("only staff assign tickets"),
        RecordBridge if !staff => Some("only staff record an incident bridge"),
        CreateOrg | UpdateOrg if actor.role != UserRole::Admin => Some("only admins manage orgs"),
        DeliverMail if actor.role != UserRole::Admin => Some("only a staff admin's token hands in mail"),
        ManageIntegrations if actor.role != UserRole::Admin => Some("only admins manage integration keys"),
        CreateUser { role, .. } if role.is_staff() && actor.role != UserRole::Admin => {
            Some("only admins create staff users")
        }
        CreateUser { .. } | UpdateUser { .. } if !matches!(actor.role, UserRole::Admin | UserRole::OrgAdmin) => {
            Some("admins, and customer org admins for their own org, manage users")
        }
        CreateUser { cleared: true, .. } | UpdateUser { cleared: Some(true), .. }
            if !(actor.role == UserRole::Admin && actor.federal_cleared) =>
        {
            Some("only admins cleared for federal grant clearance")
        }
        UpdateUser { role: Some(role), .. } if role.is_staff() && actor.role != UserRole::Admin => {
            Some("only admins grant staff roles")
        }
        ReadContactMethods | ManageContactMethods if !staff => Some("this is for staff"),
        ManageSchedule if !matches!(actor.role, UserRole::Admin | UserRole::SupportLead) => {
            Some("admins and support leads manage schedules")
        }
        SetCallerIdUnconfirmed if actor.role != UserRole::Admin => {
            Some("a phone number is confirmed by the code sent to it, or set by a staff admin")
        }
        LinkChatMemberUnverified if actor.role != UserRole::Admin => {
            Some("only admins link a Slack member ID that Slack does not confirm")
        }
        ReceivePage | ServeOrg if !staff => Some("only staff are paged and serve orgs"),
        ManageStatus | ReadSubscribers if !staff => Some("only staff run status pages"),
        ConfigureStatusPage if actor.role != UserRole::Admin => {
            Some("only admins bind a status page's host name or grant keys to set its components")
        }
        WriteReport if !staff => Some("only staff write post-incident reports"),
        ReadReview if !staff && actor.role != UserRole::OrgAdmin => {
            Some("the quarterly review is for the org's admins")
        }
        WriteReview
            if !matches!(
                actor.role,
                UserRole::Tam | UserRole::SupportLead | UserRole::VpEngineering | UserRole::Admin
            ) =>
        {
            Some("the TAM completes the review's recommendations")
        }
        AuditLedger if actor.role != UserRole::Admin => Some("the ledger's audit is for admins"),
        RunWhatIf if !matches!(actor.role, UserRole::Admin | UserRole::SupportLead) => {
            Some("the what-if on history is for admins and support leads")
        }
        SignLedgerHead if actor.role != UserRole::Admin => Some("only admins sign ledger heads on demand"),
        ReviewReport if !matches!(actor.role, UserRole::SupportLead | UserRole::VpEngineering) => {
            Some("a support lead or the VP of Engineering reviews post-incident reports")
        }
        _ => None,
    }
}

fn on_object(actor: &Actor<'_>, action: Action, object: Object<'_>) -> Decision {
    use Action::*;
    let seen = |org: OrgRef<'_>| if actor.sees(org) { Allow } else { NotFound };
    match (action, object) {
        (
            ReadTicket | ReadInternal | CommentPublic | CommentInternal | Acknowledge | RaiseSeverity | LowerSeverity
            | WaitOnCustomer | Resolve | Reopen | PageOnCall | ReadDeliveries | ReceivePage | Assign | RecordBridge
            | ProveTicket,
            Object::Ticket(org),
        ) => seen(org),
        (ReadLedger | SignLedgerHead | AuditLedger, Object::Ledger) => Allow,
        (
            OpenConsole | ReadInquiries | HandleInquiries | ReadMail | TriageMail | DeliverMail | RunWhatIf,
            Object::Staff,
        ) => Allow,
        (
            OpenTicket | ReadOrg | UpdateOrg | ServeOrg | ManageIntegrations | ReadReview | WriteReview,
            Object::Org(org),
        ) => seen(org),
        (CreateOrg, Object::Org(org)) => {
            if org.deployment == Deployment::Federal && !actor.federal_cleared {
                Forbidden("only admins cleared for federal create federal orgs")
            } else {
                Allow
            }
        }
        (CreateUser { role, .. }, Object::Staff) if role.is_staff() => Allow,
        (CreateUser { role, cleared }, Object::Org(org)) if !role.is_staff() => {
            if cleared {
                Forbidden("customers are not cleared for federal data")
            } else {
                seen(org)
            }
        }
        (CreateUser { .. }, Object::Staff | Object::Org(_)) => Forbidden("staff have no org; customers need one"),
        (ReadUser, Object::User(u)) => match u.org {
            Some(org) => seen(org),
            None if actor.is_staff() => Allow,
            None => NotFound,
        },
        (UpdateUser { .. }, Object::User(u)) => {
            let visible = match u.org {
                Some(org) => actor.sees(org),
                None => actor.is_staff(),
            };
            if !visible {
                NotFound
            } else if u.id == actor.user {
                Forbidden("ask another admin to change your own role or clearance")
            } else {
                Allow
            }
        }
        (SetCallerId, Object::User(u)) => {
            let visible = match u.org {
                Some(org) => actor.sees(org),
                None => actor.is_staff(),
            };
            if u.id == actor.user {
                Allow
            } else if !visible {
                NotFound
            } else if matches!(actor.role, UserRole::Admin | UserRole::OrgAdmin) {
                Allow
            } else {
                Forbidden("only admins set another user's phone number")
            }
        }
        (SetCallerIdUnconfirmed, Object::User(u)) => match u.org {
            Some(org) => seen(org),
            None => Allow,
        },
        (ReadAccount | UpdateOwnSettings, Object::Account(owner)) => {
            if owner == actor.user {
                Allow
            } else {
                NotFound
            }
        }
        (CreateToken(scopes), Object::Account(owner)) => {
            if owner != actor.user {
                NotFound
            } else if scopes.is_empty() || !actor.scopes.covers(scopes) {
                Forbidden("a token's scopes are a non-empty subset of the calling credential's")
            } else {
                Allow
            }
        }
        (RevokeToken, Object::Token { owner, scopes }) => {
            if owner != actor.user {
                NotFound
            } else if !actor.scopes.covers(scopes) {
                Forbidden("a token cannot revoke a token with scopes it does not have itself")
            } else {
                Allow
            }
        }
        // Customers do not see schedules at all: to them, none exists.
        (ReadSchedule | ManageSchedule, Object::Schedule(_)) if !actor.is_staff() => NotFound,
        (ReadSchedule | ManageSchedule, Object::Schedule(org)) => match org {
            Some(org) => seen(org),
            None => Allow,
        },
        (ViewStatusPage | ManageStatus | ConfigureStatusPage | ReadSubscribers, Object::StatusPage(page)) => {
            page.map_or(Allow, seen)
        }
        (ReadReport, Object::Report { published: false, .. }) if !actor.is_staff() => NotFound,
        (ReadReport | WriteReport | ReviewReport, Object::Report { org, .. }) => seen(org),
        (ReadContactMethods | ManageContactMethods | LinkChatMemberUnverified, Object::User(u)) => {
            let mine = u.id == actor.user || actor.role == UserRole::Admin;
            if u.org.is_none() && mine { Allow } else { NotFound }
        }
        _ => Forbidden("this action does not apply to that"),
    }
}

/// Whether a visitor — signed in or with a token (`Some`), or anonymous (`None`) — may see a
/// status page: the public page (`None`) is for everyone; a tenant's page answers
/// [`Decision::NotFound`] to anyone who may not see it, so its existence is not told.
pub fn view_status_page(visitor: Option<&Actor<'_>>, page: Option<OrgRef<'_>>) -> Decision {
    match (page, visitor) {
        (None, _) => Allow,
        (Some(org), Some(actor))
            if decide(actor, Action::ViewStatusPage, Some(Object::StatusPage(Some(org)))).allowed() =>
        {
            Allow
        }
        (Some(_), _) => NotFound,
    }
}

/// Whether a visitor — signed in (`Some`) or anonymous (`None`) — may read the ledger's
/// published key and signed heads (`/.well-known/stringer-ledger/…`): everyone may, since a
/// reader checks a bundle against heads they fetched themselves, and a head names no org.
pub fn view_ledger(_visitor: Option<&Actor<'_>>) -> Decision {
    Allow
}

/// Whether a monitoring alert sent with an integration key of `key_org` may set the
/// components of a status page (`page`: its org, `None` for the vendor's public page): only
/// when the page's owner let it — a tenant page's own org's keys are its own; any other key
/// only once an admin granted it on that page (`granted`, see
/// [`Action::ConfigureStatusPage`]). Otherwise any customer's monitor could change what the
/// vendor's page tells everyone.
pub fn alert_sets_status(page: Option<&str>, key_org: &str, granted: bool) -> bool {
    page == Some(key_org) || granted
}

/// Which orgs' data a listing may include for an actor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach<'a> {
    /// Only this org's (a customer).
    Org(&'a str),
    /// Every org's; federal ones only when `federal` (staff).
    AllOrgs {
        /// Whether federal orgs are included.
        federal: bool,
    },
}

impl Reach<'_> {
    /// Whether the reach includes the org.
    pub fn includes(self, org: OrgRef<'_>) -> bool {
        match self {
            Reach::Org(own) => own == org.slug,
            Reach::AllOrgs { federal } => federal || org.deployment != Deployment::Federal,
        }
    }
}

/// The orgs whose data an actor's listings may show ([`Action::ReadTicket`] on each).
pub fn reach<'a>(actor: &Actor<'a>) -> Reach<'a> {
    match actor.org {
        Some(own) => Reach::Org(own),
        None => Reach::AllOrgs { federal: actor.federal_cleared },
    }
}

/// How a timeline entry is shown to someone who may not see a ticket's internals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryView {
    /// Not shown at all.
    Hidden,
    /// Shown without staff-only fields ([`STAFF_ONLY_FIELDS`]).
    Redacted {
        /// Whether who acted (the entry's actor and a `by` field) is shown.
        actor: bool,
    },
}

/// What a customer sees of a timeline entry of `kind` (an event or notice name) whose body is
/// `public` (for `ticket.replied`). Staff ([`Action::ReadInternal`]) see every entry whole.
/// Customers see what happened and when — that on-call was paged, that the ticket was
/// acknowledged, targets met or breached — but not who was paged, how, or which staff member
/// acted, except the author of a public reply (whom the conversation names anyway), nor
/// staff's internal obligations (a report owed or overdue, a bridge missed).
pub fn customer_view(kind: &str, public: bool) -> EntryView {
    match kind {
        "ticket.replied" if !public => EntryView::Hidden,
        "queue.notified" => EntryView::Hidden,
        // Staff's own obligations: a report owed or overdue, a bridge nobody joined in time.
        "report.due" | "report.overdue" | "bridge.overdue" => EntryView::Hidden,
        "ticket.opened" | "ticket.customer_replied" | "ticket.replied" => EntryView::Redacted { actor: true },
        _ => EntryView::Redacted { actor: false },
    }
}

/// The body fields [`EntryView::Redacted`] removes; `by` goes too unless the actor is shown.
pub const STAFF_ONLY_FIELDS: [&str; 3] = ["to", "via", "notify"];

#[cfg(test)]
mod tests;
