//! Letters to an org's people, sent through an outbox of their own: the quarterly review when
//! a quarter ends — for each org the contract's rule names (Enterprise, in the seed's terms),
//! one round per quarter, written once with a letter per recipient: the org's TAM, who
//! completes the recommendations and presents the review, and its admins — and the welcome
//! packet, to a new org admin or to the org's admins on demand. A letter is a row written
//! first and written out when it is sent (the review with the figures of that moment, the
//! packet under the contract in force), through the outbox ([`crate::outbox`]) like the report
//! announcements and status notices. Staff's answers to "Contact us"
//! inquiries go out through this outbox too (see [`crate::inquiries`]).

use crate::delivery::SendError;
use crate::desk::AppError;
use crate::outbox::{Carrier, Claimable, MESSAGES, Outgoing, Sender, Sendings, Tried, send_due};
use crate::packet::Reachable;
use crate::ports::{Accounts, Commands, Inquiries, org_admins};
pub use crate::records::{Kind, Letter};
use crate::review::{ReviewPorts, markdown, review};
use crate::store::StoreError;
use async_trait::async_trait;
use std::collections::HashSet;
use std::sync::Arc;
use stringer_core::contract::ReviewRecipient;
use stringer_core::ids::OrgSlug;
use stringer_core::review::{Quarter, mailing_owed};

/// Where letters wait to be sent.
#[async_trait]
pub trait LetterBox: Sendings<Letter> {
    /// The orgs whose review round of `quarter` is written.
    async fn review_rounds(&self, quarter: &str) -> Result<Vec<OrgSlug>, StoreError>;
    /// Writes an org's review round of a quarter with its letters and its frozen figure set
    /// (integers only, a leaf of the ledger: [`crate::review::ledger_figures`]), in one
    /// transaction; false (nothing written) when the round was written already.
    async fn write_round(
        &self,
        org: &OrgSlug,
        quarter: &str,
        letters: &[Letter],
        figures: &serde_json::Value,
        at: i64,
    ) -> Result<bool, StoreError>;
    /// Writes letters to send from `at` (one with an id already written is left as it is).
    async fn post(&self, letters: &[Letter], at: i64) -> Result<(), StoreError>;
}

/// Posts `org`'s welcome packet to each of `to` (addresses) at `now`, for the engine's
/// postman to send; a second posting in the same second to the same address is the same
/// letter.
pub async fn post_packet(letterbox: &dyn LetterBox, org: &OrgSlug, to: &[String], now: i64) -> Result<(), StoreError> {
    let letters: Vec<Letter> = to
        .iter()
        .map(|address| Letter {
            id: crate::ids::seeded_ulid("ltr", now * 1000, &format!("packet:{org}:{address}")),
            org: Some(org.clone()),
            kind: Kind::Packet,
            to: address.clone(),
            attempts: 0,
        })
        .collect();
    letterbox.post(&letters, now).await
}

/// What the postman reads and changes: the letters, the orgs and people they go to, the
/// inquiries they answer and what a review reads.
#[derive(Clone)]
pub struct PostmanPorts {
    /// Changes tickets (and tells the time and the contract).
    pub commands: Arc<dyn Commands>,
    /// Orgs, users, tokens.
    pub accounts: Arc<dyn Accounts>,
    /// The general inquiries of "Contact us".
    pub inquiries: Arc<dyn Inquiries>,
    /// Letters to an org's people waiting to be sent.
    pub letters: Arc<dyn LetterBox>,
    /// What a quarterly review reads (its ledger's key also goes in the welcome packet).
    pub review: ReviewPorts,
}

/// Writes the letters owed and sends them.
#[derive(Clone)]
pub struct Postman {
    /// Everything the letters read.
    pub ports: PostmanPorts,
    /// The outside world.
    pub sender: Arc<dyn Sender>,
    /// How the server is reached (links, the packet's addresses).
    pub reachable: Reachable,
}

impl Postman {
    /// Writes the review round of every org owed one at `now` (see [`mailing_owed`]) that
    /// has none yet; answers how many were written.
    pub async fn owe_reviews(&self, now: i64) -> Result<usize, AppError> {
        let contract = self.ports.commands.contract();
        let Some(rule) = contract.quarterly_review.as_ref() else { return Ok(0) };
        let at = jiff::Timestamp::from_second(now).map_err(|e| AppError::Rejected(e.to_string()))?;
        let quarter = Quarter::of(at).previous().to_string();
        let done: HashSet<OrgSlug> = self.ports.letters.review_rounds(&quarter).await?.into_iter().collect();
        let mut written = 0;
        for org in self.ports.accounts.orgs().await? {
            if done.contains(&org.slug) || mailing_owed(rule, &org.tier, org.created_at, at).is_none() {
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
                        to.extend(
                            org_admins(self.ports.accounts.as_ref(), &org.slug)
                                .await?
                                .into_iter()
                                .map(|u| (u.email, false)),
                        );
                    }
                }
            }
            let letters: Vec<Letter> = to
                .into_iter()
                .map(|(address, tam)| Letter {
                    id: crate::ids::seeded_ulid("ltr", now * 1000, &format!("review:{}:{quarter}:{address}", org.slug)),
                    org: Some(org.slug.clone()),
                    kind: Kind::Review { quarter: quarter.clone(), tam },
                    to: address,
                    attempts: 0,
                })
                .collect();
            // The figures are frozen as the round is written: a leaf of the ledger.
            let reviewed = Quarter::parse(&quarter).ok_or_else(|| AppError::Rejected(format!("quarter {quarter}")))?;
            let figures =
                crate::review::ledger_figures(&review(&self.ports.review, &org, reviewed, now, &mut |_| {}).await?);
            if self.ports.letters.write_round(&org.slug, &quarter, &letters, &figures, now).await? {
                written += 1;
            }
        }
        Ok(written)
    }

    /// Sends the letters due at `now`; answers how many went out.
    pub async fn send_due(&self, now: i64) -> Result<usize, AppError> {
        let letters: &dyn Sendings<Letter> = self.ports.letters.as_ref();
        Ok(send_due(letters, self, &MESSAGES, now).await?.sent)
    }

    /// The mail a letter is, written now (none when what it was written for is gone).
    async fn message(&self, letter: &Letter, now: i64) -> Result<Option<Outgoing>, AppError> {
        if let Kind::InquiryAnswer { inquiry } = &letter.kind {
            let Some(inquiry) = self.ports.inquiries.inquiry(inquiry).await? else { return Ok(None) };
            let support = self.ports.commands.contract().name.clone();
            let Some((subject, body)) = crate::inquiries::answer_letter(&inquiry, &support) else { return Ok(None) };
            return Ok(Some(Outgoing::Mail { to: letter.to.clone(), subject, body, unsubscribe: None }));
        }
        let Some(slug) = &letter.org else { return Ok(None) };
        let Some(org) = self.ports.accounts.org(slug).await? else { return Ok(None) };
        let (subject, body) = match &letter.kind {
            Kind::Packet => crate::packet::letter(
                &crate::packet::of(
                    self.ports.accounts.as_ref(),
                    self.ports.review.ledger.as_ref(),
                    self.ports.commands.contract(),
                    &org,
                    &self.reachable,
                )
                .await?,
            ),
            Kind::InquiryAnswer { .. } => return Ok(None),
            Kind::Review { quarter, tam } => {
                let Some(quarter) = Quarter::parse(quarter) else { return Ok(None) };
                let review = review(&self.ports.review, &org, quarter, now, &mut |_| {}).await?;
                let url = format!(
                    "{}/reviews?org={}&quarter={quarter}",
                    self.reachable.public_url.trim_end_matches('/'),
                    org.slug
                );
                let opening = if *tam {
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
                (
                    format!("Quarterly operational review {quarter}: {}", org.name),
                    format!("{opening}\n{}", markdown(&review)),
                )
            }
        };
        Ok(Some(Outgoing::Mail { to: letter.to.clone(), subject, body, unsubscribe: None }))
    }
}

impl Claimable for Letter {
    fn id(&self) -> &str {
        &self.id
    }
    fn attempts(&self) -> i64 {
        self.attempts
    }
}

#[async_trait]
impl Carrier<Letter> for Postman {
    type Error = AppError;
    async fn carry(&self, letter: &Letter, now: i64) -> Result<Tried, AppError> {
        Ok(Tried::from(match self.message(letter, now).await? {
            Some(message) => self.sender.send(&letter.id, &message).await,
            None => Err(SendError::Permanent("the org it was written for no longer exists".into())),
        }))
    }
}
