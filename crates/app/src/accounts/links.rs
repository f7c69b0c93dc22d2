//! One-time "set your password" links, for invitations and resets, mailed through the outbox
//! ([`super::mailing`], written with the link in one transaction). A link is
//! `/password/ID.EXPIRES.SIGNATURE`: the HMAC-SHA256 under the server's key (a setting made on
//! first use) of the id and expiry, so nothing secret is stored; the row only says whose link
//! it is and whether it was used. Using a link sets the password and ends the user's other
//! sessions, once. A link's id is a password link's (`pwl_`, for an account) or an org
//! admin's invitation's (`inv_`: using it makes the account).

use super::letter::{AccountLetter, Carries, Purpose, signature, signed_link};
use super::{AccountDesk, AccountError, password};
use crate::act::Principal;
use crate::ids::is_id;
use crate::limits::{RateLimit, client_key};
use crate::ports::Safeguards;
use crate::records::UserRecord;
use crate::store::StoreError;
use stringer_core::access::Action;
use stringer_core::ids::{UserId, UserRole};
use subtle::ConstantTimeEq;

/// How long an invitation works.
pub const INVITATION_SECONDS: i64 = 7 * 86_400;

/// "Forgot your password?" mails an address at most one reset link per this many seconds,
/// however often it is asked (each link works until it is used or expires, so one is enough).
pub const RESET_MAIL_INTERVAL: i64 = 15 * 60;

/// The setting holding the key password links are signed with.
pub(super) const KEY_SETTING: &str = "password_link_key";

/// The signing key in `safeguards`, made on first use.
pub(super) async fn link_key(safeguards: &dyn Safeguards) -> Result<String, StoreError> {
    safeguards.setting_or_init(KEY_SETTING, &super::tokens::new_secret()).await
}

impl AccountDesk {
    async fn link_key(&self) -> Result<String, AccountError> {
        Ok(link_key(self.ports.safeguards.as_ref()).await?)
    }

    /// Refuses on a server without a mail relay: a link is never shown to anyone but its
    /// owner, so without a relay none is made.
    pub(super) fn relay(&self) -> Result<(), AccountError> {
        if self.outside.sends_mail {
            return Ok(());
        }
        Err(AccountError::Conflict(
            "this server has no mail relay (--smtp-url), so it cannot send password links".into(),
        ))
    }

    /// Whether the server sends mail at all.
    pub fn sends_mail(&self) -> bool {
        self.outside.sends_mail
    }

    /// The signed link for the id `id` expiring at `expires`.
    async fn link(&self, id: &str, expires: i64) -> Result<String, AccountError> {
        Ok(signed_link(&self.outside.public_url, &self.link_key().await?, id, expires))
    }

    /// Makes a link for `user` with its mail, written in one transaction for the engine's
    /// courier to send; answers when it expires. Refused when the server has no mail relay:
    /// the link is never shown to anyone but its owner.
    async fn send_link(&self, user: &UserRecord, purpose: Purpose) -> Result<i64, AccountError> {
        self.relay()?;
        let now = self.now();
        let expires = now + purpose.seconds();
        let id = self.new_id("pwl");
        let mail = AccountLetter::new(&user.email, None, Carries::PasswordLink { link: id.clone(), expires, purpose });
        self.ports.accounts.insert_password_link(&id, &user.id, purpose.as_str(), now, expires, Some(&mail)).await?;
        Ok(expires)
    }

    /// The first run's way in: a one-time "set your password" link for the first admin, who
    /// has a token and no password yet, shown once to whoever started the server (it is not
    /// mailed: the first run may have no relay). It works for a week, once.
    pub async fn first_admin_link(&self, email: &str) -> Result<String, AccountError> {
        let admin = self.ports.accounts.login_account(email, None).await?;
        let admin = admin.ok_or(AccountError::NotFound("user"))?;
        let now = self.now();
        let expires = now + Purpose::Invitation.seconds();
        let id = self.new_id("pwl");
        let accounts = &self.ports.accounts;
        accounts.insert_password_link(&id, &admin.id, Purpose::Invitation.as_str(), now, expires, None).await?;
        self.link(&id, expires).await
    }

    /// Mails user `id` a one-time "set your password" link (who may change the user may send
    /// it); the link is never shown to `who`. Answers the user and when the link expires.
    pub async fn password_link(
        &self,
        who: &Principal,
        id: &str,
        purpose: Purpose,
    ) -> Result<(UserRecord, i64), AccountError> {
        let user = self.user(who, id, Action::UpdateUser { role: None, cleared: None }).await?;
        if user.deactivated_at.is_some() {
            return Err(AccountError::Invalid("this user is deactivated".into()));
        }
        let expires = self.send_link(&user, purpose).await?;
        Ok((user, expires))
    }

    /// "Forgot your password?" from the client address `ip`: mails a reset link if `email`
    /// has an active account and was mailed none in the last [`RESET_MAIL_INTERVAL`]; answers
    /// the same either way, and spends the address's sign-in budget. Every address asked for
    /// is counted, whether it has an account or not, so nothing tells the two apart.
    pub async fn forgot(&self, ip: &str, email: &str) -> Result<(), AccountError> {
        let too_many = "too many attempts from this address";
        self.spend(self.outside.login_limit, format!("login-ip:{}", client_key(ip)), too_many).await?;
        let email = email.trim().to_lowercase();
        let once = RateLimit { limit: 1, window: RESET_MAIL_INTERVAL };
        if email.len() <= 254
            && once
                .check(self.ports.safeguards.as_ref(), &format!("reset-mail:{email}"), self.now(), "")
                .await?
                .is_none()
            && let Some(user) = self.ports.accounts.login_account(&email, None).await?
            && user.deactivated_at.is_none()
            && let Err(e) = self.send_link(&user, Purpose::Reset).await
        {
            tracing::warn!("a reset link was asked for but not sent: {e}");
        }
        Ok(())
    }

    /// The link's id, if `token` is genuine, unexpired and unused, and its user active (for
    /// an invitation: its address still held by nobody outside its org).
    pub async fn usable_link(&self, token: &str) -> Result<Option<String>, AccountError> {
        let now = self.now();
        let mut parts = token.splitn(3, '.');
        let (Some(id), Some(expires), Some(given)) = (parts.next(), parts.next(), parts.next()) else {
            return Ok(None);
        };
        let Ok(expires) = expires.parse::<i64>() else { return Ok(None) };
        let expected = signature(&self.link_key().await?, id, expires);
        let genuine = bool::from(expected.as_bytes().ct_eq(given.as_bytes()));
        if !(genuine && expires > now) {
            return Ok(None);
        }
        let accounts = &self.ports.accounts;
        let usable = if is_id("inv", id) {
            accounts.invitation_usable(id, now).await?
        } else if is_id("pwl", id) {
            accounts.password_link_usable(id, now).await?
        } else {
            false
        };
        Ok(usable.then(|| id.to_string()))
    }

    /// Uses the link `token` up with the new `password`: sets the password (ending the
    /// user's other sessions) or, for an invitation, makes the account — a new org admin is
    /// posted the org's welcome packet. `None` when the link no longer works.
    pub async fn set_password(&self, token: &str, password: &str) -> Result<Option<UserRecord>, AccountError> {
        let Some(id) = self.usable_link(token).await? else { return Ok(None) };
        let now = self.now();
        let hash = password::hash(password);
        let accounts = &self.ports.accounts;
        let user = if is_id("inv", &id) {
            let user = UserId(self.new_id("usr"));
            let Some(user) = accounts.accept_invitation(&id, &user, &hash, now).await? else { return Ok(None) };
            if user.role == UserRole::OrgAdmin
                && let Some(org) = user.org.as_ref()
                && let Some(org) = accounts.org(org).await?
            {
                self.post_packet(&org, &user).await;
            }
            Some(user)
        } else {
            match accounts.use_password_link(&id, &hash, now).await? {
                Some(user) => accounts.user(&user).await?,
                None => None,
            }
        };
        (self.outside.forget)();
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_covers_the_id_and_the_expiry() {
        let s = signature("k", "pwl_1", 100);
        assert_eq!(s, signature("k", "pwl_1", 100));
        assert_ne!(s, signature("k", "pwl_1", 101));
        assert_ne!(s, signature("k", "pwl_2", 100));
        assert_ne!(s, signature("other", "pwl_1", 100));
    }
}
