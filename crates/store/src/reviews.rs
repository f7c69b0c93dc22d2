//! Quarterly reviews' records — the [`ReviewBook`] port: the recommendations a TAM wrote for
//! an org's quarter, and the rounds and letters of the reviews mailed when a quarter ends (a
//! round and its letters are one transaction, written once; letters are sent with a lease).

use crate::rows::RowExt;
use crate::{SqlStore, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use stringer_app::StoreError;
use stringer_app::review::Recommendations;
use stringer_app::review::mailing::{ReviewBook, ReviewLetter};
use stringer_core::ids::{OrgSlug, UserId};

fn letter_from(r: &AnyRow) -> Result<ReviewLetter, StoreError> {
    Ok(ReviewLetter {
        id: r.col("id")?,
        org: OrgSlug(r.col("org")?),
        quarter: r.col("quarter")?,
        to: r.col("recipient")?,
        tam: r.flag("tam")?,
        attempts: r.col("attempts")?,
    })
}

fn recommendations_from(r: &AnyRow) -> Result<Recommendations, StoreError> {
    Ok(Recommendations { body: r.col("body")?, author: UserId(r.col("author")?), updated_at: r.col("updated_at")? })
}

#[async_trait]
impl ReviewBook for SqlStore {
    async fn recommendations(&self, org: &OrgSlug, quarter: &str) -> Result<Option<Recommendations>, StoreError> {
        let sql = "SELECT body, author, updated_at FROM review_recommendations WHERE org = $1 AND quarter = $2";
        self.row(sqlx::query(sql).bind(org.as_str()).bind(quarter), recommendations_from).await
    }

    async fn set_recommendations(
        &self,
        org: &OrgSlug,
        quarter: &str,
        body: &str,
        author: &UserId,
        at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO review_recommendations (org, quarter, body, author, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (org, quarter) DO UPDATE SET body = excluded.body, author = excluded.author, \
             updated_at = excluded.updated_at",
        )
        .bind(org.as_str())
        .bind(quarter)
        .bind(body)
        .bind(author.as_str())
        .bind(at)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn mailed_orgs(&self, quarter: &str) -> Result<Vec<OrgSlug>, StoreError> {
        let sql = "SELECT org FROM review_rounds WHERE quarter = $1";
        self.rows(sqlx::query(sql).bind(quarter), |r| Ok(OrgSlug(r.col("org")?))).await
    }

    async fn write_round(
        &self,
        org: &OrgSlug,
        quarter: &str,
        letters: &[ReviewLetter],
        at: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        let round = sqlx::query(
            "INSERT INTO review_rounds (org, quarter, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (org, quarter) DO NOTHING",
        )
        .bind(org.as_str())
        .bind(quarter)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
        if round.rows_affected() == 0 {
            return Ok(false);
        }
        for l in letters {
            sqlx::query(
                "INSERT INTO review_letters (id, org, quarter, recipient, tam, attempts, next_attempt_at) \
                 VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&l.id)
            .bind(org.as_str())
            .bind(quarter)
            .bind(&l.to)
            .bind(i64::from(l.tam))
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        }
        tx.commit().await.map_err(backend_err)?;
        Ok(true)
    }

    async fn claim_letters(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<ReviewLetter>, StoreError> {
        let rows = self
            .claim_due("review_letters", "id, org, quarter, recipient, tam, attempts", now, lease_until, limit)
            .await?;
        rows.iter().map(letter_from).collect()
    }

    async fn letter_done(&self, id: &str, at: i64, error: Option<&str>) -> Result<(), StoreError> {
        self.send_done("review_letters", id, at, error).await
    }

    async fn letter_retry(&self, id: &str, next: Option<i64>, error: &str) -> Result<(), StoreError> {
        self.send_later("review_letters", id, next, error).await
    }
}
