//! Quarterly reviews' records — the [`ReviewBook`] port: the recommendations a TAM wrote for
//! an org's quarter.

use crate::rows::RowExt;
use crate::{SqlStore, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use stringer_app::StoreError;
use stringer_app::review::{Recommendations, ReviewBook};
use stringer_core::ids::{OrgSlug, UserId};

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
}
