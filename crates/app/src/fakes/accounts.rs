//! What the account desk reaches beyond the [`World`]: the phone book (callers' numbers,
//! numbers waiting for their code, the orgs' PIN hashes), the SMS provider, and the letter
//! box, which no test here needs (every call answers that it lacks it); and the account
//! desk over them.

// The stubs answer the same error whatever they are asked.
#![allow(unused_variables)]

use super::{MemoryChat, Pages, World, absent};
use crate::accounts::{AccountDesk, AccountError, AccountPorts, Outside, Texts};
use crate::delivery::SendError;
use crate::letters::{Letter, LetterBox};
use crate::limits::RateLimit;
use crate::phone::{Confirmation, PhoneBook};
use crate::store::StoreError;
use async_trait::async_trait;
use std::sync::{Arc, Mutex};
use stringer_core::ids::{OrgSlug, TicketId, UserId};

/// No phone book and no letter box.
pub struct Elsewhere;

/// Callers' numbers, numbers waiting for their code, the orgs' PIN hashes and the calls'
/// tickets, in memory.
#[derive(Default)]
pub struct MemoryPhoneBook {
    /// (user, number in force).
    pub numbers: Mutex<Vec<(UserId, String)>>,
    /// (user, the number waiting for its code).
    pub waiting: Mutex<Vec<(UserId, Confirmation)>>,
    /// (org, PIN hash).
    pub pins: Mutex<Vec<(OrgSlug, String)>>,
    /// (call, the ticket it opened or paged for).
    pub calls: Mutex<Vec<(String, TicketId)>>,
}

#[async_trait]
impl PhoneBook for MemoryPhoneBook {
    async fn callers(&self, number: &str) -> Result<Vec<UserId>, StoreError> {
        Ok(self.numbers.lock().unwrap().iter().filter(|(_, n)| n == number).map(|(u, _)| u.clone()).collect())
    }

    async fn number(&self, user: &UserId) -> Result<Option<String>, StoreError> {
        Ok(self.numbers.lock().unwrap().iter().find(|(u, _)| u == user).map(|(_, n)| n.clone()))
    }

    async fn set_number(&self, user: &UserId, number: Option<&str>, at: i64) -> Result<(), StoreError> {
        let mut numbers = self.numbers.lock().unwrap();
        numbers.retain(|(u, _)| u != user);
        numbers.extend(number.map(|n| (user.clone(), n.to_string())));
        Ok(())
    }

    async fn set_confirmation(&self, user: &UserId, waiting: &Confirmation) -> Result<(), StoreError> {
        let mut all = self.waiting.lock().unwrap();
        all.retain(|(u, _)| u != user);
        all.push((user.clone(), waiting.clone()));
        Ok(())
    }

    async fn confirmation(&self, user: &UserId) -> Result<Option<Confirmation>, StoreError> {
        Ok(self.waiting.lock().unwrap().iter().find(|(u, _)| u == user).map(|(_, c)| c.clone()))
    }

    async fn confirmation_failed(&self, user: &UserId) -> Result<(), StoreError> {
        self.waiting.lock().unwrap().iter_mut().filter(|(u, _)| u == user).for_each(|(_, c)| c.attempts += 1);
        Ok(())
    }

    async fn confirmed(&self, user: &UserId, number: Option<&str>, at: i64) -> Result<(), StoreError> {
        if let Some(number) = number {
            self.set_number(user, Some(number), at).await?;
        }
        self.waiting.lock().unwrap().retain(|(u, _)| u != user);
        Ok(())
    }

    async fn org_by_pin(&self, pin_hash: &str) -> Result<Option<OrgSlug>, StoreError> {
        Ok(self.pins.lock().unwrap().iter().find(|(_, h)| h == pin_hash).map(|(o, _)| o.clone()))
    }

    async fn set_pin(&self, org: &OrgSlug, pin_hash: &str, at: i64) -> Result<bool, StoreError> {
        let mut pins = self.pins.lock().unwrap();
        if pins.iter().any(|(o, h)| o != org && h == pin_hash) {
            return Ok(false);
        }
        pins.retain(|(o, _)| o != org);
        pins.push((org.clone(), pin_hash.into()));
        Ok(true)
    }

    async fn call_ticket(&self, call: &str) -> Result<Option<TicketId>, StoreError> {
        Ok(self.calls.lock().unwrap().iter().find(|(c, _)| c == call).map(|(_, t)| t.clone()))
    }

    async fn set_call_ticket(&self, call: &str, ticket: &TicketId, caller: &str, at: i64) -> Result<(), StoreError> {
        let mut calls = self.calls.lock().unwrap();
        if !calls.iter().any(|(c, _)| c == call) {
            calls.push((call.into(), ticket.clone()));
        }
        Ok(())
    }
}

/// An SMS provider that keeps every text: (to, body).
#[derive(Default)]
pub struct Sms {
    /// What was sent.
    pub sent: Mutex<Vec<(String, String)>>,
}

#[async_trait]
impl Texts for Sms {
    async fn send_text(&self, to: &str, body: &str, key: &str) -> Result<(), SendError> {
        self.sent.lock().unwrap().push((to.into(), body.into()));
        Ok(())
    }
}

no_sendings!(Elsewhere, Letter);

#[async_trait]
impl LetterBox for Elsewhere {
    async fn review_rounds(&self, quarter: &str) -> Result<Vec<OrgSlug>, StoreError> {
        Err(absent("review_rounds"))
    }

    async fn write_round(
        &self,
        org: &OrgSlug,
        quarter: &str,
        letters: &[Letter],
        figures: &serde_json::Value,
        at: i64,
    ) -> Result<bool, StoreError> {
        Err(absent("write_round"))
    }

    async fn post(&self, letters: &[Letter], at: i64) -> Result<(), StoreError> {
        Err(absent("post"))
    }
}

#[async_trait]
impl PhoneBook for Elsewhere {
    async fn callers(&self, number: &str) -> Result<Vec<UserId>, StoreError> {
        Err(absent("callers"))
    }

    async fn number(&self, user: &UserId) -> Result<Option<String>, StoreError> {
        Err(absent("number"))
    }

    async fn set_number(&self, user: &UserId, number: Option<&str>, at: i64) -> Result<(), StoreError> {
        Err(absent("set_number"))
    }

    async fn set_confirmation(&self, user: &UserId, waiting: &Confirmation) -> Result<(), StoreError> {
        Err(absent("set_confirmation"))
    }

    async fn confirmation(&self, user: &UserId) -> Result<Option<Confirmation>, StoreError> {
        Err(absent("confirmation"))
    }

    async fn confirmation_failed(&self, user: &UserId) -> Result<(), StoreError> {
        Err(absent("confirmation_failed"))
    }

    async fn confirmed(&self, user: &UserId, number: Option<&str>, at: i64) -> Result<(), StoreError> {
        Err(absent("confirmed"))
    }

    async fn org_by_pin(&self, pin_hash: &str) -> Result<Option<OrgSlug>, StoreError> {
        Err(absent("org_by_pin"))
    }

    async fn set_pin(&self, org: &OrgSlug, pin_hash: &str, at: i64) -> Result<bool, StoreError> {
        Err(absent("set_pin"))
    }

    async fn call_ticket(&self, call: &str) -> Result<Option<TicketId>, StoreError> {
        Err(absent("call_ticket"))
    }

    async fn set_call_ticket(&self, call: &str, ticket: &TicketId, caller: &str, at: i64) -> Result<(), StoreError> {
        Err(absent("set_call_ticket"))
    }
}

/// The account desk over `world`, sending mail (written to the world; no letter box, so a
/// welcome packet is not posted), without a phone book, SMS or Slack kickoffs; every new id
/// is the prefix and `_1`, enough for one new thing per test.
pub fn account_desk(world: &Arc<World>) -> AccountDesk {
    account_desk_with(world, Arc::new(Elsewhere), None, Arc::new(Pages::default()))
}

/// The same, with this phone book, SMS provider and status pages.
pub fn account_desk_with(
    world: &Arc<World>,
    phone: Arc<dyn PhoneBook>,
    texts: Option<Arc<dyn Texts>>,
    status: Arc<Pages>,
) -> AccountDesk {
    let ports = AccountPorts {
        commands: world.clone(),
        accounts: world.clone(),
        safeguards: world.clone(),
        oncall: world.clone(),
        phone,
        chat: Arc::new(MemoryChat::default()),
        status,
        letters: Arc::new(Elsewhere),
    };
    let outside = Outside {
        login_limit: RateLimit { limit: 10, window: 60 },
        limits: RateLimit { limit: 10, window: 60 },
        public_url: String::new(),
        sends_mail: true,
        texts,
        kicks_off: false,
        forget: Arc::new(|| {}),
        new_id: std::sync::Arc::new(|prefix| format!("{prefix}_1")),
    };
    AccountDesk::new(ports, outside)
}

/// What an account use came to, in words a table can hold.
pub fn verdict<T>(r: Result<T, AccountError>) -> String {
    match r {
        Ok(_) => "done".into(),
        Err(AccountError::Forbidden(why)) => format!("forbidden: {why}"),
        Err(AccountError::NotFound(what)) => format!("no {what}"),
        Err(AccountError::Invalid(why)) => format!("invalid: {why}"),
        Err(AccountError::Malformed(why)) => format!("malformed: {why}"),
        Err(AccountError::Conflict(why)) => format!("conflict: {why}"),
        Err(e) => format!("{e:?}"),
    }
}
