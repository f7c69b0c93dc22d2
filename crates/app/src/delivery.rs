//! From notices to people: the dispatcher turns each page (and overdue-report alert) in the
//! outbox into deliveries — one per person it was routed to (see the Desk) × contact method,
//! due when the person's notification rule says, plus the org's Slack channel when the page
//! goes there — and the deliverer sends the due ones through the outbox's one [`Sender`],
//! each as an [`Outgoing::Delivery`] holding its [`Parcel`] (what it carries, and where to).
//! Deliveries are an outbox kind: the store keeps them behind the outbox's [`Sendings`] port
//! and the [`DeliveryCarrier`] tries each, so every attempt is recorded, retried with the
//! back-off of [`DELIVERIES`], or given up by the outbox's one rule; a page an
//! acknowledgement made moot is cancelled unsent. Every delivery carries an idempotency key
//! derived from the outbox row, the person and the method, so a redelivery after a crash is
//! recognisable downstream.
//!
//! A page is due at its instant whatever any other receiver does: deliveries are sent
//! concurrently, a bounded number at once and a bounded number per destination ([`InFlight`],
//! whose [`Room`] a claim fits), and claimed most urgent first ([`Urgency`]: pages, then
//! alerts to staff, then letters to customers), so one slow receiver holds up only its own
//! messages.

// Below the outbox, whose `Outgoing` names the parcel (this module uses the outbox); its
// types are this module's to the world.
pub(crate) mod parcel;

use crate::clock::Clock;
use crate::links::AckLinks;
pub use crate::outbox::SendError;
use crate::outbox::{Carrier, Claimable, Decision, Outgoing, Policy, Room, Sender, Sendings, Tried, claim, record};
pub use crate::records::MethodKind;
use crate::store::StoreError;
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
pub use parcel::{Carried, NoticeHead, NoticePayload, Parcel, TicketHead, Unreadable, Urgency};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use stringer_core::event::{Notice, NoticeBody};
use stringer_core::ids::{OrgSlug, TicketId, Via};

/// The kinds of notice the dispatcher hands on: those that reach people (pages, and the
/// alerts of an overdue report or bridge). Only these go into the outbox, where the
/// dispatcher settles each; every other notice is recorded on the ticket's timeline alone,
/// as nothing is owed for it.
pub const DISPATCHED_KINDS: [&str; 3] = ["page", "report.overdue", "bridge.overdue"];

/// Whether the dispatcher hands this notice on (see [`DISPATCHED_KINDS`]).
pub fn dispatched(notice: &NoticeBody) -> bool {
    DISPATCHED_KINDS.contains(&notice.kind())
}

/// A notice in the outbox not yet turned into deliveries.
#[derive(Clone, Debug)]
pub struct OutboxEntry {
    /// The outbox row.
    pub id: i64,
    /// The customer org of the ticket.
    pub org: OrgSlug,
    /// The notice.
    pub notice: Notice,
    /// What a person paged at 3 a.m. needs to know about the ticket.
    pub ticket: PagedTicket,
}

/// The ticket as a page shows it: org, key, subject, since when it is open, and the bridge
/// to join for a security incident.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PagedTicket {
    /// `ACME-42`.
    pub key: String,
    /// The org's name.
    pub org_name: String,
    /// One line.
    pub subject: String,
    /// Unix seconds.
    pub opened_at: i64,
    /// A security incident's bridge, where the customer (or a joiner) said it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge: Option<String>,
}

/// How long something has been going on, to the minute: "2 d 3 h", "3 h 12 min", "12 min".
pub fn open_for(seconds: i64) -> String {
    let s = seconds.max(0);
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    match (d, h) {
        (0, 0) => format!("{m} min"),
        (0, h) => format!("{h} h {m} min"),
        (d, h) => format!("{d} d {h} h"),
    }
}

/// One of a person's contact methods.
#[derive(Clone, Debug)]
pub struct ContactMethod {
    /// Identifier.
    pub id: String,
    /// How.
    pub kind: MethodKind,
    /// Where (a URL for webhooks).
    pub address: String,
}

/// "Notify via method M after N seconds of an unacknowledged page."
#[derive(Clone, Debug)]
pub struct NotificationRule {
    /// The method.
    pub method_id: String,
    /// Delay after the page.
    pub after_seconds: i64,
}

/// A person who may be notified, with how.
#[derive(Clone, Debug)]
pub struct Recipient {
    /// The user.
    pub user_id: String,
    /// Their contact methods.
    pub methods: Vec<ContactMethod>,
    /// Their rules; none means every method at once.
    pub rules: Vec<NotificationRule>,
}

/// A delivery to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelivery {
    /// The idempotency key, also the row id.
    pub id: String,
    /// The ticket.
    pub ticket: TicketId,
    /// The person.
    pub user_id: String,
    /// The method (for an org channel, `org_slack_channel`).
    pub method_id: String,
    /// The org's Slack channel, when the delivery goes there instead of to a person.
    pub channel: Option<String>,
    /// What is sent (JSON).
    pub payload: String,
    /// When to send.
    pub due: Timestamp,
    /// How urgent.
    pub urgency: Urgency,
}

/// A delivery claimed for sending: its parcel, and what the outbox keeps of it.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The idempotency key.
    pub id: String,
    /// What it carries, and where to (a page is cancelled once paging for its ticket is
    /// over). Shared with the [`Outgoing::Delivery`] it is sent as, so a send copies nothing.
    pub parcel: Arc<Parcel>,
    /// Attempts so far.
    pub attempts: i64,
    /// The receiver, for bounding the sends in flight to it: the contact method, or the
    /// channel or address of a delivery that has its own.
    pub destination: String,
    /// When it fell due (its first instant, or its retry's).
    pub due: Timestamp,
}

impl Claimable for Delivery {
    fn id(&self) -> &str {
        &self.id
    }
    fn attempts(&self) -> i64 {
        self.attempts
    }
}

/// Persistence the delivery use cases need: the outbox's [`Sendings`] of deliveries (a claim
/// fits its [`Room`], most urgent first; a sent one keeps the provider's receipt), and what
/// the dispatcher reads and writes.
pub trait DeliveryStore: Sendings<Delivery> + Send + Sync {
    /// Up to `limit` outbox notices not yet dispatched, oldest first.
    fn undispatched(&self, limit: i64) -> impl Future<Output = Result<Vec<OutboxEntry>, StoreError>> + Send;
    /// The org's shared Slack channel, if it has one.
    fn org_channel(&self, org: &OrgSlug) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    /// A user's contact methods and rules.
    fn recipient(&self, user_id: &str) -> impl Future<Output = Result<Recipient, StoreError>> + Send;
    /// Stores each outbox row's deliveries (ignoring ones already stored) and marks the rows
    /// dispatched, all in one transaction: a burst of notices costs one write, not one each.
    fn dispatch(
        &self,
        batch: Vec<(i64, Vec<NewDelivery>)>,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Whether the ticket has been acknowledged or resolved (pages are then moot).
    fn page_moot(&self, ticket: &TicketId) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// How long a claimed delivery stays hidden from other workers: longer than the slowest
/// adapter's timeout (15 s), short enough that a crashed worker's claims come back soon.
/// A claimed delivery is sent at once (never queued behind another), so the lease covers
/// exactly its one send.
pub const CLAIM_LEASE_SECONDS: i64 = 20;

/// How deliveries are claimed and retried. The batch, 64, is the most sends one worker has
/// under way ([`InFlight::deliveries`]): a claim ([`claim_due`]) takes what the sends under
/// way leave of it, a whole batch at most. Leased for [`CLAIM_LEASE_SECONDS`], 2 s doubling,
/// 6 attempts before one fails for good.
pub const DELIVERIES: Policy = Policy {
    name: "delivery",
    batch: 64,
    lease_seconds: CLAIM_LEASE_SECONDS,
    first_wait: 2,
    longest_wait: 3600,
    attempts: 6,
};

/// Sends under way at once on one worker to one destination (a contact method, a channel, an
/// address): a slow receiver ties up two of the deliverer's sends, no more.
pub const PER_DESTINATION: usize = 2;

/// The method id of deliveries to an org's shared Slack channel.
pub const ORG_CHANNEL: &str = "org_slack_channel";

fn key(outbox_id: i64, user: &str, method: &str) -> String {
    format!("dlv_{outbox_id}_{user}_{method}")
}

/// What a round of dispatching did: the outbox rows handed on, and the deliveries they made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dispatched {
    /// Outbox rows marked dispatched.
    pub notices: usize,
    /// Deliveries made from them (a notice routed to nobody makes none).
    pub deliveries: usize,
}

/// Turns up to `limit` undispatched notices into deliveries. Pages routed `via` the org's
/// Slack channel go there too when `slack_channels` is on (the server has a Slack app).
pub async fn dispatch<S: DeliveryStore>(
    store: &S,
    links: &AckLinks,
    slack_channels: bool,
    now: Timestamp,
    limit: i64,
) -> Result<Dispatched, StoreError> {
    let entries = store.undispatched(limit).await?;
    let mut batch = Vec::with_capacity(entries.len());
    for entry in &entries {
        let t = &entry.ticket;
        let ticket = serde_json::json!({
            "key": t.key,
            "org_name": t.org_name,
            "subject": t.subject,
            "open_for": open_for(now.as_second() - t.opened_at),
            "url": links.page_url(&format!("/console/tickets/{}", t.key)),
            "bridge": t.bridge,
        });
        let mut deliveries = Vec::new();
        for user in entry.notice.body.recipients() {
            let user = user.clone();
            let r = store.recipient(&user).await?;
            let rules: Vec<NotificationRule> = if r.rules.is_empty() {
                r.methods.iter().map(|m| NotificationRule { method_id: m.id.clone(), after_seconds: 0 }).collect()
            } else {
                r.rules.clone()
            };
            for rule in rules {
                let mut payload = serde_json::json!({
                    "idempotency_key": key(entry.id, &user, &rule.method_id),
                    "org": entry.org,
                    "user": user,
                    "notice": entry.notice,
                    "ticket": ticket,
                });
                if matches!(entry.notice.body, NoticeBody::Page { .. }) {
                    payload["ack_url"] = links.ack_url(&entry.notice.ticket, &user, now).into();
                }
                deliveries.push(NewDelivery {
                    id: key(entry.id, &user, &rule.method_id),
                    ticket: entry.notice.ticket.clone(),
                    user_id: user.clone(),
                    method_id: rule.method_id.clone(),
                    channel: None,
                    payload: payload.to_string(),
                    due: entry.notice.at + SignedDuration::from_secs(rule.after_seconds),
                    urgency: Urgency::of(&entry.notice.body),
                });
            }
        }
        if let NoticeBody::Page { via, .. } = &entry.notice.body
            && slack_channels
            && via.contains(&Via::OrgChannel)
            && let Some(channel) = store.org_channel(&entry.org).await?
        {
            let owner = format!("org:{}", entry.org);
            let payload = serde_json::json!({
                "idempotency_key": key(entry.id, &owner, ORG_CHANNEL),
                "org": entry.org,
                "notice": entry.notice,
                "ticket": ticket,
            });
            deliveries.push(NewDelivery {
                id: key(entry.id, &owner, ORG_CHANNEL),
                ticket: entry.notice.ticket.clone(),
                user_id: owner,
                method_id: ORG_CHANNEL.into(),
                channel: Some(channel),
                payload: payload.to_string(),
                due: entry.notice.at,
                urgency: Urgency::Page,
            });
        }
        batch.push((entry.id, deliveries));
    }
    hand_on(store, batch, now).await
}

/// Stores a round's deliveries and marks its outbox rows dispatched, in one write.
pub(crate) async fn hand_on<S: DeliveryStore>(
    store: &S,
    batch: Vec<(i64, Vec<NewDelivery>)>,
    now: Timestamp,
) -> Result<Dispatched, StoreError> {
    let done = Dispatched { notices: batch.len(), deliveries: batch.iter().map(|(_, d)| d.len()).sum() };
    if !batch.is_empty() {
        store.dispatch(batch, now).await?;
    }
    Ok(done)
}

/// The sends under way on one worker: at most `limit` in all and `per_destination` to any one
/// receiver, so a slow receiver ties up only its own share.
#[derive(Debug)]
pub struct InFlight {
    limit: usize,
    per_destination: usize,
    by_destination: HashMap<String, usize>,
    total: usize,
}

impl InFlight {
    /// The deliverer's: at most a [`DELIVERIES`] batch under way, [`PER_DESTINATION`] to one
    /// receiver.
    pub fn deliveries() -> InFlight {
        InFlight::new(DELIVERIES.batch as usize, PER_DESTINATION)
    }

    /// No sends under way yet; both bounds at least one.
    pub fn new(limit: usize, per_destination: usize) -> InFlight {
        InFlight {
            limit: limit.max(1),
            per_destination: per_destination.max(1),
            by_destination: HashMap::new(),
            total: 0,
        }
    }

    /// How many more sends may start now.
    pub fn free(&self) -> usize {
        self.limit - self.total
    }

    /// The room a claim may fill now: what is free, and each destination's share less the
    /// sends under way to it.
    pub fn room(&self) -> Room {
        let mut under_way: Vec<(String, i64)> =
            self.by_destination.iter().map(|(d, n)| (d.clone(), *n as i64)).collect();
        under_way.sort();
        Room { limit: self.free() as i64, per_destination: Some(self.per_destination as i64), under_way }
    }

    /// Counts a send to `destination` if both bounds allow it.
    pub fn admit(&mut self, destination: &str) -> bool {
        let n = self.by_destination.get(destination).copied().unwrap_or(0);
        if self.total >= self.limit || n >= self.per_destination {
            return false;
        }
        self.by_destination.insert(destination.to_string(), n + 1);
        self.total += 1;
        true
    }

    /// A send to `destination` ended.
    pub fn done(&mut self, destination: &str) {
        if let Some(n) = self.by_destination.get_mut(destination) {
            *n -= 1;
            self.total -= 1;
            if *n == 0 {
                self.by_destination.remove(destination);
            }
        }
    }
}

/// Claims as many due deliveries as `in_flight` has room for (within each destination's
/// share) and counts them in. Every delivery returned is to be sent now, through [`send`];
/// one a store claimed beyond the room (none, for a store that keeps to it) is left to come
/// back when its lease ends.
pub async fn claim_due<S: DeliveryStore>(
    store: &S,
    in_flight: &mut InFlight,
    now: Timestamp,
) -> Result<Vec<Delivery>, StoreError> {
    if in_flight.free() == 0 {
        return Ok(Vec::new());
    }
    let claimed = claim(store, &DELIVERIES, now.as_second(), &in_flight.room()).await?;
    Ok(claimed.into_iter().filter(|d| in_flight.admit(&d.destination)).collect())
}

/// Tries deliveries: a page whose paging is over is cancelled unsent (the ticket was
/// acknowledged or resolved first); any other is sent through the outbox's [`Sender`] as an
/// [`Outgoing::Delivery`], its receipt kept when the message can be changed later.
#[derive(Clone)]
pub struct DeliveryCarrier<S> {
    /// Where deliveries wait, and whether a page is moot.
    pub store: S,
    /// The way out.
    pub sender: Arc<dyn Sender>,
}

#[async_trait]
impl<S: DeliveryStore> Carrier<Delivery> for DeliveryCarrier<S> {
    type Error = StoreError;
    async fn carry(&self, d: &Delivery, _now: i64) -> Result<Tried, StoreError> {
        if d.parcel.urgency == Urgency::Page && self.store.page_moot(&d.parcel.ticket).await? {
            return Ok(Tried::Moot("the ticket was acknowledged or resolved first".into()));
        }
        Ok(self.sender.send(&d.id, &Outgoing::Delivery(d.parcel.clone())).await.into())
    }
}

/// Sends one claimed delivery and records, under [`DELIVERIES`], how it went as of when the
/// send ended (`clock`).
pub async fn send<S: DeliveryStore, C: Clock>(
    carrier: &DeliveryCarrier<S>,
    clock: &C,
    d: &Delivery,
) -> Result<Decision, StoreError> {
    let tried = carrier.carry(d, clock.now().as_second()).await?;
    record(&carrier.store, &DELIVERIES, d, tried, clock.now().as_second()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VirtualClock;
    use crate::fakes::{Relay, absent};
    use std::sync::Mutex;

    /// Deliveries in memory: the due ones claimed in order up to the room's limit, and how
    /// each ended — (id, outcome, receipt or reason).
    #[derive(Default)]
    struct Memory {
        due: Mutex<Vec<Delivery>>,
        paging_over: bool,
        ended: Mutex<Vec<(String, &'static str, Option<String>)>>,
    }

    impl Memory {
        fn end(&self, id: &str, outcome: &'static str, detail: Option<&str>) -> Result<(), StoreError> {
            self.ended.lock().unwrap().push((id.into(), outcome, detail.map(str::to_string)));
            Ok(())
        }
    }

    #[async_trait]
    impl Sendings<Delivery> for Memory {
        async fn claim(&self, _now: i64, _lease_until: i64, room: &Room) -> Result<Vec<Delivery>, StoreError> {
            let mut due = self.due.lock().unwrap();
            let n = due.len().min(room.limit as usize);
            Ok(due.drain(..n).collect())
        }
        async fn sent(&self, id: &str, _at: i64, receipt: Option<&str>) -> Result<(), StoreError> {
            self.end(id, "sent", receipt)
        }
        async fn later(&self, id: &str, _at: i64, _next: i64, why: &str) -> Result<(), StoreError> {
            self.end(id, "later", Some(why))
        }
        async fn given_up(&self, id: &str, _at: i64, why: &str) -> Result<(), StoreError> {
            self.end(id, "given up", Some(why))
        }
        async fn cancelled(&self, id: &str, _at: i64, why: &str) -> Result<(), StoreError> {
            self.end(id, "cancelled", Some(why))
        }
    }

    impl DeliveryStore for Memory {
        async fn undispatched(&self, _limit: i64) -> Result<Vec<OutboxEntry>, StoreError> {
            Err(absent("undispatched"))
        }
        async fn org_channel(&self, _org: &OrgSlug) -> Result<Option<String>, StoreError> {
            Err(absent("org_channel"))
        }
        async fn recipient(&self, _user_id: &str) -> Result<Recipient, StoreError> {
            Err(absent("recipient"))
        }
        async fn dispatch(&self, _batch: Vec<(i64, Vec<NewDelivery>)>, _at: Timestamp) -> Result<(), StoreError> {
            Err(absent("dispatch"))
        }
        async fn page_moot(&self, _ticket: &TicketId) -> Result<bool, StoreError> {
            Ok(self.paging_over)
        }
    }

    fn delivery(id: &str, urgency: Urgency, kind: MethodKind, address: &str) -> Delivery {
        let parcel = Parcel {
            ticket: TicketId("tkt_1".into()),
            kind,
            address: address.into(),
            secret: String::new(),
            urgency,
            payload: "{}".into(),
        };
        Delivery {
            id: id.into(),
            parcel: Arc::new(parcel),
            attempts: 0,
            destination: address.into(),
            due: Timestamp::UNIX_EPOCH,
        }
    }

    fn carrier(store: Memory, relay: &Arc<Relay>) -> DeliveryCarrier<Memory> {
        DeliveryCarrier { store, sender: relay.clone() }
    }

    #[tokio::test]
    async fn a_delivery_goes_out_through_the_one_sender_and_its_receipt_is_kept() {
        let relay = Arc::new(Relay { receipt: Some(r#"{"channel":"C1","ts":"1.2"}"#.into()), ..Relay::default() });
        let carrier = carrier(Memory::default(), &relay);
        let d = delivery("dlv_1", Urgency::Page, MethodKind::Slack, "C1");
        let decision = send(&carrier, &VirtualClock::new(Timestamp::UNIX_EPOCH), &d).await.unwrap();
        assert_eq!(decision, Decision::Sent(Some(r#"{"channel":"C1","ts":"1.2"}"#.into())));
        let took = relay.took.lock().unwrap();
        let [(id, Outgoing::Delivery(parcel))] = took.as_slice() else { panic!("one delivery: {took:?}") };
        assert_eq!(id, "dlv_1", "the delivery's idempotency key goes with it");
        assert!(Arc::ptr_eq(parcel, &d.parcel), "the parcel is handed on, not copied");
        let ended = carrier.store.ended.lock().unwrap();
        assert_eq!(*ended, [("dlv_1".into(), "sent", Some(r#"{"channel":"C1","ts":"1.2"}"#.into()))]);
    }

    #[tokio::test]
    async fn a_page_whose_paging_is_over_is_cancelled_unsent_and_an_alert_still_goes() {
        let relay = Arc::new(Relay::default());
        let carrier = carrier(Memory { paging_over: true, ..Memory::default() }, &relay);
        let clock = VirtualClock::new(Timestamp::UNIX_EPOCH);
        let page = delivery("dlv_page", Urgency::Page, MethodKind::Sms, "+15550100");
        let alert = delivery("dlv_alert", Urgency::Alert, MethodKind::Email, "a@example.com");
        assert!(matches!(send(&carrier, &clock, &page).await.unwrap(), Decision::Cancelled(_)));
        assert_eq!(send(&carrier, &clock, &alert).await.unwrap(), Decision::Sent(None), "no receipt: never changed");
        let took: Vec<String> = relay.took.lock().unwrap().iter().map(|(id, _)| id.clone()).collect();
        assert_eq!(took, ["dlv_alert"]);
    }

    #[tokio::test]
    async fn the_deliverer_claims_at_most_its_batch_and_then_only_the_room_left() {
        let batch = DELIVERIES.batch as usize;
        let due = (0..batch + 5)
            .map(|i| delivery(&format!("dlv_{i}"), Urgency::Alert, MethodKind::Webhook, &format!("cm_{i}")))
            .collect();
        let store = Memory { due: Mutex::new(due), ..Memory::default() };
        let mut in_flight = InFlight::deliveries();
        let now = Timestamp::UNIX_EPOCH;
        let first = claim_due(&store, &mut in_flight, now).await.unwrap();
        assert_eq!(first.len(), batch, "a batch is the most under way at once");
        assert!(claim_due(&store, &mut in_flight, now).await.unwrap().is_empty(), "no room while all are under way");
        in_flight.done(&first[0].destination);
        in_flight.done(&first[1].destination);
        assert_eq!(claim_due(&store, &mut in_flight, now).await.unwrap().len(), 2, "as many as ended");
    }

    #[test]
    fn a_destination_takes_its_share_and_no_more() {
        let mut f = InFlight::new(3, 2);
        assert!(f.admit("slow") && f.admit("slow"));
        assert!(!f.admit("slow"), "a third send to one destination waits");
        assert_eq!(f.room().under_way, [("slow".to_string(), 2)], "its share is taken");
        assert_eq!(f.free(), 1);
        assert!(f.admit("fast"), "another destination is not held up");
        assert!(!f.admit("other"), "nor more than the limit in all");
        f.done("slow");
        assert_eq!(f.room().under_way, [("fast".to_string(), 1), ("slow".to_string(), 1)]);
        assert!(f.admit("other"));
        f.done("never-admitted");
        assert_eq!(f.free(), 0, "ending a send that never started changes nothing");
    }
}
