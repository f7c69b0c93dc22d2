//! Subscriptions to a status page, and the notices sent to subscribers.
//!
//! - **Who subscribes**: an email address (double opt-in: nothing but the confirmation is
//!   sent until its link is followed; one-click unsubscribe in every mail), a webhook URL
//!   (Statuspage's webhook payload: `meta`, `page` and `incident`), or the org's shared
//!   channel (tenant pages). Each may choose components: they then hear only of incidents
//!   that concern one of them.
//! - **What they get**: every update of an incident or maintenance on the page (creation,
//!   each update, resolution; a tenant page's subscribers also hear of the platform's), and
//!   a reminder an hour before a maintenance begins.
//! - **How**: notices are rows written in the same transaction as the update (or the
//!   reminder, or the subscription), with ids derived from what they are about, so a retry or
//!   a second instance never doubles one; the engine's status clock claims due notices with a
//!   lease and sends them through the outbox ([`crate::outbox`]), retrying temporary failures
//!   with back-off.
//! - **Links**: a subscriber's address for confirming and unsubscribing carries a token that
//!   is the HMAC of its id under the server's key ([`token`]): only its SHA-256 is stored.

use super::statuspage::{self, Urls};
use super::{IncidentRecord, PageRecord, StatusDesk};
use crate::delivery::SendError;
use crate::desk::AppError;
use crate::outbox::{Carrier, Claimable, MESSAGES, Outgoing, Sender, Sendings, Tried, send_due};
use async_trait::async_trait;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The setting holding the key subscribers' tokens are made with.
pub const TOKEN_KEY_SETTING: &str = "status_subscription_key";
/// Notices claimed per round (the outbox's [`MESSAGES`] policy).
pub const NOTICE_BATCH: i64 = MESSAGES.batch;
/// The longest address (mail address or URL).
pub const MAX_ADDRESS: usize = 2000;

/// How a subscriber is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriberKind {
    /// Mail.
    Email,
    /// An HTTP POST of Statuspage's webhook payload.
    Webhook,
    /// A post in the org's shared channel (`slack` in JSON and the database, its first kind).
    OrgChannel,
}

impl SubscriberKind {
    /// The name as written in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriberKind::Email => "email",
            SubscriberKind::Webhook => "webhook",
            SubscriberKind::OrgChannel => "slack",
        }
    }

    /// The kind of that name.
    pub fn parse(name: &str) -> Option<SubscriberKind> {
        [SubscriberKind::Email, SubscriberKind::Webhook, SubscriberKind::OrgChannel]
            .into_iter()
            .find(|k| k.as_str() == name)
    }
}

/// A subscriber.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriberRecord {
    /// Its id (`sts_…`).
    pub id: String,
    /// The page it follows.
    pub page_id: String,
    /// How it is reached.
    pub kind: SubscriberKind,
    /// Where: a mail address, a URL, the org's channel.
    pub address: String,
    /// The components it follows; empty: all.
    pub components: Vec<String>,
    /// SHA-256 (hex) of its token.
    pub token_hash: String,
    /// When it confirmed (mail), or was created (others).
    pub confirmed_at: Option<i64>,
    /// When it left.
    pub unsubscribed_at: Option<i64>,
    /// When it subscribed.
    pub created_at: i64,
}

/// What a notice tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    /// "Confirm your subscription" (mail).
    Confirm,
    /// An incident's or maintenance's update.
    Update,
    /// A maintenance begins in an hour.
    Reminder,
}

impl NoticeKind {
    /// The name in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Confirm => "confirm",
            NoticeKind::Update => "update",
            NoticeKind::Reminder => "reminder",
        }
    }

    /// The kind of that name.
    pub fn parse(name: &str) -> Option<NoticeKind> {
        [NoticeKind::Confirm, NoticeKind::Update, NoticeKind::Reminder].into_iter().find(|k| k.as_str() == name)
    }
}

/// A notice due to a subscriber.
#[derive(Clone, Debug)]
pub struct NoticeRecord {
    /// Its id (derived from the subscriber and what it tells).
    pub id: String,
    /// To whom.
    pub subscriber: SubscriberRecord,
    /// What it tells.
    pub kind: NoticeKind,
    /// The incident or maintenance it is about.
    pub incident_id: Option<String>,
    /// The update it tells of.
    pub update_id: Option<String>,
    /// Attempts so far.
    pub attempts: i64,
}

/// A subscriber's token: hex HMAC-SHA256 of its id under the server's key.
pub fn token(key: &str, subscriber: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(subscriber.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// SHA-256 (hex) of a token: what is stored and looked up.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether a notice about an incident concerning `components` goes to a subscriber that
/// follows `follows` (empty: everything).
pub fn concerns(follows: &[String], components: &[String]) -> bool {
    follows.is_empty() || follows.iter().any(|c| components.contains(c))
}

/// Writes and sends subscribers' notices.
#[derive(Clone)]
pub struct Notifier {
    /// The pages.
    pub desk: StatusDesk,
    /// The outside world.
    pub sender: Arc<dyn Sender>,
    /// The server's address, for links.
    pub public_url: String,
    /// The key subscribers' tokens are made with.
    pub token_key: String,
}

impl Notifier {
    /// A subscriber's own page (confirm, unsubscribe).
    pub fn subscription_url(&self, subscriber: &SubscriberRecord) -> String {
        format!(
            "{}/status/subscriptions/{}",
            self.public_url.trim_end_matches('/'),
            token(&self.token_key, &subscriber.id)
        )
    }

    /// Sends every due notice (a round of at most [`NOTICE_BATCH`], through the outbox);
    /// answers how many were sent.
    pub async fn send_due(&self, now: i64) -> Result<usize, AppError> {
        let notices: &dyn Sendings<NoticeRecord> = self.desk.pages.as_ref();
        Ok(send_due(notices, self, &MESSAGES, now).await?.sent)
    }

    /// Reminds subscribers of maintenances that begin within the hour; answers how many.
    pub async fn remind_due(&self, now: i64) -> Result<usize, AppError> {
        let due = self.desk.pages.reminders_due(now).await?;
        for m in &due {
            self.desk.pages.remind(m, now).await?;
        }
        Ok(due.len())
    }

    /// The message a notice sends, `None` when what it tells of is gone.
    async fn message(&self, notice: &NoticeRecord, now: i64) -> Result<Option<Outgoing>, AppError> {
        let s = &notice.subscriber;
        let Some(page) = self.desk.pages.page(&s.page_id).await? else {
            return Ok(None);
        };
        let manage = self.subscription_url(s);
        if notice.kind == NoticeKind::Confirm {
            return Ok(Some(Outgoing::Mail {
                to: s.address.clone(),
                subject: format!("Confirm your subscription to {} status", page.name),
                body: format!(
                    "Someone, probably you, asked to get {} status updates at this address.\n\n\
                     Confirm here: {manage}\n\nIf it was not you, ignore this mail: nothing more will be sent.\n",
                    page.name
                ),
                unsubscribe: None,
            }));
        }
        let Some(incident) = self.desk.pages.incident(notice.incident_id.as_deref().unwrap_or_default()).await? else {
            return Ok(None);
        };
        let urls = Urls { page: page.url(&self.public_url) };
        let link = urls.incident(&incident.id);
        let update = notice
            .update_id
            .as_ref()
            .and_then(|id| incident.updates.iter().find(|u| &u.id == id))
            .or(incident.updates.first());
        let (headline, words) = match (notice.kind, update) {
            (NoticeKind::Reminder, _) => {
                let when =
                    incident.scheduled_for.map(|t| statuspage::iso(t, &jiff::tz::TimeZone::UTC)).unwrap_or_default();
                (format!("Reminder: {} begins at {when}", incident.name), String::new())
            }
            (_, Some(u)) => (format!("{}: {}", incident.name, statuspage::phase_words(u.phase)), u.body.clone()),
            (_, None) => (incident.name.clone(), String::new()),
        };
        Ok(Some(match s.kind {
            SubscriberKind::Email => Outgoing::Mail {
                to: s.address.clone(),
                subject: format!("[{} status] {headline}", page.name),
                body: format!(
                    "{headline}\n\n{words}\n\nDetails: {link}\n\n--\nYou subscribed to {} status updates. \
                     Unsubscribe: {manage}\n",
                    page.name
                ),
                unsubscribe: Some(format!("{manage}/unsubscribe")),
            },
            SubscriberKind::OrgChannel => Outgoing::Slack {
                channel: s.address.clone(),
                text: format!("*[{} status] {headline}*\n{words}\n<{link}|Details>", page.name),
            },
            SubscriberKind::Webhook => Outgoing::Webhook {
                url: s.address.clone(),
                payload: self.webhook_payload(page, &incident, &urls, &manage, now).await?.to_string(),
            },
        }))
    }

    /// Statuspage's webhook payload for an incident: `meta`, `page` (with its state) and
    /// `incident` (as the public documents write it).
    async fn webhook_payload(
        &self,
        page: PageRecord,
        incident: &IncidentRecord,
        urls: &Urls,
        manage: &str,
        now: i64,
    ) -> Result<serde_json::Value, AppError> {
        let view = self.desk.view(page, now).await?;
        let zone = view.zone();
        Ok(json!({
            "meta": { "unsubscribe": format!("{manage}/unsubscribe"), "documentation": format!("{}/status", self.public_url.trim_end_matches('/')) },
            "page": {
                "id": view.page.id,
                "status_indicator": view.indicator,
                "status_description": view.indicator.description(),
            },
            "incident": statuspage::incident(incident, &view, urls, &zone),
        }))
    }
}

impl Claimable for NoticeRecord {
    fn id(&self) -> &str {
        &self.id
    }
    fn attempts(&self) -> i64 {
        self.attempts
    }
}

#[async_trait]
impl Carrier<NoticeRecord> for Notifier {
    type Error = AppError;
    async fn carry(&self, notice: &NoticeRecord, now: i64) -> Result<Tried, AppError> {
        Ok(Tried::from(match self.message(notice, now).await? {
            Some(message) => self.sender.send(&notice.id, &message).await,
            None => Err(SendError::Permanent("what it told of no longer exists".into())),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_keyed_and_only_their_hash_is_kept() {
        let t = token("k", "sts_1");
        assert_eq!(t.len(), 64);
        assert_ne!(t, token("other key", "sts_1"));
        assert_ne!(t, token("k", "sts_2"));
        assert_ne!(token_hash(&t), t);
    }

    #[test]
    fn subscribers_hear_of_the_components_they_follow() {
        let c = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(concerns(&c(&[]), &c(&["api"])), "following nothing in particular: everything");
        assert!(concerns(&c(&["api", "mail"]), &c(&["mail"])));
        assert!(!concerns(&c(&["api"]), &c(&["mail"])));
        assert!(!concerns(&c(&["api"]), &c(&[])), "an incident naming no component concerns only those who follow all");
    }
}
