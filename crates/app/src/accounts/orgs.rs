//! Orgs: listed as far as the policy lets a principal see them, created with their status
//! page and shared channel rule, changed (a new channel is kicked off after the answer), and
//! their welcome packet posted to their admins.

use super::{AccountDesk, AccountError, check_name, decided};
use crate::act::Principal;
use crate::records::{OrgRecord, UserRecord};
use crate::status::StatusDesk;
use stringer_core::access::{self, Action, Object, OrgRef};
use stringer_core::contract::Contract;
use stringer_core::ids::{Deployment, OrgSlug, Role, Tier, UserId};

/// A new org.
#[derive(Clone, Debug)]
pub struct NewOrg {
    /// 2–40 lowercase letters, digits or dashes.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// A tier of the contract.
    pub tier: String,
    /// Where its data lives.
    pub deployment: Deployment,
    /// Its TAM, a staff user who may serve it.
    pub tam: Option<String>,
    /// Its named engineers, staff users who may serve it.
    pub named_engineers: Vec<String>,
}

/// Changes to an org; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct OrgChange {
    /// Display name.
    pub name: Option<String>,
    /// A tier of the contract.
    pub tier: Option<String>,
    /// Where its data lives.
    pub deployment: Option<Deployment>,
    /// A staff user who may serve the org; `Some(None)` (or blank) for none.
    pub tam: Option<Option<String>>,
    /// Staff users who may serve the org.
    pub named_engineers: Option<Vec<String>>,
    /// The org's shared channel, e.g. `#stringer-acme`; `Some(None)` (or blank) for none.
    pub channel: Option<Option<String>>,
    /// The tag of the org's support address (`support+TAG@…`).
    pub email_tag: Option<String>,
}

/// What is wrong with an org's set-up under the contract: its tier is not the contract's (its
/// tickets cannot change), or it escalates to a TAM but the org has none (that step would
/// page nobody).
pub fn warnings(contract: &Contract, o: &OrgRecord) -> Vec<String> {
    let policy = match contract.escalation(&o.tier) {
        Ok(policy) => policy,
        Err(uncovered) => return vec![format!("{}: {uncovered}; its tickets cannot change until it does", o.name)],
    };
    let escalates_to_tam = policy.steps.iter().any(|s| s.notify == Role::Tam);
    if escalates_to_tam && o.tam.is_none() {
        vec![format!(
            "{} is {} and its escalation path pages the TAM, but it has no TAM: that step would page nobody",
            o.name, o.tier
        )]
    } else {
        vec![]
    }
}

/// A slug or email tag: 2–40 lowercase letters, digits or dashes, not starting with a dash.
pub fn valid_slug(s: &str) -> bool {
    (2..=40).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
}

/// The contract's tier `name`, or the refusal naming the tiers there are.
fn tier(contract: &Contract, name: &str) -> Result<Tier, AccountError> {
    contract.tier(name).ok_or_else(|| {
        let tiers: Vec<&str> = contract.tiers.keys().map(|t| t.as_str()).collect();
        AccountError::Invalid(format!("unknown tier {name:?}; tiers are {}", tiers.join(", ")))
    })
}

impl AccountDesk {
    /// The orgs `who` may see.
    pub async fn orgs(&self, who: &Principal) -> Result<Vec<OrgRecord>, AccountError> {
        may_list(who, Action::ReadOrg)?;
        let orgs = self.ports.accounts.orgs().await?;
        Ok(orgs.into_iter().filter(|o| who.allowed(Action::ReadOrg, Some(Object::Org(o.as_ref())))).collect())
    }

    /// Creates an org (admin): Enterprise orgs get their shared channel `#stringer-<slug>`, a
    /// dedicated or federal org its own status page. The TAM and named engineers must be
    /// staff who may serve the org (cleared, for a federal org).
    pub async fn create_org(&self, who: &Principal, new: NewOrg) -> Result<OrgRecord, AccountError> {
        let at = OrgRef { slug: &new.slug, deployment: new.deployment };
        decided(access::decide(&who.actor(), Action::CreateOrg, Some(Object::Org(at))), "org")?;
        if !valid_slug(&new.slug) {
            return Err(AccountError::Invalid("slug: 2–40 lowercase letters, digits or dashes".into()));
        }
        check_name(&new.name)?;
        let contract = self.ports.commands.contract();
        tier(contract, &new.tier)?;
        let servers: Vec<&str> = new.tam.iter().chain(&new.named_engineers).map(String::as_str).collect();
        self.check_servers(&servers, Some(at)).await?;
        let enterprise = new.tier == "enterprise";
        let org = OrgRecord {
            channel: enterprise.then(|| format!("#stringer-{}", new.slug)),
            email_tag: new.slug.clone(),
            slug: OrgSlug(new.slug),
            name: new.name,
            tier: Tier(new.tier),
            deployment: new.deployment,
            tam: new.tam.map(UserId),
            named_engineers: new.named_engineers.into_iter().map(UserId).collect(),
            created_at: self.now(),
        };
        self.ports.accounts.insert_org(&org, Some(&who.user().id)).await?;
        let status = StatusDesk { pages: self.ports.status.clone() };
        status.tenant_page(&org, org.created_at).await?;
        Ok(org)
    }

    /// Changes an org (admin): the same checks as creating one; the TAM and named engineers
    /// must be staff who may serve the org as it will be. A new shared channel is owed its
    /// kickoff, which runs after the answer (durably: see [`crate::chat::ChatDesk::kick_off_due`]).
    pub async fn change_org(&self, who: &Principal, slug: &str, change: OrgChange) -> Result<OrgRecord, AccountError> {
        let mut org = self.org(who, slug, Action::UpdateOrg).await?;
        let channel_before = org.channel.clone();
        if let Some(deployment) = change.deployment {
            let changed = OrgRef { slug: org.slug.as_str(), deployment };
            decided(access::decide(&who.actor(), Action::UpdateOrg, Some(Object::Org(changed))), "org")?;
            org.deployment = deployment;
        }
        if let Some(name) = change.name {
            check_name(&name)?;
            org.name = name;
        }
        if let Some(name) = change.tier {
            org.tier = tier(self.ports.commands.contract(), &name)?;
        }
        if let Some(tam) = change.tam {
            org.tam = tam.filter(|t| !t.is_empty()).map(UserId);
        }
        if let Some(named) = change.named_engineers {
            org.named_engineers = named.into_iter().map(UserId).collect();
        }
        if let Some(channel) = change.channel {
            let channel = channel.filter(|c| !c.is_empty());
            if channel.as_ref().is_some_and(|c| !c.starts_with('#') || c.len() > 80 || c.contains(char::is_whitespace))
            {
                return Err(AccountError::Invalid("slack_channel: '#' and a channel name without spaces".into()));
            }
            org.channel = channel;
        }
        if let Some(tag) = change.email_tag {
            if !valid_slug(&tag) {
                return Err(AccountError::Invalid("email_tag: 2–40 lowercase letters, digits or dashes".into()));
            }
            org.email_tag = tag;
        }
        let servers: Vec<&str> = org.tam.iter().chain(&org.named_engineers).map(UserId::as_str).collect();
        self.check_servers(&servers, Some(org.as_ref())).await?;
        if !self.ports.accounts.update_org(&org, &who.user().id, self.now()).await? {
            return Err(AccountError::NotFound("org"));
        }
        if self.outside.kicks_off && org.channel.is_some() && org.channel != channel_before {
            self.ports.chat.owe_kickoff(&self.new_id("kck"), &org.slug, self.now()).await?;
        }
        Ok(org)
    }

    /// Posts `org`'s welcome packet to `to`, for the engine to mail (durable, retried);
    /// answers the addresses it goes to. Refused when the server has no mail relay.
    pub async fn mail_packet(&self, org: &OrgRecord, to: &[UserRecord]) -> Result<Vec<String>, AccountError> {
        if !self.sends_mail() {
            return Err(AccountError::Invalid(
                "the server has no mail relay (--smtp-url) to send the packet with".into(),
            ));
        }
        let addresses: Vec<String> = to.iter().map(|u| u.email.clone()).collect();
        crate::letters::post_packet(self.ports.letters.as_ref(), &org.slug, &addresses, self.now()).await?;
        Ok(addresses)
    }

    /// Mails org `slug`'s welcome packet to its admins again (admin); answers their addresses.
    pub async fn send_packet(&self, who: &Principal, slug: &str) -> Result<Vec<String>, AccountError> {
        let org = self.org(who, slug, Action::UpdateOrg).await?;
        let admins = crate::ports::org_admins(self.ports.accounts.as_ref(), &org.slug).await?;
        if admins.is_empty() {
            return Err(AccountError::Invalid("the org has no admin to send the packet to".into()));
        }
        self.mail_packet(&org, &admins).await
    }

    /// Posts the org's welcome packet to a new org admin, where the server sends mail; a
    /// failure is logged (the packet can be sent again with [`AccountDesk::send_packet`]).
    pub(super) async fn post_packet(&self, org: &OrgRecord, admin: &UserRecord) {
        if !self.sends_mail() {
            return;
        }
        if let Err(e) = self.mail_packet(org, std::slice::from_ref(admin)).await {
            tracing::warn!(user = %admin.id, "the welcome packet was not posted: {e}");
        }
    }
}

/// Whether `who` may list objects of the kind `action` acts on at all (each is then filtered).
pub(super) fn may_list(who: &Principal, action: Action) -> Result<(), AccountError> {
    match access::decide(&who.actor(), action, None) {
        access::Decision::Forbidden(why) => Err(AccountError::Forbidden(why.to_string())),
        _ => Ok(()),
    }
}
