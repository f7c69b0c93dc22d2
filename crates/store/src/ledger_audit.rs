//! The ledger's backfill and the reads of its audit (issue 28; migration 44). The backfill
//! appends the timeline rows written before migration 41, in row order, through the
//! committer's append (`commit::append_existing`); the audit's checks are the application's
//! (`stringer_app::ledger_audit`), over the pages read here.

use crate::ledger::{NewLeaf, STORED_LEVEL, hash_of, node_key};
use crate::rows::RowExt;
use crate::{SqlStore, backend_err, commit};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use stringer_app::StoreError;
use stringer_app::ledger_audit::{AuditLeaf, AuditProgress, Finding, LedgerAudit, SourceRow};
use stringer_ledger::Hash;
use stringer_ledger::head::{PublicKey, SignedHead};
use stringer_ledger::tree::{Frontier, Node};

/// Rows appended per transaction of the backfill.
pub const BACKFILL_BATCH: usize = 10_000;

/// The columns of a source row, read from `timeline t JOIN tickets k`.
const SOURCE_COLUMNS: &str =
    "t.id AS row_id, t.ticket_id, k.org, k.number, t.version, t.at, t.kind, t.actor, t.body AS row_body";

fn source_from(r: &AnyRow) -> Result<SourceRow, StoreError> {
    Ok(SourceRow {
        id: r.col("row_id")?,
        ticket: r.col("ticket_id")?,
        org: r.col("org")?,
        number: r.col("number")?,
        version: r.col("version")?,
        at: r.col("at")?,
        kind: r.col("kind")?,
        actor: r.col("actor")?,
        body: r.col("row_body")?,
    })
}

fn frontier_of(size: i64, bytes: &[u8]) -> Result<Frontier, StoreError> {
    Frontier::from_bytes(size as u64, bytes).map_err(|e| StoreError::Backend(e.to_string()))
}

impl SqlStore {
    /// Appends every timeline row without a leaf (rows written before migration 41), in row
    /// order, [`BACKFILL_BATCH`] rows a transaction, then records that the backfill is done
    /// (from then on a row without a leaf is an audit finding). Idempotent: a second run
    /// finds nothing to append. Answers how many rows it appended.
    pub async fn ledger_backfill(&self) -> Result<u64, StoreError> {
        let mut appended = 0;
        loop {
            let rows = self
                .rows(
                    sqlx::query(&format!(
                        "SELECT {SOURCE_COLUMNS} FROM timeline t JOIN tickets k ON k.id = t.ticket_id \
                         WHERE t.leaf IS NULL ORDER BY t.id LIMIT $1"
                    ))
                    .bind(BACKFILL_BATCH as i64),
                    source_from,
                )
                .await?;
            if rows.is_empty() {
                break;
            }
            // Hashed before the transaction, as a change's leaves are.
            let leaves = rows
                .iter()
                .map(|row| Ok((row.id, NewLeaf::timeline(&row.entry(&row.body()?))?)))
                .collect::<Result<Vec<_>, stringer_ledger::encode::EncodeError>>()
                .map_err(|e| StoreError::Backend(format!("timeline row is not a ledger entry: {e}")))?;
            // Another backfill (a second instance) appended some meanwhile: read again.
            if commit::append_existing(&self.write, &leaves).await.map_err(backend_err)? {
                appended += leaves.len() as u64;
            }
        }
        sqlx::query("UPDATE ledger_audit SET backfilled = 1 WHERE id = 1")
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(appended)
    }
}

#[async_trait]
impl LedgerAudit for SqlStore {
    async fn ledger_frontier(&self) -> Result<Frontier, StoreError> {
        self.row(sqlx::query("SELECT size, frontier FROM ledger_state WHERE id = 1"), |r| {
            frontier_of(r.col("size")?, &r.col::<Vec<u8>>("frontier")?)
        })
        .await?
        .ok_or_else(|| StoreError::Backend("the ledger has no state row".into()))
    }

    async fn audit_leaves(&self, from: u64, limit: u64) -> Result<Vec<AuditLeaf>, StoreError> {
        let sql = format!(
            "SELECT l.idx, l.hash, l.secret, l.source, l.source_id, {SOURCE_COLUMNS} FROM ledger_leaves l \
             LEFT JOIN timeline t ON t.leaf = l.idx LEFT JOIN tickets k ON k.id = t.ticket_id \
             WHERE l.idx >= $1 ORDER BY l.idx LIMIT $2"
        );
        let query = sqlx::query(&sql).bind(from as i64).bind(limit as i64);
        self.rows(query, |r| {
            let row = match r.col::<Option<i64>>("row_id")? {
                Some(_) => Some(source_from(r)?),
                None => None,
            };
            Ok(AuditLeaf {
                index: r.col::<i64>("idx")? as u64,
                hash: hash_of(r.col("hash")?)?,
                secret: hash_of(r.col("secret")?)?,
                source: r.col("source")?,
                source_id: r.col("source_id")?,
                row,
            })
        })
        .await
    }

    fn stored_level(&self) -> u8 {
        STORED_LEVEL
    }

    async fn stored_nodes(&self, level: u8, from: u64, to: u64) -> Result<Vec<(u64, Hash)>, StoreError> {
        let query = sqlx::query("SELECT id, hash FROM ledger_nodes WHERE id >= $1 AND id < $2 ORDER BY id")
            .bind(node_key(Node { level, index: from }))
            .bind(node_key(Node { level, index: to }));
        self.rows(query, |r| Ok((r.col::<i64>("id")? as u64 & ((1 << 56) - 1), hash_of(r.col("hash")?)?))).await
    }

    async fn backfilled(&self) -> Result<bool, StoreError> {
        Ok(self
            .row(sqlx::query("SELECT backfilled FROM ledger_audit WHERE id = 1"), |r| r.flag("backfilled"))
            .await?
            .unwrap_or(false))
    }

    async fn unappended_row(&self) -> Result<Option<SourceRow>, StoreError> {
        let query = format!(
            "SELECT {SOURCE_COLUMNS} FROM timeline t JOIN tickets k ON k.id = t.ticket_id \
             WHERE t.leaf IS NULL ORDER BY t.id LIMIT 1"
        );
        self.row(sqlx::query(&query), source_from).await
    }

    async fn row_beyond(&self, size: u64) -> Result<Option<(SourceRow, u64)>, StoreError> {
        let query = format!(
            "SELECT {SOURCE_COLUMNS}, t.leaf FROM timeline t JOIN tickets k ON k.id = t.ticket_id \
             WHERE t.leaf >= $1 ORDER BY t.leaf LIMIT 1"
        );
        self.row(sqlx::query(&query).bind(size as i64), |r| Ok((source_from(r)?, r.col::<i64>("leaf")? as u64))).await
    }

    async fn signed_heads(&self, _from: u64, _to: u64) -> Result<Vec<SignedHead>, StoreError> {
        // Signed heads come with migration 42; until then there are none to check.
        Ok(Vec::new())
    }

    async fn signing_key(&self) -> Result<Option<PublicKey>, StoreError> {
        // The log's key comes with migration 42.
        Ok(None)
    }

    async fn audit_progress(&self) -> Result<AuditProgress, StoreError> {
        self.row(
            sqlx::query(
                "SELECT audited_size, frontier, rolling_from, finding, finding_leaf FROM ledger_audit WHERE id = 1",
            ),
            |r| {
                let leaf = r.col::<Option<i64>>("finding_leaf")?.map(|l| l as u64);
                let finding = r.col::<Option<String>>("finding")?.map(|message| Finding { leaf, message });
                Ok(AuditProgress {
                    frontier: frontier_of(r.col("audited_size")?, &r.col::<Vec<u8>>("frontier")?)?,
                    rolling_from: r.col::<i64>("rolling_from")? as u64,
                    finding,
                })
            },
        )
        .await?
        .ok_or_else(|| StoreError::Backend("the ledger audit has no state row".into()))
    }

    async fn save_audit_progress(&self, was: u64, progress: &AuditProgress, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE ledger_audit SET audited_size = $1, frontier = $2, rolling_from = $3 \
             WHERE id = 1 AND audited_size = $4",
        )
        .bind(progress.frontier.size() as i64)
        .bind(progress.frontier.to_bytes())
        .bind(progress.rolling_from as i64)
        .bind(was as i64)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        if let Some(finding) = &progress.finding {
            sqlx::query(
                "UPDATE ledger_audit SET finding = $1, finding_leaf = $2, found_at = $3 WHERE id = 1 AND finding IS NULL",
            )
            .bind(finding.message.clone())
            .bind(finding.leaf.map(|l| l as i64))
            .bind(now)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        }
        Ok(())
    }
}
