//! The ledger's keys and signed heads (migration 42), and the reads a ticket's proof needs:
//! the [`LedgerBook`] port over the tables `ledger.rs` appends to.

use crate::SqlStore;
use crate::backend_err;
use crate::ledger::hash_of;
use crate::rows::RowExt;
use async_trait::async_trait;
use sqlx::any::AnyRow;
use std::collections::HashMap;
use stringer_app::StoreError;
use stringer_app::ledger::{LeafRow, LedgerBook, LogKey, LogState};
use stringer_core::ids::TicketId;
use stringer_ledger::Hash;
use stringer_ledger::head::{PublicKey, Rotation, SignedHead, TreeHead};
use stringer_ledger::tree::Node;

/// The columns of a stored head, with the log's id beside them.
pub(crate) const HEAD: &str = "SELECT h.tree_size, h.root_hash, h.signed_at, h.key_id, h.signature, s.log_id \
                    FROM ledger_heads h CROSS JOIN ledger_state s";

fn signature_of(bytes: Vec<u8>) -> Result<[u8; 64], StoreError> {
    bytes.try_into().map_err(|b: Vec<u8>| StoreError::Backend(format!("a stored signature of {} bytes", b.len())))
}

pub(crate) fn head_from(r: &AnyRow) -> Result<SignedHead, StoreError> {
    let head = TreeHead {
        log_id: hash_of(r.col("log_id")?)?,
        tree_size: r.col::<i64>("tree_size")? as u64,
        root_hash: hash_of(r.col("root_hash")?)?,
        timestamp: r.col::<i64>("signed_at")? as u64,
    };
    Ok(SignedHead { head, key_id: hash_of(r.col("key_id")?)?, signature: signature_of(r.col("signature")?)? })
}

#[async_trait]
impl LedgerBook for SqlStore {
    async fn log_state(&self) -> Result<LogState, StoreError> {
        let (size, root) = self.ledger_head().await?;
        Ok(LogState { log_id: self.ledger_log_id().await?, size, root })
    }

    async fn subtrees(&self, nodes: &[Node]) -> Result<HashMap<Node, Hash>, StoreError> {
        self.ledger_nodes(nodes).await
    }

    async fn ticket_leaves(&self, ticket: &TicketId) -> Result<Vec<LeafRow>, StoreError> {
        let sql = "SELECT t.id, t.at, t.kind, t.actor, t.body, t.version, t.leaf, l.secret FROM timeline t \
                   LEFT JOIN ledger_leaves l ON l.idx = t.leaf WHERE t.ticket_id = $1 ORDER BY t.id";
        self.rows(sqlx::query(sql).bind(ticket.as_str()), |r| {
            let leaf = match (r.col::<Option<i64>>("leaf")?, r.col::<Option<Vec<u8>>>("secret")?) {
                (Some(index), Some(secret)) => Some((index as u64, hash_of(secret)?)),
                _ => None,
            };
            Ok(LeafRow {
                seq: r.col("id")?,
                version: r.col("version")?,
                at: r.col("at")?,
                kind: r.col("kind")?,
                actor: r.col("actor")?,
                body: r.json("body")?,
                leaf,
            })
        })
        .await
    }

    async fn report_leaves(
        &self,
        ticket: &TicketId,
    ) -> Result<Vec<(stringer_app::ledger_sources::PublicationRow, u64, stringer_ledger::encode::Secret)>, StoreError>
    {
        self.publication_leaves(ticket.as_str()).await
    }

    async fn review_leaf(
        &self,
        org: &str,
        quarter: &str,
    ) -> Result<Option<(stringer_app::ledger_sources::FiguresRow, u64, stringer_ledger::encode::Secret)>, StoreError>
    {
        self.figures_leaf(org, quarter).await
    }

    async fn log_keys(&self) -> Result<Vec<LogKey>, StoreError> {
        let sql = "SELECT public_key, added_at, endorsed_at, endorsement FROM ledger_keys ORDER BY seq";
        let rows = self
            .rows(sqlx::query(sql), |r| {
                let public_key = PublicKey(hash_of(r.col("public_key")?)?);
                let endorsed = match (r.col::<Option<i64>>("endorsed_at")?, r.col::<Option<Vec<u8>>>("endorsement")?) {
                    (Some(at), Some(signature)) => Some((at as u64, signature_of(signature)?)),
                    _ => None,
                };
                Ok((public_key, r.col::<i64>("added_at")?, endorsed))
            })
            .await?;
        let mut keys: Vec<LogKey> = Vec::with_capacity(rows.len());
        for (public_key, added_at, endorsed) in rows {
            let rotation = match (keys.last(), endorsed) {
                (Some(previous), Some((at, endorsement))) => {
                    Some(Rotation { old_key: previous.public_key, new_key: public_key, at, endorsement })
                }
                _ => None,
            };
            keys.push(LogKey { public_key, added_at, rotation });
        }
        Ok(keys)
    }

    async fn add_log_key(&self, position: u64, key: &LogKey) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO ledger_keys (seq, key_id, public_key, added_at, endorsed_at, endorsement) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(position as i64)
        .bind(key.public_key.key_id().to_vec())
        .bind(key.public_key.0.to_vec())
        .bind(key.added_at)
        .bind(key.rotation.map(|r| r.at as i64))
        .bind(key.rotation.map(|r| r.endorsement.to_vec()))
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn latest_head(&self) -> Result<Option<SignedHead>, StoreError> {
        self.row(sqlx::query(&format!("{HEAD} ORDER BY h.tree_size DESC LIMIT 1")), head_from).await
    }

    async fn head_signed_by(&self, at: u64) -> Result<Option<SignedHead>, StoreError> {
        let sql = format!("{HEAD} WHERE h.signed_at <= $1 ORDER BY h.tree_size DESC LIMIT 1");
        self.row(sqlx::query(&sql).bind(at.min(i64::MAX as u64) as i64), head_from).await
    }

    async fn heads_after(&self, after: Option<u64>, limit: u64) -> Result<Vec<SignedHead>, StoreError> {
        let sql = format!("{HEAD} WHERE h.tree_size > $1 ORDER BY h.tree_size LIMIT $2");
        self.rows(
            sqlx::query(&sql).bind(after.map_or(-1, |a| a.min(i64::MAX as u64) as i64)).bind(limit as i64),
            head_from,
        )
        .await
    }

    async fn record_head(&self, head: &SignedHead) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO ledger_heads (tree_size, root_hash, signed_at, key_id, signature) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING",
        )
        .bind(head.head.tree_size as i64)
        .bind(head.head.root_hash.to_vec())
        .bind(head.head.timestamp as i64)
        .bind(head.key_id.to_vec())
        .bind(head.signature.to_vec())
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(())
    }
}
