//! Users: listed as far as the policy lets a principal see them; created by staff admins or
//! invited by customer org admins (an invitation answers the same whatever the address, so it
//! reveals no account outside the org); changed (name, role, clearance, time zone); and
//! deactivated.

use super::letter::{AccountLetter, Carries};
use super::orgs::may_list;
use super::{AccountDesk, AccountError, check_name, decided, password};
use crate::act::Principal;
use crate::records::{InvitationRecord, OrgRecord, UserRecord};
use stringer_core::access::{self, Action, Object};
use stringer_core::ids::{Deployment, OrgSlug, UserId, UserRole};

/// A new user: admins create staff and customers; a customer org admin invites customers
/// into their own org. Only a staff admin gives an address an account in several orgs.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// Their address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// A role's name.
    pub role: String,
    /// A customer's org; none for staff.
    pub org: Option<String>,
    /// Cleared for federal data (staff).
    pub federal_cleared: bool,
    /// Staff admins only: an org admin never sets someone else's password.
    pub password: Option<String>,
}

/// What creating a user came to.
pub enum Created {
    /// A staff admin made the account.
    Account(UserRecord),
    /// An org admin invited the address.
    Invitation(InvitationRecord),
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct UserChange {
    /// Display name.
    pub name: Option<String>,
    /// A role's name, of the same kind (staff or customer) as the user's.
    pub role: Option<String>,
    /// Staff only; granting it takes an admin cleared for federal.
    pub federal_cleared: Option<bool>,
    /// An IANA time zone; `Some(None)` (or blank) for UTC.
    pub time_zone: Option<Option<String>>,
}

/// The role named `name`, or the refusal naming the roles there are.
fn parse_role(name: &str) -> Result<UserRole, AccountError> {
    UserRole::parse(name).ok_or_else(|| {
        let names: Vec<&str> = UserRole::ALL.iter().map(|r| r.as_str()).collect();
        AccountError::Invalid(format!("unknown role {name:?}; roles are {}", names.join(", ")))
    })
}

/// Checks an IANA time zone name.
pub fn check_time_zone(name: &str) -> Result<(), AccountError> {
    if name.len() > 64 || jiff::tz::TimeZone::get(name).is_err() {
        return Err(AccountError::Invalid(format!("time_zone: {name:?} is not an IANA time zone")));
    }
    Ok(())
}

/// Applies a time-zone change (`Some(None)` or an empty name: UTC), checked.
fn set_time_zone(user: &mut UserRecord, change: Option<Option<String>>) -> Result<(), AccountError> {
    if let Some(tz) = change {
        let tz = tz.filter(|t| !t.is_empty());
        if let Some(name) = &tz {
            check_time_zone(name)?;
        }
        user.time_zone = tz;
    }
    Ok(())
}

impl AccountDesk {
    /// The users `who` may see: staff see staff and visible orgs' customers; customers see
    /// their org.
    pub async fn users(&self, who: &Principal) -> Result<Vec<UserRecord>, AccountError> {
        may_list(who, Action::ReadUser)?;
        let users = self.ports.accounts.users(who.user().org.as_ref()).await?;
        let orgs = self.ports.accounts.orgs().await?;
        let org_of = |slug: &OrgSlug| orgs.iter().find(|o| &o.slug == slug);
        let visible = |u: &UserRecord| {
            let org = u.org.as_ref().and_then(org_of);
            who.allowed(Action::ReadUser, Some(Object::User(u.as_object(org))))
        };
        Ok(users.into_iter().filter(visible).collect())
    }

    /// The user `who` is, as they may read themselves.
    pub fn me(&self, who: &Principal) -> Result<UserRecord, AccountError> {
        let me = Object::Account(who.user().id.as_str());
        decided(access::decide(&who.actor(), Action::ReadAccount, Some(me)), "user")?;
        Ok(who.user().clone())
    }

    /// Changes `who`'s own time zone (`Some(None)` or blank: UTC).
    pub async fn change_me(
        &self,
        who: &Principal,
        time_zone: Option<Option<String>>,
    ) -> Result<UserRecord, AccountError> {
        let me = Object::Account(who.user().id.as_str());
        decided(access::decide(&who.actor(), Action::UpdateOwnSettings, Some(me)), "user")?;
        let mut user = self.ports.accounts.user(&who.user().id).await?.ok_or(AccountError::NotFound("user"))?;
        set_time_zone(&mut user, time_zone)?;
        self.save_user(who, user).await
    }

    /// Changes `who`'s own password (argon2id, as every password): `current` must be their
    /// password now, and every try spends a budget of the account's, so a stolen session
    /// cannot guess it. Their other sessions end; the one keyed `keep_session`, where they
    /// changed it, stays.
    pub async fn change_password(
        &self,
        who: &Principal,
        current: &str,
        new: &str,
        keep_session: &str,
    ) -> Result<(), AccountError> {
        let me = Object::Account(who.user().id.as_str());
        decided(access::decide(&who.actor(), Action::UpdateOwnSettings, Some(me)), "user")?;
        let key = format!("password-change:{}", who.user().id);
        self.spend(self.outside.login_limit, key, "too many tries to change the password").await?;
        let user = self.ports.accounts.user(&who.user().id).await?.ok_or(AccountError::NotFound("user"))?;
        if current.len() > password::LENGTH.1 || !password::verify(current, user.password_hash.as_deref()) {
            return Err(AccountError::Invalid("current: that is not your current password".into()));
        }
        let (min, max) = password::LENGTH;
        if new.chars().count() < min || new.len() > max {
            return Err(AccountError::Invalid(format!("password: {min} to {max} characters")));
        }
        if !self.ports.accounts.change_password(&user.id, &password::hash(new), keep_session, self.now()).await? {
            return Err(AccountError::NotFound("user"));
        }
        (self.outside.forget)();
        Ok(())
    }

    /// Stores a changed user, recording `who` as who changed it; their credentials carry the
    /// change at once.
    async fn save_user(&self, who: &Principal, user: UserRecord) -> Result<UserRecord, AccountError> {
        if !self.ports.accounts.update_user(&user, &who.user().id, self.now()).await? {
            return Err(AccountError::NotFound("user"));
        }
        (self.outside.forget)();
        Ok(user)
    }

    /// Creates a user (a staff admin: the account) or invites one into `who`'s org (a
    /// customer org admin: the invitation, the same answer for every address; it needs a
    /// mail relay).
    pub async fn add_user(&self, who: &Principal, new: NewUser) -> Result<Created, AccountError> {
        let role = parse_role(&new.role)?;
        if role.is_staff() != new.org.is_none() {
            return Err(AccountError::Invalid("staff users have no org; customer users need one".into()));
        }
        let org = match &new.org {
            Some(slug) => self.ports.accounts.org(&OrgSlug::from(slug.as_str())).await?,
            None => None,
        };
        let object = match (&new.org, &org) {
            (None, _) => Some(Object::Staff),
            (Some(_), found) => found.as_ref().map(|o| Object::Org(o.as_ref())),
        };
        let action = Action::CreateUser { role, cleared: new.federal_cleared };
        match access::decide(&who.actor(), action, object) {
            access::Decision::NotFound => {
                let slug = new.org.as_deref().unwrap_or_default();
                return Err(AccountError::Invalid(format!("unknown org {slug:?}")));
            }
            other => decided(other, "org")?,
        }
        let email = new.email.trim().to_string();
        if !email.contains('@') || email.len() > 254 {
            return Err(AccountError::Invalid("email: a valid address".into()));
        }
        check_name(&new.name)?;
        if !who.user().role.is_staff() {
            let org = org.ok_or(AccountError::NotFound("org"))?;
            return self.invite(who, org, role, email, new).await.map(Created::Invitation);
        }
        let (min, max) = password::LENGTH;
        if new.password.as_ref().is_some_and(|p| p.len() < min || p.len() > max) {
            return Err(AccountError::Invalid(format!("password: {min} to {max} characters")));
        }
        let user = UserRecord {
            id: UserId(self.new_id("usr")),
            email,
            name: new.name,
            role,
            org: new.org.map(OrgSlug),
            federal_cleared: new.federal_cleared,
            password_hash: new.password.as_deref().map(password::hash),
            created_at: self.now(),
            time_zone: None,
            deactivated_at: None,
        };
        self.ports.accounts.insert_user(&user, Some(&who.user().id)).await?;
        // A new org admin is posted the org's welcome packet, where the server sends mail.
        if let (UserRole::OrgAdmin, Some(org)) = (user.role, &org) {
            self.post_packet(org, &user).await;
        }
        Ok(Created::Account(user))
    }

    /// An org admin invites `email` into their org: the invitation is stored with the mail of
    /// its link to the address (sent later by the engine's courier), unless staff or another
    /// org's user holds the address — then the holder is told of the attempt and no link is
    /// made. Either way the answer is the same.
    async fn invite(
        &self,
        who: &Principal,
        org: OrgRecord,
        role: UserRole,
        email: String,
        new: NewUser,
    ) -> Result<InvitationRecord, AccountError> {
        if new.password.is_some() {
            return Err(AccountError::Invalid(
                "password: an org admin invites; the person chooses their own password through the mailed link".into(),
            ));
        }
        self.relay()?;
        let held = self.ports.accounts.address_held_elsewhere(&email, &org.slug).await?;
        let now = self.now();
        let invitation = InvitationRecord {
            id: self.new_id("inv"),
            org: org.slug.clone(),
            email,
            name: new.name,
            role,
            invited_by: who.user().id.clone(),
            created_at: now,
            expires_at: now + super::links::INVITATION_SECONDS,
        };
        // Its mail goes out with it: its link, or the notice to the holder of the address.
        let carries = if held {
            Carries::Held { invitation: invitation.id.clone() }
        } else {
            Carries::Invitation { invitation: invitation.id.clone(), expires: invitation.expires_at }
        };
        let mail = AccountLetter::new(&invitation.email, Some(org.slug.clone()), carries);
        self.ports.accounts.insert_invitation(&invitation, &mail).await?;
        Ok(invitation)
    }

    /// Federal orgs and schedules the user serves (as TAM, named engineer or schedule member).
    async fn federal_duties(&self, user: &UserId) -> Result<Vec<String>, AccountError> {
        let orgs = self.ports.accounts.orgs().await?;
        let federal = |slug: &OrgSlug| orgs.iter().any(|o| &o.slug == slug && o.deployment == Deployment::Federal);
        let mut duties: Vec<String> = orgs
            .iter()
            .filter(|o| o.deployment == Deployment::Federal)
            .filter(|o| o.tam.as_ref() == Some(user) || o.named_engineers.contains(user))
            .map(|o| format!("org {}", o.slug))
            .collect();
        for s in self.ports.oncall.schedules().await? {
            let member = s.spec.layers.iter().any(|l| l.rotation.members.iter().any(|m| m == user.as_str()))
                || s.spec.overrides.iter().any(|o| o.user == user.as_str());
            if member && s.org.as_ref().is_some_and(federal) {
                duties.push(format!("schedule {}", s.name));
            }
        }
        Ok(duties)
    }

    /// Changes a user's name, role, clearance or time zone. Staff roles and clearance are
    /// granted by admins (clearance by cleared admins); a customer org admin changes their
    /// org's users. Clearance cannot be withdrawn from someone who still serves a federal
    /// org. The user's credentials carry the change at once.
    pub async fn change_user(&self, who: &Principal, id: &str, change: UserChange) -> Result<UserRecord, AccountError> {
        let role = change.role.as_deref().map(parse_role).transpose()?;
        let action = Action::UpdateUser { role, cleared: change.federal_cleared };
        let mut user = self.user(who, id, action).await?;
        if role.is_some_and(|r| r.is_staff() != user.role.is_staff()) {
            return Err(AccountError::Invalid("role: staff keep a staff role and customers a customer role".into()));
        }
        if change.federal_cleared == Some(true) && !user.role.is_staff() {
            return Err(AccountError::Invalid("federal_cleared: customers are not cleared for federal data".into()));
        }
        if let Some(name) = &change.name {
            check_name(name)?;
        }
        if change.federal_cleared == Some(false) && user.federal_cleared {
            let duties = self.federal_duties(&user.id).await?;
            if !duties.is_empty() {
                return Err(AccountError::Invalid(format!(
                    "{} still serves {}; reassign that first",
                    user.name,
                    duties.join(", ")
                )));
            }
        }
        if let Some(name) = change.name {
            user.name = name;
        }
        if let Some(role) = role {
            user.role = role;
        }
        if let Some(cleared) = change.federal_cleared {
            user.federal_cleared = cleared;
        }
        set_time_zone(&mut user, change.time_zone)?;
        self.save_user(who, user).await
    }

    /// Deactivates a user (who may change them may deactivate them): their credentials stop
    /// at once, they are paged no more, and nothing of theirs is deleted. Nobody changes
    /// themselves (the policy's rule), so nobody deactivates themselves either; deactivating
    /// again changes nothing.
    pub async fn deactivate(&self, who: &Principal, id: &str) -> Result<UserRecord, AccountError> {
        let action = Action::UpdateUser { role: None, cleared: None };
        let user = self.user(who, id, action).await?;
        let duties = self.federal_duties(&user.id).await?;
        let now = self.now();
        self.ports.accounts.deactivate_user(&user.id, &who.user().id, now).await?;
        (self.outside.forget)();
        if !duties.is_empty() {
            tracing::warn!(user = %user.id, "deactivated a user who still serves {}", duties.join(", "));
        }
        Ok(UserRecord { deactivated_at: user.deactivated_at.or(Some(now)), ..user })
    }
}
