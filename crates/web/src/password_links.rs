//! One-time "set your password" links, for invitations and resets, sent by mail. A link is
//! `/password/ID.EXPIRES.SIGNATURE`: the HMAC-SHA256 under the server's key (a setting made on
//! first use) of the id and expiry, so nothing secret is stored; the row only says whose link
//! it is and whether it was used. Using a link sets the password and ends the user's other
//! sessions, once. A link's id is a password link's (`pwl_`, for an account) or an org
//! admin's invitation's (`inv_`: using it makes the account).

use crate::AppState;
use crate::auth::new_secret;
use crate::error::ApiError;
use crate::ids::new_id;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use stringer_app::records::{InvitationRecord, UserRecord};
use subtle::ConstantTimeEq;

/// The setting holding the signing key.
const KEY_SETTING: &str = "password_link_key";

/// What a link is for; an invitation lives longer than a reset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// A new account's first password.
    Invitation,
    /// A forgotten password.
    Reset,
}

impl Purpose {
    /// Its name in the store and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Invitation => "invitation",
            Purpose::Reset => "reset",
        }
    }

    /// How long a link works.
    pub fn seconds(self) -> i64 {
        match self {
            Purpose::Invitation => 7 * 86_400,
            Purpose::Reset => 3600,
        }
    }
}

async fn key(state: &AppState) -> Result<String, ApiError> {
    Ok(state.ports.safeguards.setting_or_init(KEY_SETTING, &new_secret()).await?)
}

fn signature(key: &str, id: &str, expires: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{id}.{expires}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The link's id if `token` is this server's and not expired at `now` (whether it was used is
/// the store's to say).
pub async fn verify(state: &AppState, token: &str, now: i64) -> Result<Option<String>, ApiError> {
    let mut parts = token.splitn(3, '.');
    let (Some(id), Some(expires), Some(given)) = (parts.next(), parts.next(), parts.next()) else { return Ok(None) };
    let Ok(expires) = expires.parse::<i64>() else { return Ok(None) };
    let expected = signature(&key(state).await?, id, expires);
    let genuine = bool::from(expected.as_bytes().ct_eq(given.as_bytes()));
    let known = crate::ids::is_id("pwl", id) || crate::ids::is_id("inv", id);
    Ok((genuine && expires > now && known).then(|| id.to_string()))
}

/// Makes a link for `user` and mails it to them; answers when it expires. Refused (409) when
/// the server has no mail relay: the link is never shown to anyone but its owner.
pub async fn send(state: &AppState, user: &UserRecord, purpose: Purpose) -> Result<i64, ApiError> {
    let mail = relay(state)?;
    let now = state.now().as_second();
    let expires = now + purpose.seconds();
    let id = new_id("pwl");
    state.ports.accounts.insert_password_link(&id, &user.id, purpose.as_str(), now, expires).await?;
    let link = link(state, &id, expires).await?;
    let hours = purpose.seconds() / 3600;
    let (subject, opening) = match purpose {
        Purpose::Invitation => {
            ("Your Stringer account", format!("Hello {},\n\nan account on Stringer was made for you.", user.name))
        }
        Purpose::Reset => (
            "Reset your Stringer password",
            format!(
                "Hello {},\n\nsomeone asked to reset your Stringer password. If it was not you, ignore this mail.",
                user.name
            ),
        ),
    };
    let body = format!("{opening}\n\nSet your password here (the link works once, for {hours} hours):\n{link}\n");
    deliver(mail, &user.email, subject, body).await?;
    Ok(expires)
}

/// The mail relay, or the refusal (409) of a server without one: a link is never shown to
/// anyone but its owner, so without a relay none is made.
pub fn relay(state: &AppState) -> Result<&stringer_integrations::mail::Mail, ApiError> {
    state.mail.as_ref().ok_or_else(|| {
        ApiError::conflict("this server has no mail relay (--smtp-url), so it cannot send password links")
    })
}

/// The signed link for the id `id` expiring at `expires`.
async fn link(state: &AppState, id: &str, expires: i64) -> Result<String, ApiError> {
    let token = format!("{id}.{expires}.{}", signature(&key(state).await?, id, expires));
    Ok(format!("{}/password/{token}", state.public_url))
}

/// Mails a text; a relay that does not take it is a 503 (try again).
async fn deliver(
    mail: &stringer_integrations::mail::Mail,
    to: &str,
    subject: &str,
    body: String,
) -> Result<(), ApiError> {
    mail.send_text(to, subject, body).await.map_err(|e| {
        tracing::warn!("a mail about an account could not be sent: {e}");
        ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "the mail relay did not take the message; try again")
    })
}

/// How long an invitation works.
pub const INVITATION_SECONDS: i64 = 7 * 86_400;

/// Mails a stored invitation's link to its address: following it, the invitee sets a
/// password and the account is made.
pub async fn invite(state: &AppState, invitation: &InvitationRecord, org: &str) -> Result<(), ApiError> {
    let mail = relay(state)?;
    let link = link(state, &invitation.id, invitation.expires_at).await?;
    let days = INVITATION_SECONDS / 86_400;
    let body = format!(
        "Hello {},\n\nyou were invited to {org}'s support desk on Stringer.\n\nChoose your password here to make your account (the link works once, for {days} days):\n{link}\n\nIf you did not expect this, ignore this mail: no account is made.\n",
        invitation.name
    );
    deliver(mail, &invitation.email, &format!("Your invitation to {org} on Stringer"), body).await
}

/// Tells the holder of an address that an org admin tried to invite it: no account was made
/// and no link exists (the address has an account already, as staff or in another org).
pub async fn notice_held(state: &AppState, invitation: &InvitationRecord, org: &str) -> Result<(), ApiError> {
    let mail = relay(state)?;
    let body = format!(
        "Hello,\n\nan admin of {org} tried to invite this address to their support desk on Stringer. This address has a Stringer account already, so no new account was made and nothing changed for you.\n\nIf you do want to join {org}, ask your contact at the vendor; if you did not expect this, you need not do anything.\n"
    );
    deliver(mail, &invitation.email, &format!("Someone at {org} tried to invite you to Stringer"), body).await
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
