//! The general inquiries of "Contact us": the [`Inquiries`] port.

use crate::accounts::insert_err;
use crate::rows::RowExt;
use crate::{SqlStore, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use stringer_app::StoreError;
use stringer_app::keyed::Written;
use stringer_app::letters::Letter;
use stringer_app::ports::Inquiries;
use stringer_app::records::InquiryRecord;
use stringer_core::ids::UserId;

const COLUMNS: &str = "id, name, email, company, body, received_at, due_at, answered_at, answered_by, answer";

fn inquiry_from(r: &AnyRow) -> Result<InquiryRecord, StoreError> {
    Ok(InquiryRecord {
        id: r.col("id")?,
        name: r.col("name")?,
        email: r.col("email")?,
        company: r.col("company")?,
        body: r.col("body")?,
        received_at: r.col("received_at")?,
        due_at: r.col("due_at")?,
        answered_at: r.col("answered_at")?,
        answered_by: r.col::<Option<String>>("answered_by")?.map(UserId),
        answer: r.col("answer")?,
    })
}

#[async_trait]
impl Inquiries for SqlStore {
    async fn insert_inquiry(&self, i: &InquiryRecord) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO inquiries ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, NULL)"
        ))
        .bind(&i.id)
        .bind(&i.name)
        .bind(&i.email)
        .bind(&i.company)
        .bind(&i.body)
        .bind(i.received_at)
        .bind(i.due_at)
        .execute(&self.write)
        .await
        .map_err(|e| insert_err(e, "inquiry"))?;
        Ok(())
    }

    async fn inquiry(&self, id: &str) -> Result<Option<InquiryRecord>, StoreError> {
        self.row(sqlx::query(&format!("SELECT {COLUMNS} FROM inquiries WHERE id = $1")).bind(id), inquiry_from).await
    }

    async fn inquiries(&self, answered: bool, limit: i64) -> Result<Vec<InquiryRecord>, StoreError> {
        let sql = if answered {
            format!(
                "SELECT {COLUMNS} FROM inquiries WHERE answered_at IS NOT NULL ORDER BY answered_at DESC, id LIMIT $1"
            )
        } else {
            format!("SELECT {COLUMNS} FROM inquiries WHERE answered_at IS NULL ORDER BY due_at, id LIMIT $1")
        };
        self.rows(sqlx::query(&sql).bind(limit), inquiry_from).await
    }

    async fn answer_inquiry(
        &self,
        id: &str,
        by: &UserId,
        answer: &str,
        at: i64,
        letter: &Letter,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        self.mark_key(&mut tx, Written::resource("inquiry", id, 200)).await?;
        let done = sqlx::query(
            "UPDATE inquiries SET answered_at = $1, answered_by = $2, answer = $3 WHERE id = $4 AND answered_at IS NULL",
        )
        .bind(at)
        .bind(by.as_str())
        .bind(answer)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        crate::letters::insert(&mut tx, std::slice::from_ref(letter), at).await?;
        tx.commit().await.map_err(backend_err)?;
        Ok(true)
    }
}
