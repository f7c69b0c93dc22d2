//! Orgs, users and API tokens: the [`Accounts`] port.

use crate::rows::{RowExt, json, name_of, qualified};
use crate::{SqlStore, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use stringer_app::StoreError;
use stringer_app::accounts::letter::AccountLetter;
use stringer_app::keyed::Written;
use stringer_app::ports::Accounts;
use stringer_app::records::{InvitationRecord, OrgRecord, SessionRecord, TokenRecord, UserRecord};
use stringer_core::access::Scopes;
use stringer_core::ids::{OrgSlug, Tier, UserId, UserRole};

/// Ids asked for in one query of names (well below either backend's parameter limit).
const NAMES_PER_QUERY: usize = 500;

fn org_from(row: &AnyRow) -> Result<OrgRecord, StoreError> {
    let named: Vec<String> = row.json("named_engineers")?;
    Ok(OrgRecord {
        slug: OrgSlug(row.col("slug")?),
        name: row.col("name")?,
        tier: Tier(row.col("tier")?),
        deployment: row.named("deployment")?,
        tam: row.col::<Option<String>>("tam")?.map(UserId),
        named_engineers: named.into_iter().map(UserId).collect(),
        channel: row.col("channel")?,
        email_tag: row.col("email_tag")?,
        created_at: row.col("created_at")?,
    })
}

fn role(text: &str) -> Result<UserRole, StoreError> {
    UserRole::parse(text).ok_or_else(|| StoreError::Backend(format!("bad role {text:?} in database")))
}

/// A user from columns named `prefix` + the user column (`u_` in a join, empty otherwise).
pub(crate) fn user_from(row: &AnyRow, prefix: &str) -> Result<UserRecord, StoreError> {
    let c = |name: &str| format!("{prefix}{name}");
    Ok(UserRecord {
        id: UserId(row.col(&c("id"))?),
        email: row.col(&c("email"))?,
        name: row.col(&c("name"))?,
        role: role(&row.col::<String>(&c("role"))?)?,
        org: row.col::<Option<String>>(&c("org"))?.map(OrgSlug),
        federal_cleared: row.flag(&c("federal_cleared"))?,
        password_hash: row.col(&c("password_hash"))?,
        created_at: row.col(&c("created_at"))?,
        time_zone: row.col(&c("time_zone"))?,
        deactivated_at: row.col(&c("deactivated_at"))?,
    })
}

fn session_from(row: &AnyRow) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        id_hash: row.col("id_hash")?,
        user_id: UserId(row.col("user_id")?),
        csrf: row.col("csrf")?,
        created_at: row.col("created_at")?,
        last_seen_at: row.col("last_seen_at")?,
        expires_at: row.col("expires_at")?,
    })
}

fn token_from(row: &AnyRow) -> Result<TokenRecord, StoreError> {
    let names: Vec<String> = row.json("scopes")?;
    Ok(TokenRecord {
        id: row.col("id")?,
        user_id: UserId(row.col("user_id")?),
        name: row.col("name")?,
        secret_hash: row.col("secret_hash")?,
        scopes: Scopes::parse(&names)
            .ok_or_else(|| StoreError::Backend(format!("bad scopes {names:?} in database")))?,
        created_at: row.col("created_at")?,
        expires_at: row.col("expires_at")?,
        revoked_at: row.col("revoked_at")?,
    })
}

/// A unique-constraint violation becomes [`StoreError::Duplicate`], a foreign-key one
/// [`StoreError::Missing`].
pub(crate) fn insert_err(e: sqlx::Error, what: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Duplicate(what.to_string()),
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::Missing(what.to_string()),
        _ => backend_err(e),
    }
}

const ORG_COLUMNS: &str = "slug, name, tier, deployment, tam, named_engineers, channel, email_tag, created_at";
pub(crate) const USER_COLUMNS: &str =
    "id, email, name, role, org, federal_cleared, password_hash, created_at, time_zone, deactivated_at";
const SESSION_COLUMNS: &str = "id_hash, user_id, csrf, created_at, last_seen_at, expires_at";
const TOKEN_COLUMNS: &str = "id, user_id, name, secret_hash, scopes, created_at, expires_at, revoked_at";

/// The condition on `users` that the address `email` is held outside the org `org` (SQL
/// expressions: parameters or columns): by staff, or by a user of another org.
fn held_elsewhere(email: &str, org: &str) -> String {
    format!("LOWER(users.email) = LOWER({email}) AND (users.org IS NULL OR users.org <> {org})")
}

#[async_trait]
impl Accounts for SqlStore {
    async fn insert_org(&self, org: &OrgRecord, actor: Option<&UserId>) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        self.mark_key(&mut tx, Written::resource("org", org.slug.as_str(), 201)).await?;
        let named: Vec<&str> = org.named_engineers.iter().map(UserId::as_str).collect();
        sqlx::query(&format!(
            "INSERT INTO orgs ({ORG_COLUMNS}, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(org.slug.as_str())
        .bind(&org.name)
        .bind(org.tier.as_str())
        .bind(name_of(&org.deployment))
        .bind(org.tam.as_ref().map(UserId::as_str))
        .bind(json(&named))
        .bind(&org.channel)
        .bind(&org.email_tag)
        .bind(org.created_at)
        .bind(actor.map(UserId::as_str))
        .execute(&mut *tx)
        .await
        .map_err(|e| insert_err(e, &format!("org {} (slug or email tag taken)", org.slug)))?;
        tx.commit().await.map_err(backend_err)?;
        self.rosters.clear();
        Ok(())
    }

    async fn org(&self, slug: &OrgSlug) -> Result<Option<OrgRecord>, StoreError> {
        self.row(sqlx::query(&format!("SELECT {ORG_COLUMNS} FROM orgs WHERE slug = $1")).bind(slug.as_str()), org_from)
            .await
    }

    async fn org_by_email_tag(&self, tag: &str) -> Result<Option<OrgRecord>, StoreError> {
        // Tags are kept in lower case (unique, indexed).
        let sql = format!("SELECT {ORG_COLUMNS} FROM orgs WHERE email_tag = $1");
        self.row(sqlx::query(&sql).bind(tag.to_ascii_lowercase()), org_from).await
    }

    async fn orgs(&self) -> Result<Vec<OrgRecord>, StoreError> {
        self.rows(sqlx::query(&format!("SELECT {ORG_COLUMNS} FROM orgs ORDER BY slug")), org_from).await
    }

    async fn insert_user(&self, user: &UserRecord, actor: Option<&UserId>) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        self.mark_key(&mut tx, Written::resource("user", user.id.as_str(), 201)).await?;
        sqlx::query(&format!(
            "INSERT INTO users ({USER_COLUMNS}, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(user.id.as_str())
        .bind(&user.email)
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(user.org.as_ref().map(OrgSlug::as_str))
        .bind(i64::from(user.federal_cleared))
        .bind(&user.password_hash)
        .bind(user.created_at)
        .bind(&user.time_zone)
        .bind(user.deactivated_at)
        .bind(actor.map(UserId::as_str))
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            let within = user.org.as_ref().map_or("staff".to_string(), |o| format!("org {o}"));
            insert_err(e, &format!("a user with the email {} in {within}", user.email))
        })?;
        tx.commit().await.map_err(backend_err)?;
        self.rosters.clear();
        Ok(())
    }

    async fn user(&self, id: &UserId) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        self.row(sqlx::query(&sql).bind(id.as_str()), |r| user_from(r, "")).await
    }

    async fn users(&self, org: Option<&OrgSlug>) -> Result<Vec<UserRecord>, StoreError> {
        let by_org = format!("SELECT {USER_COLUMNS} FROM users WHERE org = $1 ORDER BY id");
        let all = format!("SELECT {USER_COLUMNS} FROM users ORDER BY id");
        let read = match org {
            Some(org) => sqlx::query(&by_org).bind(org.as_str()),
            None => sqlx::query(&all),
        };
        self.rows(read, |r| user_from(r, "")).await
    }

    async fn active_staff(&self) -> Result<Vec<UserRecord>, StoreError> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE org IS NULL AND deactivated_at IS NULL ORDER BY name, id");
        self.rows(sqlx::query(&sql), |r| user_from(r, "")).await
    }

    async fn names(&self, ids: &[UserId]) -> Result<Vec<(UserId, String)>, StoreError> {
        let mut names = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(NAMES_PER_QUERY) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!("SELECT id, name FROM users WHERE id IN ({})", marks.join(", "));
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            names.extend(self.rows(query, |r| Ok((UserId(r.col("id")?), r.col("name")?))).await?);
        }
        Ok(names)
    }

    async fn update_user(&self, user: &UserRecord, actor: &UserId, at: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE users SET name = $1, role = $2, federal_cleared = $3, updated_by = $4, updated_at = $6, time_zone = $7 WHERE id = $5",
        )
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(i64::from(user.federal_cleared))
        .bind(actor.as_str())
        .bind(user.id.as_str())
        .bind(at)
        .bind(&user.time_zone)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        self.rosters.clear();
        Ok(done.rows_affected() == 1)
    }

    async fn deactivate_user(&self, user: &UserId, actor: &UserId, at: i64) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        let done = sqlx::query(
            "UPDATE users SET deactivated_at = $1, deactivated_by = $2 WHERE id = $3 AND deactivated_at IS NULL",
        )
        .bind(at)
        .bind(actor.as_str())
        .bind(user.as_str())
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        tx.commit().await.map_err(backend_err)?;
        self.rosters.clear();
        Ok(done.rows_affected() == 1)
    }

    async fn insert_password_link(
        &self,
        id: &str,
        user: &UserId,
        purpose: &str,
        now: i64,
        expires_at: i64,
        mail: Option<&AccountLetter>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        sqlx::query(
            "INSERT INTO password_links (id, user_id, purpose, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, NULL)",
        )
        .bind(id)
        .bind(user.as_str())
        .bind(purpose)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| insert_err(e, "password link"))?;
        if let Some(mail) = mail {
            crate::account_mail::insert(&mut tx, mail, now).await?;
        }
        tx.commit().await.map_err(backend_err)
    }

    async fn use_password_link(&self, id: &str, hash: &str, now: i64) -> Result<Option<UserId>, StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        let user: Option<String> = sqlx::query_scalar(
            "UPDATE password_links SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $1 AND user_id IN (SELECT id FROM users WHERE deactivated_at IS NULL) RETURNING user_id",
        )
        .bind(now)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend_err)?;
        let Some(user) = user else { return Ok(None) };
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(now)
            .bind(&user)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(&user)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        tx.commit().await.map_err(backend_err)?;
        Ok(Some(UserId(user)))
    }

    async fn change_password(
        &self,
        user: &UserId,
        hash: &str,
        keep_session: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3 AND deactivated_at IS NULL",
        )
        .bind(hash)
        .bind(at)
        .bind(user.as_str())
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
            .bind(user.as_str())
            .bind(keep_session)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        tx.commit().await.map_err(backend_err)?;
        Ok(true)
    }

    async fn password_link_usable(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT l.id FROM password_links l JOIN users u ON u.id = l.user_id WHERE l.id = $1 AND l.used_at IS NULL AND l.expires_at > $2 AND u.deactivated_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&self.read)
        .await
        .map_err(backend_err)?;
        Ok(found.is_some())
    }

    async fn address_held_elsewhere(&self, email: &str, org: &OrgSlug) -> Result<bool, StoreError> {
        let found: Option<String> =
            sqlx::query_scalar(&format!("SELECT id FROM users WHERE {} LIMIT 1", held_elsewhere("$1", "$2")))
                .bind(email)
                .bind(org.as_str())
                .fetch_optional(&self.read)
                .await
                .map_err(backend_err)?;
        Ok(found.is_some())
    }

    async fn insert_invitation(&self, invitation: &InvitationRecord, mail: &AccountLetter) -> Result<(), StoreError> {
        let taken = || {
            StoreError::Duplicate(format!("a user or invitation for {} in org {}", invitation.email, invitation.org))
        };
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        let user: Option<String> =
            sqlx::query_scalar("SELECT id FROM users WHERE LOWER(email) = LOWER($1) AND org = $2")
                .bind(&invitation.email)
                .bind(invitation.org.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend_err)?;
        let pending: Option<String> = sqlx::query_scalar(
            "SELECT id FROM invitations WHERE org = $1 AND LOWER(email) = LOWER($2) AND used_at IS NULL AND expires_at > $3",
        )
        .bind(invitation.org.as_str())
        .bind(&invitation.email)
        .bind(invitation.created_at)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend_err)?;
        if user.is_some() || pending.is_some() {
            return Err(taken());
        }
        sqlx::query(
            "INSERT INTO invitations (id, org, email, name, role, invited_by, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)",
        )
        .bind(&invitation.id)
        .bind(invitation.org.as_str())
        .bind(&invitation.email)
        .bind(&invitation.name)
        .bind(invitation.role.as_str())
        .bind(invitation.invited_by.as_str())
        .bind(invitation.created_at)
        .bind(invitation.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| insert_err(e, "invitation"))?;
        crate::account_mail::insert(&mut tx, mail, invitation.created_at).await?;
        tx.commit().await.map_err(backend_err)
    }

    async fn invitation_usable(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let found: Option<String> = sqlx::query_scalar(&format!(
            "SELECT i.id FROM invitations i WHERE i.id = $1 AND i.used_at IS NULL AND i.expires_at > $2 \
             AND NOT EXISTS (SELECT 1 FROM users WHERE {})",
            held_elsewhere("i.email", "i.org")
        ))
        .bind(id)
        .bind(now)
        .fetch_optional(&self.read)
        .await
        .map_err(backend_err)?;
        Ok(found.is_some())
    }

    async fn accept_invitation(
        &self,
        id: &str,
        user: &UserId,
        hash: &str,
        now: i64,
    ) -> Result<Option<UserRecord>, StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        let sql = format!(
            "UPDATE invitations SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $1 \
             AND NOT EXISTS (SELECT 1 FROM users WHERE {}) RETURNING org, email, name, role, invited_by",
            held_elsewhere("invitations.email", "invitations.org")
        );
        let row = sqlx::query(&sql).bind(now).bind(id).fetch_optional(&mut *tx).await.map_err(backend_err)?;
        let Some(row) = row else { return Ok(None) };
        let account = UserRecord {
            id: user.clone(),
            email: row.col("email")?,
            name: row.col("name")?,
            role: role(&row.col::<String>("role")?)?,
            org: Some(OrgSlug(row.col("org")?)),
            federal_cleared: false,
            password_hash: Some(hash.to_string()),
            created_at: now,
            time_zone: None,
            deactivated_at: None,
        };
        let invited_by: String = row.col("invited_by")?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO users ({USER_COLUMNS}, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT DO NOTHING"
        ))
        .bind(account.id.as_str())
        .bind(&account.email)
        .bind(&account.name)
        .bind(account.role.as_str())
        .bind(account.org.as_ref().map(OrgSlug::as_str))
        .bind(0i64)
        .bind(&account.password_hash)
        .bind(account.created_at)
        .bind(&account.time_zone)
        .bind(account.deactivated_at)
        .bind(invited_by)
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
        // The org has an account with the address already (made by a staff admin meanwhile):
        // the invitation stays unused.
        if inserted.rows_affected() != 1 {
            return Ok(None);
        }
        tx.commit().await.map_err(backend_err)?;
        self.rosters.clear();
        Ok(Some(account))
    }

    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        sqlx::query(&format!("INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"))
            .bind(&session.id_hash)
            .bind(session.user_id.as_str())
            .bind(&session.csrf)
            .bind(session.created_at)
            .bind(session.last_seen_at)
            .bind(session.expires_at)
            .execute(&self.write)
            .await
            .map_err(|e| insert_err(e, "session"))?;
        Ok(())
    }

    async fn session(&self, id_hash: &str) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        let sql = format!(
            "SELECT {}, {} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
            qualified("s", SESSION_COLUMNS, ""),
            qualified("u", USER_COLUMNS, "u_")
        );
        self.row(sqlx::query(&sql).bind(id_hash), |r| Ok((session_from(r)?, user_from(r, "u_")?))).await
    }

    async fn touch_session(&self, id_hash: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(at)
            .bind(id_hash)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn update_org(&self, org: &OrgRecord, actor: &UserId, at: i64) -> Result<bool, StoreError> {
        let named: Vec<&str> = org.named_engineers.iter().map(UserId::as_str).collect();
        let done = sqlx::query(
            "UPDATE orgs SET name = $1, tier = $2, deployment = $3, tam = $4, named_engineers = $5, channel = $6, email_tag = $7, updated_at = $8, updated_by = $9 WHERE slug = $10",
        )
        .bind(&org.name)
        .bind(org.tier.as_str())
        .bind(name_of(&org.deployment))
        .bind(org.tam.as_ref().map(UserId::as_str))
        .bind(json(&named))
        .bind(&org.channel)
        .bind(&org.email_tag)
        .bind(at)
        .bind(actor.as_str())
        .bind(org.slug.as_str())
        .execute(&self.write)
        .await
        .map_err(|e| insert_err(e, &format!("an org with the email tag {}", org.email_tag)))?;
        self.rosters.clear();
        Ok(done.rows_affected() == 1)
    }

    async fn login_account(&self, email: &str, org: Option<&OrgSlug>) -> Result<Option<UserRecord>, StoreError> {
        let in_org = format!("SELECT {USER_COLUMNS} FROM users WHERE LOWER(email) = LOWER($1) AND org = $2");
        let first = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE LOWER(email) = LOWER($1) ORDER BY org IS NOT NULL, id LIMIT 1"
        );
        let read = match org {
            Some(org) => sqlx::query(&in_org).bind(email).bind(org.as_str()),
            None => sqlx::query(&first).bind(email),
        };
        self.row(read, |r| user_from(r, "")).await
    }

    async fn insert_token(&self, token: &TokenRecord, actor: Option<&UserId>) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        self.mark_key(&mut tx, Written::secret("token", &token.id)).await?;
        sqlx::query(&format!(
            "INSERT INTO api_tokens ({TOKEN_COLUMNS}, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&token.id)
        .bind(token.user_id.as_str())
        .bind(&token.name)
        .bind(&token.secret_hash)
        .bind(json(&token.scopes))
        .bind(token.created_at)
        .bind(token.expires_at)
        .bind(token.revoked_at)
        .bind(actor.map(UserId::as_str))
        .execute(&mut *tx)
        .await
        .map_err(|e| insert_err(e, "token"))?;
        tx.commit().await.map_err(backend_err)?;
        Ok(())
    }

    async fn token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.row(sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1")).bind(id), token_from)
            .await
    }

    async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<(TokenRecord, UserRecord)>, StoreError> {
        let sql = format!(
            "SELECT {}, {} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = $1",
            qualified("t", TOKEN_COLUMNS, ""),
            qualified("u", USER_COLUMNS, "u_")
        );
        self.row(sqlx::query(&sql).bind(secret_hash), |r| Ok((token_from(r)?, user_from(r, "u_")?))).await
    }

    async fn tokens(&self, user: &UserId) -> Result<Vec<TokenRecord>, StoreError> {
        self.rows(
            sqlx::query(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
            ))
            .bind(user.as_str()),
            token_from,
        )
        .await
    }

    async fn revoke_token(&self, user: &UserId, token: &str, at: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1, revoked_by = $3 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(token)
        .bind(user.as_str())
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(done.rows_affected() == 1)
    }
}
