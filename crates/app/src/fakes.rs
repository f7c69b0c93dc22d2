//! In-memory ports for the desks' unit tests: the real [`Desk`] over a [`MemoryStore`] and a
//! [`VirtualClock`] changes tickets, and a [`World`] holds the orgs, people, contact
//! methods, counters and inquiries the desks read. A method no test needs answers an error
//! that names it, so a desk reaching further than its test set up fails loudly.

// The stubs answer the same error whatever they are asked.
#![allow(unused_variables)]

use crate::accounts::letter::AccountLetter;
use crate::alerts::{AlertRecord, Alerts, ChangeRecord, IntegrationKey, Signal, SignalOutcome, SignalRecord};
use crate::inbox::{Inbox, Runner, Work};
use crate::outcome::{AppError, Recorded};
use crate::ports::{Accounts, Backlog, Backoff, Commands, Files, Inquiries, OnCall, Queries, Safeguards};
use crate::records::{
    AttachmentRecord, CommentRecord, ContactMethodRecord, DeliveryRecord, InquiryRecord, InvitationRecord, KeyClaim,
    Letter, MethodOutcome, NotificationRuleRecord, OrgRecord, ScheduleRecord, SessionRecord, TestPage, TicketFilter,
    TicketRecord, TimelineRecord, TokenRecord, UserRecord,
};
use crate::status::subscribers::{NoticeRecord, SubscriberRecord};
use crate::status::{ComponentRecord, IncidentRecord, PageRecord, StatusChange, StatusPages};
use crate::store::{Extras, StoreError, StoredTicket};
use crate::{Desk, MemoryStore, VirtualClock};
use async_trait::async_trait;
use jiff::Timestamp;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use stringer_core::contract::Contract;
use stringer_core::event::{Event, EventKind};
use stringer_core::ids::{Deployment, OrgSlug, Severity, TicketId, TicketKey, Tier, UserId};
use stringer_core::oncall::ScheduleSpec;
use stringer_core::status::{ComponentStatus, StatusInterval};

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
    /// Tickets opened through [`Commands::record`], in order (their number is their place),
    /// with their requesters.
    pub opened: Mutex<Vec<(TicketId, Option<UserId>)>>,
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
            number: place.map_or(0, |p| p as i64 + 1),
            requester: place.and_then(|p| opened[p].1.clone()),
            subject: String::new(),
            description: String::new(),
            state: stored.ticket,
            version: stored.version as i64,
            updated_at: 0,
        }
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
        slack_channel: None,
        email_tag: slug.into(),
        created_at: 0,
    }
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
        let opens: Vec<(TicketId, Option<UserId>)> = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Opened { .. }))
            .map(|e| (e.ticket.clone(), requester.clone()))
            .collect();
        let recorded = Commands::record(&self.desk, events, extras).await?;
        self.opened.lock().unwrap().extend(opens);
        Ok(recorded)
    }

    async fn record_read(
        &self,
        read: crate::store::StoredTicket,
        events: Vec<Event>,
        extras: Extras,
    ) -> Result<Recorded, AppError> {
        Commands::record_read(&self.desk, read, events, extras).await
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
        Err(absent("ticket_by_key"))
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
        Err(absent("comments"))
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
        Err(absent("insert_org"))
    }

    async fn org(&self, slug: &OrgSlug) -> Result<Option<OrgRecord>, StoreError> {
        Ok(self.orgs.lock().unwrap().iter().find(|o| &o.slug == slug).cloned())
    }

    async fn org_by_email_tag(&self, tag: &str) -> Result<Option<OrgRecord>, StoreError> {
        Err(absent("org_by_email_tag"))
    }

    async fn orgs(&self) -> Result<Vec<OrgRecord>, StoreError> {
        Ok(self.orgs.lock().unwrap().clone())
    }

    async fn insert_user(&self, user: &UserRecord, actor: Option<&UserId>) -> Result<(), StoreError> {
        Err(absent("insert_user"))
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
        Err(absent("update_user"))
    }

    async fn deactivate_user(&self, user: &UserId, actor: &UserId, at: i64) -> Result<bool, StoreError> {
        Err(absent("deactivate_user"))
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
        Err(absent("address_held_elsewhere"))
    }

    async fn insert_invitation(&self, invitation: &InvitationRecord, mail: &AccountLetter) -> Result<(), StoreError> {
        Err(absent("insert_invitation"))
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
        Err(absent("update_org"))
    }

    async fn login_account(&self, email: &str, org: Option<&OrgSlug>) -> Result<Option<UserRecord>, StoreError> {
        Err(absent("login_account"))
    }

    async fn insert_token(&self, token: &TokenRecord, actor: Option<&UserId>) -> Result<(), StoreError> {
        Err(absent("insert_token"))
    }

    async fn token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        Err(absent("token"))
    }

    async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<(TokenRecord, UserRecord)>, StoreError> {
        Err(absent("token_by_hash"))
    }

    async fn tokens(&self, user: &UserId) -> Result<Vec<TokenRecord>, StoreError> {
        Err(absent("tokens"))
    }

    async fn revoke_token(&self, user: &UserId, token: &str, at: i64) -> Result<bool, StoreError> {
        Err(absent("revoke_token"))
    }
}

#[async_trait]
impl OnCall for World {
    async fn insert_contact_method(&self, method: &ContactMethodRecord) -> Result<(), StoreError> {
        Err(absent("insert_contact_method"))
    }

    async fn contact_methods(&self, user: &UserId) -> Result<Vec<ContactMethodRecord>, StoreError> {
        Ok(self.methods.lock().unwrap().iter().filter(|m| &m.user_id == user).cloned().collect())
    }

    async fn set_notification_rules(&self, user: &UserId, rules: &[(String, String, i64)]) -> Result<(), StoreError> {
        Err(absent("set_notification_rules"))
    }

    async fn remove_contact_method(&self, user: &UserId, method: &str) -> Result<bool, StoreError> {
        Err(absent("remove_contact_method"))
    }

    async fn notification_rules(&self, user: &UserId) -> Result<Vec<NotificationRuleRecord>, StoreError> {
        Err(absent("notification_rules"))
    }

    async fn method_outcomes(&self, users: &[UserId]) -> Result<Vec<MethodOutcome>, StoreError> {
        Err(absent("method_outcomes"))
    }

    async fn queue_test_page(&self, test: &TestPage) -> Result<bool, StoreError> {
        Err(absent("queue_test_page"))
    }

    async fn staff_by_slack_member(&self, member: &str) -> Result<Option<UserId>, StoreError> {
        Err(absent("staff_by_slack_member"))
    }

    async fn insert_schedule(&self, schedule: &ScheduleRecord, actor: &UserId) -> Result<(), StoreError> {
        Err(absent("insert_schedule"))
    }

    async fn schedule(&self, id: &str) -> Result<Option<ScheduleRecord>, StoreError> {
        Err(absent("schedule"))
    }

    async fn schedules(&self) -> Result<Vec<ScheduleRecord>, StoreError> {
        Err(absent("schedules"))
    }

    async fn delete_schedule(&self, id: &str) -> Result<bool, StoreError> {
        Err(absent("delete_schedule"))
    }

    async fn update_schedule(&self, id: &str, spec: &ScheduleSpec, version: i64) -> Result<bool, StoreError> {
        Err(absent("update_schedule"))
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
        Err(absent("insert_attachment"))
    }

    async fn attachments(&self, ticket: &TicketId) -> Result<Vec<AttachmentRecord>, StoreError> {
        Err(absent("attachments"))
    }

    async fn attachment(&self, id: &str) -> Result<Option<(AttachmentRecord, Vec<u8>)>, StoreError> {
        Err(absent("attachment"))
    }
}

#[async_trait]
impl Safeguards for World {
    async fn setting_or_init(&self, key: &str, proposed: &str) -> Result<String, StoreError> {
        Err(absent("setting_or_init"))
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
            async fn claim(&self, _: i64, _: i64, _: i64) -> Result<Vec<$item>, crate::store::StoreError> {
                Err(crate::fakes::absent("claim"))
            }
            async fn sent(&self, _: &str, _: i64) -> Result<(), crate::store::StoreError> {
                Err(crate::fakes::absent("sent"))
            }
            async fn later(&self, _: &str, _: i64, _: &str) -> Result<(), crate::store::StoreError> {
                Err(crate::fakes::absent("later"))
            }
            async fn given_up(&self, _: &str, _: i64, _: &str) -> Result<(), crate::store::StoreError> {
                Err(crate::fakes::absent("given_up"))
            }
        }
    };
}
pub(crate) use no_sendings;

/// Status pages in memory: pages, their components (statuses changed by
/// [`StatusPages::commit_status`]), incidents, and the integration keys granted leave to set
/// a page's components (page id, key id).
#[derive(Default)]
pub struct Pages {
    /// The pages.
    pub pages: Vec<PageRecord>,
    /// Their components.
    pub components: Mutex<Vec<ComponentRecord>>,
    /// Incidents and maintenances, as last committed.
    pub incidents: Mutex<Vec<IncidentRecord>>,
    /// (page id, integration key id) granted.
    pub grants: Vec<(String, String)>,
}

impl Pages {
    /// The components with their statuses, in order.
    pub fn statuses(&self) -> Vec<(String, &'static str)> {
        self.components.lock().unwrap().iter().map(|c| (c.id.clone(), c.status.as_str())).collect()
    }
}

/// A page named after its id, of `org` (`None`: the platform page).
pub fn page(id: &str, org: Option<&str>) -> PageRecord {
    PageRecord {
        id: id.into(),
        org: org.map(OrgSlug::from),
        name: id.into(),
        host: None,
        time_zone: "UTC".into(),
        created_at: 0,
        updated_at: 0,
    }
}

/// An operational component of `page`, named after its id.
pub fn component(id: &str, page: &str) -> ComponentRecord {
    ComponentRecord {
        id: id.into(),
        page_id: page.into(),
        group_id: None,
        name: id.to_uppercase(),
        description: None,
        position: 0,
        group: false,
        only_show_if_degraded: false,
        showcase: false,
        status: ComponentStatus::Operational,
        alert_key: None,
        created_at: 0,
        updated_at: 0,
    }
}

no_sendings!(Pages, NoticeRecord);

#[async_trait]
impl StatusPages for Pages {
    async fn ensure_page(&self, org: Option<&OrgSlug>, name: &str, at: i64) -> Result<PageRecord, StoreError> {
        Err(absent("ensure_page"))
    }

    async fn page_of(&self, org: Option<&OrgSlug>) -> Result<Option<PageRecord>, StoreError> {
        Ok(self.pages.iter().find(|p| p.org.as_ref() == org).cloned())
    }

    async fn page_by_host(&self, host: &str) -> Result<Option<PageRecord>, StoreError> {
        Err(absent("page_by_host"))
    }

    async fn pages(&self) -> Result<Vec<PageRecord>, StoreError> {
        Ok(self.pages.clone())
    }

    async fn page(&self, id: &str) -> Result<Option<PageRecord>, StoreError> {
        Ok(self.pages.iter().find(|p| p.id == id).cloned())
    }

    async fn update_page(&self, page: &PageRecord) -> Result<(), StoreError> {
        Err(absent("update_page"))
    }

    async fn components(&self, pages: &[String]) -> Result<Vec<ComponentRecord>, StoreError> {
        Ok(self.components.lock().unwrap().iter().filter(|c| pages.contains(&c.page_id)).cloned().collect())
    }

    async fn save_component(&self, component: &ComponentRecord) -> Result<(), StoreError> {
        Err(absent("save_component"))
    }

    async fn delete_component(&self, page: &str, component: &str, at: i64) -> Result<bool, StoreError> {
        Err(absent("delete_component"))
    }

    async fn alert_key_granted(&self, page: &str, key: &str) -> Result<bool, StoreError> {
        Ok(self.grants.iter().any(|(p, k)| p == page && k == key))
    }

    async fn grant_alert_key(&self, page: &str, key: &str, by: Option<&str>, at: i64) -> Result<(), StoreError> {
        Err(absent("grant_alert_key"))
    }

    async fn components_by_alert_key(&self, key: &str) -> Result<Vec<ComponentRecord>, StoreError> {
        let components = self.components.lock().unwrap();
        Ok(components.iter().filter(|c| c.alert_key.as_deref() == Some(key)).cloned().collect())
    }

    async fn intervals(&self, components: &[String], since: i64) -> Result<Vec<(String, StatusInterval)>, StoreError> {
        Err(absent("intervals"))
    }

    async fn incidents(
        &self,
        pages: &[String],
        maintenance: bool,
        limit: i64,
    ) -> Result<Vec<IncidentRecord>, StoreError> {
        Err(absent("incidents"))
    }

    async fn incident(&self, id: &str) -> Result<Option<IncidentRecord>, StoreError> {
        Ok(self.incidents.lock().unwrap().iter().find(|i| i.id == id).cloned())
    }

    async fn incident_of_ticket(&self, ticket: &TicketId) -> Result<Option<IncidentRecord>, StoreError> {
        Ok(self.incidents.lock().unwrap().iter().rev().find(|i| i.ticket.as_ref() == Some(ticket)).cloned())
    }

    async fn due_maintenances(&self, now: i64) -> Result<Vec<IncidentRecord>, StoreError> {
        Err(absent("due_maintenances"))
    }

    async fn commit_status(&self, change: &StatusChange) -> Result<(), StoreError> {
        let mut components = self.components.lock().unwrap();
        for (id, status) in &change.statuses {
            if let Some(c) = components.iter_mut().find(|c| &c.id == id) {
                c.status = *status;
            }
        }
        if let Some(incident) = &change.incident {
            let mut incidents = self.incidents.lock().unwrap();
            incidents.retain(|i| i.id != incident.id);
            incidents.push(incident.clone());
        }
        Ok(())
    }

    async fn add_subscriber(&self, subscriber: &SubscriberRecord) -> Result<(), StoreError> {
        Err(absent("add_subscriber"))
    }

    async fn subscriber_by_token(&self, token_hash: &str) -> Result<Option<SubscriberRecord>, StoreError> {
        Err(absent("subscriber_by_token"))
    }

    async fn subscribers(&self, page: &str) -> Result<Vec<SubscriberRecord>, StoreError> {
        Err(absent("subscribers"))
    }

    async fn confirm_subscriber(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        Err(absent("confirm_subscriber"))
    }

    async fn unsubscribe(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        Err(absent("unsubscribe"))
    }

    async fn reminders_due(&self, now: i64) -> Result<Vec<IncidentRecord>, StoreError> {
        Err(absent("reminders_due"))
    }

    async fn remind(&self, maintenance: &IncidentRecord, at: i64) -> Result<(), StoreError> {
        Err(absent("remind"))
    }
}

/// Runs each key's work of an intake round in turn, on the test's own task.
pub struct Inline;

impl Runner for Inline {
    fn run<T: Send + 'static>(&self, work: Work<T>) -> Work<Option<T>> {
        Box::pin(async move { Some(work.await) })
    }
}

/// One stored signal: the record as claimed, its lease, and what it came to once settled.
struct SignalRow {
    record: SignalRecord,
    leased_until: Option<i64>,
    outcome: Option<SignalOutcome>,
}

/// Integration keys, stored signals and alerts in memory; an alert's ticket is resolved as
/// the [`World`] says.
pub struct MemoryAlerts {
    world: Arc<World>,
    /// The keys.
    pub keys: Mutex<Vec<IntegrationKey>>,
    signals: Mutex<Vec<SignalRow>>,
    /// The alerts, as last finished.
    pub alerts: Mutex<Vec<AlertRecord>>,
}

impl MemoryAlerts {
    /// No keys, signals or alerts; tickets as `world` has them.
    pub fn new(world: Arc<World>) -> MemoryAlerts {
        MemoryAlerts { world, keys: Mutex::default(), signals: Mutex::default(), alerts: Mutex::default() }
    }

    /// What each settled signal came to, in the order stored (`None`: not settled).
    pub fn outcomes(&self) -> Vec<Option<SignalOutcome>> {
        self.signals.lock().unwrap().iter().map(|r| r.outcome.clone()).collect()
    }
}

#[async_trait]
impl Inbox<SignalRecord> for MemoryAlerts {
    async fn claim(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<SignalRecord>, StoreError> {
        let mut rows = self.signals.lock().unwrap();
        let due = rows.iter_mut().filter(|r| r.outcome.is_none() && r.leased_until.is_none_or(|until| until <= now));
        Ok(due
            .take(limit.max(0) as usize)
            .map(|r| {
                r.leased_until = Some(lease_until);
                r.record.attempts += 1;
                r.record.clone()
            })
            .collect())
    }
}

#[async_trait]
impl Alerts for MemoryAlerts {
    async fn insert_key(&self, key: &IntegrationKey) -> Result<(), StoreError> {
        self.keys.lock().unwrap().push(key.clone());
        Ok(())
    }

    async fn key(&self, id: &str) -> Result<Option<IntegrationKey>, StoreError> {
        Ok(self.keys.lock().unwrap().iter().find(|k| k.id == id).cloned())
    }

    async fn key_by_hash(&self, secret_hash: &str) -> Result<Option<IntegrationKey>, StoreError> {
        Ok(self.keys.lock().unwrap().iter().find(|k| k.secret_hash == secret_hash).cloned())
    }

    async fn keys(&self, org: &OrgSlug) -> Result<Vec<IntegrationKey>, StoreError> {
        Ok(self.keys.lock().unwrap().iter().rev().filter(|k| &k.org == org).cloned().collect())
    }

    async fn revoke_key(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        let mut keys = self.keys.lock().unwrap();
        let Some(live) = keys.iter_mut().find(|k| k.id == id && k.revoked_at.is_none()) else { return Ok(false) };
        live.revoked_at = Some(at);
        Ok(true)
    }

    async fn accept_signal(&self, signal: &Signal) -> Result<i64, StoreError> {
        let mut rows = self.signals.lock().unwrap();
        let id = rows.len() as i64 + 1;
        let record = SignalRecord { id, signal: signal.clone(), attempts: 0 };
        rows.push(SignalRow { record, leased_until: None, outcome: None });
        Ok(id)
    }

    async fn finish(
        &self,
        settled: &[(i64, SignalOutcome)],
        alerts: &[AlertRecord],
        at: i64,
    ) -> Result<(), StoreError> {
        let mut rows = self.signals.lock().unwrap();
        for (id, outcome) in settled {
            if let Some(row) = rows.iter_mut().find(|r| r.record.id == *id) {
                row.outcome = Some(outcome.clone());
            }
        }
        let mut stored = self.alerts.lock().unwrap();
        for a in alerts {
            stored.retain(|s| (&s.key, &s.dedup_key) != (&a.key, &a.dedup_key));
            stored.push(a.clone());
        }
        Ok(())
    }

    async fn keys_by_id(&self, ids: &[String]) -> Result<Vec<IntegrationKey>, StoreError> {
        Ok(self.keys.lock().unwrap().iter().filter(|k| ids.contains(&k.id)).cloned().collect())
    }

    async fn alerts_of(&self, ids: &[(String, String)]) -> Result<Vec<(AlertRecord, bool)>, StoreError> {
        let named: Vec<AlertRecord> = self
            .alerts
            .lock()
            .unwrap()
            .iter()
            .filter(|a| ids.iter().any(|(k, d)| (k, d) == (&a.key, &a.dedup_key)))
            .cloned()
            .collect();
        let mut found = Vec::new();
        for a in named {
            let stored = crate::Store::ticket(self.world.desk.store(), &a.ticket).await?;
            let resolved = stored.is_some_and(|t| t.ticket.status == stringer_core::ticket::Status::Resolved);
            found.push((a, resolved));
        }
        Ok(found)
    }

    async fn insert_change(&self, change: &ChangeRecord) -> Result<i64, StoreError> {
        Err(absent("insert_change"))
    }

    async fn changes(&self, org: &OrgSlug, from: i64, to: i64, limit: i64) -> Result<Vec<ChangeRecord>, StoreError> {
        Err(absent("changes"))
    }

    async fn alerts_of_ticket(&self, ticket: &TicketId) -> Result<Vec<AlertRecord>, StoreError> {
        Ok(self.alerts.lock().unwrap().iter().filter(|a| &a.ticket == ticket).cloned().collect())
    }
}
