//! Account mail through the outbox: a password link's mail, an org's invitation and the
//! notice to an address an org admin tried to invite are written as [`AccountLetter`]s in the
//! transaction that stores the link (or the invitation), and sent later by the engine's
//! courier under [`ACCOUNT_MAIL`] — so a request never waits on the mail relay, and a relay
//! that is down delays the mail instead of losing it.
//!
//! A letter holds no secret: only the link's id and expiry. Its mail is written when it is
//! sent, the link signed then under the server's key ([`signed_link`]); a link used up or
//! expired by then is not sent at all.

use super::letter::{AccountLetter, Carries, Purpose, signed_link};
use super::links::{INVITATION_SECONDS, link_key};
use crate::outbox::{Carrier, Claimable, Outgoing, Policy, SendError, Sender, Sendings, Tried, send_due};
use crate::ports::{Accounts, Safeguards};
use crate::store::StoreError;
use async_trait::async_trait;
use std::sync::Arc;
use stringer_core::ids::OrgSlug;

/// Account mail is waited for by someone at a sign-in page: 50 a round, a minute's lease,
/// 10 s doubling to five minutes, 8 attempts (about a quarter of an hour, well inside the
/// hour a reset link works).
pub const ACCOUNT_MAIL: Policy =
    Policy { name: "account mail", batch: 50, lease_seconds: 60, first_wait: 10, longest_wait: 300, attempts: 8 };

impl Claimable for AccountLetter {
    fn id(&self) -> &str {
        &self.id
    }
    fn attempts(&self) -> i64 {
        self.attempts
    }
}

/// The mail `letter` is, with its link signed under `key` (`org_name`: the invitation's org).
pub fn message(letter: &AccountLetter, public_url: &str, key: &str, org_name: &str) -> Outgoing {
    let (subject, body) = match &letter.carries {
        Carries::PasswordLink { link, expires, purpose } => {
            let link = signed_link(public_url, key, link, *expires);
            let hours = purpose.seconds() / 3600;
            let (subject, opening) = match purpose {
                Purpose::Invitation => ("Your Stringer account", "an account on Stringer was made for you."),
                Purpose::Reset => (
                    "Reset your Stringer password",
                    "someone asked to reset your Stringer password. If it was not you, ignore this mail.",
                ),
            };
            let body = format!(
                "Hello,\n\n{opening}\n\nSet your password here (the link works once, for {hours} hours):\n{link}\n"
            );
            (subject.to_string(), body)
        }
        Carries::Invitation { invitation, expires } => {
            let link = signed_link(public_url, key, invitation, *expires);
            let days = INVITATION_SECONDS / 86_400;
            let body = format!(
                "Hello,\n\nyou were invited to {org_name}'s support desk on Stringer.\n\nChoose your password here to make your account (the link works once, for {days} days):\n{link}\n\nIf you did not expect this, ignore this mail: no account is made.\n"
            );
            (format!("Your invitation to {org_name} on Stringer"), body)
        }
        Carries::Held { .. } => {
            let body = format!(
                "Hello,\n\nan admin of {org_name} tried to invite this address to their support desk on Stringer. This address has a Stringer account already, so no new account was made and nothing changed for you.\n\nIf you do want to join {org_name}, ask your contact at the vendor; if you did not expect this, you need not do anything.\n"
            );
            (format!("Someone at {org_name} tried to invite you to Stringer"), body)
        }
    };
    Outgoing::Mail { to: letter.to.clone(), subject, body, unsubscribe: None }
}

/// What the courier reads when it sends: the signing key, whether a link still works, an
/// org's name.
#[async_trait]
pub trait LinkBook: Send + Sync {
    /// The key links are signed with (made on first use).
    async fn key(&self) -> Result<String, StoreError>;
    /// Whether the link or invitation `id` still works at `now`.
    async fn usable(&self, id: &str, now: i64) -> Result<bool, StoreError>;
    /// An org's display name.
    async fn org_name(&self, org: &OrgSlug) -> Result<Option<String>, StoreError>;
}

/// The [`LinkBook`] over the stored accounts and settings.
#[derive(Clone)]
pub struct StoredLinks {
    /// Links, invitations and orgs.
    pub accounts: Arc<dyn Accounts>,
    /// The settings (the signing key).
    pub safeguards: Arc<dyn Safeguards>,
}

#[async_trait]
impl LinkBook for StoredLinks {
    async fn key(&self) -> Result<String, StoreError> {
        link_key(self.safeguards.as_ref()).await
    }
    async fn usable(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        if crate::ids::is_id("inv", id) {
            self.accounts.invitation_usable(id, now).await
        } else {
            self.accounts.password_link_usable(id, now).await
        }
    }
    async fn org_name(&self, org: &OrgSlug) -> Result<Option<String>, StoreError> {
        Ok(self.accounts.org(org).await?.map(|o| o.name))
    }
}

/// Sends the account letters due: the engine's courier.
#[derive(Clone)]
pub struct Courier {
    /// Where the letters wait.
    pub letters: Arc<dyn Sendings<AccountLetter>>,
    /// What the mail is written from at send time.
    pub book: Arc<dyn LinkBook>,
    /// The outside world.
    pub sender: Arc<dyn Sender>,
    /// The server's own address, for the links.
    pub public_url: String,
}

impl Courier {
    /// Sends the account letters due at `now` under [`ACCOUNT_MAIL`]; answers how many went out.
    pub async fn send_due(&self, now: i64) -> Result<usize, StoreError> {
        Ok(send_due(self.letters.as_ref(), self, &ACCOUNT_MAIL, now).await?.sent)
    }
}

#[async_trait]
impl Carrier<AccountLetter> for Courier {
    type Error = StoreError;
    async fn carry(&self, letter: &AccountLetter, now: i64) -> Result<Tried, StoreError> {
        let link_dead = match &letter.carries {
            Carries::Held { .. } => false,
            carries => !self.book.usable(carries.subject(), now).await?,
        };
        if link_dead {
            return Ok(Tried::Failed(SendError::Permanent("the link was used or expired before it was mailed".into())));
        }
        let org_name = match &letter.org {
            Some(org) => match self.book.org_name(org).await? {
                Some(name) => name,
                None => {
                    return Ok(Tried::Failed(SendError::Permanent(
                        "the org it was written for no longer exists".into(),
                    )));
                }
            },
            None => String::new(),
        };
        let message = message(letter, &self.public_url, &self.book.key().await?, &org_name);
        Ok(self.sender.send(&letter.id, &message).await.into())
    }
}

#[cfg(test)]
mod tests;
