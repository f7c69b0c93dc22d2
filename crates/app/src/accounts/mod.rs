//! Accounts and orgs, for every door: signing in ([`AccountDesk::sign_in`], with its back-off),
//! orgs ([`orgs`]: created with their status page and channel rule, changed, their packet
//! posted), users ([`users`]: created by staff admins, invited by org admins, changed,
//! deactivated), one-time password links and invitations ([`links`]), the phone numbers
//! and PINs the P1 line knows people by ([`numbers`]), and API tokens ([`tokens`]).
//!
//! A door proves who is acting and hands the [`Principal`] to the [`AccountDesk`]; the desk
//! asks the access policy itself and answers an [`AccountError`], which the door words for its
//! callers. The JSON API and the pages call the same functions, so a page can do nothing the
//! API cannot.

pub mod letter;
pub mod links;
pub mod mailing;
pub mod numbers;
pub mod orgs;
pub mod password;
pub mod tokens;
pub mod users;

use crate::act::Principal;
use crate::chat::ChatRoom;
use crate::delivery::SendError;
use crate::desk::AppError;
use crate::letters::LetterBox;
use crate::limits::{RateLimit, Spent, client_key};
use crate::phone::PhoneBook;
use crate::ports::{Accounts, Commands, OnCall, Safeguards};
use crate::records::{OrgRecord, UserRecord};
use crate::status::StatusPages;
use crate::store::StoreError;
use async_trait::async_trait;
use std::sync::Arc;
use stringer_core::access::{self, Action, Actor, Decision, Object, OrgRef, Scopes};
use stringer_core::ids::{OrgSlug, UserId};

/// Failed sign-ins per client address and account are forgotten after an hour without one.
const FORGET_FAILURES_SECONDS: i64 = 3600;

/// Why an account use case did nothing.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// No such object — or one the principal may not see, answered exactly the same.
    #[error("no such {0}")]
    NotFound(&'static str),
    /// The policy refused, with its reason.
    #[error("{0}")]
    Forbidden(String),
    /// What was asked cannot be (a malformed field, an unknown tier).
    #[error("{0}")]
    Invalid(String),
    /// An identifier of the wrong shape.
    #[error("{0}")]
    Malformed(&'static str),
    /// Wrong email or password, or an inactive account.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// A budget is spent, or failed sign-ins hold the address back: try again later.
    #[error(transparent)]
    Spent(#[from] Spent),
    /// The state of things refuses it (no mail relay, a number another person holds).
    #[error("{0}")]
    Conflict(String),
    /// An outside system (the SMS provider) did not take a message.
    #[error("{0}")]
    Unavailable(&'static str),
    /// The rules or the store refused.
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> AccountError {
        AccountError::App(AppError::Store(e))
    }
}

/// Text messages to one number: the code confirming a phone number.
#[async_trait]
pub trait Texts: Send + Sync {
    /// Sends `body` to `to` (E.164), once per `key`.
    async fn send_text(&self, to: &str, body: &str, key: &str) -> Result<(), SendError>;
}

/// What the account use cases reach beyond the ports: the budgets, how the server is
/// reached, and the outside systems it may use.
#[derive(Clone)]
pub struct Outside {
    /// Sign-in attempts per client address, whatever the account.
    pub login_limit: RateLimit,
    /// Codes asked for per user.
    pub limits: RateLimit,
    /// The server's own address, for links in mail.
    pub public_url: String,
    /// Whether the server has a mail relay: account mail is then written to the outbox
    /// (see [`mailing`]) and sent by the engine.
    pub sends_mail: bool,
    /// The SMS provider, when configured.
    pub texts: Option<Arc<dyn Texts>>,
    /// Whether orgs' shared channels are kicked off (the channel's app can create and post): a new
    /// channel is then owed its kickoff, which the chat intake runs.
    pub kicks_off: bool,
    /// Told whenever a user or credential changed, so that what was cached of them is not
    /// believed any longer.
    pub forget: Arc<dyn Fn() + Send + Sync>,
    /// Makes a new id with the given prefix (the front makes them from the desk's clock).
    pub new_id: crate::ids::NewId,
}

/// What the account desk reads and changes: orgs, users and tokens, their budgets, the
/// contact methods and phone numbers people confirm, and what a new org starts with (its
/// channel, status page and welcome packet).
#[derive(Clone)]
pub struct AccountPorts {
    /// Changes tickets (and tells the time and the contract).
    pub commands: Arc<dyn Commands>,
    /// Orgs, users, tokens.
    pub accounts: Arc<dyn Accounts>,
    /// Rate limits, back-off, replay guard, idempotency keys, settings.
    pub safeguards: Arc<dyn Safeguards>,
    /// Schedules, contact methods, notification rules.
    pub oncall: Arc<dyn OnCall>,
    /// Caller IDs, the orgs' phone PINs, the calls' tickets.
    pub phone: Arc<dyn PhoneBook>,
    /// Messages from the orgs' shared channels, the channels' orgs, the threads' tickets.
    pub chat: Arc<dyn ChatRoom>,
    /// Status pages, their components, incidents and maintenance.
    pub status: Arc<dyn StatusPages>,
    /// Letters to an org's people waiting to be sent.
    pub letters: Arc<dyn LetterBox>,
}

/// The application's account and org use cases.
#[derive(Clone)]
pub struct AccountDesk {
    ports: AccountPorts,
    outside: Outside,
}

impl AccountDesk {
    /// A desk over the application's ports and what it reaches beyond them.
    pub fn new(ports: AccountPorts, outside: Outside) -> AccountDesk {
        AccountDesk { ports, outside }
    }

    fn now(&self) -> i64 {
        self.ports.commands.now().as_second()
    }

    fn new_id(&self, prefix: &str) -> String {
        (self.outside.new_id)(prefix)
    }

    /// Counts an attempt against a budget; [`AccountError::Spent`] once it is spent.
    async fn spend(&self, limit: RateLimit, key: String, what: &str) -> Result<(), AccountError> {
        match limit.check(self.ports.safeguards.as_ref(), &key, self.now(), what).await? {
            Some(spent) => Err(spent.into()),
            None => Ok(()),
        }
    }

    /// Checks a sign-in (the API's login and the pages' sign-in form): the account for
    /// `email` (in `org` when given) if `password` is its password and it is active. Failed
    /// attempts slow down the client address `ip` trying that account (not the account
    /// itself), and every address has a budget of attempts per minute. A sign-in without
    /// such an account takes as long as one with a wrong password.
    pub async fn sign_in(
        &self,
        ip: &str,
        email: &str,
        password: &str,
        org: Option<&str>,
    ) -> Result<UserRecord, AccountError> {
        const WRONG: AccountError = AccountError::Unauthorized("wrong email or password");
        if email.len() > 254 || password.len() > 256 || org.is_some_and(|o| o.len() > 40) {
            return Err(WRONG);
        }
        let email = email.trim().to_lowercase();
        let now = self.now();
        let too_many = "too many sign-in attempts from this address";
        let client = client_key(ip);
        self.spend(self.outside.login_limit, format!("login-ip:{client}"), too_many).await?;
        let safeguards = &self.ports.safeguards;
        let key = format!("{client}|{email}|{}", org.unwrap_or(""));
        if let Some(until) = safeguards.login_locked_until(&key, now).await? {
            return Err(Spent { what: "too many failed sign-ins".into(), wait: until - now }.into());
        }
        let org = org.map(OrgSlug::from);
        let user = self.ports.accounts.login_account(&email, org.as_ref()).await?;
        let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
        let ok = password::verify(password, hash);
        let Some(user) = user.filter(|u| ok && u.deactivated_at.is_none()) else {
            safeguards.record_login_failure(&key, now, FORGET_FAILURES_SECONDS, backoff).await?;
            return Err(WRONG);
        };
        safeguards.clear_login_failures(&key).await?;
        Ok(user)
    }

    /// The org `slug` if the policy lets `who` take `action` on it; else the policy's refusal
    /// (not found exactly as for a missing org).
    pub async fn org(&self, who: &Principal, slug: &str, action: Action) -> Result<OrgRecord, AccountError> {
        let org = self.ports.accounts.org(&OrgSlug::from(slug)).await?;
        decided(access::decide(&who.actor(), action, org.as_ref().map(|o| Object::Org(o.as_ref()))), "org")?;
        org.ok_or(AccountError::NotFound("org"))
    }

    /// A user and their org, if the id is well-formed and the user exists.
    pub async fn user_with_org(&self, id: &str) -> Result<Option<(UserRecord, Option<OrgRecord>)>, AccountError> {
        if !crate::ids::is_id("usr", id) {
            return Err(AccountError::Malformed("malformed user id"));
        }
        let Some(user) = self.ports.accounts.user(&UserId::from(id)).await? else { return Ok(None) };
        let org = match &user.org {
            Some(slug) => self.ports.accounts.org(slug).await?,
            None => None,
        };
        Ok(Some((user, org)))
    }

    /// The user `id` if the policy lets `who` take `action` on them.
    pub async fn user(&self, who: &Principal, id: &str, action: Action) -> Result<UserRecord, AccountError> {
        let found = self.user_with_org(id).await?;
        let object = found.as_ref().map(|(u, o)| Object::User(u.as_object(o.as_ref())));
        decided(access::decide(&who.actor(), action, object), "user")?;
        found.map(|(u, _)| u).ok_or(AccountError::NotFound("user"))
    }

    /// Checks that every user in `ids` is staff who may serve `org` (be its TAM, a named
    /// engineer or on its schedule): uncleared staff cannot serve a federal org.
    pub async fn check_servers(&self, ids: &[&str], org: Option<OrgRef<'_>>) -> Result<(), AccountError> {
        for id in ids {
            let Some(user) = self.ports.accounts.user(&UserId::from(*id)).await?.filter(|u| u.org.is_none()) else {
                return Err(AccountError::Invalid(format!("{id:?} is not a staff user")));
            };
            if let Some(org) = org
                && !access::decide(&person(&user, Scopes::NONE), Action::ServeOrg, Some(Object::Org(org))).allowed()
            {
                return Err(AccountError::Invalid(format!(
                    "{} ({id}) cannot serve {}: only staff cleared for federal serve a federal org",
                    user.name, org.slug
                )));
            }
        }
        Ok(())
    }
}

/// How long a client address is held back from an account after `failures` wrong
/// passwords in a row: not at all for the first four, then doubling from 2 s to 15 min.
fn backoff(failures: i64) -> i64 {
    if failures < 5 { 0 } else { 2i64.saturating_pow((failures - 4).min(20) as u32).min(900) }
}

/// The policy's view of a person acting on their own behalf (being paged, serving an org,
/// following a link sent to them) with the given scopes.
pub fn person(user: &UserRecord, scopes: Scopes) -> Actor<'_> {
    Actor {
        user: user.id.as_str(),
        role: user.role,
        org: user.org.as_ref().map(OrgSlug::as_str),
        federal_cleared: user.federal_cleared,
        scopes,
    }
}

/// A policy decision as an answer: not found (`what`) exactly as for a missing object, or
/// forbidden with the reason.
pub fn decided(decision: Decision, what: &'static str) -> Result<(), AccountError> {
    match decision {
        Decision::Allow => Ok(()),
        Decision::NotFound => Err(AccountError::NotFound(what)),
        Decision::Forbidden(why) => Err(AccountError::Forbidden(why.to_string())),
    }
}

/// A display name: 1 to 200 characters, not blank.
fn check_name(name: &str) -> Result<(), AccountError> {
    if name.trim().is_empty() || name.len() > 200 {
        return Err(AccountError::Invalid("name: 1 to 200 characters".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn the_back_off_starts_at_the_fifth_failure_and_stops_at_fifteen_minutes() {
        assert_eq!((0..5).map(backoff).collect::<Vec<_>>(), [0, 0, 0, 0, 0]);
        assert_eq!(backoff(5), 2);
        assert_eq!(backoff(6), 4);
        assert_eq!(backoff(14), 900);
        assert_eq!(backoff(i64::MAX), 900);
    }
}

#[cfg(test)]
mod desk_tests;
#[cfg(test)]
mod org_tests;
