//! What the P1 line knows callers by: a user's phone number (their caller ID) and an org's
//! phone PIN (only its keyed hash is stored). A phone number is one person's: set by a staff
//! admin, or confirmed by the code sent to it by SMS, which is kept as a keyed hash bound to
//! its user and number.

use super::tokens::new_secret;
use super::{AccountDesk, AccountError};
use crate::act::Principal;
use crate::phone::{CODE_ATTEMPTS, CODE_KEY_SETTING, CODE_SECONDS, Confirmation, PIN_KEY_SETTING, pin_hash};
use rand::Rng;
use stringer_core::access::{Action, Object};
use stringer_core::ids::UserId;
use stringer_core::phone::e164;
use subtle::ConstantTimeEq;

/// The longest phone number taken as written (spaces, dots, dashes and brackets included).
pub const MAX_WRITTEN: usize = 32;

/// What a change of phone number came to.
pub enum NumberChange {
    /// The number in force now (`None`: none).
    InForce(Option<String>),
    /// A code was sent to `waiting`; `current` stays in force until it comes back.
    Waiting {
        /// The number in force meanwhile.
        current: Option<String>,
        /// The number the code was sent to.
        waiting: String,
        /// Unix seconds: the code works until then.
        expires_at: i64,
    },
}

fn held() -> AccountError {
    AccountError::Conflict("this number is another person's caller ID; if it is yours, ask a Stringer admin".into())
}

impl AccountDesk {
    /// User `id`'s phone number, if `who` may read the user.
    pub async fn number(&self, who: &Principal, id: &str) -> Result<Option<String>, AccountError> {
        let user = self.user(who, id, Action::ReadUser).await?;
        Ok(self.ports.phone.number(&user.id).await?)
    }

    /// Sets (or with `None` or blank, clears) user `id`'s phone number as `who`; a number
    /// (E.164) is in force at once only when the policy lets `who` skip its confirmation,
    /// else a code is sent to it by SMS. A number another active person holds is refused
    /// without saying whose it is.
    pub async fn change_number(
        &self,
        who: &Principal,
        id: &str,
        number: Option<&str>,
    ) -> Result<NumberChange, AccountError> {
        let user = self.user(who, id, Action::SetCallerId).await?;
        if number.is_some_and(|n| n.chars().count() > MAX_WRITTEN) {
            return Err(AccountError::Invalid(format!(
                "a phone number is written in at most {MAX_WRITTEN} characters"
            )));
        }
        let number = match number.map(str::trim).filter(|n| !n.is_empty()) {
            Some(given) => Some(e164(given).ok_or_else(|| {
                AccountError::Invalid(
                    "a phone number is written in E.164: + and the country code, 8 to 15 digits".into(),
                )
            })?),
            None => None,
        };
        let phone = &self.ports.phone;
        let now = self.now();
        let current = phone.number(&user.id).await?;
        let Some(number) = number else {
            phone.set_number(&user.id, None, now).await?;
            phone.confirmed(&user.id, None, now).await?;
            return Ok(NumberChange::InForce(None));
        };
        if current.as_deref() == Some(number.as_str()) {
            return Ok(NumberChange::InForce(current));
        }
        if self.held_by_another(&number, &user.id).await? {
            return Err(held());
        }
        let (_, org) = self.user_with_org(id).await?.ok_or(AccountError::NotFound("user"))?;
        if who.allowed(Action::SetCallerIdUnconfirmed, Some(Object::User(user.as_object(org.as_ref())))) {
            phone.confirmed(&user.id, Some(&number), now).await?;
            return Ok(NumberChange::InForce(Some(number)));
        }
        let Some(texts) = &self.outside.texts else {
            return Err(AccountError::Conflict(
                "this server sends no SMS (--sms-account), so it cannot confirm a phone number; a staff admin can set it"
                    .into(),
            ));
        };
        self.spend(self.outside.limits, format!("phone-code:{}", user.id), "too many codes asked for").await?;
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        let waiting = Confirmation {
            code_hash: self.code_hash(&user.id, &number, &code).await?,
            number,
            created_at: now,
            expires_at: now + CODE_SECONDS,
            attempts: 0,
        };
        phone.set_confirmation(&user.id, &waiting).await?;
        let minutes = CODE_SECONDS / 60;
        let text = format!(
            "Stringer: {code} confirms this phone number for your support account. It works for {minutes} minutes; if you did not ask for it, ignore this message."
        );
        texts.send_text(&waiting.number, &text, &self.new_id("sms")).await.map_err(|e| {
            tracing::warn!(user = %user.id, "a confirmation code could not be sent: {e}");
            AccountError::Unavailable("the SMS provider did not take the code; try again")
        })?;
        Ok(NumberChange::Waiting { current, waiting: waiting.number, expires_at: waiting.expires_at })
    }

    /// Whether an active person other than `user` has `number` as their caller ID.
    async fn held_by_another(&self, number: &str, user: &UserId) -> Result<bool, AccountError> {
        for id in self.ports.phone.callers(number).await?.into_iter().filter(|id| id != user) {
            if self.ports.accounts.user(&id).await?.is_some_and(|u| u.deactivated_at.is_none()) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// A confirmation code's keyed hash, bound to its user and number.
    async fn code_hash(&self, user: &UserId, number: &str, code: &str) -> Result<String, AccountError> {
        let key = self.ports.safeguards.setting_or_init(CODE_KEY_SETTING, &new_secret()).await?;
        Ok(pin_hash(&key, &format!("{user}|{number}|{code}")))
    }

    /// Puts the number waiting for user `id` in force if `code` is the one sent to it; answers
    /// the number. Five wrong codes, or the code's minutes, end the confirmation.
    pub async fn confirm_number(&self, who: &Principal, id: &str, code: &str) -> Result<String, AccountError> {
        let user = self.user(who, id, Action::SetCallerId).await?;
        let phone = &self.ports.phone;
        let now = self.now();
        let waiting = phone.confirmation(&user.id).await?.filter(|c| c.expires_at > now && c.attempts < CODE_ATTEMPTS);
        let Some(waiting) = waiting else {
            return Err(AccountError::Invalid(
                "no code is waiting for this user; set the number again for a new one".into(),
            ));
        };
        let given = self.code_hash(&user.id, &waiting.number, code.trim()).await?;
        if !bool::from(given.as_bytes().ct_eq(waiting.code_hash.as_bytes())) {
            phone.confirmation_failed(&user.id).await?;
            return Err(AccountError::Invalid("code: not the code sent to the number".into()));
        }
        if self.held_by_another(&waiting.number, &user.id).await? {
            phone.confirmed(&user.id, None, now).await?;
            return Err(held());
        }
        phone.confirmed(&user.id, Some(&waiting.number), now).await?;
        Ok(waiting.number)
    }

    /// Gives org `slug` a new phone PIN as `who` (admin); the old one stops working. Answers
    /// the PIN, which is stored only as its keyed hash.
    pub async fn draw_pin(&self, who: &Principal, slug: &str) -> Result<String, AccountError> {
        let org = self.org(who, slug, Action::UpdateOrg).await?;
        let key = self.ports.safeguards.setting_or_init(PIN_KEY_SETTING, &new_secret()).await?;
        // Another org may hold a drawn PIN: draw again.
        for _ in 0..16 {
            let pin = format!("{:08}", rand::rng().random_range(0..100_000_000u32));
            if self.ports.phone.set_pin(&org.slug, &pin_hash(&key, &pin), self.now()).await? {
                return Ok(pin);
            }
        }
        Err(AccountError::Conflict("no free PIN was found; try again".into()))
    }
}

#[cfg(test)]
mod tests;
