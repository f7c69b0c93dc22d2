//! What people do with the mail channel, for the API and the pages alike: staff list, read and
//! route received mail (only what is filed under no org or under an org they see — a federal
//! org's for cleared staff — and routing only into an org they may open tickets for);
//! staff admins set an org's mail rules; everyone chooses the updates they get by mail. Every
//! "may this principal?" is asked here, of the one access policy.

use super::{InboundRecord, Inform, MailState, OrgMailPolicy, UnknownSenders};
use crate::accounts::{AccountError, decided};
use crate::act::Principal;
use crate::mail::Mailroom;
use crate::ports::Accounts;
use crate::records::OrgRecord;
use std::sync::Arc;
use stringer_core::access::{self, Action, Object};
use stringer_core::ids::OrgSlug;

/// The most messages one listing shows.
const LISTED: i64 = 200;
/// The most domains an org takes members from by mail.
const MAX_ACCEPT_DOMAINS: usize = 20;

/// What mail triage reads and changes: stored messages and the orgs they came for.
#[derive(Clone)]
pub struct TriagePorts {
    /// Orgs, users, tokens.
    pub accounts: Arc<dyn Accounts>,
    /// Received mail, its triage, bounced addresses and mail preferences.
    pub mailroom: Arc<dyn Mailroom>,
}

/// The mail channel's use cases, over the application's ports.
#[derive(Clone)]
pub struct MailTriage {
    ports: TriagePorts,
}

impl MailTriage {
    /// The use cases over `ports`.
    pub fn new(ports: TriagePorts) -> MailTriage {
        MailTriage { ports }
    }

    /// Received messages in a state, newest first, that `who` may triage.
    pub async fn messages(&self, who: &Principal, which: MailState) -> Result<Vec<InboundRecord>, AccountError> {
        decided(access::decide(&who.actor(), Action::ReadMail, Some(Object::Staff)), "mail")?;
        let orgs = self.ports.accounts.orgs().await?;
        let found = self.ports.mailroom.inbound_in(which, LISTED).await?;
        Ok(found.into_iter().filter(|m| sees(who, &orgs, m)).collect())
    }

    /// One received message, as received, for `who` who may see its org.
    pub async fn original(&self, who: &Principal, id: i64) -> Result<InboundRecord, AccountError> {
        decided(access::decide(&who.actor(), Action::ReadMail, Some(Object::Staff)), "mail")?;
        let orgs = self.ports.accounts.orgs().await?;
        let m = self.ports.mailroom.inbound(id).await?.filter(|m| sees(who, &orgs, m));
        m.ok_or(AccountError::NotFound("message"))
    }

    /// Sends a held message back for processing as if it had been addressed to `org`: by
    /// staff who see the message and may open tickets for the org.
    pub async fn route(&self, who: &Principal, id: i64, org: &str, now: i64) -> Result<(), AccountError> {
        decided(access::decide(&who.actor(), Action::TriageMail, Some(Object::Staff)), "mail")?;
        let orgs = self.ports.accounts.orgs().await?;
        if !self.ports.mailroom.inbound(id).await?.is_some_and(|m| sees(who, &orgs, &m)) {
            return Err(AccountError::NotFound("message"));
        }
        let org = self.ports.accounts.org(&OrgSlug::from(org)).await?;
        decided(
            access::decide(&who.actor(), Action::OpenTicket, org.as_ref().map(|o| Object::Org(o.as_ref()))),
            "org",
        )?;
        let org = org.ok_or(AccountError::NotFound("org"))?;
        if !self.ports.mailroom.route_held(id, &org.slug, who.user().id.as_str(), now).await? {
            return Err(AccountError::Conflict("no held message with that id".into()));
        }
        Ok(())
    }

    /// Lets mail to `address` go out again after a bounce stopped it (staff).
    pub async fn lift_suppression(&self, who: &Principal, address: &str) -> Result<(), AccountError> {
        decided(access::decide(&who.actor(), Action::TriageMail, Some(Object::Staff)), "mail")?;
        if address.len() > 254 || !address.contains('@') || address.contains(['\r', '\n', ' ']) {
            return Err(AccountError::Invalid("address: one mail address".into()));
        }
        self.ports.mailroom.unsuppress(address).await?;
        Ok(())
    }

    /// The updates `who` gets by mail (every one unless they chose).
    pub async fn updates(&self, who: &Principal) -> Result<Vec<Inform>, AccountError> {
        let me = Object::Account(who.user().id.as_str());
        decided(access::decide(&who.actor(), Action::ReadAccount, Some(me)), "user")?;
        Ok(self.ports.mailroom.mail_updates(who.user()).await?)
    }

    /// Chooses the updates `who` gets by mail; answers them in their canonical order.
    pub async fn set_updates(&self, who: &Principal, updates: &[Inform]) -> Result<Vec<Inform>, AccountError> {
        let me = Object::Account(who.user().id.as_str());
        decided(access::decide(&who.actor(), Action::UpdateOwnSettings, Some(me)), "user")?;
        let chosen: Vec<Inform> = Inform::ALL.into_iter().filter(|i| updates.contains(i)).collect();
        self.ports.mailroom.set_mail_updates(who.user(), &chosen).await?;
        Ok(chosen)
    }

    /// An org's mail rules, for whoever sees the org.
    pub async fn org_rules(&self, who: &Principal, slug: &str) -> Result<OrgMailPolicy, AccountError> {
        let org = self.ports.accounts.org(&OrgSlug::from(slug)).await?;
        decided(access::decide(&who.actor(), Action::ReadOrg, org.as_ref().map(|o| Object::Org(o.as_ref()))), "org")?;
        Ok(self.ports.mailroom.mail_policy(&OrgSlug::from(slug)).await?)
    }

    /// Sets an org's mail rules (staff admins: the policy's `UpdateOrg`), checked: domains in lower case,
    /// and accepting strangers only from the org's own domains; answers them as stored.
    pub async fn set_org_rules(
        &self,
        who: &Principal,
        slug: &str,
        rules: OrgMailPolicy,
    ) -> Result<OrgMailPolicy, AccountError> {
        let org = self.ports.accounts.org(&OrgSlug::from(slug)).await?;
        let object = org.as_ref().map(|o| Object::Org(o.as_ref()));
        decided(access::decide(&who.actor(), Action::UpdateOrg, object), "org")?;
        let rules = checked(rules)?;
        self.ports.mailroom.set_mail_policy(&OrgSlug::from(slug), rules.clone()).await?;
        Ok(rules)
    }
}

/// Whether `who` may see a received message: it is filed under no org, or under one they see.
fn sees(who: &Principal, orgs: &[OrgRecord], m: &InboundRecord) -> bool {
    match &m.org {
        None => true,
        Some(slug) => {
            orgs.iter().any(|o| &o.slug == slug && who.allowed(Action::ReadOrg, Some(Object::Org(o.as_ref()))))
        }
    }
}

/// The rules with their domains checked and in lower case; `accept` only with domains, since
/// every member reads all of the org's tickets.
fn checked(rules: OrgMailPolicy) -> Result<OrgMailPolicy, AccountError> {
    if rules.accept_domains.len() > MAX_ACCEPT_DOMAINS {
        return Err(AccountError::Invalid(format!("accept_domains: at most {MAX_ACCEPT_DOMAINS}")));
    }
    let mut domains = Vec::new();
    for d in &rules.accept_domains {
        let d = d.trim().trim_start_matches('@').to_ascii_lowercase();
        let label =
            |l: &str| !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if d.len() > 253 || !d.contains('.') || !d.split('.').all(label) {
            return Err(AccountError::Invalid(format!("accept_domains: {d:?} is not a domain name")));
        }
        if !domains.contains(&d) {
            domains.push(d);
        }
    }
    if rules.unknown_senders == UnknownSenders::Accept && domains.is_empty() {
        return Err(AccountError::Invalid(
            "accept_domains: accepting strangers' mail needs the org's own mail domains — every member reads all of \
             the org's tickets"
                .into(),
        ));
    }
    Ok(OrgMailPolicy { accept_domains: domains, ..rules })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(unknown: UnknownSenders, domains: &[&str]) -> OrgMailPolicy {
        OrgMailPolicy {
            unknown_senders: unknown,
            subject_severity: true,
            accept_domains: domains.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn accepting_strangers_needs_the_orgs_own_domains() {
        assert!(checked(rules(UnknownSenders::Accept, &[])).is_err());
        assert!(checked(rules(UnknownSenders::Hold, &[])).is_ok());
        let ok = checked(rules(UnknownSenders::Accept, &["@ACME.example", "acme.example", "eu.acme.example"])).unwrap();
        assert_eq!(ok.accept_domains, vec!["acme.example", "eu.acme.example"]);
        for bad in ["acme", "acme..example", "a b.example", "-x.example/", ""] {
            assert!(checked(rules(UnknownSenders::Accept, &[bad])).is_err(), "{bad:?}");
        }
        let many: Vec<String> = (0..21).map(|i| format!("d{i}.example")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(checked(rules(UnknownSenders::Accept, &many)).is_err());
    }
}

#[cfg(test)]
mod desk_tests;
