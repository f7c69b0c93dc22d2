//! The ports the fronts (web, the org's channel, mail and phone intake) use, as object-safe
//! traits so a front holds `Arc<dyn …>` and never names a store: [`Commands`] changes tickets
//! (the [`crate::Desk`]), [`Queries`] is the read port, [`Accounts`] holds orgs, users,
//! tokens and sessions, [`OnCall`] schedules and contact methods, [`Inquiries`] the general
//! inquiries of "Contact us", [`Files`] the attachments, and [`Safeguards`] the shared counters and
//! one-time records that protect the doors (rate limits, sign-in back-off, replay guard,
//! idempotency keys, settings). The SQL stores implement all of them.

use crate::accounts::letter::AccountLetter;
use crate::outcome::{AppError, Recorded};
use crate::records::{
    AttachmentRecord, CommentRecord, ContactMethodRecord, DeliveryRecord, InquiryRecord, InvitationRecord, KeyClaim,
    Letter, MethodOutcome, NotificationRuleRecord, OrgRecord, ScheduleRecord, SessionRecord, TestPage, TicketFilter,
    TicketRecord, TimelineRecord, TokenRecord, UserRecord,
};
use crate::store::{Extras, StoreError};
use async_trait::async_trait;
use jiff::Timestamp;
use std::collections::{BTreeSet, HashMap};
use stringer_core::contract::Contract;
use stringer_core::event::Event;
use stringer_core::ids::{Deployment, OrgSlug, Severity, TicketId, TicketKey, Tier, UserId, UserRole};
use stringer_core::oncall::ScheduleSpec;

/// Changing tickets: the one path from an event to a committed change.
#[async_trait]
pub trait Commands: Send + Sync {
    /// The contract in force.
    fn contract(&self) -> &Contract;
    /// Now, in whole seconds, by the desk's clock.
    fn now(&self) -> Timestamp;
    /// Now to the millisecond, by the desk's clock (see [`crate::Clock::now_precise`]).
    fn now_precise(&self) -> Timestamp;
    /// Records events on one ticket as one change — all of them, or none (a `ticket.opened`
    /// first opens it) — with who did it and any new ticket's fields or comment.
    async fn record(&self, events: Vec<Event>, extras: Extras) -> Result<Recorded, AppError>;
    /// [`Commands::record`] on a ticket the caller has already read for this request (its
    /// rules' state and version): tried on that state first, without reading the ticket
    /// again; read afresh only if it changed in between.
    async fn record_read(
        &self,
        read: crate::store::StoredTicket,
        events: Vec<Event>,
        extras: Extras,
    ) -> Result<Recorded, AppError>;
    /// Who an org's on-call role reaches at `at` (its schedules, else its named engineers, as
    /// routing pages them).
    async fn on_call(&self, org: &OrgSlug, at: Timestamp) -> Result<Vec<UserId>, AppError>;
    /// Whom the phone line puts a call for an org's ticket of `severity` through to, in
    /// order: the people its `tier`'s escalation pages, then its TAM (see
    /// [`stringer_core::phone::dial_order`]).
    async fn dial_order(
        &self,
        org: &OrgSlug,
        tier: &Tier,
        severity: &Severity,
        at: Timestamp,
    ) -> Result<Vec<UserId>, AppError>;
}

/// The read port: what the fronts show.
#[async_trait]
pub trait Queries: Send + Sync {
    /// Whether the database answers (readiness).
    async fn ping(&self) -> Result<(), StoreError>;
    /// A ticket with its org's deployment (what the access policy needs), in one read.
    async fn ticket(&self, id: &TicketId) -> Result<Option<(TicketRecord, Deployment)>, StoreError>;
    /// A ticket by its human key, like [`Queries::ticket`].
    async fn ticket_by_key(&self, key: &TicketKey) -> Result<Option<(TicketRecord, Deployment)>, StoreError>;
    /// Tickets matching a filter, in its order.
    async fn tickets(&self, filter: &TicketFilter) -> Result<Vec<TicketRecord>, StoreError>;
    /// A ticket's comments, oldest first.
    async fn comments(&self, ticket: &TicketId) -> Result<Vec<CommentRecord>, StoreError>;
    /// Up to `limit` timeline entries of a ticket after position `after` (0: from the start),
    /// oldest first.
    async fn timeline(&self, ticket: &TicketId, after: i64, limit: i64) -> Result<Vec<TimelineRecord>, StoreError>;
    /// The newest `limit` deliveries to a person (the pages they received), with their
    /// tickets.
    async fn deliveries_to(&self, user: &UserId, limit: i64)
    -> Result<Vec<(DeliveryRecord, TicketRecord)>, StoreError>;
    /// The deliveries of a ticket's notices, oldest first.
    async fn deliveries(&self, ticket: &TicketId) -> Result<Vec<DeliveryRecord>, StoreError>;
    /// Unresolved tickets counted by their worst SLA clock state.
    async fn open_tickets_by_sla_state(&self) -> Result<Vec<(String, i64)>, StoreError>;
    /// The id of the newest timeline entry (0 when there is none): every ticket change
    /// appends to the timeline, so a count of tickets by state can only have moved when
    /// this did (an index lookup, whatever the number of tickets).
    async fn timeline_mark(&self) -> Result<i64, StoreError>;
    /// The work waiting at `now` (Unix seconds): timers due and not yet run, and outbox
    /// records not yet handed on.
    async fn backlog(&self, now: i64) -> Result<Backlog, StoreError>;
}

/// The work waiting at an instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Timers due and not yet run.
    pub timers_due: i64,
    /// Outbox records (notices, settle jobs, customer updates) not yet handed on; zero when
    /// nothing is owed.
    pub outbox_pending: i64,
}

/// Whether the background work keeps going: the engine's cycles that made no progress for
/// longer than they are allowed. `/readyz` asks it, so an instance whose sweep or dispatcher
/// has stopped is taken out of service rather than silently keeping no promises.
pub trait Liveness: Send + Sync {
    /// The cycles stalled now (none when all is well).
    fn stalled(&self) -> Vec<Stalled>;
}

/// A cycle that made no progress for longer than it is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stalled {
    /// The cycle's name (`sweep`, `dispatcher`, …).
    pub cycle: String,
    /// Seconds since its last progress.
    pub quiet_seconds: u64,
    /// The seconds it may go without progress.
    pub allowed_seconds: u64,
}

/// Orgs, users and tokens.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// Creates an org, recording who did; a taken slug or email tag is a duplicate.
    async fn insert_org(&self, org: &OrgRecord, actor: Option<&UserId>) -> Result<(), StoreError>;
    /// An org.
    async fn org(&self, slug: &OrgSlug) -> Result<Option<OrgRecord>, StoreError>;
    /// The org whose support address carries `tag` (`support+TAG@…`), ignoring case.
    async fn org_by_email_tag(&self, tag: &str) -> Result<Option<OrgRecord>, StoreError>;
    /// Every org, by slug.
    async fn orgs(&self) -> Result<Vec<OrgRecord>, StoreError>;
    /// Creates a user, recording who did; an address taken in the same org (or among staff)
    /// is a duplicate.
    async fn insert_user(&self, user: &UserRecord, actor: Option<&UserId>) -> Result<(), StoreError>;
    /// A user.
    async fn user(&self, id: &UserId) -> Result<Option<UserRecord>, StoreError>;
    /// Users, optionally only one org's, by id.
    async fn users(&self, org: Option<&OrgSlug>) -> Result<Vec<UserRecord>, StoreError>;
    /// The active staff, by name: whom a ticket can be given to, who can serve an org.
    async fn active_staff(&self) -> Result<Vec<UserRecord>, StoreError>;
    /// The display names of those of `ids` who exist: what a page needs to name the people
    /// on it, without reading anyone else.
    async fn names(&self, ids: &[UserId]) -> Result<Vec<(UserId, String)>, StoreError>;
    /// Changes a user's name, role, clearance and time zone at `at`; false when there is no
    /// such user.
    async fn update_user(&self, user: &UserRecord, actor: &UserId, at: i64) -> Result<bool, StoreError>;
    /// Deactivates a user at `at` and ends their sessions; false when there is no such user
    /// or they were deactivated already.
    async fn deactivate_user(&self, user: &UserId, actor: &UserId, at: i64) -> Result<bool, StoreError>;
    /// Stores a one-time password link for `user` (`purpose`: invitation or reset), expiring
    /// at `expires_at`, with its `mail` (if it is mailed) in the same transaction.
    async fn insert_password_link(
        &self,
        id: &str,
        user: &UserId,
        purpose: &str,
        now: i64,
        expires_at: i64,
        mail: Option<&AccountLetter>,
    ) -> Result<(), StoreError>;
    /// Uses a password link at `now`: sets the user's password hash and ends their sessions,
    /// atomically, if the link is unused, unexpired and its user active; answers the user.
    async fn use_password_link(&self, id: &str, hash: &str, now: i64) -> Result<Option<UserId>, StoreError>;
    /// Sets an active user's password hash and ends their sessions but the one keyed
    /// `keep_session` (where they changed it), atomically; false when no active user is `user`.
    async fn change_password(&self, user: &UserId, hash: &str, keep_session: &str, at: i64)
    -> Result<bool, StoreError>;
    /// Whether a password link can still be used at `now` (unused, unexpired, user active).
    async fn password_link_usable(&self, id: &str, now: i64) -> Result<bool, StoreError>;
    /// Whether staff or a user of an org other than `org` holds an account with `email`
    /// (ignoring case, deactivated accounts included): such an address is not invited.
    async fn address_held_elsewhere(&self, email: &str, org: &OrgSlug) -> Result<bool, StoreError>;
    /// Stores an invitation; an address with an account in the org, or with an unused
    /// invitation into it that has not expired at `invitation.created_at`, is a duplicate.
    /// Its `mail` is written in the same transaction.
    async fn insert_invitation(&self, invitation: &InvitationRecord, mail: &AccountLetter) -> Result<(), StoreError>;
    /// Whether an invitation can still be accepted at `now`: unused, unexpired, and its
    /// address held by nobody outside its org.
    async fn invitation_usable(&self, id: &str, now: i64) -> Result<bool, StoreError>;
    /// Accepts an invitation at `now`, atomically: if it can still be accepted (see
    /// [`Accounts::invitation_usable`]) and the org has no account with its address yet,
    /// uses it up and creates its account as `user` with the password hash `hash`.
    async fn accept_invitation(
        &self,
        id: &str,
        user: &UserId,
        hash: &str,
        now: i64,
    ) -> Result<Option<UserRecord>, StoreError>;
    /// Stores a new browser session.
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    /// The session whose secret hashes to `id_hash`, with its user.
    async fn session(&self, id_hash: &str) -> Result<Option<(SessionRecord, UserRecord)>, StoreError>;
    /// Records that the session was used at `at`.
    async fn touch_session(&self, id_hash: &str, at: i64) -> Result<(), StoreError>;
    /// Ends a session (sign-out).
    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError>;
    /// Changes an org's name, tier, deployment, TAM, named engineers, shared channel and email
    /// tag, recording who did; false when there is no such org.
    async fn update_org(&self, org: &OrgRecord, actor: &UserId, at: i64) -> Result<bool, StoreError>;
    /// The account a sign-in with `email` is for: in `org` when given, else the staff
    /// account, else the address's earliest customer account.
    async fn login_account(&self, email: &str, org: Option<&OrgSlug>) -> Result<Option<UserRecord>, StoreError>;
    /// Stores a token (its hash only), recording who issued it.
    async fn insert_token(&self, token: &TokenRecord, actor: Option<&UserId>) -> Result<(), StoreError>;
    /// A token.
    async fn token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError>;
    /// The token whose secret hashes to `secret_hash`, with its owner.
    async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<(TokenRecord, UserRecord)>, StoreError>;
    /// A user's tokens, newest first.
    async fn tokens(&self, user: &UserId) -> Result<Vec<TokenRecord>, StoreError>;
    /// Revokes a user's live token at `at`; false when there is none.
    async fn revoke_token(&self, user: &UserId, token: &str, at: i64) -> Result<bool, StoreError>;
}

/// Who is paged how: on-call schedules, contact methods and notification rules.
#[async_trait]
pub trait OnCall: Send + Sync {
    /// Adds a contact method; a Slack member ID linked already is a duplicate.
    async fn insert_contact_method(&self, method: &ContactMethodRecord) -> Result<(), StoreError>;
    /// A user's contact methods, oldest first.
    async fn contact_methods(&self, user: &UserId) -> Result<Vec<ContactMethodRecord>, StoreError>;
    /// Replaces a user's notification rules: (rule id, method id, seconds after the page).
    async fn set_notification_rules(&self, user: &UserId, rules: &[(String, String, i64)]) -> Result<(), StoreError>;
    /// Removes a user's contact method with the notification rules naming it and its pending
    /// deliveries (cancelled); false when the user has no such method.
    async fn remove_contact_method(&self, user: &UserId, method: &str) -> Result<bool, StoreError>;
    /// A user's notification rules, soonest first.
    async fn notification_rules(&self, user: &UserId) -> Result<Vec<NotificationRuleRecord>, StoreError>;
    /// How the last finished delivery over each contact method of these users ended (methods
    /// never used have none).
    async fn method_outcomes(&self, users: &[UserId]) -> Result<Vec<MethodOutcome>, StoreError>;
    /// Queues a test page as a delivery (an alert, never cancelled by a ticket's state); false
    /// when this test was queued already.
    async fn queue_test_page(&self, test: &TestPage) -> Result<bool, StoreError>;
    /// The staff user linked to this Slack member ID.
    async fn staff_by_slack_member(&self, member: &str) -> Result<Option<UserId>, StoreError>;
    /// Stores a new schedule, recording who created it.
    async fn insert_schedule(&self, schedule: &ScheduleRecord, actor: &UserId) -> Result<(), StoreError>;
    /// A schedule.
    async fn schedule(&self, id: &str) -> Result<Option<ScheduleRecord>, StoreError>;
    /// Every schedule, by id.
    async fn schedules(&self) -> Result<Vec<ScheduleRecord>, StoreError>;
    /// Deletes a schedule; false when there is none.
    async fn delete_schedule(&self, id: &str) -> Result<bool, StoreError>;
    /// Replaces a schedule's written form if it is still at `version`; false otherwise.
    async fn update_schedule(&self, id: &str, spec: &ScheduleSpec, version: i64) -> Result<bool, StoreError>;
    /// Sets a user's calendar-feed secret hash.
    async fn set_user_ics_secret(&self, user: &UserId, hash: &str) -> Result<(), StoreError>;
    /// A user's calendar-feed secret hash.
    async fn user_ics_secret(&self, user: &UserId) -> Result<Option<String>, StoreError>;
}

/// Files attached to tickets.
#[async_trait]
pub trait Files: Send + Sync {
    /// Stores an attachment with its bytes.
    async fn insert_attachment(&self, attachment: &AttachmentRecord, bytes: &[u8]) -> Result<(), StoreError>;
    /// A ticket's attachments, oldest first (without their bytes).
    async fn attachments(&self, ticket: &TicketId) -> Result<Vec<AttachmentRecord>, StoreError>;
    /// An attachment with its bytes.
    async fn attachment(&self, id: &str) -> Result<Option<(AttachmentRecord, Vec<u8>)>, StoreError>;
}

/// The general inquiries of "Contact us".
#[async_trait]
pub trait Inquiries: Send + Sync {
    /// Stores a new inquiry.
    async fn insert_inquiry(&self, inquiry: &InquiryRecord) -> Result<(), StoreError>;
    /// An inquiry.
    async fn inquiry(&self, id: &str) -> Result<Option<InquiryRecord>, StoreError>;
    /// Up to `limit` inquiries: open ones by due time, or (with `answered`) answered ones,
    /// newest first.
    async fn inquiries(&self, answered: bool, limit: i64) -> Result<Vec<InquiryRecord>, StoreError>;
    /// Records the answer to an open inquiry at `at` and posts `letter`, the answer's mail, to
    /// the letters' outbox, in one transaction; false (nothing written) when none is open.
    async fn answer_inquiry(
        &self,
        id: &str,
        by: &UserId,
        answer: &str,
        at: i64,
        letter: &Letter,
    ) -> Result<bool, StoreError>;
}

/// How long a failed sign-in holds its key back, by the number of failures in a row.
pub type Backoff = fn(i64) -> i64;

/// The shared counters and one-time records that protect the doors.
#[async_trait]
pub trait Safeguards: Send + Sync {
    /// The setting `key`, storing `proposed` first if it has none.
    async fn setting_or_init(&self, key: &str, proposed: &str) -> Result<String, StoreError>;
    /// Counts an attempt under `key` in a fixed window of `window` seconds: (window start,
    /// attempts in it including this one).
    async fn count_attempt(&self, key: &str, now: i64, window: i64) -> Result<(i64, i64), StoreError>;
    /// Records a signed request as seen until `expires_at`; false when it was seen already.
    async fn first_sighting(&self, key: &str, now: i64, expires_at: i64) -> Result<bool, StoreError>;
    /// Until when sign-ins under `key` are held back; `None` when they are not.
    async fn login_locked_until(&self, key: &str, now: i64) -> Result<Option<i64>, StoreError>;
    /// Counts a failed sign-in under `key` and holds it back for `backoff(failures)` seconds;
    /// failures older than `forget_after` seconds are forgotten first.
    async fn record_login_failure(
        &self,
        key: &str,
        now: i64,
        forget_after: i64,
        backoff: Backoff,
    ) -> Result<i64, StoreError>;
    /// Forgets the failed sign-ins under `key`.
    async fn clear_login_failures(&self, key: &str) -> Result<(), StoreError>;
    /// Claims an idempotency key under the fresh `claim` (see [`KeyClaim`]); an in-progress
    /// claim older than `lease` seconds that wrote nothing, or a finished one older than
    /// `expiry`, is taken over.
    #[allow(clippy::too_many_arguments)]
    async fn claim_idempotent(
        &self,
        user: &UserId,
        key: &str,
        request_hash: &str,
        claim: &str,
        now: i64,
        lease: i64,
        expiry: i64,
    ) -> Result<KeyClaim, StoreError>;
    /// Records the final response of a key, if `claim` still holds it.
    async fn finish_idempotent(
        &self,
        user: &UserId,
        key: &str,
        claim: &str,
        status: i64,
        body: &str,
        redacted: bool,
    ) -> Result<(), StoreError>;
    /// Releases a key whose request ended without a final outcome, if `claim` still holds
    /// it: one that wrote nothing; or, `refused`, one answered "not now" (409, 429…), whose
    /// only write was the record of that refusal — a retry asks again.
    async fn release_idempotent(&self, user: &UserId, key: &str, claim: &str, refused: bool) -> Result<(), StoreError>;
    /// Forgets idempotency keys claimed at or before `before`; answers how many.
    async fn purge_idempotency_keys(&self, before: i64) -> Result<u64, StoreError>;
}

/// The org's active admins: who its welcome packet, its published reports and its quarterly
/// reviews are mailed to.
pub async fn org_admins(accounts: &dyn Accounts, org: &OrgSlug) -> Result<Vec<UserRecord>, StoreError> {
    let users = accounts.users(Some(org)).await?;
    Ok(users.into_iter().filter(|u| u.role == UserRole::OrgAdmin && u.deactivated_at.is_none()).collect())
}

/// The display names of the people `ids` name, by id (each read once, whoever else exists):
/// a view that names people asks for those it shows.
pub async fn names<'a>(
    accounts: &dyn Accounts,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<HashMap<String, String>, StoreError> {
    let ids: BTreeSet<&str> = ids.into_iter().collect();
    let ids: Vec<UserId> = ids.into_iter().map(UserId::from).collect();
    Ok(accounts.names(&ids).await?.into_iter().map(|(id, name)| (id.0, name)).collect())
}
