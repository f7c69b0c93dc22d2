//! What a replay of history reads — the [`HistoryReads`] port: tickets with their timelines,
//! and the contracts the server ran under ([`ContractHistory`]).

use crate::rows::RowExt;
use crate::tickets::{TICKET_COLUMNS, ticket_from};
use crate::{SqlStore, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use std::collections::HashMap;
use stringer_app::StoreError;
use stringer_app::history::{ContractHistory, ContractRecord, HistoryReads, HistoryRow, TicketHistory};
use stringer_core::ids::{OrgSlug, TicketId};
use stringer_core::routing::RosterHistory;

fn record_from(r: &AnyRow) -> Result<ContractRecord, StoreError> {
    Ok(ContractRecord {
        at: r.col("at")?,
        name: r.col("name")?,
        version: r.col("version")?,
        sha256: r.col("sha256")?,
        source: r.col("source")?,
        stringer_version: r.col("stringer_version")?,
    })
}

#[async_trait]
impl ContractHistory for SqlStore {
    async fn record_contract(&self, record: &ContractRecord) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO contract_history (at, name, version, sha256, source, stringer_version) \
             SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM contract_history \
             WHERE id = (SELECT MAX(id) FROM contract_history) AND sha256 = $4 AND stringer_version = $6)",
        )
        .bind(record.at)
        .bind(record.name.as_str())
        .bind(record.version.as_str())
        .bind(record.sha256.as_str())
        .bind(record.source.as_str())
        .bind(record.stringer_version.as_str())
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn contracts(&self) -> Result<Vec<ContractRecord>, StoreError> {
        let sql = "SELECT at, name, version, sha256, source, stringer_version FROM contract_history ORDER BY id";
        self.rows(sqlx::query(sql), record_from).await
    }
}

#[async_trait]
impl HistoryReads for SqlStore {
    async fn histories(
        &self,
        org: &OrgSlug,
        from: i64,
        until: i64,
        after: Option<(i64, TicketId)>,
        limit: i64,
    ) -> Result<Vec<TicketHistory>, StoreError> {
        let (after_at, after_id) = after.map_or((i64::MIN, String::new()), |(at, id)| (at, id.0));
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE org = $1 AND opened_at >= $2 AND opened_at < $3 \
             AND (opened_at > $4 OR (opened_at = $4 AND id > $5)) ORDER BY opened_at, id LIMIT $6"
        );
        let read = sqlx::query(&sql).bind(org.as_str()).bind(from).bind(until).bind(after_at).bind(after_id);
        let tickets = self.rows(read.bind(limit), ticket_from).await?;
        if tickets.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT ticket_id, at, kind, version, body FROM timeline WHERE ticket_id IN ({}) ORDER BY ticket_id, id",
            (1..=tickets.len()).map(|n| self.backend.mark(n)).collect::<Vec<_>>().join(", ")
        );
        let mut read = sqlx::query(&sql);
        for t in &tickets {
            read = read.bind(t.id.as_str());
        }
        let mut rows: HashMap<String, Vec<HistoryRow>> = HashMap::with_capacity(tickets.len());
        for r in read.fetch_all(&self.read).await.map_err(backend_err)? {
            let row =
                HistoryRow { at: r.col("at")?, kind: r.col("kind")?, version: r.col("version")?, body: r.col("body")? };
            rows.entry(r.col("ticket_id")?).or_default().push(row);
        }
        Ok(tickets
            .into_iter()
            .map(|ticket| {
                let rows = rows.remove(ticket.id.as_str()).unwrap_or_default();
                TicketHistory { ticket, rows }
            })
            .collect())
    }

    async fn last_recorded(&self) -> Result<Option<i64>, StoreError> {
        let row =
            sqlx::query("SELECT MAX(at) AS last FROM timeline").fetch_one(&self.read).await.map_err(backend_err)?;
        row.col("last")
    }

    async fn rosters(&self, org: &OrgSlug) -> Result<RosterHistory, StoreError> {
        let sql = "SELECT at, roster FROM roster_history WHERE org = $1 ORDER BY id";
        let rows = self
            .rows(sqlx::query(sql).bind(org.as_str()), |r| Ok((r.col::<i64>("at")?, r.col::<String>("roster")?)))
            .await?;
        // A roster whose schedules no longer compile (written by an older version) is left
        // out, as the store's own roster leaves such a schedule out.
        let recorded = rows
            .into_iter()
            .filter_map(|(at, text)| Some((jiff::Timestamp::from_second(at).ok()?, serde_json::from_str(&text).ok()?)))
            .collect();
        let current = stringer_app::Store::roster(self, org).await?;
        Ok(RosterHistory { recorded, current })
    }
}
