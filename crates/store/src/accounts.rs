//! Orgs, users and API tokens.

use crate::{SqlStore, backend_err};
use sqlx::Row;
use sqlx::any::AnyRow;
use stringer_app::StoreError;
use stringer_core::access::{Scopes, UserRef};
use stringer_core::ids::{Deployment, OrgSlug, Tier, UserRole};
use stringer_core::ticket::OrgProfile;

/// An org as stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OrgRecord {
    /// URL-safe identifier.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Contract tier.
    pub tier: String,
    /// shared | dedicated | federal.
    pub deployment: Deployment,
    /// The TAM's user id.
    pub tam: Option<String>,
    /// Named on-call engineers' user ids.
    pub named_engineers: Vec<String>,
    /// The shared Slack channel.
    pub slack_channel: Option<String>,
    /// The routing tag of the org's support address (`support+TAG@…`).
    pub email_tag: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// What creating an org takes.
pub type NewOrg = OrgRecord;

impl OrgRecord {
    /// The part of the org the rules need.
    pub fn profile(&self) -> OrgProfile {
        OrgProfile {
            slug: OrgSlug(self.slug.clone()),
            tier: Tier(self.tier.clone()),
            deployment: self.deployment,
            tam: self.tam.clone(),
        }
    }
}

/// A user as stored (staff or customer).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UserRecord {
    /// Identifier.
    pub id: String,
    /// Login and contact address: unique among staff and within a customer org (the same
    /// address may have an account in several orgs).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role (staff: engineer, platform_engineer, tam, vp_engineering, support_lead, admin;
    /// customer: member, org_admin).
    pub role: UserRole,
    /// The customer's org; `None` for staff.
    pub org: Option<String>,
    /// May see federal orgs' data.
    pub federal_cleared: bool,
    /// Argon2 hash, when the user has a password.
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}

/// What creating a user takes.
pub type NewUser = UserRecord;

impl UserRecord {
    /// The user as an object of the access policy, given their org's record.
    pub fn as_object<'a>(&'a self, org: Option<&'a OrgRecord>) -> UserRef<'a> {
        UserRef {
            id: &self.id,
            role: self.role,
            org: org.map(OrgRecord::as_ref),
            federal_cleared: self.federal_cleared,
        }
    }
}

impl OrgRecord {
    /// The org as the access policy sees it.
    pub fn as_ref(&self) -> stringer_core::access::OrgRef<'_> {
        stringer_core::access::OrgRef { slug: &self.slug, deployment: self.deployment }
    }
}

/// An API token as stored: the secret itself is never stored, only its hash.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TokenRecord {
    /// Identifier (shown; not secret).
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// What it is for.
    pub name: String,
    /// SHA-256 of the secret, hex.
    #[serde(skip)]
    pub secret_hash: String,
    /// What it allows.
    pub scopes: Scopes,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; `None` never expires.
    pub expires_at: Option<i64>,
    /// Unix seconds, once revoked.
    pub revoked_at: Option<i64>,
}

/// What creating a token takes.
pub type NewToken = TokenRecord;

fn deployment_name(d: Deployment) -> &'static str {
    match d {
        Deployment::Shared => "shared",
        Deployment::Dedicated => "dedicated",
        Deployment::Federal => "federal",
    }
}

fn parse_deployment(s: &str) -> Result<Deployment, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| StoreError::Backend(format!("bad deployment {s:?} in database")))
}

fn parse_role(s: &str) -> Result<UserRole, StoreError> {
    UserRole::parse(s).ok_or_else(|| StoreError::Backend(format!("bad role {s:?} in database")))
}

fn parse_scopes(s: &str) -> Result<Scopes, StoreError> {
    Scopes::parse(&json_list(s)?).ok_or_else(|| StoreError::Backend(format!("bad scopes {s:?} in database")))
}

fn scopes_json(scopes: Scopes) -> String {
    serde_json::to_string(&scopes.names()).expect("strings serialize")
}

fn json_list(s: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Backend(format!("bad JSON list in database: {e}")))
}

fn org_from(row: &AnyRow) -> Result<OrgRecord, StoreError> {
    Ok(OrgRecord {
        slug: row.try_get("slug").map_err(backend_err)?,
        name: row.try_get("name").map_err(backend_err)?,
        tier: row.try_get("tier").map_err(backend_err)?,
        deployment: parse_deployment(&row.try_get::<String, _>("deployment").map_err(backend_err)?)?,
        tam: row.try_get("tam").map_err(backend_err)?,
        named_engineers: json_list(&row.try_get::<String, _>("named_engineers").map_err(backend_err)?)?,
        slack_channel: row.try_get("slack_channel").map_err(backend_err)?,
        email_tag: row.try_get("email_tag").map_err(backend_err)?,
        created_at: row.try_get("created_at").map_err(backend_err)?,
    })
}

fn user_from(row: &AnyRow) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        id: row.try_get("id").map_err(backend_err)?,
        email: row.try_get("email").map_err(backend_err)?,
        name: row.try_get("name").map_err(backend_err)?,
        role: parse_role(&row.try_get::<String, _>("role").map_err(backend_err)?)?,
        org: row.try_get("org").map_err(backend_err)?,
        federal_cleared: row.try_get::<i64, _>("federal_cleared").map_err(backend_err)? != 0,
        password_hash: row.try_get("password_hash").map_err(backend_err)?,
        created_at: row.try_get("created_at").map_err(backend_err)?,
    })
}

fn token_from(row: &AnyRow) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        id: row.try_get("id").map_err(backend_err)?,
        user_id: row.try_get("user_id").map_err(backend_err)?,
        name: row.try_get("name").map_err(backend_err)?,
        secret_hash: row.try_get("secret_hash").map_err(backend_err)?,
        scopes: parse_scopes(&row.try_get::<String, _>("scopes").map_err(backend_err)?)?,
        created_at: row.try_get("created_at").map_err(backend_err)?,
        expires_at: row.try_get("expires_at").map_err(backend_err)?,
        revoked_at: row.try_get("revoked_at").map_err(backend_err)?,
    })
}

/// A unique-constraint violation becomes [`StoreError::Duplicate`]-like conflict text.
pub(crate) fn insert_err(e: sqlx::Error, what: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Duplicate(what.to_string()),
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::Missing(what.to_string()),
        _ => backend_err(e),
    }
}

const ORG_COLUMNS: &str = "slug, name, tier, deployment, tam, named_engineers, slack_channel, email_tag, created_at";
const USER_COLUMNS: &str = "id, email, name, role, org, federal_cleared, password_hash, created_at";
const TOKEN_COLUMNS: &str = "id, user_id, name, secret_hash, scopes, created_at, expires_at, revoked_at";

impl SqlStore {
    /// Creates an org, recording who did; a taken slug or email tag is a duplicate.
    pub async fn insert_org(&self, org: &NewOrg, actor: Option<&str>) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO orgs ({ORG_COLUMNS}, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&org.slug)
        .bind(&org.name)
        .bind(&org.tier)
        .bind(deployment_name(org.deployment))
        .bind(&org.tam)
        .bind(serde_json::to_string(&org.named_engineers).expect("strings serialize"))
        .bind(&org.slack_channel)
        .bind(&org.email_tag)
        .bind(org.created_at)
        .bind(actor)
        .execute(&self.write)
        .await
        .map_err(|e| insert_err(e, &format!("org {} (slug or email tag taken)", org.slug)))?;
        Ok(())
    }

    /// An org by slug.
    pub async fn get_org(&self, slug: &str) -> Result<Option<OrgRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {ORG_COLUMNS} FROM orgs WHERE slug = $1"))
            .bind(slug)
            .fetch_optional(&self.read)
            .await
            .map_err(backend_err)?;
        row.as_ref().map(org_from).transpose()
    }

    /// Every org, by slug.
    pub async fn list_orgs(&self) -> Result<Vec<OrgRecord>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {ORG_COLUMNS} FROM orgs ORDER BY slug"))
            .fetch_all(&self.read)
            .await
            .map_err(backend_err)?;
        rows.iter().map(org_from).collect()
    }

    /// Creates a user, recording who did (`None` for the first admin); a taken email is a
    /// duplicate.
    pub async fn insert_user(&self, user: &NewUser, actor: Option<&str>) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO users ({USER_COLUMNS}, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&user.id)
        .bind(&user.email)
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(&user.org)
        .bind(i64::from(user.federal_cleared))
        .bind(&user.password_hash)
        .bind(user.created_at)
        .bind(actor)
        .execute(&self.write)
        .await
        .map_err(|e| {
            let within = user.org.as_deref().map_or("staff".to_string(), |o| format!("org {o}"));
            insert_err(e, &format!("a user with the email {} in {within}", user.email))
        })?;
        Ok(())
    }

    /// A user by id.
    pub async fn get_user(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(backend_err)?;
        row.as_ref().map(user_from).transpose()
    }

    /// The account a sign-in with `email` is for: in `org` when given, else the staff
    /// account, else the address's earliest customer account (ids sort by creation).
    pub async fn login_account(&self, email: &str, org: Option<&str>) -> Result<Option<UserRecord>, StoreError> {
        let in_org = format!("SELECT {USER_COLUMNS} FROM users WHERE LOWER(email) = LOWER($1) AND org = $2");
        let first = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE LOWER(email) = LOWER($1) ORDER BY org IS NOT NULL, id LIMIT 1"
        );
        let row = match org {
            Some(org) => sqlx::query(&in_org).bind(email).bind(org),
            None => sqlx::query(&first).bind(email),
        }
        .fetch_optional(&self.read)
        .await
        .map_err(backend_err)?;
        row.as_ref().map(user_from).transpose()
    }

    /// Changes a user's name, role and clearance; false when there is no such user.
    pub async fn update_user(&self, user: &UserRecord, actor: &str, at: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE users SET name = $1, role = $2, federal_cleared = $3, updated_by = $4, updated_at = $6 WHERE id = $5",
        )
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(i64::from(user.federal_cleared))
        .bind(actor)
        .bind(&user.id)
        .bind(at)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(done.rows_affected() == 1)
    }

    /// Users, optionally only one org's, by id.
    pub async fn list_users(&self, org: Option<&str>) -> Result<Vec<UserRecord>, StoreError> {
        let by_org = format!("SELECT {USER_COLUMNS} FROM users WHERE org = $1 ORDER BY id");
        let all = format!("SELECT {USER_COLUMNS} FROM users ORDER BY id");
        let rows = match org {
            Some(org) => sqlx::query(&by_org).bind(org),
            None => sqlx::query(&all),
        }
        .fetch_all(&self.read)
        .await
        .map_err(backend_err)?;
        rows.iter().map(user_from).collect()
    }

    /// Stores a token (its hash only), recording who issued it.
    pub async fn insert_token(&self, token: &NewToken, actor: Option<&str>) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO api_tokens ({TOKEN_COLUMNS}, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&token.id)
        .bind(&token.user_id)
        .bind(&token.name)
        .bind(&token.secret_hash)
        .bind(scopes_json(token.scopes))
        .bind(token.created_at)
        .bind(token.expires_at)
        .bind(token.revoked_at)
        .bind(actor)
        .execute(&self.write)
        .await
        .map_err(|e| insert_err(e, "token"))?;
        Ok(())
    }

    /// The token whose secret hashes to `secret_hash`, with its owner (one query).
    pub async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<(TokenRecord, UserRecord)>, StoreError> {
        let row = sqlx::query(
            "SELECT t.id AS id, t.user_id AS user_id, t.name AS name, t.secret_hash AS secret_hash, t.scopes AS scopes, t.created_at AS created_at, t.expires_at AS expires_at, t.revoked_at AS revoked_at, u.email AS u_email, u.name AS u_name, u.role AS u_role, u.org AS u_org, u.federal_cleared AS u_federal_cleared, u.password_hash AS u_password_hash, u.created_at AS u_created_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = $1",
        )
        .bind(secret_hash)
        .fetch_optional(&self.read)
        .await
        .map_err(backend_err)?;
        let Some(row) = row else { return Ok(None) };
        let token = token_from(&row)?;
        let user = UserRecord {
            id: token.user_id.clone(),
            email: row.try_get("u_email").map_err(backend_err)?,
            name: row.try_get("u_name").map_err(backend_err)?,
            role: parse_role(&row.try_get::<String, _>("u_role").map_err(backend_err)?)?,
            org: row.try_get("u_org").map_err(backend_err)?,
            federal_cleared: row.try_get::<i64, _>("u_federal_cleared").map_err(backend_err)? != 0,
            password_hash: row.try_get("u_password_hash").map_err(backend_err)?,
            created_at: row.try_get("u_created_at").map_err(backend_err)?,
        };
        Ok(Some((token, user)))
    }

    /// A user's tokens, newest first.
    pub async fn list_tokens(&self, user_id: &str) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
        ))
        .bind(user_id)
        .fetch_all(&self.read)
        .await
        .map_err(backend_err)?;
        rows.iter().map(token_from).collect()
    }

    /// A token by id.
    pub async fn get_token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(backend_err)?;
        row.as_ref().map(token_from).transpose()
    }

    /// Revokes a user's token (by that user: recorded as `revoked_by`); false when the user
    /// has no such live token.
    pub async fn revoke_token(&self, user_id: &str, token_id: &str, at: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1, revoked_by = $3 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(token_id)
        .bind(user_id)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(done.rows_affected() == 1)
    }
}
