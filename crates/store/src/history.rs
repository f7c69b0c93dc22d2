//! What a replay of history reads — the [`HistoryReads`] port: tickets with their timelines,
//! and the contracts the server ran under ([`ContractHistory`]).

use crate::rows::RowExt;
use crate::tickets::{TICKET_COLUMNS, ticket_from};
use crate::{Backend, SqlStore, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use stringer_app::StoreError;
use stringer_app::history::{ContractHistory, ContractRecord, HistoryReads, HistoryRow, Rows, TicketHistory};
use stringer_core::event::EVENT_KINDS;
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

/// Between two timeline rows in a ticket's aggregated history, and between a row's fields:
/// the ASCII record and unit separators, which JSON never holds unescaped.
const ROW_END: char = '\u{1e}';
const FIELD_END: char = '\u{1f}';

/// A ticket's timeline rows aggregated into one text (see [`ROW_END`]), in the order
/// written, only the events when `rows` says so: one row of the result per ticket, where a
/// row per timeline row cost the read most of its time.
fn aggregated(backend: Backend, rows: Rows) -> String {
    let kinds = match rows {
        Rows::Events => {
            format!(" AND kind IN ({})", EVENT_KINDS.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", "))
        }
        Rows::All => String::new(),
    };
    let (agg, chr, text) = match backend {
        Backend::Sqlite => ("group_concat", "char", ""),
        Backend::Postgres => ("string_agg", "chr", "::text"),
    };
    let fields =
        format!("at{text} || {chr}(31) || kind || {chr}(31) || COALESCE(version{text}, '') || {chr}(31) || body");
    format!(
        "(SELECT {agg}({fields}, {chr}(30) ORDER BY id) FROM timeline WHERE ticket_id = tickets.id{kinds}) AS history"
    )
}

/// The rows of a ticket's aggregated history (see [`aggregated`]).
fn split_history(id: &str, text: Option<&str>) -> Result<Vec<HistoryRow>, StoreError> {
    let bad = |what: &str| StoreError::Backend(format!("the timeline of ticket {id}: {what}"));
    let Some(text) = text.filter(|t| !t.is_empty()) else { return Ok(Vec::new()) };
    text.split(ROW_END)
        .map(|row| {
            let mut fields = row.splitn(4, FIELD_END);
            let (Some(at), Some(kind), Some(version), Some(body)) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return Err(bad("a row does not read"));
            };
            let version = match version {
                "" => None,
                v => Some(v.parse().map_err(|_| bad("a version does not read"))?),
            };
            let at = at.parse().map_err(|_| bad("an instant does not read"))?;
            Ok(HistoryRow { at, kind: kind.to_string(), version, body: body.to_string() })
        })
        .collect()
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
        rows: Rows,
    ) -> Result<Vec<TicketHistory>, StoreError> {
        let (after_at, after_id) = after.map_or((i64::MIN, String::new()), |(at, id)| (at, id.0));
        let sql = format!(
            "SELECT {TICKET_COLUMNS}, {} FROM tickets WHERE org = $1 AND opened_at >= $2 AND opened_at < $3 \
             AND (opened_at > $4 OR (opened_at = $4 AND id > $5)) ORDER BY opened_at, id LIMIT $6",
            aggregated(self.backend, rows)
        );
        let read = sqlx::query(&sql).bind(org.as_str()).bind(from).bind(until).bind(after_at).bind(after_id);
        self.rows(read.bind(limit), |r| {
            let ticket = ticket_from(r)?;
            let rows = split_history(ticket.id.as_str(), r.col::<Option<String>>("history")?.as_deref())?;
            Ok(TicketHistory { ticket, rows })
        })
        .await
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
