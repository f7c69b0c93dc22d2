//! The quarterly review mailed when a quarter ends: for each org the contract's rule names
//! (Enterprise, in the seed's terms), one round per quarter, written once with a letter per
//! recipient — the org's TAM, who completes the recommendations and presents the review, and
//! its admins — and sent through the same outside-world port and back-off as the report
//! announcements and status notices.

use super::{Recommendations, markdown, review};
use crate::delivery::SendError;
use crate::desk::AppError;
use crate::ports::{Ports, org_admins};
use crate::status::subscribers::{NOTICE_BATCH, NOTICE_LEASE_SECONDS, Outgoing, StatusSender, retry_at};
use crate::store::StoreError;
use async_trait::async_trait;
use std::collections::HashSet;
use std::sync::Arc;
use stringer_core::contract::ReviewRecipient;
use stringer_core::ids::{OrgSlug, UserId};
use stringer_core::review::{Quarter, mailing_owed};

/// A review to mail to one person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewLetter {
    /// Its id (derived from the org, the quarter and the address: written once).
    pub id: String,
    /// The org.
    pub org: OrgSlug,
    /// The quarter, e.g. `2026-Q3`.
    pub quarter: String,
    /// The address.
    pub to: String,
    /// Whether it goes to the TAM (who is asked to complete the recommendations).
    pub tam: bool,
    /// Attempts so far.
    pub attempts: i64,
}

/// Where reviews' recommendations and mailings are kept.
#[async_trait]
pub trait ReviewBook: Send + Sync {
    /// The recommendations written for an org's quarter.
    async fn recommendations(&self, org: &OrgSlug, quarter: &str) -> Result<Option<Recommendations>, StoreError>;
    /// Writes (or rewrites) the recommendations of an org's quarter.
    async fn set_recommendations(
        &self,
        org: &OrgSlug,
        quarter: &str,
        body: &str,
        author: &UserId,
        at: i64,
    ) -> Result<(), StoreError>;
    /// The orgs whose round of `quarter` is written.
    async fn mailed_orgs(&self, quarter: &str) -> Result<Vec<OrgSlug>, StoreError>;
    /// Writes an org's round of a quarter with its letters, in one transaction; false (nothing
    /// written) when the round was written already.
    async fn write_round(
        &self,
        org: &OrgSlug,
        quarter: &str,
        letters: &[ReviewLetter],
        at: i64,
    ) -> Result<bool, StoreError>;
    /// Claims letters due at `now` until `lease_until`.
    async fn claim_letters(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<ReviewLetter>, StoreError>;
    /// A letter sent (`error: None`) or given up.
    async fn letter_done(&self, id: &str, at: i64, error: Option<&str>) -> Result<(), StoreError>;
    /// A letter that failed for now: tried again at `next` (`None`: given up).
    async fn letter_retry(&self, id: &str, next: Option<i64>, error: &str) -> Result<(), StoreError>;
}

/// Writes the rounds owed when a quarter ends and sends their letters.
#[derive(Clone)]
pub struct ReviewMailer {
    /// Everything the review reads.
    pub ports: Ports,
    /// The outside world.
    pub sender: Arc<dyn StatusSender>,
    /// The server's address, for links.
    pub public_url: String,
}

impl ReviewMailer {
    /// Writes the round of every org owed one at `now` (see [`mailing_owed`]) that has none
    /// yet; answers how many were written.
    pub async fn owe(&self, now: i64) -> Result<usize, AppError> {
        let contract = self.ports.commands.contract();
        let Some(rule) = contract.quarterly_review.as_ref() else { return Ok(0) };
        let at = jiff::Timestamp::from_second(now).map_err(|e| AppError::Rejected(e.to_string()))?;
        let quarter = Quarter::of(at).previous().to_string();
        let done: HashSet<OrgSlug> = self.ports.review_book.mailed_orgs(&quarter).await?.into_iter().collect();
        let mut written = 0;
        for org in self.ports.accounts.orgs().await? {
            if done.contains(&org.slug) || mailing_owed(Some(rule), &org.tier, org.created_at, at).is_none() {
                continue;
            }
            let mut to = Vec::new();
            for whom in &rule.send_to {
                match whom {
                    ReviewRecipient::Tam => {
                        if let Some(tam) = &org.tam
                            && let Some(user) = self.ports.accounts.user(tam).await?
                            && user.deactivated_at.is_none()
                        {
                            to.push((user.email, true));
                        }
                    }
                    ReviewRecipient::OrgAdmins => {
                        to.extend(org_admins(&self.ports, &org.slug).await?.into_iter().map(|u| (u.email, false)));
                    }
                }
            }
            let letters: Vec<ReviewLetter> = to
                .into_iter()
                .map(|(address, tam)| ReviewLetter {
                    id: crate::ids::seeded_ulid("rvl", now * 1000, &format!("review:{}:{quarter}:{address}", org.slug)),
                    org: org.slug.clone(),
                    quarter: quarter.clone(),
                    to: address,
                    tam,
                    attempts: 0,
                })
                .collect();
            if self.ports.review_book.write_round(&org.slug, &quarter, &letters, now).await? {
                written += 1;
            }
        }
        Ok(written)
    }

    /// Sends the letters due at `now`; answers how many went out.
    pub async fn send_due(&self, now: i64) -> Result<usize, AppError> {
        let book = &self.ports.review_book;
        let due = book.claim_letters(now, now + NOTICE_LEASE_SECONDS, NOTICE_BATCH).await?;
        let mut sent = 0;
        for letter in due {
            let outcome = match self.message(&letter, now).await? {
                Some(message) => self.sender.send(&letter.id, &message).await,
                None => Err(SendError::Permanent("the org it reviews no longer exists".into())),
            };
            match outcome {
                Ok(()) => {
                    book.letter_done(&letter.id, now, None).await?;
                    sent += 1;
                }
                Err(SendError::Temporary(why)) => {
                    book.letter_retry(&letter.id, retry_at(letter.attempts + 1, now), &why).await?
                }
                Err(SendError::Permanent(why)) => book.letter_done(&letter.id, now, Some(&why)).await?,
            }
        }
        Ok(sent)
    }

    async fn message(&self, letter: &ReviewLetter, now: i64) -> Result<Option<Outgoing>, AppError> {
        let Some(org) = self.ports.accounts.org(&letter.org).await? else { return Ok(None) };
        let Some(quarter) = Quarter::parse(&letter.quarter) else { return Ok(None) };
        let review = review(&self.ports, &org, quarter, now, &mut |_| {}).await?;
        let url = format!("{}/reviews?org={}&quarter={quarter}", self.public_url.trim_end_matches('/'), org.slug);
        let opening = if letter.tam {
            format!(
                "{quarter} has ended: here is {}'s quarterly operational review. The recommendations \
                 are drafted from the figures; complete them before you present the review:\n{url}\n",
                org.name
            )
        } else {
            format!(
                "{quarter} has ended: here is {}'s quarterly operational review. Your TAM presents it \
                 with the recommendations for the quarter ahead. Read it, with charts and the rows \
                 behind every figure, at:\n{url}\n",
                org.name
            )
        };
        Ok(Some(Outgoing::Mail {
            to: letter.to.clone(),
            subject: format!("Quarterly operational review {quarter}: {}", org.name),
            body: format!("{opening}\n{}", markdown(&review)),
            unsubscribe: None,
        }))
    }
}
