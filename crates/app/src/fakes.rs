//! In-memory ports for the desks' unit tests: the real [`Desk`] over a [`MemoryStore`] and a
//! [`VirtualClock`] changes tickets, and a [`World`] holds the orgs, people, contact
//! methods, counters and inquiries the desks read. A method no test needs answers an error
//! that names it, so a desk reaching further than its test set up fails loudly.

// The stubs answer the same error whatever they are asked.
#![allow(unused_variables)]

use crate::accounts::letter::AccountLetter;
use crate::outcome::{AppError, Recorded};
use crate::ports::{Accounts, Backlog, Backoff, Commands, Files, Inquiries, OnCall, Queries, Safeguards};
use crate::records::{
    AttachmentRecord, CommentRecord, ContactMethodRecord, DeliveryRecord, InquiryRecord, InvitationRecord, KeyClaim,
    Letter, MethodOutcome, NotificationRuleRecord, OrgRecord, ScheduleRecord, SessionRecord, TestPage, TicketFilter,
    TicketRecord, TimelineRecord, TokenRecord, UserRecord,
};
use crate::store::{Extras, NewComment, StoreError, StoredTicket};
use crate::{Desk, MemoryStore, VirtualClock};
use async_trait::async_trait;
use jiff::Timestamp;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use stringer_core::contract::Contract;
use stringer_core::event::{Event, EventKind};
use stringer_core::ids::{Deployment, OrgSlug, Severity, TicketId, TicketKey, Tier, UserId};
use stringer_core::oncall::ScheduleSpec;

/// Claims from an in-memory inbox as the store does: items not settled whose lease has
/// ended, in the order stored, at most `limit`, each leased until `lease_until` with its
/// attempt counted. `rows` yields each item's lease, whether it is settled, and its record.
pub fn claim_held<'a, R: Clone + 'a>(
    rows: impl Iterator<Item = (&'a mut Option<i64>, bool, &'a mut R)>,
    (now, lease_until, limit): (i64, i64, i64),
    attempts: fn(&mut R) -> &mut i64,
) -> Vec<R> {
    rows.filter(|(leased, settled, _)| !settled && leased.is_none_or(|until| until <= now))
        .take(limit.max(0) as usize)
        .map(|(leased, _, record)| {
            *leased = Some(lease_until);
            *attempts(record) += 1;
            record.clone()
        })
        .collect()
}

/// The error of a port method no test set up.
pub fn absent(method: &str) -> StoreError {
    StoreError::Backend(format!("{method} is not part of this test's world"))
}

/// Everything the desks under test read and change, in memory.
pub struct World {
    /// The real Desk, over memory and a virtual clock.
    pub desk: Desk<MemoryStore, VirtualClock>,
    /// Orgs, by slug.
    pub orgs: Mutex<Vec<OrgRecord>>,
    /// Users.
    pub users: Mutex<Vec<UserRecord>>,
    /// Contact methods.
    pub methods: Mutex<Vec<ContactMethodRecord>>,
    /// Attempts counted per key (the fixed window is not modelled: every attempt counts).
    pub attempts: Mutex<HashMap<String, i64>>,
    /// Inquiries, in arrival order.
    pub inquiries: Mutex<Vec<InquiryRecord>>,
    /// Letters posted (with the answers of inquiries).
    pub letters: Mutex<Vec<Letter>>,
    /// Tickets opened through [`Commands::record`], in order (their number is their place
    /// among their org's), with their requesters.
    pub opened: Mutex<Vec<(TicketId, Option<UserId>)>>,
    /// Each opened ticket's number within its org.
    numbers: Mutex<HashMap<TicketId, (OrgSlug, i64)>>,
    /// Comments recorded with changes, with their tickets, in order.
    pub comments: Mutex<Vec<(TicketId, CommentRecord)>>,
    /// Files kept with tickets.
    pub attachments: Mutex<Vec<AttachmentRecord>>,
    /// On-call schedules.
    pub schedules: Mutex<Vec<ScheduleRecord>>,
    /// Notification rules, with their people.
    pub rules: Mutex<Vec<(UserId, NotificationRuleRecord)>>,
    /// How each contact method's last delivery went.
    pub outcomes: Mutex<Vec<MethodOutcome>>,
    /// Test pages queued.
    pub tests: Mutex<Vec<TestPage>>,
    /// Invitations, each with the mail written with it.
    pub invitations: Mutex<Vec<(InvitationRecord, AccountLetter)>>,
    /// Settings, by key.
    pub settings: Mutex<HashMap<String, String>>,
    /// API tokens.
    pub tokens: Mutex<Vec<TokenRecord>>,
}

impl World {
    /// An empty world under `contract` at `now`.
    pub fn new(contract: Contract, now: Timestamp) -> Arc<World> {
        Arc::new(World {
            desk: Desk::new(Arc::new(contract), MemoryStore::new(), VirtualClock::new(now)),
            orgs: Mutex::default(),
            users: Mutex::default(),
            methods: Mutex::default(),
            attempts: Mutex::default(),
            inquiries: Mutex::default(),
            letters: Mutex::default(),
            opened: Mutex::default(),
            numbers: Mutex::default(),
            comments: Mutex::default(),
            attachments: Mutex::default(),
            schedules: Mutex::default(),
            rules: Mutex::default(),
            outcomes: Mutex::default(),
            tests: Mutex::default(),
            invitations: Mutex::default(),
            settings: Mutex::default(),
            tokens: Mutex::default(),
        })
    }

    /// Adds an org (to the Desk's store too).
    pub async fn add_org(&self, org: OrgRecord) {
        self.desk.put_org(org.profile()).await.expect("an org is stored in memory");
        self.orgs.lock().unwrap().push(org);
    }

    /// Adds a user.
    pub fn add_user(&self, user: UserRecord) {
        self.users.lock().unwrap().push(user);
    }

    /// The user named `name` (or of that id), signed in with `scopes`.
    pub fn signed_in(&self, name: &str, scopes: stringer_core::access::Scopes) -> crate::act::Principal {
        let users = self.users.lock().unwrap();
        let user =
            users.iter().find(|u| u.name == name || u.id.as_str() == name).cloned().expect("a user of the world");
        crate::act::Principal::new(user, scopes, crate::act::Proof::Session).expect("an active user")
    }

    /// The tickets opened, in order, as they are now.
    pub async fn opened_tickets(&self) -> Vec<TicketRecord> {
        let ids: Vec<TicketId> = self.opened.lock().unwrap().iter().map(|(id, _)| id.clone()).collect();
        let mut found = Vec::new();
        for id in ids {
            found.push(Queries::ticket(self, &id).await.unwrap().expect("an opened ticket is stored").0);
        }
        found
    }

    /// The attempts counted under `key`.
    pub fn attempts(&self, key: &str) -> i64 {
        self.attempts.lock().unwrap().get(key).copied().unwrap_or(0)
    }

    fn record_of(&self, id: &TicketId, stored: StoredTicket) -> TicketRecord {
        let opened = self.opened.lock().unwrap();
        let place = opened.iter().position(|(t, _)| t == id);
        TicketRecord {
            id: id.clone(),
            org: stored.ticket.org.clone(),
            number: self.numbers.lock().unwrap().get(id).map_or(0, |(_, n)| *n),
            requester: place.and_then(|p| opened[p].1.clone()),
            subject: String::new(),
            description: String::new(),
            state: stored.ticket,
            version: stored.version as i64,
            updated_at: 0,
        }
    }

    /// Keeps the comment a recorded change carried.
    fn keep_comment(&self, events: &[Event], comment: Option<NewComment>) {
        let (Some(first), Some(c)) = (events.first(), comment) else { return };
        let record = CommentRecord {
            id: c.id,
            author: c.author,
            public: c.public,
            body: c.body,
            created_at: first.at.as_second(),
        };
        self.comments.lock().unwrap().push((first.ticket.clone(), record));
    }

    /// The comments of a ticket, in order.
    pub fn comments_of(&self, ticket: &TicketId) -> Vec<CommentRecord> {
        self.comments.lock().unwrap().iter().filter(|(t, _)| t == ticket).map(|(_, c)| c.clone()).collect()
    }

    fn deployment(&self, org: &OrgSlug) -> Deployment {
        self.orgs.lock().unwrap().iter().find(|o| &o.slug == org).map_or(Deployment::Shared, |o| o.deployment)
    }
}

/// An org of `tier` named after its slug.
pub fn org(slug: &str, tier: &str) -> OrgRecord {
    OrgRecord {
        slug: OrgSlug::from(slug),
        name: slug.to_uppercase(),
        tier: Tier::from(tier),
        deployment: Deployment::Shared,
        tam: None,
        named_engineers: Vec::new(),
        channel: None,
        email_tag: slug.into(),
        created_at: 0,
    }
}

/// A well-formed user id made of `name` (the account desk refuses any other shape).
pub fn uid(name: &str) -> String {
    format!("usr_{:0>26}", name.to_uppercase())
}

/// An active user named `name`, known by [`uid`], at `name@example.com`.
pub fn person(name: &str, org: Option<&str>, role: stringer_core::ids::UserRole) -> UserRecord {
    UserRecord { name: name.into(), email: format!("{name}@example.com"), ..user(&uid(name), org, role) }
}

/// An active user of `org` (staff with `None`) in `role`.
pub fn user(id: &str, org: Option<&str>, role: stringer_core::ids::UserRole) -> UserRecord {
    UserRecord {
        id: UserId::from(id),
        email: format!("{id}@example.com"),
        name: id.to_string(),
        role,
        org: org.map(OrgSlug::from),
        federal_cleared: false,
        password_hash: None,
        created_at: 0,
        time_zone: None,
        deactivated_at: None,
    }
}

#[async_trait]
impl Commands for World {
    fn contract(&self) -> &Contract {
        self.desk.contract()
    }

    fn now(&self) -> Timestamp {
        Commands::now(&self.desk)
    }

    fn now_precise(&self) -> Timestamp {
        Commands::now_precise(&self.desk)
    }

    async fn record(&self, events: Vec<Event>, extras: Extras) -> Result<Recorded, AppError> {
        let requester = extras.details.as_ref().and_then(|d| d.requester.clone());
        let opens: Vec<(TicketId, Option<UserId>, OrgSlug)> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Opened { org, .. } => Some((e.ticket.clone(), requester.clone(), org.clone())),
                _ => None,
            })
            .collect();
        let comment = extras.comment.clone();
        let recorded = Commands::record(&self.desk, events.clone(), extras).await?;
        for (id, requester, org) in opens {
            let mut numbers = self.numbers.lock().unwrap();
            let number = numbers.values().filter(|(o, _)| o == &org).count() as i64 + 1;
            numbers.insert(id.clone(), (org, number));
            self.opened.lock().unwrap().push((id, requester));
        }
        self.keep_comment(&events, comment);
        Ok(recorded)
    }

    async fn record_read(
        &self,
        read: crate::store::StoredTicket,
        events: Vec<Event>,
        extras: Extras,
    ) -> Result<Recorded, AppError> {
        let comment = extras.comment.clone();
        let recorded = Commands::record_read(&self.desk, read, events.clone(), extras).await?;
        self.keep_comment(&events, comment);
        Ok(recorded)
    }

    async fn on_call(&self, org: &OrgSlug, at: Timestamp) -> Result<Vec<UserId>, AppError> {
        Commands::on_call(&self.desk, org, at).await
    }

    async fn dial_order(
        &self,
        org: &OrgSlug,
        tier: &Tier,
        severity: &Severity,
        at: Timestamp,
    ) -> Result<Vec<UserId>, AppError> {
        Commands::dial_order(&self.desk, org, tier, severity, at).await
    }
}

#[async_trait]
impl Queries for World {
    async fn ping(&self) -> Result<(), StoreError> {
        Err(absent("ping"))
    }

    async fn ticket(&self, id: &TicketId) -> Result<Option<(TicketRecord, Deployment)>, StoreError> {
        let Some(stored) = crate::Store::ticket(self.desk.store(), id).await? else { return Ok(None) };
        let deployment = self.deployment(&stored.ticket.org);
        Ok(Some((self.record_of(id, stored), deployment)))
    }

    async fn ticket_by_key(&self, key: &TicketKey) -> Result<Option<(TicketRecord, Deployment)>, StoreError> {
        let ids: Vec<TicketId> = self.opened.lock().unwrap().iter().map(|(id, _)| id.clone()).collect();
        for id in ids {
            if let Some(found) = Queries::ticket(self, &id).await?
                && found.0.key() == *key
            {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    async fn tickets(&self, filter: &TicketFilter) -> Result<Vec<TicketRecord>, StoreError> {
        let ids: Vec<TicketId> = self.opened.lock().unwrap().iter().map(|(id, _)| id.clone()).collect();
        let mut found = Vec::new();
        for id in ids {
            let Some(stored) = crate::Store::ticket(self.desk.store(), &id).await? else { continue };
            let t = self.record_of(&id, stored);
            let org = filter.org.as_ref().is_none_or(|o| o == &t.org);
            let severity = filter.severity.as_ref().is_none_or(|s| s == &t.state.severity);
            let open = !filter.unresolved || t.state.status != stringer_core::ticket::Status::Resolved;
            if org && severity && open {
                found.push(t);
            }
        }
        found.truncate(filter.limit.max(0) as usize);
        Ok(found)
    }

    async fn comments(&self, ticket: &TicketId) -> Result<Vec<CommentRecord>, StoreError> {
        Ok(self.comments_of(ticket))
    }

    async fn timeline(&self, ticket: &TicketId, after: i64, limit: i64) -> Result<Vec<TimelineRecord>, StoreError> {
        // The world keeps no timeline records: the Desk keeps its own (see `MemoryStore`).
        Ok(Vec::new())
    }

    async fn deliveries_to(
        &self,
        user: &UserId,
        limit: i64,
    ) -> Result<Vec<(DeliveryRecord, TicketRecord)>, StoreError> {
        Err(absent("deliveries_to"))
    }

    async fn deliveries(&self, ticket: &TicketId) -> Result<Vec<DeliveryRecord>, StoreError> {
        // Nothing is delivered in this world.
        Ok(Vec::new())
    }

    async fn open_tickets_by_sla_state(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Err(absent("open_tickets_by_sla_state"))
    }

    async fn timeline_mark(&self) -> Result<i64, StoreError> {
        Err(absent("timeline_mark"))
    }

    async fn backlog(&self, now: i64) -> Result<Backlog, StoreError> {
        Err(absent("backlog"))
    }
}

#[async_trait]
impl Accounts for World {
    async fn insert_org(&self, org: &OrgRecord, actor: Option<&UserId>) -> Result<(), StoreError> {
        if self.orgs.lock().unwrap().iter().any(|o| o.slug == org.slug) {
            return Err(StoreError::Duplicate(format!("org {}", org.slug)));
        }
        self.add_org(org.clone()).await;
        Ok(())
    }

    async fn org(&self, slug: &OrgSlug) -> Result<Option<OrgRecord>, StoreError> {
        Ok(self.orgs.lock().unwrap().iter().find(|o| &o.slug == slug).cloned())
    }

    async fn org_by_email_tag(&self, tag: &str) -> Result<Option<OrgRecord>, StoreError> {
        Ok(self.orgs.lock().unwrap().iter().find(|o| o.email_tag.eq_ignore_ascii_case(tag)).cloned())
    }

    async fn orgs(&self) -> Result<Vec<OrgRecord>, StoreError> {
        Ok(self.orgs.lock().unwrap().clone())
    }

    async fn insert_user(&self, user: &UserRecord, actor: Option<&UserId>) -> Result<(), StoreError> {
        self.add_user(user.clone());
        Ok(())
    }

    async fn user(&self, id: &UserId) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.users.lock().unwrap().iter().find(|u| &u.id == id).cloned())
    }

    async fn users(&self, org: Option<&OrgSlug>) -> Result<Vec<UserRecord>, StoreError> {
        Ok(self
            .users
            .lock()
            .unwrap()
            .iter()
            .filter(|u| org.is_none_or(|o| u.org.as_ref() == Some(o)))
            .cloned()
            .collect())
    }

    async fn active_staff(&self) -> Result<Vec<UserRecord>, StoreError> {
        Err(absent("active_staff"))
    }

    async fn names(&self, ids: &[UserId]) -> Result<Vec<(UserId, String)>, StoreError> {
        let users = self.users.lock().unwrap();
        Ok(users.iter().filter(|u| ids.contains(&u.id)).map(|u| (u.id.clone(), u.name.clone())).collect())
    }

    async fn update_user(&self, user: &UserRecord, actor: &UserId, at: i64) -> Result<bool, StoreError> {
        let mut users = self.users.lock().unwrap();
        let Some(stored) = users.iter_mut().find(|u| u.id == user.id) else { return Ok(false) };
        *stored = user.clone();
        Ok(true)
    }

    async fn deactivate_user(&self, user: &UserId, actor: &UserId, at: i64) -> Result<bool, StoreError> {
        let mut users = self.users.lock().unwrap();
        let Some(stored) = users.iter_mut().find(|u| &u.id == user) else { return Ok(false) };
        stored.deactivated_at = stored.deactivated_at.or(Some(at));
        Ok(true)
    }

    async fn insert_password_link(
        &self,
        id: &str,
        user: &UserId,
        purpose: &str,
        now: i64,
        expires_at: i64,
        mail: Option<&AccountLetter>,
    ) -> Result<(), StoreError> {
        Err(absent("insert_password_link"))
    }

    async fn use_password_link(&self, id: &str, hash: &str, now: i64) -> Result<Option<UserId>, StoreError> {
        Err(absent("use_password_link"))
    }

    async fn change_password(
        &self,
        user: &UserId,
        hash: &str,
        keep_session: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        Err(absent("change_password"))
    }

    async fn password_link_usable(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        Err(absent("password_link_usable"))
    }

    async fn address_held_elsewhere(&self, email: &str, org: &OrgSlug) -> Result<bool, StoreError> {
        let users = self.users.lock().unwrap();
        Ok(users.iter().any(|u| u.email.eq_ignore_ascii_case(email) && u.org.as_ref() != Some(org)))
    }

    async fn insert_invitation(&self, invitation: &InvitationRecord, mail: &AccountLetter) -> Result<(), StoreError> {
        self.invitations.lock().unwrap().push((invitation.clone(), mail.clone()));
        Ok(())
    }

    async fn invitation_usable(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        Err(absent("invitation_usable"))
    }

    async fn accept_invitation(
        &self,
        id: &str,
        user: &UserId,
        hash: &str,
        now: i64,
    ) -> Result<Option<UserRecord>, StoreError> {
        Err(absent("accept_invitation"))
    }

    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        Err(absent("insert_session"))
    }

    async fn session(&self, id_hash: &str) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        Err(absent("session"))
    }

    async fn touch_session(&self, id_hash: &str, at: i64) -> Result<(), StoreError> {
        Err(absent("touch_session"))
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        Err(absent("delete_session"))
    }

    async fn update_org(&self, org: &OrgRecord, actor: &UserId, at: i64) -> Result<bool, StoreError> {
        let mut orgs = self.orgs.lock().unwrap();
        let Some(stored) = orgs.iter_mut().find(|o| o.slug == org.slug) else { return Ok(false) };
        *stored = org.clone();
        Ok(true)
    }

    async fn login_account(&self, email: &str, org: Option<&OrgSlug>) -> Result<Option<UserRecord>, StoreError> {
        let users = self.users.lock().unwrap();
        let mut theirs = users.iter().filter(|u| u.email.eq_ignore_ascii_case(email));
        Ok(match org {
            Some(org) => theirs.find(|u| u.org.as_ref() == Some(org)).cloned(),
            // The staff account first, else the earliest customer account.
            None => {
                let all: Vec<&UserRecord> = theirs.collect();
                all.iter().find(|u| u.org.is_none()).or(all.first()).map(|u| (*u).clone())
            }
        })
    }

    async fn insert_token(&self, token: &TokenRecord, actor: Option<&UserId>) -> Result<(), StoreError> {
        self.tokens.lock().unwrap().push(token.clone());
        Ok(())
    }

    async fn token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self.tokens.lock().unwrap().iter().find(|t| t.id == id).cloned())
    }

    async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<(TokenRecord, UserRecord)>, StoreError> {
        Err(absent("token_by_hash"))
    }

    async fn tokens(&self, user: &UserId) -> Result<Vec<TokenRecord>, StoreError> {
        Ok(self.tokens.lock().unwrap().iter().filter(|t| &t.user_id == user).cloned().collect())
    }

    async fn revoke_token(&self, user: &UserId, token: &str, at: i64) -> Result<bool, StoreError> {
        let mut tokens = self.tokens.lock().unwrap();
        let live = tokens.iter_mut().find(|t| &t.user_id == user && t.id == token && t.revoked_at.is_none());
        let Some(live) = live else { return Ok(false) };
        live.revoked_at = Some(at);
        Ok(true)
    }
}

#[async_trait]
impl OnCall for World {
    async fn insert_contact_method(&self, method: &ContactMethodRecord) -> Result<(), StoreError> {
        self.methods.lock().unwrap().push(method.clone());
        Ok(())
    }

    async fn contact_methods(&self, user: &UserId) -> Result<Vec<ContactMethodRecord>, StoreError> {
        Ok(self.methods.lock().unwrap().iter().filter(|m| &m.user_id == user).cloned().collect())
    }

    async fn set_notification_rules(&self, user: &UserId, rules: &[(String, String, i64)]) -> Result<(), StoreError> {
        let mut stored = self.rules.lock().unwrap();
        stored.retain(|(u, _)| u != user);
        stored.extend(rules.iter().map(|(id, method, after)| {
            let rule = NotificationRuleRecord { id: id.clone(), method_id: method.clone(), after_seconds: *after };
            (user.clone(), rule)
        }));
        Ok(())
    }

    async fn remove_contact_method(&self, user: &UserId, method: &str) -> Result<bool, StoreError> {
        let mut methods = self.methods.lock().unwrap();
        let before = methods.len();
        methods.retain(|m| !(&m.user_id == user && m.id == method));
        self.rules.lock().unwrap().retain(|(u, r)| !(u == user && r.method_id == method));
        Ok(methods.len() < before)
    }

    async fn notification_rules(&self, user: &UserId) -> Result<Vec<NotificationRuleRecord>, StoreError> {
        let mut rules: Vec<NotificationRuleRecord> =
            self.rules.lock().unwrap().iter().filter(|(u, _)| u == user).map(|(_, r)| r.clone()).collect();
        rules.sort_by_key(|r| r.after_seconds);
        Ok(rules)
    }

    async fn method_outcomes(&self, users: &[UserId]) -> Result<Vec<MethodOutcome>, StoreError> {
        let methods = self.methods.lock().unwrap();
        let theirs = |o: &&MethodOutcome| methods.iter().any(|m| m.id == o.method_id && users.contains(&m.user_id));
        Ok(self.outcomes.lock().unwrap().iter().filter(theirs).cloned().collect())
    }

    async fn queue_test_page(&self, test: &TestPage) -> Result<bool, StoreError> {
        let mut tests = self.tests.lock().unwrap();
        if tests.iter().any(|t| t.id == test.id) {
            return Ok(false);
        }
        tests.push(test.clone());
        Ok(true)
    }

    async fn staff_by_slack_member(&self, member: &str) -> Result<Option<UserId>, StoreError> {
        Err(absent("staff_by_slack_member"))
    }

    async fn insert_schedule(&self, schedule: &ScheduleRecord, actor: &UserId) -> Result<(), StoreError> {
        self.schedules.lock().unwrap().push(schedule.clone());
        Ok(())
    }

    async fn schedule(&self, id: &str) -> Result<Option<ScheduleRecord>, StoreError> {
        Ok(self.schedules.lock().unwrap().iter().find(|s| s.id == id).cloned())
    }

    async fn schedules(&self) -> Result<Vec<ScheduleRecord>, StoreError> {
        Ok(self.schedules.lock().unwrap().clone())
    }

    async fn delete_schedule(&self, id: &str) -> Result<bool, StoreError> {
        let mut schedules = self.schedules.lock().unwrap();
        let before = schedules.len();
        schedules.retain(|s| s.id != id);
        Ok(schedules.len() < before)
    }

    async fn update_schedule(&self, id: &str, spec: &ScheduleSpec, version: i64) -> Result<bool, StoreError> {
        let mut schedules = self.schedules.lock().unwrap();
        let Some(s) = schedules.iter_mut().find(|s| s.id == id && s.version == version) else { return Ok(false) };
        s.spec = spec.clone();
        s.version += 1;
        Ok(true)
    }

    async fn set_user_ics_secret(&self, user: &UserId, hash: &str) -> Result<(), StoreError> {
        Err(absent("set_user_ics_secret"))
    }

    async fn user_ics_secret(&self, user: &UserId) -> Result<Option<String>, StoreError> {
        Err(absent("user_ics_secret"))
    }
}

#[async_trait]
impl Files for World {
    async fn insert_attachment(&self, attachment: &AttachmentRecord, bytes: &[u8]) -> Result<(), StoreError> {
        self.attachments.lock().unwrap().push(attachment.clone());
        Ok(())
    }

    async fn attachments(&self, ticket: &TicketId) -> Result<Vec<AttachmentRecord>, StoreError> {
        Ok(self.attachments.lock().unwrap().iter().filter(|a| &a.ticket == ticket).cloned().collect())
    }

    async fn attachment(&self, id: &str) -> Result<Option<(AttachmentRecord, Vec<u8>)>, StoreError> {
        Err(absent("attachment"))
    }
}

#[async_trait]
impl Safeguards for World {
    async fn setting_or_init(&self, key: &str, proposed: &str) -> Result<String, StoreError> {
        Ok(self.settings.lock().unwrap().entry(key.to_string()).or_insert_with(|| proposed.to_string()).clone())
    }

    async fn count_attempt(&self, key: &str, now: i64, window: i64) -> Result<(i64, i64), StoreError> {
        let _ = (now, window);
        let mut attempts = self.attempts.lock().unwrap();
        let n = attempts.entry(key.to_string()).or_insert(0);
        *n += 1;
        Ok((0, *n))
    }

    async fn first_sighting(&self, key: &str, now: i64, expires_at: i64) -> Result<bool, StoreError> {
        Err(absent("first_sighting"))
    }

    async fn login_locked_until(&self, key: &str, now: i64) -> Result<Option<i64>, StoreError> {
        Err(absent("login_locked_until"))
    }

    async fn record_login_failure(
        &self,
        key: &str,
        now: i64,
        forget_after: i64,
        backoff: Backoff,
    ) -> Result<i64, StoreError> {
        Err(absent("record_login_failure"))
    }

    async fn clear_login_failures(&self, key: &str) -> Result<(), StoreError> {
        Err(absent("clear_login_failures"))
    }

    async fn claim_idempotent(
        &self,
        user: &UserId,
        key: &str,
        request_hash: &str,
        claim: &str,
        now: i64,
        lease: i64,
        expiry: i64,
    ) -> Result<KeyClaim, StoreError> {
        Err(absent("claim_idempotent"))
    }

    async fn finish_idempotent(
        &self,
        user: &UserId,
        key: &str,
        claim: &str,
        status: i64,
        body: &str,
        redacted: bool,
    ) -> Result<(), StoreError> {
        Err(absent("finish_idempotent"))
    }

    async fn release_idempotent(&self, user: &UserId, key: &str, claim: &str, refused: bool) -> Result<(), StoreError> {
        Err(absent("release_idempotent"))
    }

    async fn purge_idempotency_keys(&self, before: i64) -> Result<u64, StoreError> {
        Err(absent("purge_idempotency_keys"))
    }
}

#[async_trait]
impl Inquiries for World {
    async fn insert_inquiry(&self, inquiry: &InquiryRecord) -> Result<(), StoreError> {
        self.inquiries.lock().unwrap().push(inquiry.clone());
        Ok(())
    }

    async fn inquiry(&self, id: &str) -> Result<Option<InquiryRecord>, StoreError> {
        Ok(self.inquiries.lock().unwrap().iter().find(|i| i.id == id).cloned())
    }

    async fn inquiries(&self, answered: bool, limit: i64) -> Result<Vec<InquiryRecord>, StoreError> {
        Err(absent("inquiries"))
    }

    async fn answer_inquiry(
        &self,
        id: &str,
        by: &UserId,
        answer: &str,
        at: i64,
        letter: &Letter,
    ) -> Result<bool, StoreError> {
        let mut inquiries = self.inquiries.lock().unwrap();
        let Some(open) = inquiries.iter_mut().find(|i| i.id == id && i.answered_at.is_none()) else { return Ok(false) };
        open.answered_at = Some(at);
        open.answered_by = Some(by.clone());
        open.answer = Some(answer.to_string());
        self.letters.lock().unwrap().push(letter.clone());
        Ok(true)
    }
}

/// Implements the outbox's `Sendings` of `$item` for a fake that sends nothing: every call
/// answers that the fake lacks it.
macro_rules! no_sendings {
    ($fake:ty, $item:ty) => {
        #[async_trait::async_trait]
        impl crate::outbox::Sendings<$item> for $fake {
            async fn claim(
                &self,
                _: i64,
                _: i64,
                _: &crate::outbox::Room,
            ) -> Result<Vec<$item>, crate::store::StoreError> {
                Err(crate::fakes::absent("claim"))
            }
            async fn sent(&self, _: &str, _: i64, _: Option<&str>) -> Result<(), crate::store::StoreError> {
                Err(crate::fakes::absent("sent"))
            }
            async fn later(&self, _: &str, _: i64, _: i64, _: &str) -> Result<(), crate::store::StoreError> {
                Err(crate::fakes::absent("later"))
            }
            async fn given_up(&self, _: &str, _: i64, _: &str) -> Result<(), crate::store::StoreError> {
                Err(crate::fakes::absent("given_up"))
            }
        }
    };
}
pub(crate) use no_sendings;

mod accounts;
mod alerts;
mod chat;
mod ledger;
mod mail;
mod outside;
mod paging;
mod status;

pub use accounts::{Elsewhere, MemoryPhoneBook, Sms, account_desk, account_desk_with, verdict};
pub use alerts::{Inline, MemoryAlerts};
pub use chat::{MemoryChat, Slack};
pub use ledger::MemoryLedger;
pub use mail::{MemoryMailroom, Post};
pub use outside::Relay;
pub use paging::Checks;
pub use status::{Pages, component, page};
