//! API tokens: `stg_` + 256 random bits, of which only the SHA-256 is stored, so a lookup is
//! one indexed query and the secret never rests anywhere. A sign-in is answered with a
//! 12-hour token of the person's role's scopes; a person makes tokens with at most the
//! scopes of the credential they use, and revokes them.

use super::{AccountDesk, AccountError, decided};
use crate::act::Principal;
use crate::records::{TokenRecord, UserRecord};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use stringer_core::access::{self, Action, Object, Scopes};

/// Longest a token may live, in days.
pub const MAX_TOKEN_DAYS: i64 = 366;
/// How long a sign-in's token lives, in hours.
const LOGIN_TOKEN_HOURS: i64 = 12;

/// SHA-256 of a secret, hex.
pub fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new secret: `stg_` + 43 base64url characters (256 random bits).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("stg_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// A token just made, with its secret (shown this once).
pub struct NewToken {
    /// The token as stored.
    pub record: TokenRecord,
    /// Its secret.
    pub secret: String,
}

impl AccountDesk {
    /// Makes a token for `user` with `scopes`, expiring at `expires_at`.
    async fn issue(
        &self,
        user: &UserRecord,
        name: &str,
        scopes: Scopes,
        expires_at: Option<i64>,
    ) -> Result<NewToken, AccountError> {
        let secret = new_secret();
        let record = TokenRecord {
            id: self.new_id("tok"),
            user_id: user.id.clone(),
            name: name.to_string(),
            secret_hash: token_hash(&secret),
            scopes,
            created_at: self.now(),
            expires_at,
            revoked_at: None,
        };
        self.ports.accounts.insert_token(&record, Some(&user.id)).await?;
        Ok(NewToken { record, secret })
    }

    /// The 12-hour token a sign-in of `user` is answered with, with their role's scopes.
    pub async fn login_token(&self, user: &UserRecord) -> Result<NewToken, AccountError> {
        let expires = self.now() + LOGIN_TOKEN_HOURS * 3600;
        self.issue(user, "login", Scopes::for_role(user.role), Some(expires)).await
    }

    /// `who`'s tokens (never their secrets).
    pub async fn tokens(&self, who: &Principal) -> Result<Vec<TokenRecord>, AccountError> {
        self.me(who)?;
        Ok(self.ports.accounts.tokens(&who.user().id).await?)
    }

    /// Makes a token for `who` named `name` with `scopes` (at most those of `who`'s own
    /// credential), expiring in `days`; each person may make a few a minute.
    pub async fn create_token(
        &self,
        who: &Principal,
        name: &str,
        scopes: &[String],
        days: i64,
    ) -> Result<NewToken, AccountError> {
        let scopes = Scopes::parse(scopes)
            .ok_or_else(|| AccountError::Invalid("scopes: each one of read, write, admin".into()))?;
        let me = Object::Account(who.user().id.as_str());
        decided(access::decide(&who.actor(), Action::CreateToken(scopes), Some(me)), "user")?;
        self.spend(self.outside.limits, format!("token:{}", who.user().id), "too many new tokens").await?;
        if !(1..=MAX_TOKEN_DAYS).contains(&days) {
            return Err(AccountError::Invalid(format!("expires_in_days: 1 to {MAX_TOKEN_DAYS}")));
        }
        if name.trim().is_empty() || name.len() > 100 {
            return Err(AccountError::Invalid("name: 1 to 100 characters".into()));
        }
        let expires = self.now() + days * 86_400;
        self.issue(who.user(), name, scopes, Some(expires)).await
    }

    /// Revokes token `id` of `who`'s; a credential cannot revoke a token with scopes it lacks.
    pub async fn revoke_token(&self, who: &Principal, id: &str) -> Result<(), AccountError> {
        if !crate::ids::is_id("tok", id) {
            return Err(AccountError::Malformed("malformed token id"));
        }
        let token = self.ports.accounts.token(id).await?.filter(|t| t.revoked_at.is_none());
        let object = token.as_ref().map(|t| Object::Token { owner: t.user_id.as_str(), scopes: t.scopes });
        decided(access::decide(&who.actor(), Action::RevokeToken, object), "token")?;
        if !self.ports.accounts.revoke_token(&who.user().id, id, self.now()).await? {
            return Err(AccountError::NotFound("token"));
        }
        (self.outside.forget)();
        Ok(())
    }
}
