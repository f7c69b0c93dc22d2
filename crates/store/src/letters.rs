//! Letters to an org's people — the [`LetterBox`] port: the review rounds of each quarter (a
//! round and its letters are one transaction, written once) and the letters, quarterly
//! reviews, welcome packets and answers to inquiries alike, claimed with a lease (see
//! `sending`).

use crate::rows::RowExt;
use crate::{SqlStore, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use stringer_app::StoreError;
use stringer_app::keyed::Written;
use stringer_app::letters::{Kind, Letter, LetterBox};
use stringer_core::ids::OrgSlug;

/// The kind column, the quarter column and the inquiry column of a letter.
fn columns(kind: &Kind) -> (&'static str, Option<&str>, Option<&str>) {
    match kind {
        Kind::Packet => ("packet", None, None),
        Kind::Review { quarter, tam: true } => ("review_tam", Some(quarter), None),
        Kind::Review { quarter, tam: false } => ("review", Some(quarter), None),
        Kind::InquiryAnswer { inquiry } => ("inquiry_answer", None, Some(inquiry)),
    }
}

fn letter_from(r: &AnyRow) -> Result<Letter, StoreError> {
    let kind: String = r.col("kind")?;
    let quarter: Option<String> = r.col("quarter")?;
    let inquiry: Option<String> = r.col("inquiry")?;
    let kind = match (kind.as_str(), quarter, inquiry) {
        ("packet", _, _) => Kind::Packet,
        ("review", Some(quarter), _) => Kind::Review { quarter, tam: false },
        ("review_tam", Some(quarter), _) => Kind::Review { quarter, tam: true },
        ("inquiry_answer", _, Some(inquiry)) => Kind::InquiryAnswer { inquiry },
        (other, _, _) => return Err(StoreError::Backend(format!("bad letter kind {other:?}"))),
    };
    let org: Option<String> = r.col("org")?;
    Ok(Letter { id: r.col("id")?, org: org.map(OrgSlug), kind, to: r.col("recipient")?, attempts: r.col("attempts")? })
}

/// Writes letters to send from `at` in the transaction `tx` (one whose id is written already
/// is left as it is).
pub(crate) async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    letters: &[Letter],
    at: i64,
) -> Result<(), StoreError> {
    for l in letters {
        let (kind, quarter, inquiry) = columns(&l.kind);
        sqlx::query(
            "INSERT INTO org_letters (id, org, kind, quarter, recipient, created_at, attempts, next_attempt_at, inquiry) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&l.id)
        .bind(l.org.as_ref().map(OrgSlug::as_str))
        .bind(kind)
        .bind(quarter)
        .bind(&l.to)
        .bind(at)
        .bind(inquiry)
        .execute(&mut **tx)
        .await
        .map_err(backend_err)?;
    }
    Ok(())
}

#[async_trait]
impl LetterBox for SqlStore {
    async fn review_rounds(&self, quarter: &str) -> Result<Vec<OrgSlug>, StoreError> {
        let sql = "SELECT org FROM review_rounds WHERE quarter = $1";
        self.rows(sqlx::query(sql).bind(quarter), |r| Ok(OrgSlug(r.col("org")?))).await
    }

    async fn write_round(
        &self,
        org: &OrgSlug,
        quarter: &str,
        letters: &[Letter],
        figures: &serde_json::Value,
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
        insert(&mut tx, letters, at).await?;
        // Last: the frozen figures and their leaf, under the ledger's lock.
        crate::ledger_sources::append_figures(&mut tx, org.as_str(), quarter, at, figures).await?;
        tx.commit().await.map_err(backend_err)?;
        Ok(true)
    }

    async fn post(&self, letters: &[Letter], at: i64) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        if let Some(first) = letters.first() {
            let to = first.org.as_ref().map_or(first.id.as_str(), OrgSlug::as_str);
            self.mark_key(&mut tx, Written::done("letters", to, 200)).await?;
        }
        insert(&mut tx, letters, at).await?;
        tx.commit().await.map_err(backend_err)
    }
}

impl SqlStore {
    /// Claims the letters due at `now` until `lease_until` (see [`stringer_app::outbox::Sendings`]).
    pub(crate) async fn claim_letters(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<Letter>, StoreError> {
        let rows = self
            .claim_due("org_letters", "id, org, kind, quarter, recipient, attempts, inquiry", now, lease_until, limit)
            .await?;
        rows.iter().map(letter_from).collect()
    }
}
