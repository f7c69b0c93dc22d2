//! Alerts from monitoring: integration keys, the signals the doors accepted (stored in
//! batches, claimed with a lease) and each deduplication key's alert — the [`Alerts`] port.

use crate::drop_box::{Droppable, Pending};
use crate::rows::RowExt;
use crate::{SqlStore, backend_err};
use async_trait::async_trait;
use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::any::AnyRow;
use sqlx::query::Query;
use stringer_app::StoreError;
use stringer_app::alerts::{
    AlertRecord, Alerts, ChangeRecord, IntegrationKey, KeyKind, Signal, SignalOutcome, SignalRecord,
};
use stringer_app::keyed::Written;
use stringer_core::alert::{AlertAction, AlertLevel, OnResolve};
use stringer_core::ids::{OrgSlug, TicketId, UserId};

const KEY_COLUMNS: &str =
    "id, org, name, kind, severity_map, on_resolve, secret_hash, created_by, created_at, revoked_at";
const SIGNAL_COLUMNS: &str = "id, key_id, action, dedup_key, summary, source, level, details, received_at_ms, attempts";
const CHANGE_COLUMNS: &str = "id, key_id, org, summary, source, at, details, received_at";
const ALERT_COLUMNS: &str = "key_id, dedup_key, ticket_id, open, acknowledged, count, summary, opened_at, last_at";

fn bad(what: &str, value: &str) -> StoreError {
    StoreError::Backend(format!("bad {what} {value:?}"))
}

fn key_from(r: &AnyRow) -> Result<IntegrationKey, StoreError> {
    let kind: String = r.col("kind")?;
    let on_resolve: String = r.col("on_resolve")?;
    let severity: Option<String> = r.col("severity_map")?;
    Ok(IntegrationKey {
        id: r.col("id")?,
        org: OrgSlug(r.col("org")?),
        name: r.col("name")?,
        kind: KeyKind::parse(&kind).ok_or_else(|| bad("key kind", &kind))?,
        severity: severity.map(|s| serde_json::from_str(&s).map_err(|_| bad("severity map", &s))).transpose()?,
        on_resolve: OnResolve::parse(&on_resolve).ok_or_else(|| bad("resolve setting", &on_resolve))?,
        secret_hash: r.col("secret_hash")?,
        created_by: UserId(r.col("created_by")?),
        created_at: r.col("created_at")?,
        revoked_at: r.col("revoked_at")?,
    })
}

impl Pending for SignalRecord {
    const TABLE: &'static str = "alert_signals";
    const COLUMNS: &'static str = SIGNAL_COLUMNS;

    const SAME_KEY: &'static str = "e.key_id = t.key_id AND e.dedup_key = t.dedup_key";

    fn from_row(row: &AnyRow) -> Result<SignalRecord, StoreError> {
        signal_from(row)
    }
}

fn signal_from(r: &AnyRow) -> Result<SignalRecord, StoreError> {
    let action: String = r.col("action")?;
    let level: Option<String> = r.col("level")?;
    Ok(SignalRecord {
        id: r.col("id")?,
        attempts: r.col("attempts")?,
        signal: Signal {
            key: r.col("key_id")?,
            action: AlertAction::parse(&action).ok_or_else(|| bad("alert action", &action))?,
            dedup_key: r.col("dedup_key")?,
            summary: r.col("summary")?,
            source: r.col("source")?,
            level: level.map(|l| AlertLevel::parse(&l).ok_or_else(|| bad("alert level", &l))).transpose()?,
            details: r.col("details")?,
            received_at_ms: r.col("received_at_ms")?,
        },
    })
}

fn change_from(r: &AnyRow) -> Result<ChangeRecord, StoreError> {
    Ok(ChangeRecord {
        id: r.col("id")?,
        key: r.col("key_id")?,
        org: OrgSlug(r.col("org")?),
        summary: r.col("summary")?,
        source: r.col("source")?,
        at: r.col("at")?,
        details: r.col("details")?,
        received_at: r.col("received_at")?,
    })
}

fn alert_from(r: &AnyRow) -> Result<AlertRecord, StoreError> {
    Ok(AlertRecord {
        key: r.col("key_id")?,
        dedup_key: r.col("dedup_key")?,
        ticket: TicketId(r.col("ticket_id")?),
        open: r.col::<i64>("open")? != 0,
        acknowledged: r.col::<i64>("acknowledged")? != 0,
        count: r.col("count")?,
        summary: r.col("summary")?,
        opened_at: r.col("opened_at")?,
        last_at: r.col("last_at")?,
    })
}

impl Droppable for Signal {
    const INSERT: &'static str = "INSERT INTO alert_signals (key_id, action, dedup_key, summary, source, level, \
                                  details, received_at_ms, state, attempts)";
    const VALUES: usize = 10;
    const KIND: &'static str = "signal";

    fn bind<'q>(&'q self, query: Query<'q, Any, AnyArguments<'q>>) -> Query<'q, Any, AnyArguments<'q>> {
        query
            .bind(&self.key)
            .bind(self.action.as_str())
            .bind(&self.dedup_key)
            .bind(&self.summary)
            .bind(&self.source)
            .bind(self.level.map(AlertLevel::as_str))
            .bind(&self.details)
            .bind(self.received_at_ms)
            .bind("pending")
            .bind(0i64)
    }
}

#[async_trait]
impl Alerts for SqlStore {
    async fn insert_key(&self, key: &IntegrationKey) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        self.mark_key(&mut tx, Written::secret("integration_key", &key.id)).await?;
        let severity = key.severity.as_ref().map(|m| serde_json::to_string(m).expect("a severity map serializes"));
        sqlx::query(&format!(
            "INSERT INTO integration_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&key.id)
        .bind(key.org.as_str())
        .bind(&key.name)
        .bind(key.kind.as_str())
        .bind(severity)
        .bind(key.on_resolve.as_str())
        .bind(&key.secret_hash)
        .bind(key.created_by.as_str())
        .bind(key.created_at)
        .bind(key.revoked_at)
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
        tx.commit().await.map_err(backend_err)?;
        Ok(())
    }

    async fn key(&self, id: &str) -> Result<Option<IntegrationKey>, StoreError> {
        self.row(sqlx::query(&format!("SELECT {KEY_COLUMNS} FROM integration_keys WHERE id = $1")).bind(id), key_from)
            .await
    }

    async fn key_by_hash(&self, secret_hash: &str) -> Result<Option<IntegrationKey>, StoreError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM integration_keys WHERE secret_hash = $1");
        self.row(sqlx::query(&sql).bind(secret_hash), key_from).await
    }

    async fn keys(&self, org: &OrgSlug) -> Result<Vec<IntegrationKey>, StoreError> {
        let sql =
            format!("SELECT {KEY_COLUMNS} FROM integration_keys WHERE org = $1 ORDER BY created_at DESC, id DESC");
        self.rows(sqlx::query(&sql).bind(org.as_str()), key_from).await
    }

    async fn revoke_key(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE integration_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(at)
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn accept_signal(&self, signal: &Signal) -> Result<i64, StoreError> {
        self.signal_drop.put(signal.clone(), self.current_key()).await
    }

    async fn keys_by_id(&self, ids: &[String]) -> Result<Vec<IntegrationKey>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT {KEY_COLUMNS} FROM integration_keys WHERE id IN ({})", marks.join(", "));
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        self.rows(query, key_from).await
    }

    async fn alerts_of(&self, ids: &[(String, String)]) -> Result<Vec<(AlertRecord, bool)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let columns: Vec<String> = ALERT_COLUMNS.split(", ").map(|c| format!("a.{c}")).collect();
        let sql = format!(
            "SELECT {}, t.status AS ticket_status FROM (VALUES {}) AS v JOIN alerts a ON a.key_id = v.column1 \
             AND a.dedup_key = v.column2 LEFT JOIN tickets t ON t.id = a.ticket_id",
            columns.join(", "),
            self.backend.value_rows(ids.len(), 2, 1)
        );
        let mut query = sqlx::query(&sql);
        for (key, dedup) in ids {
            query = query.bind(key).bind(dedup);
        }
        self.rows(query, |r| {
            let status: Option<String> = r.col("ticket_status")?;
            Ok((alert_from(r)?, status.is_none_or(|s| s == "resolved")))
        })
        .await
    }

    async fn finish(
        &self,
        settled: &[(i64, SignalOutcome)],
        alerts: &[AlertRecord],
        at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        // At most 256 signals and alerts a round (the engine's batch), so one statement each.
        let done: Vec<(i64, &str, Option<String>)> =
            settled.iter().map(|(id, o)| (*id, o.what.as_str(), o.ticket.as_ref().map(|t| t.to_string()))).collect();
        let done: Vec<(i64, &str, Option<&str>)> = done.iter().map(|(id, w, t)| (*id, *w, t.as_deref())).collect();
        self.settle_done(&mut *tx, "alert_signals", &done, at).await?;
        if !alerts.is_empty() {
            let sql = format!(
                "INSERT INTO alerts ({ALERT_COLUMNS}) VALUES {} ON CONFLICT (key_id, dedup_key) DO UPDATE SET \
                 ticket_id = excluded.ticket_id, open = excluded.open, acknowledged = excluded.acknowledged, \
                 count = excluded.count, summary = excluded.summary, opened_at = excluded.opened_at, \
                 last_at = excluded.last_at",
                self.backend.value_rows(alerts.len(), 9, 1)
            );
            let mut query = sqlx::query(&sql);
            for a in alerts {
                query = query
                    .bind(&a.key)
                    .bind(&a.dedup_key)
                    .bind(a.ticket.as_str())
                    .bind(i64::from(a.open))
                    .bind(i64::from(a.acknowledged))
                    .bind(a.count)
                    .bind(&a.summary)
                    .bind(a.opened_at)
                    .bind(a.last_at);
            }
            query.execute(&mut *tx).await.map_err(backend_err)?;
        }
        tx.commit().await.map_err(backend_err)
    }

    async fn insert_change(&self, c: &ChangeRecord) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO change_events (key_id, org, summary, source, at, details, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&c.key)
        .bind(c.org.as_str())
        .bind(&c.summary)
        .bind(&c.source)
        .bind(c.at)
        .bind(&c.details)
        .bind(c.received_at)
        .fetch_one(&self.write)
        .await
        .map_err(backend_err)?;
        row.col("id")
    }

    async fn changes(&self, org: &OrgSlug, from: i64, to: i64, limit: i64) -> Result<Vec<ChangeRecord>, StoreError> {
        let sql = format!(
            "SELECT {CHANGE_COLUMNS} FROM change_events WHERE org = $1 AND at >= $2 AND at <= $3 \
             ORDER BY at DESC, id DESC LIMIT $4"
        );
        self.rows(sqlx::query(&sql).bind(org.as_str()).bind(from).bind(to).bind(limit), change_from).await
    }

    async fn alerts_of_ticket(&self, ticket: &TicketId) -> Result<Vec<AlertRecord>, StoreError> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE ticket_id = $1 ORDER BY opened_at, dedup_key");
        self.rows(sqlx::query(&sql).bind(ticket.as_str()), alert_from).await
    }
}
