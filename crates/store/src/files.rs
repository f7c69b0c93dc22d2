//! Files attached to tickets: the [`Files`] port. The bytes live in the database next to
//! the ticket (BLOB / BYTEA), so a backup holds everything.

use crate::accounts::insert_err;
use crate::rows::RowExt;
use crate::{SqlStore, backend_err};
use async_trait::async_trait;
use sqlx::Row as _;
use sqlx::any::AnyRow;
use stringer_app::StoreError;
use stringer_app::keyed::Written;
use stringer_app::ports::Files;
use stringer_app::records::AttachmentRecord;
use stringer_core::ids::{TicketId, UserId};

const COLUMNS: &str = "id, ticket_id, filename, content_type, size, sha256, public, uploaded_by, created_at";

fn attachment_from(r: &AnyRow) -> Result<AttachmentRecord, StoreError> {
    Ok(AttachmentRecord {
        id: r.col("id")?,
        ticket: TicketId(r.col("ticket_id")?),
        filename: r.col("filename")?,
        content_type: r.col("content_type")?,
        size: r.col("size")?,
        sha256: r.col("sha256")?,
        public: r.flag("public")?,
        uploaded_by: UserId(r.col("uploaded_by")?),
        created_at: r.col("created_at")?,
    })
}

#[async_trait]
impl Files for SqlStore {
    async fn insert_attachment(&self, a: &AttachmentRecord, bytes: &[u8]) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        self.mark_key(&mut tx, Written::resource("attachment", &a.id, 201)).await?;
        sqlx::query(&format!(
            "INSERT INTO attachments ({COLUMNS}, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&a.id)
        .bind(a.ticket.as_str())
        .bind(&a.filename)
        .bind(&a.content_type)
        .bind(a.size)
        .bind(&a.sha256)
        .bind(i64::from(a.public))
        .bind(a.uploaded_by.as_str())
        .bind(a.created_at)
        .bind(bytes.to_vec())
        .execute(&mut *tx)
        .await
        .map_err(|e| insert_err(e, "attachment"))?;
        tx.commit().await.map_err(backend_err)?;
        Ok(())
    }

    async fn attachments(&self, ticket: &TicketId) -> Result<Vec<AttachmentRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM attachments WHERE ticket_id = $1 ORDER BY created_at, id");
        self.rows(sqlx::query(&sql).bind(ticket.as_str()), attachment_from).await
    }

    async fn attachment(&self, id: &str) -> Result<Option<(AttachmentRecord, Vec<u8>)>, StoreError> {
        let sql = format!("SELECT {COLUMNS}, data FROM attachments WHERE id = $1");
        self.row(sqlx::query(&sql).bind(id), |r| {
            let data: Vec<u8> = r.try_get("data").map_err(backend_err)?;
            Ok((attachment_from(r)?, data))
        })
        .await
    }
}
