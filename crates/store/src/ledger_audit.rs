//! The ledger's backfill and the reads of its audit (issue 28; migration 44). The backfill
//! appends the timeline rows written before migration 41, in row order, through the
//! committer's append (`commit::append_existing`); the audit's checks are the application's
//! (`stringer_app::ledger_audit`), over the pages read here.

use crate::ledger::{NewLeaf, STORED_LEVEL, hash_of, nodes_of};
use crate::rows::RowExt;
use crate::{SqlStore, backend_err, commit};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use stringer_app::StoreError;
use stringer_app::ledger::LogKey;
use stringer_app::ledger_audit::{AuditLeaf, AuditProgress, Finding, LedgerAudit, RowCensus, SourceRow};
use stringer_ledger::Hash;
use stringer_ledger::head::SignedHead;
use stringer_ledger::tree::{Frontier, Node};

/// Rows appended per transaction of the backfill.
pub const BACKFILL_BATCH: usize = 10_000;

/// The columns of a source row, read from `timeline t JOIN tickets k`.
const SOURCE_COLUMNS: &str = "t.id AS row_id, t.ticket_id, k.org, k.number, t.version, t.at, t.kind, t.actor, t.body AS row_body, t.leaf AS row_leaf";

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
        leaf: r.col::<Option<i64>>("row_leaf")?.map(|l| l as u64),
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
        appended += self.ledger_backfill_sources().await?;
        sqlx::query("UPDATE ledger_audit SET backfilled = 1 WHERE id = 1")
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(appended)
    }
}

/// Leaves packed into one SQL row by the audit's read: sending each leaf as a row of its own
/// cost more than hashing it.
const RUN: u64 = 256;
/// Runs read by one statement, at most.
const RUNS_PER_STATEMENT: usize = 64;
/// Separates the leaves of a run. A stored body is JSON text, which
/// holds neither raw; one that does (tampered) makes its run read row by row.
const RECORD: char = '\u{1e}';
/// Separates the fields of a leaf in a run.
const FIELD: char = '\u{1f}';

impl SqlStore {
    /// The leaves with index in `[from, to)`, each with the row it names, packed in runs of
    /// [`RUN`] (by index): (first index, leaves, the run's records).
    async fn packed_leaves(&self, from: u64, to: u64) -> Result<Vec<(u64, u64, String)>, StoreError> {
        let (hex, chr) = match self.backend {
            crate::Backend::Sqlite => ("hex", "char"),
            crate::Backend::Postgres => ("encode", "chr"),
        };
        let blob = |col: &str| match self.backend {
            crate::Backend::Sqlite => format!("{hex}({col})"),
            crate::Backend::Postgres => format!("{hex}({col}, 'hex')"),
        };
        let text = |col: &str| format!("COALESCE(CAST({col} AS TEXT), '')");
        let fields = [
            "CAST(l.idx AS TEXT)".to_string(),
            blob("l.hash"),
            blob("l.secret"),
            "l.source".into(),
            "CAST(l.source_id AS TEXT)".into(),
            text("t.id"),
            text("t.ticket_id"),
            text("k.org"),
            text("k.number"),
            text("t.version"),
            text("t.at"),
            text("t.kind"),
            text("t.leaf"),
            "COALESCE('+' || t.actor, '-')".into(),
            text("t.body"),
        ];
        let record = fields.join(&format!(" || {chr}(31) || "));
        // One aggregate per run, in one statement: grouping by run would sort every row first.
        // The records' order is not asked for (a sort too); `unpack` checks it.
        let runs: Vec<(u64, u64)> =
            (from / RUN..to.div_ceil(RUN)).map(|run| ((run * RUN).max(from), ((run + 1) * RUN).min(to))).collect();
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let one = |n: usize| {
            format!(
                "SELECT MIN(l.idx) AS first, COUNT(*) AS n, string_agg({record}, {chr}(30)) AS packed \
                 FROM ledger_leaves l LEFT JOIN timeline t ON t.id = l.source_id AND l.source = 'timeline' LEFT JOIN tickets k ON k.id = t.ticket_id \
                 WHERE l.idx >= ${} AND l.idx < ${}",
                2 * n + 1,
                2 * n + 2
            )
        };
        let mut packed: Vec<(u64, u64, String)> = Vec::with_capacity(runs.len());
        for runs in runs.chunks(RUNS_PER_STATEMENT) {
            let sql = (0..runs.len()).map(one).collect::<Vec<_>>().join(" UNION ALL ");
            let mut query = sqlx::query(&sql);
            for (a, b) in runs {
                query = query.bind(*a as i64).bind((*b).min(i64::MAX as u64) as i64);
            }
            let read = self
                .rows(query, |r| {
                    Ok(match r.col::<Option<i64>>("first")? {
                        Some(first) => Some((first as u64, r.col::<i64>("n")? as u64, r.col("packed")?)),
                        None => None,
                    })
                })
                .await?;
            packed.extend(read.into_iter().flatten());
        }
        packed.sort_by_key(|(first, _, _)| *first);
        Ok(packed)
    }

    /// Up to `limit` leaves from index `from` on (below `to`), each with the row it
    /// names, a row each.
    async fn leaf_rows(&self, from: u64, to: u64, limit: u64) -> Result<Vec<AuditLeaf>, StoreError> {
        let sql = format!(
            "SELECT l.idx, l.hash, l.secret, l.source, l.source_id, {SOURCE_COLUMNS} FROM ledger_leaves l \
             LEFT JOIN timeline t ON t.id = l.source_id AND l.source = 'timeline' LEFT JOIN tickets k ON k.id = t.ticket_id \
             WHERE l.idx >= $1 AND l.idx < $2 ORDER BY l.idx LIMIT $3"
        );
        let query = sqlx::query(&sql)
            .bind(from as i64)
            .bind(to.min(i64::MAX as u64) as i64)
            .bind(limit.min(i64::MAX as u64) as i64);
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
                other: None,
            })
        })
        .await
    }
}

/// A run's leaves read back from its records, or `None` when it does not read cleanly (then
/// it is read row by row).
fn unpack(packed: &str, count: u64) -> Option<Vec<AuditLeaf>> {
    let mut leaves = Vec::with_capacity(count as usize);
    for record in packed.split(RECORD) {
        let f: Vec<&str> = record.splitn(15, FIELD).collect();
        let [idx, hash, secret, source, source_id, id, ticket, org, number, version, at, kind, leaf, actor, body] =
            f[..]
        else {
            return None;
        };
        let index: u64 = idx.parse().ok()?;
        if leaves.last().is_some_and(|l: &AuditLeaf| l.index >= index) {
            return None;
        }
        let row = match id {
            "" => None,
            id => Some(SourceRow {
                id: id.parse().ok()?,
                ticket: ticket.into(),
                org: org.into(),
                number: number.parse().ok()?,
                version: match version {
                    "" => None,
                    v => Some(v.parse().ok()?),
                },
                at: at.parse().ok()?,
                kind: kind.into(),
                actor: match actor.strip_prefix('+') {
                    Some(a) => Some(a.into()),
                    None if actor == "-" => None,
                    None => return None,
                },
                body: body.into(),
                leaf: match leaf {
                    "" => None,
                    l => Some(l.parse().ok()?),
                },
            }),
        };
        leaves.push(AuditLeaf {
            index,
            hash: hex32(hash)?,
            secret: hex32(secret)?,
            source: source.into(),
            source_id: source_id.parse().ok()?,
            row,
            other: None,
        });
    }
    (leaves.len() as u64 == count).then_some(leaves)
}

/// 32 bytes from 64 hex digits (either case).
fn hex32(text: &str) -> Option<[u8; 32]> {
    let digits = text.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = [0; 32];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
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
        // The leaves of [from, from + limit), read as runs of one SQL row each (see
        // `packed_leaves`); a run that does not read back cleanly (a body holding a separator)
        // is read again row by row.
        let end = from.saturating_add(limit);
        let mut leaves = Vec::with_capacity(limit.min(1 << 20) as usize);
        for (first, count, packed) in self.packed_leaves(from, end).await? {
            match unpack(&packed, count) {
                Some(run) => leaves.extend(run),
                None => {
                    let run_end = (first / RUN + 1).saturating_mul(RUN).min(end);
                    leaves.extend(self.leaf_rows(first, run_end, u64::MAX).await?);
                }
            }
        }
        // Where leaves are missing, the next ones after the range, as many as are short.
        if (leaves.len() as u64) < limit {
            leaves.extend(self.leaf_rows(end, u64::MAX, limit - leaves.len() as u64).await?);
        }
        leaves.truncate(limit.min(usize::MAX as u64) as usize);
        self.attach_other_sources(&mut leaves).await?;
        Ok(leaves)
    }

    fn stored_level(&self) -> u8 {
        STORED_LEVEL
    }

    async fn stored_nodes(&self, from: u64, to: u64) -> Result<Vec<(Node, Hash)>, StoreError> {
        let query =
            sqlx::query("SELECT idx, nodes FROM ledger_leaves WHERE idx >= $1 AND idx < $2 AND nodes IS NOT NULL")
                .bind(from.min(i64::MAX as u64) as i64)
                .bind(to.min(i64::MAX as u64) as i64);
        let rows = self.rows(query, |r| Ok((r.col::<i64>("idx")?, r.col::<Vec<u8>>("nodes")?))).await?;
        Ok(rows.iter().flat_map(|(idx, nodes)| nodes_of(*idx, nodes)).collect())
    }

    async fn backfilled(&self) -> Result<bool, StoreError> {
        Ok(self
            .row(sqlx::query("SELECT backfilled FROM ledger_audit WHERE id = 1"), |r| r.flag("backfilled"))
            .await?
            .unwrap_or(false))
    }

    async fn row_census(&self, below: u64, beyond: u64) -> Result<RowCensus, StoreError> {
        // One pass over the rows (`leaf` is not indexed, see migration 41).
        let query = sqlx::query(
            "SELECT COUNT(CASE WHEN leaf < $1 THEN 1 END) AS claiming, \
             MIN(CASE WHEN leaf IS NULL THEN id END) AS unappended, \
             MIN(CASE WHEN leaf >= $2 THEN id END) AS beyond FROM timeline",
        )
        .bind(below.min(i64::MAX as u64) as i64)
        .bind(beyond.min(i64::MAX as u64) as i64);
        Ok(self
            .row(query, |r| {
                Ok(RowCensus {
                    claiming: r.col::<i64>("claiming")? as u64,
                    unappended: r.col("unappended")?,
                    beyond: r.col("beyond")?,
                })
            })
            .await?
            .unwrap_or_default())
    }

    async fn unappended_other(&self) -> Result<Option<String>, StoreError> {
        self.unappended_other_source().await
    }

    async fn source_row(&self, id: i64) -> Result<Option<SourceRow>, StoreError> {
        let query =
            format!("SELECT {SOURCE_COLUMNS} FROM timeline t JOIN tickets k ON k.id = t.ticket_id WHERE t.id = $1");
        self.row(sqlx::query(&query).bind(id), source_from).await
    }

    async fn row_claiming_another(&self, below: u64) -> Result<Option<SourceRow>, StoreError> {
        let query = format!(
            "SELECT {SOURCE_COLUMNS} FROM timeline t JOIN tickets k ON k.id = t.ticket_id \
             LEFT JOIN ledger_leaves l ON l.idx = t.leaf \
             WHERE t.leaf < $1 AND (l.idx IS NULL OR l.source <> 'timeline' OR l.source_id <> t.id) \
             ORDER BY t.id LIMIT 1"
        );
        self.row(sqlx::query(&query).bind(below.min(i64::MAX as u64) as i64), source_from).await
    }

    async fn signed_heads(&self, from: u64, to: u64) -> Result<Vec<SignedHead>, StoreError> {
        let sql =
            format!("{} WHERE h.tree_size > $1 AND h.tree_size <= $2 ORDER BY h.tree_size", crate::ledger_book::HEAD);
        let to = to.min(i64::MAX as u64) as i64;
        self.rows(sqlx::query(&sql).bind(from.min(i64::MAX as u64) as i64).bind(to), crate::ledger_book::head_from)
            .await
    }

    async fn log_keys(&self) -> Result<Vec<LogKey>, StoreError> {
        stringer_app::ledger::LedgerBook::log_keys(self).await
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
