//! Quarterly reviews' records — the [`ReviewBook`] port: the recommendations a TAM wrote for
//! an org's quarter — and the [`ReportingReads`] port: the tickets a review counts.

use crate::rows::RowExt;
use crate::tickets::{TICKET_COLUMNS, ticket_from};
use crate::{SqlStore, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use std::collections::HashMap;
use stringer_app::StoreError;
use stringer_app::records::TicketRecord;
use stringer_app::review::{Recommendations, ReportingReads, ReviewBook};
use stringer_core::event::{Notice, NoticeBody};
use stringer_core::ids::{OrgSlug, Role, UserId};

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

#[async_trait]
impl ReportingReads for SqlStore {
    async fn opened_between(
        &self,
        org: &OrgSlug,
        from: i64,
        until: i64,
    ) -> Result<Vec<(TicketRecord, Vec<Role>)>, StoreError> {
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE org = $1 AND opened_at >= $2 AND opened_at < $3 ORDER BY opened_at, id"
        );
        let tickets = self.rows(sqlx::query(&sql).bind(org.as_str()).bind(from).bind(until), ticket_from).await?;
        let pages = sqlx::query(
            "SELECT l.ticket_id AS ticket_id, l.body AS body FROM timeline l JOIN tickets t ON t.id = l.ticket_id \
             WHERE t.org = $1 AND t.opened_at >= $2 AND t.opened_at < $3 AND l.kind = 'page' ORDER BY l.id",
        )
        .bind(org.as_str())
        .bind(from)
        .bind(until)
        .fetch_all(&self.read)
        .await
        .map_err(backend_err)?;
        let mut roles: HashMap<String, Vec<Role>> = HashMap::new();
        for row in &pages {
            let notice: Notice = row.json("body")?;
            if let NoticeBody::Page { role, .. } = notice.body {
                roles.entry(row.col("ticket_id")?).or_default().push(role);
            }
        }
        Ok(tickets
            .into_iter()
            .map(|t| {
                let paged = roles.remove(t.id.as_str()).unwrap_or_default();
                (t, paged)
            })
            .collect())
    }
}
