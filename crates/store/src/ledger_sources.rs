//! The ledger's other sources (issue 28, docs/ledger.md §1; migration 43): a status-page
//! update, a report's publication and a quarterly review's figure set are each appended as a
//! leaf in the transaction that writes it, as its last statements, through the committer's one
//! append (`commit::reserve_leaves` takes the `ledger_state` lock, `commit::write_leaves`
//! writes the leaf, its subtrees and the frontier). The entry's fields come from the rows as
//! stored, read back inside the transaction through the same mapping the audit recomputes
//! them with (`stringer_app::ledger_sources::OtherRow`). Also here: the audit's read of those
//! rows for their leaves, and the backfill of rows written before migration 43.

use crate::ledger::NewLeaf;
use crate::rows::RowExt;
use crate::{SqlStore, backend_err, commit};
use serde_json::Value;
use sqlx::Any;
use sqlx::any::AnyRow;
use std::collections::HashMap;
use stringer_app::StoreError;
use stringer_app::ledger_audit::AuditLeaf;
use stringer_app::ledger_sources::{FiguresRow, OtherRow, PublicationRow, REPORT, REVIEW, STATUS_UPDATE, StatusRow};
use stringer_app::postmortem::stored_report_texts;
use stringer_core::ids::{OrgSlug, TicketKey};
use stringer_ledger::encode::{Secret, canonical_json};

/// A status update with its page and org (`u`, `i`, `p`).
const STATUS_SELECT: &str = "SELECT u.id AS update_id, u.incident_id, i.page_id, p.org, u.status, u.body, \
     u.affected, u.created_at, u.leaf FROM status_updates u JOIN status_incidents i ON i.id = u.incident_id \
     JOIN status_pages p ON p.id = i.page_id";

/// A report publication with its ticket and its text (`r`, `k`, `v`).
const REPORT_SELECT: &str = "SELECT r.id, r.ticket_id, k.org, k.number, r.text_version, r.at, \
     COALESCE(v.sections, '') AS sections, COALESCE(v.timeline, '') AS timeline, r.leaf \
     FROM report_publications r JOIN tickets k ON k.id = r.ticket_id \
     LEFT JOIN report_versions v ON v.ticket_id = r.ticket_id AND v.version = r.text_version";

/// A review's frozen figures.
const REVIEW_SELECT: &str = "SELECT id, org, quarter, at, figures, leaf FROM review_figures";

fn status_from(r: &AnyRow) -> Result<StatusRow, StoreError> {
    Ok(StatusRow {
        update: r.col("update_id")?,
        incident: r.col("incident_id")?,
        page: r.col("page_id")?,
        org: r.col("org")?,
        status: r.col("status")?,
        body: r.col("body")?,
        affected: r.col("affected")?,
        at: r.col("created_at")?,
    })
}

fn publication_from(r: &AnyRow) -> Result<PublicationRow, StoreError> {
    Ok(PublicationRow {
        id: r.col("id")?,
        ticket: r.col("ticket_id")?,
        org: r.col("org")?,
        number: r.col("number")?,
        text_version: r.col("text_version")?,
        at: r.col("at")?,
        texts: stored_report_texts(&r.col::<String>("sections")?, &r.col::<String>("timeline")?),
    })
}

fn figures_from(r: &AnyRow) -> Result<FiguresRow, StoreError> {
    Ok(FiguresRow {
        id: r.col("id")?,
        org: r.col("org")?,
        quarter: r.col("quarter")?,
        at: r.col("at")?,
        figures: r.col("figures")?,
    })
}

/// A row's leaf under a fresh random secret; refused (as the whole write) for a value the
/// ledger cannot encode.
fn new_leaf(row: &OtherRow) -> Result<NewLeaf, StoreError> {
    let secret: Secret = rand::random();
    let hash = row.leaf_hash(&secret).map_err(|e| StoreError::Backend(format!("not a ledger entry: {e}")))?;
    Ok(NewLeaf { hash, secret })
}

type Tx<'a, 'c> = &'a mut sqlx::Transaction<'c, Any>;

/// Appends the leaf of the status update `update`, written earlier in `tx`: last, after the
/// transaction's other locks.
pub(crate) async fn append_status_update(tx: Tx<'_, '_>, update: &str) -> Result<(), StoreError> {
    let sql = format!("{STATUS_SELECT} WHERE u.id = $1");
    let row = sqlx::query(&sql).bind(update).fetch_one(&mut **tx).await.map_err(backend_err)?;
    let leaf = new_leaf(&OtherRow::Status(status_from(&row)?))?;
    let growth = commit::reserve_leaves(tx, &[leaf.hash]).await.map_err(backend_err)?;
    let index = growth.first;
    let claimed = sqlx::query("UPDATE status_updates SET leaf = $1 WHERE id = $2 AND leaf IS NULL")
        .bind(index)
        .bind(update)
        .execute(&mut **tx)
        .await
        .map_err(backend_err)?;
    if claimed.rows_affected() != 1 {
        return Err(StoreError::Backend(format!("status update {update} is in the ledger already")));
    }
    commit::write_leaves(tx, &growth, STATUS_UPDATE, &[(&leaf, index)]).await.map_err(backend_err)
}

/// Appends the publication of `ticket`'s report text `text_version` at `at` (the version is
/// written already, in `tx` or before): a `report_publications` row and its leaf, last.
pub(crate) async fn append_publication(
    tx: Tx<'_, '_>,
    ticket: &str,
    text_version: i64,
    at: i64,
) -> Result<(), StoreError> {
    let text = sqlx::query(
        "SELECT k.org, k.number, v.sections, v.timeline FROM tickets k \
         JOIN report_versions v ON v.ticket_id = k.id AND v.version = $2 WHERE k.id = $1",
    )
    .bind(ticket)
    .bind(text_version)
    .fetch_one(&mut **tx)
    .await
    .map_err(backend_err)?;
    let mut publication = PublicationRow {
        id: 0,
        ticket: ticket.to_owned(),
        org: text.col("org")?,
        number: text.col("number")?,
        text_version,
        at,
        texts: stored_report_texts(&text.col::<String>("sections")?, &text.col::<String>("timeline")?),
    };
    let leaf = new_leaf(&OtherRow::Report(publication.clone()))?;
    let growth = commit::reserve_leaves(tx, &[leaf.hash]).await.map_err(backend_err)?;
    let index = growth.first;
    publication.id = sqlx::query_scalar(
        "INSERT INTO report_publications (ticket_id, text_version, at, leaf) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(ticket)
    .bind(text_version)
    .bind(at)
    .bind(index)
    .fetch_one(&mut **tx)
    .await
    .map_err(backend_err)?;
    commit::write_leaves(tx, &growth, REPORT, &[(&leaf, publication.id)]).await.map_err(backend_err)
}

/// Freezes `org`'s review figures of `quarter` at `at` (integers only: a float is refused)
/// and appends their leaf, last in `tx`.
pub(crate) async fn append_figures(
    tx: Tx<'_, '_>,
    org: &str,
    quarter: &str,
    at: i64,
    figures: &Value,
) -> Result<(), StoreError> {
    let text = canonical_json(figures).map_err(|e| StoreError::Backend(format!("review figures: {e}")))?;
    let text = String::from_utf8(text).map_err(|e| StoreError::Backend(e.to_string()))?;
    let row = FiguresRow { id: 0, org: org.to_owned(), quarter: quarter.to_owned(), at, figures: text.clone() };
    let leaf = new_leaf(&OtherRow::Review(row))?;
    let growth = commit::reserve_leaves(tx, &[leaf.hash]).await.map_err(backend_err)?;
    let index = growth.first;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO review_figures (org, quarter, at, figures, leaf) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(org)
    .bind(quarter)
    .bind(at)
    .bind(&text)
    .bind(index)
    .fetch_one(&mut **tx)
    .await
    .map_err(backend_err)?;
    commit::write_leaves(tx, &growth, REVIEW, &[(&leaf, id)]).await.map_err(backend_err)
}

impl SqlStore {
    /// Gives each leaf of another source than the timeline the row that claims it (the row
    /// whose `leaf` is its index), for the audit's check.
    pub(crate) async fn attach_other_sources(&self, leaves: &mut [AuditLeaf]) -> Result<(), StoreError> {
        let others: Vec<u64> =
            leaves.iter().filter(|l| l.source != stringer_app::ledger_audit::TIMELINE).map(|l| l.index).collect();
        let (Some(first), Some(last)) = (others.first(), others.last()) else { return Ok(()) };
        let (from, to) = (*first as i64, *last as i64);
        let mut rows: HashMap<i64, OtherRow> = HashMap::new();
        let range = "leaf >= $1 AND leaf <= $2";
        let status = format!("{STATUS_SELECT} WHERE u.{range}");
        let leaf = |r: &AnyRow| r.col::<i64>("leaf");
        for (l, row) in self
            .rows(sqlx::query(&status).bind(from).bind(to), |r| Ok((leaf(r)?, OtherRow::Status(status_from(r)?))))
            .await?
        {
            rows.insert(l, row);
        }
        let report = format!("{REPORT_SELECT} WHERE r.{range}");
        for (l, row) in self
            .rows(sqlx::query(&report).bind(from).bind(to), |r| Ok((leaf(r)?, OtherRow::Report(publication_from(r)?))))
            .await?
        {
            rows.insert(l, row);
        }
        let review = format!("{REVIEW_SELECT} WHERE {range}");
        for (l, row) in self
            .rows(sqlx::query(&review).bind(from).bind(to), |r| Ok((leaf(r)?, OtherRow::Review(figures_from(r)?))))
            .await?
        {
            rows.insert(l, row);
        }
        for leaf in leaves.iter_mut() {
            leaf.other = rows.remove(&(leaf.index as i64));
        }
        Ok(())
    }

    /// A ticket's report publications in leaf order, each with its leaf's index and secret
    /// (for its bundle).
    pub(crate) async fn publication_leaves(
        &self,
        ticket: &str,
    ) -> Result<Vec<(PublicationRow, u64, Secret)>, StoreError> {
        let sql =
            format!("{REPORT_SELECT} JOIN ledger_leaves l ON l.idx = r.leaf WHERE r.ticket_id = $1 ORDER BY r.leaf");
        let sql = sql.replace(", r.leaf FROM", ", r.leaf, l.secret FROM");
        self.rows(sqlx::query(&sql).bind(ticket), |r| {
            Ok((publication_from(r)?, r.col::<i64>("leaf")? as u64, crate::ledger::hash_of(r.col("secret")?)?))
        })
        .await
    }

    /// An org's frozen review figures of a quarter, with their leaf's index and secret (for
    /// the review's bundle).
    pub(crate) async fn figures_leaf(
        &self,
        org: &str,
        quarter: &str,
    ) -> Result<Option<(FiguresRow, u64, Secret)>, StoreError> {
        let sql = "SELECT f.id, f.org, f.quarter, f.at, f.figures, f.leaf, l.secret FROM review_figures f \
                   JOIN ledger_leaves l ON l.idx = f.leaf WHERE f.org = $1 AND f.quarter = $2";
        self.row(sqlx::query(sql).bind(org).bind(quarter), |r| {
            Ok((figures_from(r)?, r.col::<i64>("leaf")? as u64, crate::ledger::hash_of(r.col("secret")?)?))
        })
        .await
    }

    /// The first status update without a leaf, or published report without a publication,
    /// named as its event reads (for the audit, once the backfill is done).
    pub(crate) async fn unappended_other_source(&self) -> Result<Option<String>, StoreError> {
        let status = format!("{STATUS_SELECT} WHERE u.leaf IS NULL ORDER BY u.created_at, u.id LIMIT 1");
        if let Some(row) = self.row(sqlx::query(&status), status_from).await? {
            return Ok(Some(OtherRow::Status(row).event()));
        }
        let report = sqlx::query(
            "SELECT k.org, k.number, r.published_at FROM reports r JOIN tickets k ON k.id = r.ticket_id \
             WHERE r.state = 'published' AND r.text_version > 0 AND r.published_at IS NOT NULL AND NOT EXISTS \
             (SELECT 1 FROM report_publications p WHERE p.ticket_id = r.ticket_id) ORDER BY r.published_at LIMIT 1",
        );
        self.row(report, |r| {
            let key = TicketKey { org: OrgSlug::from(r.col::<String>("org")?.as_str()), number: r.col("number")? };
            let at = r.col::<Option<i64>>("published_at")?.unwrap_or_default();
            let at = jiff::Timestamp::from_second(at).map_or_else(|_| format!("{at}s"), |t| t.to_string());
            Ok(format!("report {key} published at {at}"))
        })
        .await
    }

    /// Appends the status updates and report publications written before migration 43: each
    /// update without a leaf (by instant, then id), and each published report without a
    /// publication (its current text at its publication's instant), one transaction each,
    /// as their writes now do. Review rounds written before it had no figures kept, so they
    /// have none to append. Idempotent; answers how many it appended.
    pub async fn ledger_backfill_sources(&self) -> Result<u64, StoreError> {
        let mut appended = 0;
        let updates: Vec<String> = self
            .rows(sqlx::query("SELECT id FROM status_updates WHERE leaf IS NULL ORDER BY created_at, id"), |r| {
                r.col("id")
            })
            .await?;
        for update in updates {
            let mut tx = self.write.begin().await.map_err(backend_err)?;
            // Taken by a second instance's backfill meanwhile: leave it.
            let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM status_updates WHERE id = $1 AND leaf IS NULL")
                .bind(&update)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend_err)?;
            if open > 0 {
                append_status_update(&mut tx, &update).await?;
                tx.commit().await.map_err(backend_err)?;
                appended += 1;
            }
        }
        let reports: Vec<(String, i64, i64)> = self
            .rows(
                sqlx::query(
                    "SELECT ticket_id, text_version, published_at FROM reports r WHERE state = 'published' \
                     AND text_version > 0 AND published_at IS NOT NULL \
                     AND NOT EXISTS (SELECT 1 FROM report_publications p WHERE p.ticket_id = r.ticket_id) \
                     ORDER BY published_at, ticket_id",
                ),
                |r| Ok((r.col("ticket_id")?, r.col("text_version")?, r.col("published_at")?)),
            )
            .await?;
        for (ticket, version, at) in reports {
            let mut tx = self.write.begin().await.map_err(backend_err)?;
            let done: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM report_publications WHERE ticket_id = $1")
                .bind(&ticket)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend_err)?;
            if done == 0 {
                append_publication(&mut tx, &ticket, version, at).await?;
                tx.commit().await.map_err(backend_err)?;
                appended += 1;
            }
        }
        Ok(appended)
    }
}
