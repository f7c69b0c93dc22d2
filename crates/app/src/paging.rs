//! Where and when a staff member is paged, for every door: their contact methods (each
//! address checked by the same rules whoever adds it), their notification rules, a test page
//! through the deliveries like any page, each method's last delivery — and who could be paged
//! but cannot be reached ([`PagingDesk::unreachable`]).
//!
//! A door proves who is acting and hands the [`Principal`] to the [`PagingDesk`]; the desk
//! asks the access policy itself. The JSON API and the pages call the same functions.

mod address;
mod reach;

pub use address::AddressChecks;
pub use reach::{Reach, reach};

use crate::accounts::{AccountDesk, AccountError, decided};
use crate::act::Principal;
use crate::delivery::MethodKind;
use crate::ports::{Accounts, Commands, OnCall};
use crate::records::{ContactMethodRecord, MethodOutcome, NotificationRuleRecord, TestPage, UserRecord};
use crate::store::StoreError;
use std::collections::BTreeSet;
use std::sync::Arc;
use stringer_core::access::{self, Action, Object};
use stringer_core::ids::UserId;
use stringer_core::oncall::ScheduleSpec;

/// The address of every "console" contact method: where its pages show.
pub const CONSOLE_ADDRESS: &str = "My pages";

/// At most this many notification rules per person.
pub const MAX_RULES: usize = 20;

/// A rule's delay is at most a day.
pub const MAX_RULE_SECONDS: i64 = 86_400;

/// Why a paging use case did nothing.
#[derive(Debug, thiserror::Error)]
pub enum PagingError {
    /// A field's value is refused: shown beside that field.
    #[error("{field}: {message}")]
    Field {
        /// The field, as the API names it (`kind`, `address`, `method_id`, `after_seconds`).
        field: &'static str,
        /// Why, in people's words.
        message: String,
    },
    /// The account use cases refused (not found, forbidden) or the store failed.
    #[error(transparent)]
    Account(#[from] AccountError),
}

impl From<StoreError> for PagingError {
    fn from(e: StoreError) -> PagingError {
        PagingError::Account(e.into())
    }
}

fn field(field: &'static str, message: impl Into<String>) -> PagingError {
    PagingError::Field { field, message: message.into() }
}

/// A contact method with how its last finished delivery ended.
#[derive(Clone, Debug)]
pub struct MethodState {
    /// The method.
    pub method: ContactMethodRecord,
    /// Its last sent or failed delivery; none before its first.
    pub last: Option<MethodOutcome>,
}

/// What the paging use cases reach beyond the ports.
#[derive(Clone)]
pub struct PagingOutside {
    /// Checks the front can make of an address (a webhook's host, a Slack member's email).
    pub checks: Arc<dyn AddressChecks>,
    /// Makes a new id with the given prefix.
    pub new_id: crate::ids::NewId,
    /// Makes a new signing secret.
    pub new_secret: fn() -> String,
}

/// What the paging desk reads and changes: contact methods, rules and test pages.
#[derive(Clone)]
pub struct PagingPorts {
    /// Changes tickets (and tells the time and the contract).
    pub commands: Arc<dyn Commands>,
    /// Orgs, users, tokens.
    pub accounts: Arc<dyn Accounts>,
    /// Schedules, contact methods, notification rules.
    pub oncall: Arc<dyn OnCall>,
}

/// The application's paging-setup use cases.
#[derive(Clone)]
pub struct PagingDesk {
    ports: PagingPorts,
    accounts: AccountDesk,
    outside: PagingOutside,
}

impl PagingDesk {
    /// A desk over the application's ports (and the account desk that finds users).
    pub fn new(ports: PagingPorts, accounts: AccountDesk, outside: PagingOutside) -> PagingDesk {
        PagingDesk { ports, accounts, outside }
    }

    fn now(&self) -> i64 {
        self.ports.commands.now().as_second()
    }

    /// The staff user `id`'s contact methods, oldest first, with their last deliveries.
    pub async fn methods(&self, who: &Principal, id: &str) -> Result<Vec<MethodState>, PagingError> {
        let user = self.accounts.user(who, id, Action::ReadContactMethods).await?;
        let outcomes = self.ports.oncall.method_outcomes(std::slice::from_ref(&user.id)).await?;
        let methods = self.ports.oncall.contact_methods(&user.id).await?;
        Ok(methods
            .into_iter()
            .map(|method| {
                let last = outcomes.iter().find(|o| o.method_id == method.id).cloned();
                MethodState { method, last }
            })
            .collect())
    }

    /// Adds a contact method to the staff user `id` (themself, or anyone for an admin). A
    /// webhook must be a public address; a Slack member ID is linked when Slack confirms the
    /// member's email is the user's, or by an admin; one member ID belongs to one user.
    pub async fn add_method(
        &self,
        who: &Principal,
        id: &str,
        kind: MethodKind,
        address: &str,
    ) -> Result<ContactMethodRecord, PagingError> {
        let user = self.accounts.user(who, id, Action::ManageContactMethods).await?;
        let address = match kind {
            MethodKind::Webhook => {
                let url = address::webhook(address).map_err(|m| field("address", m))?;
                if let Some(refused) = self.outside.checks.webhook_refused(&url).await {
                    return Err(field("address", refused));
                }
                url
            }
            MethodKind::Slack => {
                let member = address::slack_member(address).map_err(|m| field("address", m))?;
                let confirmed = self.outside.checks.slack_confirms(&member, &user.email).await;
                let object = Some(Object::User(user.as_object(None)));
                if !confirmed && !who.allowed(Action::LinkChatMemberUnverified, object) {
                    return Err(field(
                        "address",
                        "Slack does not confirm that this member's email is the user's; an admin can link it",
                    ));
                }
                member
            }
            MethodKind::Email => address::email(address).map_err(|m| field("address", m))?,
            MethodKind::Sms | MethodKind::Voice => address::phone(address).map_err(|m| field("address", m))?,
            MethodKind::Console => CONSOLE_ADDRESS.to_string(),
        };
        let record = ContactMethodRecord {
            id: (self.outside.new_id)("cm"),
            user_id: user.id.clone(),
            kind,
            address,
            secret: (self.outside.new_secret)(),
            created_at: self.now(),
        };
        self.ports.oncall.insert_contact_method(&record).await?;
        Ok(record)
    }

    /// Removes one of the staff user `id`'s contact methods, with the rules naming it.
    pub async fn remove_method(&self, who: &Principal, id: &str, method: &str) -> Result<(), PagingError> {
        let user = self.accounts.user(who, id, Action::ManageContactMethods).await?;
        if !self.ports.oncall.remove_contact_method(&user.id, method).await? {
            return Err(AccountError::NotFound("contact method").into());
        }
        Ok(())
    }

    /// The staff user `id`'s notification rules, soonest first.
    pub async fn rules(&self, who: &Principal, id: &str) -> Result<Vec<NotificationRuleRecord>, PagingError> {
        let user = self.accounts.user(who, id, Action::ReadContactMethods).await?;
        Ok(self.ports.oncall.notification_rules(&user.id).await?)
    }

    /// Replaces the staff user `id`'s notification rules ("method M after N seconds"). With no
    /// rules, every contact method is notified at once.
    pub async fn set_rules(&self, who: &Principal, id: &str, rules: &[(String, i64)]) -> Result<(), PagingError> {
        let user = self.accounts.user(who, id, Action::ManageContactMethods).await?;
        self.write_rules(&user, rules).await
    }

    /// Adds one notification rule to the staff user `id`'s.
    pub async fn add_rule(
        &self,
        who: &Principal,
        id: &str,
        method: &str,
        after_seconds: i64,
    ) -> Result<(), PagingError> {
        let user = self.accounts.user(who, id, Action::ManageContactMethods).await?;
        let mut rules: Vec<(String, i64)> = self
            .ports
            .oncall
            .notification_rules(&user.id)
            .await?
            .into_iter()
            .map(|r| (r.method_id, r.after_seconds))
            .collect();
        rules.push((method.to_string(), after_seconds));
        self.write_rules(&user, &rules).await
    }

    /// Removes one of the staff user `id`'s notification rules.
    pub async fn remove_rule(&self, who: &Principal, id: &str, rule: &str) -> Result<(), PagingError> {
        let user = self.accounts.user(who, id, Action::ManageContactMethods).await?;
        let now = self.ports.oncall.notification_rules(&user.id).await?;
        if !now.iter().any(|r| r.id == rule) {
            return Err(AccountError::NotFound("notification rule").into());
        }
        let rest: Vec<(String, i64)> =
            now.into_iter().filter(|r| r.id != rule).map(|r| (r.method_id, r.after_seconds)).collect();
        self.write_rules(&user, &rest).await
    }

    async fn write_rules(&self, user: &UserRecord, rules: &[(String, i64)]) -> Result<(), PagingError> {
        if rules.len() > MAX_RULES {
            return Err(field("rules", format!("at most {MAX_RULES}")));
        }
        let methods = self.ports.oncall.contact_methods(&user.id).await?;
        let mut rows = Vec::new();
        for (method, after) in rules {
            if !methods.iter().any(|m| &m.id == method) {
                return Err(field("method_id", format!("{method:?} is not one of this user's contact methods")));
            }
            if !(0..=MAX_RULE_SECONDS).contains(after) {
                return Err(field("after_seconds", format!("0 to {MAX_RULE_SECONDS}")));
            }
            rows.push(((self.outside.new_id)("nr"), method.clone(), *after));
        }
        Ok(self.ports.oncall.set_notification_rules(&user.id, &rows).await?)
    }

    /// Sends a test page to one of the staff user `id`'s contact methods, through the
    /// deliveries like any page (so its outcome is the method's last delivery); at most one
    /// per method and minute — false when this minute's was sent already.
    pub async fn send_test(&self, who: &Principal, id: &str, method: &str) -> Result<bool, PagingError> {
        let user = self.accounts.user(who, id, Action::ManageContactMethods).await?;
        let methods = self.ports.oncall.contact_methods(&user.id).await?;
        let Some(m) = methods.iter().find(|m| m.id == method) else {
            return Err(AccountError::NotFound("contact method").into());
        };
        let now = self.now();
        let key = format!("dlv_test_{}_{}", m.id, now / 60);
        let payload = serde_json::json!({
            "idempotency_key": key,
            "user": user.id,
            "test": true,
            "notice": {"kind": "test", "reason": "a test page, sent from Stringer's settings; nothing to do"},
            "ticket": {"key": "TEST", "org_name": "Stringer", "subject": format!("Test page for {}", user.name)},
        });
        let test =
            TestPage { id: key, user_id: user.id, method_id: m.id.clone(), payload: payload.to_string(), at: now };
        Ok(self.ports.oncall.queue_test_page(&test).await?)
    }

    /// A new secret for the staff user `id`'s calendar feed of on-call shifts (themself, or
    /// anyone for an admin): the feed's path with it, shown once; the old one stops working.
    pub async fn new_calendar_feed(&self, who: &Principal, id: &str) -> Result<String, PagingError> {
        let user = self.accounts.user(who, id, Action::ManageContactMethods).await?;
        let secret = (self.outside.new_secret)();
        self.ports.oncall.set_user_ics_secret(&user.id, &crate::accounts::tokens::token_hash(&secret)).await?;
        Ok(format!("/ical/users/{}.ics?token={secret}", user.id))
    }

    /// Who could be paged — on a schedule (a rotation or an override still to end), an org's
    /// TAM or named engineer — but has no working contact method, among the people whose
    /// contact methods `who` may see (an admin: everyone; anyone else: themself).
    pub async fn unreachable(&self, who: &Principal) -> Result<Vec<Reach>, PagingError> {
        let now = self.ports.commands.now();
        let mut pageable: BTreeSet<String> = BTreeSet::new();
        for s in self.ports.oncall.schedules().await? {
            pageable.extend(members(&s.spec, now));
        }
        for o in self.ports.accounts.orgs().await? {
            pageable.extend(o.tam.iter().chain(&o.named_engineers).map(|u| u.to_string()));
        }
        let mut people = Vec::new();
        for id in pageable {
            let Some(user) = self.ports.accounts.user(&UserId::from(id.as_str())).await? else { continue };
            let object = Some(Object::User(user.as_object(None)));
            if user.deactivated_at.is_none()
                && user.org.is_none()
                && decided(access::decide(&who.actor(), Action::ReadContactMethods, object), "user").is_ok()
            {
                people.push(user);
            }
        }
        let ids: Vec<UserId> = people.iter().map(|u| u.id.clone()).collect();
        let outcomes = self.ports.oncall.method_outcomes(&ids).await?;
        let mut out = Vec::new();
        for user in people {
            let methods = self.ports.oncall.contact_methods(&user.id).await?;
            let mine: Vec<(&ContactMethodRecord, Option<&MethodOutcome>)> =
                methods.iter().map(|m| (m, outcomes.iter().find(|o| o.method_id == m.id))).collect();
            if let Some(r) = reach(&user, &mine) {
                out.push(r);
            }
        }
        Ok(out)
    }
}

/// Everyone a schedule may put on call from `now` on: its rotations' members and the people
/// of its overrides not yet over.
fn members(spec: &ScheduleSpec, now: jiff::Timestamp) -> impl Iterator<Item = String> + '_ {
    let layers = spec.layers.iter().flat_map(|l| l.rotation.members.iter().cloned());
    layers.chain(spec.overrides.iter().filter(move |o| o.to > now).map(|o| o.user.clone()))
}

#[cfg(test)]
mod desk_tests;
