//! Who is calling: bearer API tokens (SHA-256 of a 256-bit random secret is stored, so a
//! lookup is one indexed query and the secret never rests anywhere; a token seen in the last
//! second is taken from the [`crate::token_cache`]), argon2 password hashes, scopes, and the
//! tenant rules every route applies.

use crate::AppState;
use crate::error::ApiError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::time::Instant;
use stringer_core::ids::Deployment;
use stringer_store::{OrgRecord, UserRecord};

/// The authenticated caller, put in request extensions by [`authenticate`].
#[derive(Clone, Debug)]
pub struct Caller {
    /// The user.
    pub user: UserRecord,
    /// The token's scopes.
    pub scopes: Vec<String>,
}

/// Staff roles; every other role is a customer role.
pub const STAFF_ROLES: [&str; 6] = ["engineer", "platform_engineer", "tam", "vp_engineering", "support_lead", "admin"];
/// Customer roles.
pub const CUSTOMER_ROLES: [&str; 2] = ["member", "org_admin"];
/// Token scopes.
pub const SCOPES: [&str; 3] = ["read", "write", "admin"];

impl Caller {
    /// Staff (not a customer).
    pub fn is_staff(&self) -> bool {
        self.user.org.is_none()
    }

    /// Staff with the admin role.
    pub fn is_admin(&self) -> bool {
        self.is_staff() && self.user.role == "admin"
    }

    /// Whether the token carries `scope`.
    pub fn require_scope(&self, scope: &str) -> Result<(), ApiError> {
        if self.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("this token lacks the {scope:?} scope")))
        }
    }

    /// Tenant isolation: customers see their own org; staff see every org except federal
    /// ones, which only staff cleared for federal see.
    pub fn can_see(&self, org: &OrgRecord) -> bool {
        self.can_see_org(&org.slug, org.deployment)
    }

    /// [`Caller::can_see`] from an org's slug and deployment alone.
    pub fn can_see_org(&self, slug: &str, deployment: Deployment) -> bool {
        match &self.user.org {
            Some(own) => own == slug,
            None => deployment != Deployment::Federal || self.user.federal_cleared,
        }
    }
}

/// SHA-256 of a token secret, hex.
pub fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new token secret: `stg_` + 43 base64url characters (256 random bits).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("stg_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// An argon2id hash of a password.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes encode");
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 hashes any password").to_string()
}

/// Whether `password` matches an argon2 `hash` (constant-time comparison inside argon2).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Middleware: resolves the bearer token to a [`Caller`] or answers 401.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let header = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let Some(secret) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
        return Err(ApiError::unauthorized("send Authorization: Bearer <token>"));
    };
    let now = state.now().as_second();
    let hash = token_hash(secret.trim());
    let caller = match state.tokens.get(&hash, Instant::now(), now) {
        Some(caller) => caller,
        None => {
            let found = state.store.token_by_hash(&hash).await?;
            let Some((token, user)) =
                found.filter(|(t, _)| t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > now))
            else {
                return Err(ApiError::unauthorized("the token is unknown, revoked or expired"));
            };
            let caller = Caller { user, scopes: token.scopes };
            state.tokens.put(hash, token.expires_at, caller.clone(), Instant::now());
            caller
        }
    };
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}
