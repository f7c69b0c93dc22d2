//! What the account desk reaches beyond the [`World`]: the phone book and the letter box,
//! which no schedule or account test here needs (every call answers that it lacks it), and
//! the account desk over them.

// The stubs answer the same error whatever they are asked.
#![allow(unused_variables)]

use super::{MemoryChat, Pages, World, absent};
use crate::accounts::{AccountDesk, AccountPorts, Outside};
use crate::letters::{Letter, LetterBox};
use crate::limits::RateLimit;
use crate::phone::{Confirmation, PhoneBook};
use crate::store::StoreError;
use async_trait::async_trait;
use std::sync::Arc;
use stringer_core::ids::{OrgSlug, TicketId, UserId};

/// No phone book and no letter box.
pub struct Elsewhere;

no_sendings!(Elsewhere, Letter);

#[async_trait]
impl LetterBox for Elsewhere {
    async fn review_rounds(&self, quarter: &str) -> Result<Vec<OrgSlug>, StoreError> {
        Err(absent("review_rounds"))
    }

    async fn write_round(&self, org: &OrgSlug, quarter: &str, letters: &[Letter], at: i64) -> Result<bool, StoreError> {
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
    let ports = AccountPorts {
        commands: world.clone(),
        accounts: world.clone(),
        safeguards: world.clone(),
        oncall: world.clone(),
        phone: Arc::new(Elsewhere),
        chat: Arc::new(MemoryChat::default()),
        status: Arc::new(Pages::default()),
        letters: Arc::new(Elsewhere),
    };
    let outside = Outside {
        login_limit: RateLimit { limit: 10, window: 60 },
        limits: RateLimit { limit: 10, window: 60 },
        public_url: String::new(),
        sends_mail: true,
        texts: None,
        kicks_off: false,
        forget: Arc::new(|| {}),
        new_id: |prefix| format!("{prefix}_1"),
    };
    AccountDesk::new(ports, outside)
}
