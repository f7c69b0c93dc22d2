//! The P1 phone line's records: users' phone numbers (caller IDs), the orgs' phone PINs
//! (keyed hashes only) and which ticket each call opened or paged for — the [`PhoneBook`]
//! port.

use crate::rows::RowExt;
use crate::{SqlStore, backend_err};
use async_trait::async_trait;
use stringer_app::StoreError;
use stringer_app::keyed::Written;
use stringer_app::phone::{Confirmation, PhoneBook};
use stringer_core::ids::{OrgSlug, TicketId, UserId};

#[async_trait]
impl PhoneBook for SqlStore {
    async fn callers(&self, number: &str) -> Result<Vec<UserId>, StoreError> {
        let sql = "SELECT user_id FROM phone_numbers WHERE number = $1 ORDER BY user_id";
        self.rows(sqlx::query(sql).bind(number), |r| Ok(UserId(r.col("user_id")?))).await
    }

    async fn number(&self, user: &UserId) -> Result<Option<String>, StoreError> {
        let sql = "SELECT number FROM phone_numbers WHERE user_id = $1";
        self.row(sqlx::query(sql).bind(user.as_str()), |r| r.col::<String>("number")).await
    }

    async fn set_number(&self, user: &UserId, number: Option<&str>, at: i64) -> Result<(), StoreError> {
        let query = match number {
            Some(number) => sqlx::query(
                "INSERT INTO phone_numbers (user_id, number, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET number = excluded.number, updated_at = excluded.updated_at",
            )
            .bind(user.as_str())
            .bind(number)
            .bind(at),
            None => sqlx::query("DELETE FROM phone_numbers WHERE user_id = $1").bind(user.as_str()),
        };
        query.execute(&self.write).await.map_err(backend_err)?;
        Ok(())
    }

    async fn set_confirmation(&self, user: &UserId, waiting: &Confirmation) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO phone_confirmations (user_id, number, code_hash, created_at, expires_at, attempts) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id) DO UPDATE SET number = excluded.number, \
             code_hash = excluded.code_hash, created_at = excluded.created_at, expires_at = excluded.expires_at, \
             attempts = excluded.attempts",
        )
        .bind(user.as_str())
        .bind(&waiting.number)
        .bind(&waiting.code_hash)
        .bind(waiting.created_at)
        .bind(waiting.expires_at)
        .bind(waiting.attempts)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn confirmation(&self, user: &UserId) -> Result<Option<Confirmation>, StoreError> {
        let sql =
            "SELECT number, code_hash, created_at, expires_at, attempts FROM phone_confirmations WHERE user_id = $1";
        self.row(sqlx::query(sql).bind(user.as_str()), |r| {
            Ok(Confirmation {
                number: r.col("number")?,
                code_hash: r.col("code_hash")?,
                created_at: r.col("created_at")?,
                expires_at: r.col("expires_at")?,
                attempts: r.col("attempts")?,
            })
        })
        .await
    }

    async fn confirmation_failed(&self, user: &UserId) -> Result<(), StoreError> {
        sqlx::query("UPDATE phone_confirmations SET attempts = attempts + 1 WHERE user_id = $1")
            .bind(user.as_str())
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn confirmed(&self, user: &UserId, number: Option<&str>, at: i64) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        self.mark_key(&mut tx, Written::resource("phone_number", user.as_str(), 200)).await?;
        if let Some(number) = number {
            sqlx::query(
                "INSERT INTO phone_numbers (user_id, number, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET number = excluded.number, updated_at = excluded.updated_at",
            )
            .bind(user.as_str())
            .bind(number)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        }
        sqlx::query("DELETE FROM phone_confirmations WHERE user_id = $1")
            .bind(user.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        tx.commit().await.map_err(backend_err)
    }

    async fn org_by_pin(&self, pin_hash: &str) -> Result<Option<OrgSlug>, StoreError> {
        let sql = "SELECT org FROM phone_pins WHERE pin_hash = $1";
        self.row(sqlx::query(sql).bind(pin_hash), |r| Ok(OrgSlug(r.col("org")?))).await
    }

    async fn set_pin(&self, org: &OrgSlug, pin_hash: &str, at: i64) -> Result<bool, StoreError> {
        if self.org_by_pin(pin_hash).await?.is_some_and(|other| &other != org) {
            return Ok(false);
        }
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        self.mark_key(&mut tx, Written::secret("phone_pin", org.as_str())).await?;
        sqlx::query(
            "INSERT INTO phone_pins (org, pin_hash, set_at) VALUES ($1, $2, $3) \
             ON CONFLICT (org) DO UPDATE SET pin_hash = excluded.pin_hash, set_at = excluded.set_at",
        )
        .bind(org.as_str())
        .bind(pin_hash)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
        tx.commit().await.map_err(backend_err)?;
        Ok(true)
    }

    async fn call_ticket(&self, call: &str) -> Result<Option<TicketId>, StoreError> {
        let sql = "SELECT ticket_id FROM phone_calls WHERE call_sid = $1";
        self.row(sqlx::query(sql).bind(call), |r| Ok(TicketId(r.col("ticket_id")?))).await
    }

    async fn set_call_ticket(&self, call: &str, ticket: &TicketId, caller: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO phone_calls (call_sid, ticket_id, caller, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (call_sid) DO NOTHING",
        )
        .bind(call)
        .bind(ticket.as_str())
        .bind(caller)
        .bind(at)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(())
    }
}
