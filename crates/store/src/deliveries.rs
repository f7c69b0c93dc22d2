//! Deliveries made from the outbox (the [`DeliveryStore`] port; claimed within the
//! deliverer's room and ended through the outbox's [`Sendings`]), and the settle jobs that
//! change sent page messages once paging is over (the [`SettleStore`] port, its jobs
//! [`Sendings`] too).

use crate::commit::PAGING_ENDED;
use crate::rows::RowExt;
use crate::{Backend, SqlStore, backend_err};
use async_trait::async_trait;
use jiff::Timestamp;
use std::sync::Arc;
use stringer_app::StoreError;
use stringer_app::delivery::{
    ContactMethod, Delivery, DeliveryStore, NewDelivery, NotificationRule, OutboxEntry, PagedTicket, Parcel, Recipient,
    Urgency,
};
use stringer_app::mail::Inform;
use stringer_app::mail::letters::{CUSTOMER_MAIL, InformEntry, InformStore, LetterContext};
use stringer_app::outbox::{Room, Sendings};
use stringer_app::ports::{Accounts, OnCall};
use stringer_app::settle::{SentMessage, SettleJob, SettleStore};
use stringer_core::event::Notice;
use stringer_core::ids::{OrgSlug, TicketId, TicketKey, UserId};
use stringer_core::ticket::Ticket;

/// The outbox rows the dispatcher hands on: not yet dispatched, of the kinds it reads
/// (`stringer_app::delivery::DISPATCHED_KINDS`) — the condition of the partial index
/// `outbox_to_dispatch` (migration 0028), written as it is there.
const TO_DISPATCH: &str = "o.dispatched_at IS NULL AND o.kind IN ('page', 'report.overdue', 'bridge.overdue')";

/// How many due deliveries a claim looks at, most urgent first, to pick its share from.
const CLAIM_WINDOW: i64 = 512;

/// How an attempt ended, as a delivery's row and its attempt log record it.
struct Ended<'a> {
    /// The attempt log's outcome: sent, retry, failed, cancelled.
    outcome: &'static str,
    /// The delivery's status after it.
    status: &'static str,
    /// When it is due again (a retry), or when it ended.
    next: i64,
    /// Why it failed or was cancelled.
    error: Option<&'a str>,
    /// The provider's receipt of a sent one.
    receipt: Option<&'a str>,
}

#[async_trait]
impl Sendings<Delivery> for SqlStore {
    async fn claim(&self, now: i64, lease_until: i64, room: &Room) -> Result<Vec<Delivery>, StoreError> {
        self.claim_deliveries(now, lease_until, room).await
    }

    async fn sent(&self, id: &str, at: i64, receipt: Option<&str>) -> Result<(), StoreError> {
        let ended = Ended { outcome: "sent", status: "sent", next: at, error: None, receipt };
        self.end_attempt(id, at, ended).await
    }

    async fn later(&self, id: &str, at: i64, next: i64, why: &str) -> Result<(), StoreError> {
        let ended = Ended { outcome: "retry", status: "pending", next, error: Some(why), receipt: None };
        self.end_attempt(id, at, ended).await
    }

    async fn given_up(&self, id: &str, at: i64, why: &str) -> Result<(), StoreError> {
        let ended = Ended { outcome: "failed", status: "failed", next: at, error: Some(why), receipt: None };
        self.end_attempt(id, at, ended).await
    }

    async fn cancelled(&self, id: &str, at: i64, why: &str) -> Result<(), StoreError> {
        let ended = Ended { outcome: "cancelled", status: "cancelled", next: at, error: Some(why), receipt: None };
        self.end_attempt(id, at, ended).await
    }
}

impl DeliveryStore for SqlStore {
    async fn undispatched(&self, limit: i64) -> Result<Vec<OutboxEntry>, StoreError> {
        // The condition is the partial index `outbox_to_dispatch`'s, word for word, so an idle
        // poll reads an empty index whatever else the outbox holds. SQLite's planner, without
        // statistics, would rather take a wider index: it is told which to use.
        let index = if self.backend == Backend::Sqlite { " INDEXED BY outbox_to_dispatch" } else { "" };
        let sql = format!(
            "SELECT o.id AS id, o.body AS body, t.org AS org, t.number AS number, t.subject AS subject, t.opened_at AS opened_at, t.state AS state, g.name AS org_name FROM outbox o{index} JOIN tickets t ON t.id = o.ticket_id JOIN orgs g ON g.slug = t.org WHERE {TO_DISPATCH} ORDER BY o.id LIMIT $1"
        );
        self.rows(sqlx::query(&sql).bind(limit), |r| {
            let org = OrgSlug(r.col("org")?);
            let key = TicketKey { org: org.clone(), number: r.col::<Option<i64>>("number")?.unwrap_or_default() };
            let ticket = PagedTicket {
                key: key.to_string(),
                org_name: r.col("org_name")?,
                subject: r.col("subject")?,
                opened_at: r.col("opened_at")?,
                bridge: r.json::<Ticket>("state")?.bridge.and_then(|b| b.url),
            };
            Ok(OutboxEntry { id: r.col("id")?, org, notice: r.json::<Notice>("body")?, ticket })
        })
        .await
    }

    async fn org_channel(&self, org: &OrgSlug) -> Result<Option<String>, StoreError> {
        Ok(Accounts::org(self, org).await?.and_then(|o| o.channel))
    }

    async fn recipient(&self, user_id: &str) -> Result<Recipient, StoreError> {
        let methods = self
            .contact_methods(&UserId::from(user_id))
            .await?
            .into_iter()
            .map(|m| ContactMethod { id: m.id, kind: m.kind, address: m.address })
            .collect();
        let sql =
            "SELECT method_id, after_seconds FROM notification_rules WHERE user_id = $1 ORDER BY after_seconds, id";
        let rules = self
            .rows(sqlx::query(sql).bind(user_id), |r| {
                Ok(NotificationRule { method_id: r.col("method_id")?, after_seconds: r.col("after_seconds")? })
            })
            .await?;
        Ok(Recipient { user_id: user_id.to_string(), methods, rules })
    }

    async fn dispatch(&self, batch: Vec<(i64, Vec<NewDelivery>)>, at: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        for (outbox_id, deliveries) in &batch {
            insert_deliveries(&mut tx, *outbox_id, deliveries, at).await?;
        }
        let ids: Vec<i64> = batch.iter().map(|(id, _)| *id).collect();
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!("UPDATE outbox SET dispatched_at = $1 WHERE id IN ({})", marks.join(", "));
            let mut query = sqlx::query(&sql).bind(at.as_second());
            for id in chunk {
                query = query.bind(*id);
            }
            query.execute(&mut *tx).await.map_err(backend_err)?;
        }
        tx.commit().await.map_err(backend_err)?;
        Ok(())
    }

    async fn page_moot(&self, ticket: &TicketId) -> Result<bool, StoreError> {
        Ok(stringer_app::Store::ticket(self, ticket).await?.is_none_or(|t| t.ticket.paging_over()))
    }
}

impl SqlStore {
    /// Claims the most urgent due deliveries that fit `room`: at most its per-destination
    /// share to any one receiver counting the sends under way to it, none to one whose share
    /// is taken (its rows wait for the next claim). The window runs over a bounded prefix of
    /// the due rows (read in the claim index's order), so a backlog costs a claim nothing more.
    async fn claim_deliveries(&self, now: i64, lease_until: i64, room: &Room) -> Result<Vec<Delivery>, StoreError> {
        let share = room.per_destination.unwrap_or(i64::MAX);
        let (full, partial): (Vec<_>, Vec<_>) = room.under_way.iter().partition(|(_, n)| *n >= share);
        let mut next_mark = 3;
        let mut mark = || {
            next_mark += 1;
            format!("${next_mark}")
        };
        let skipped = if full.is_empty() {
            String::new()
        } else {
            let marks: Vec<String> = full.iter().map(|_| mark()).collect();
            format!(" AND COALESCE(channel_address, method_id) NOT IN ({})", marks.join(", "))
        };
        let taken = if partial.is_empty() {
            "0".to_string()
        } else {
            let whens: Vec<String> =
                partial.iter().map(|_| format!("WHEN {} THEN CAST({} AS BIGINT)", mark(), mark())).collect();
            format!("CASE destination {} ELSE 0 END", whens.join(" "))
        };
        let lock = if self.backend == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let pick = format!(
            "WITH due AS (SELECT id, urgency, next_attempt_at, COALESCE(channel_address, method_id) AS destination FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1{skipped} ORDER BY urgency, next_attempt_at, id LIMIT {CLAIM_WINDOW}), \
             ranked AS (SELECT id, ROW_NUMBER() OVER (PARTITION BY destination ORDER BY urgency, next_attempt_at, id) + {taken} AS n FROM due) \
             SELECT id, next_attempt_at FROM deliveries WHERE id IN (SELECT id FROM ranked WHERE n <= $3) ORDER BY urgency, next_attempt_at, id LIMIT $2{lock}"
        );
        let mut query = sqlx::query(&pick).bind(now).bind(room.limit).bind(share);
        for (destination, _) in &full {
            query = query.bind(destination);
        }
        for (destination, n) in &partial {
            query = query.bind(destination).bind(*n);
        }
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        let picked = query.fetch_all(&mut *tx).await.map_err(backend_err)?;
        let mut out = Vec::new();
        for p in &picked {
            let id: String = p.col("id")?;
            let due =
                Timestamp::from_second(p.col("next_attempt_at")?).map_err(|e| StoreError::Backend(e.to_string()))?;
            let r = sqlx::query(
                "UPDATE deliveries SET next_attempt_at = $1 WHERE id = $2 RETURNING ticket_id, method_id, kind, payload, attempts, urgency, channel_address",
            )
            .bind(lease_until)
            .bind(&id)
            .fetch_one(&mut *tx)
            .await
            .map_err(backend_err)?;
            let method_id: String = r.col("method_id")?;
            let channel: Option<String> = r.col("channel_address")?;
            let (address, secret, destination) = match channel {
                Some(channel) => (channel.clone(), String::new(), channel),
                None => {
                    let m = sqlx::query("SELECT address, secret FROM contact_methods WHERE id = $1")
                        .bind(&method_id)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(backend_err)?;
                    (m.col("address")?, m.col("secret")?, method_id)
                }
            };
            let parcel = Parcel {
                ticket: TicketId(r.col("ticket_id")?),
                kind: r.named("kind")?,
                address,
                secret,
                urgency: Urgency::from_rank(r.col("urgency")?),
                payload: r.col("payload")?,
            };
            out.push(Delivery { id, parcel: Arc::new(parcel), attempts: r.col("attempts")?, destination, due });
        }
        tx.commit().await.map_err(backend_err)?;
        Ok(out)
    }

    /// Records how an attempt of delivery `id` ended at `at`, and logs the attempt; a
    /// cancelled delivery was never attempted.
    async fn end_attempt(&self, id: &str, at: i64, ended: Ended<'_>) -> Result<(), StoreError> {
        let sent = (ended.status == "sent").then_some(at);
        let attempted = i64::from(ended.status != "cancelled");
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        sqlx::query("UPDATE deliveries SET status = $1, next_attempt_at = $2, sent_at = $3, attempts = attempts + $4, last_error = $5, receipt = $6 WHERE id = $7")
            .bind(ended.status)
            .bind(ended.next)
            .bind(sent)
            .bind(attempted)
            .bind(ended.error.filter(|e| !e.is_empty()))
            .bind(ended.receipt)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        sqlx::query("INSERT INTO delivery_attempts (delivery_id, at, outcome, detail) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(at)
            .bind(ended.outcome)
            .bind(ended.error.unwrap_or_default())
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        tx.commit().await.map_err(backend_err)?;
        Ok(())
    }
}

impl InformStore for SqlStore {
    async fn undispatched_informs(&self, limit: i64) -> Result<Vec<InformEntry>, StoreError> {
        self.informs_undispatched(limit).await
    }

    async fn letter_context(
        &self,
        ticket: &TicketId,
        inform: Inform,
        comment: Option<&str>,
    ) -> Result<Option<LetterContext>, StoreError> {
        self.context_of_letter(ticket, inform, comment).await
    }
}

#[async_trait]
impl Sendings<SettleJob> for SqlStore {
    async fn claim(&self, now: i64, lease_until: i64, room: &Room) -> Result<Vec<SettleJob>, StoreError> {
        let lock = if self.backend == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let rows = sqlx::query(&format!(
            "UPDATE outbox SET claimed_until = $1 WHERE id IN (SELECT id FROM outbox WHERE kind = $4 AND dispatched_at IS NULL AND (claimed_until IS NULL OR claimed_until <= $2) ORDER BY id LIMIT $3{lock}) RETURNING id, ticket_id, body"
        ))
        .bind(lease_until)
        .bind(now)
        .bind(room.limit)
        .bind(PAGING_ENDED)
        .fetch_all(&self.write)
        .await
        .map_err(backend_err)?;
        let mut jobs = rows
            .iter()
            .map(|r| Ok((r.col::<i64>("id")?, TicketId(r.col("ticket_id")?), r.json("body")?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        jobs.sort_by_key(|(id, _, _)| *id);
        Ok(jobs.into_iter().map(|(id, ticket, ended)| SettleJob { id: id.to_string(), ticket, ended }).collect())
    }

    async fn sent(&self, id: &str, at: i64, _receipt: Option<&str>) -> Result<(), StoreError> {
        self.end_settle_job(id, at).await
    }

    /// Back once `next` has passed (the job's lease moved on).
    async fn later(&self, id: &str, _at: i64, next: i64, _why: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET claimed_until = $1 WHERE id = $2")
            .bind(next)
            .bind(outbox_row(id)?)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn given_up(&self, id: &str, at: i64, _why: &str) -> Result<(), StoreError> {
        self.end_settle_job(id, at).await
    }
}

impl SettleStore for SqlStore {
    async fn unsettled_messages(&self, ticket: &TicketId) -> Result<Vec<SentMessage>, StoreError> {
        let sql = "SELECT id, receipt, payload FROM deliveries WHERE ticket_id = $1 AND receipt IS NOT NULL AND settled_at IS NULL ORDER BY id";
        self.rows(sqlx::query(sql).bind(ticket.as_str()), |r| {
            Ok(SentMessage { id: r.col("id")?, receipt: r.col("receipt")?, payload: r.col("payload")? })
        })
        .await
    }

    async fn mark_settled(&self, delivery: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE deliveries SET settled_at = $1 WHERE id = $2")
            .bind(at)
            .bind(delivery)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn display_name(&self, user: &UserId) -> Result<Option<String>, StoreError> {
        Ok(Accounts::user(self, user).await?.map(|u| u.name))
    }
}

impl SqlStore {
    /// Ends settle job `id` at `at`: it is not claimed again.
    async fn end_settle_job(&self, id: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET dispatched_at = $1 WHERE id = $2")
            .bind(at)
            .bind(outbox_row(id)?)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(())
    }
}

/// The outbox row a settle job's id names.
fn outbox_row(id: &str) -> Result<i64, StoreError> {
    id.parse().map_err(|_| StoreError::Backend(format!("{id:?} names no outbox row")))
}

/// Inserts one outbox row's deliveries (those already there are left as they are).
async fn insert_deliveries(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    outbox_id: i64,
    deliveries: &[NewDelivery],
    at: Timestamp,
) -> Result<(), StoreError> {
    for d in deliveries.iter().filter(|d| d.channel.is_some()) {
        sqlx::query(
                "INSERT INTO deliveries (id, outbox_id, ticket_id, user_id, method_id, kind, payload, status, attempts, next_attempt_at, created_at, channel_address, urgency) VALUES ($1, $2, $3, $4, $5, $10, $6, 'pending', 0, $7, $8, $9, $11) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&d.id)
            .bind(outbox_id)
            .bind(d.ticket.as_str())
            .bind(&d.user_id)
            .bind(&d.method_id)
            .bind(&d.payload)
            .bind(d.due.as_second())
            .bind(at.as_second())
            .bind(&d.channel)
            // An address of its own: the org's Slack channel, or a customer's mail address.
            .bind(if d.method_id == CUSTOMER_MAIL { "email" } else { "slack" })
            .bind(d.urgency.rank())
            .execute(&mut **tx)
            .await
            .map_err(backend_err)?;
    }
    for d in deliveries.iter().filter(|d| d.channel.is_none()) {
        sqlx::query(
                "INSERT INTO deliveries (id, outbox_id, ticket_id, user_id, method_id, kind, payload, status, attempts, next_attempt_at, created_at, urgency) SELECT $1, $2, $3, $4, m.id, m.kind, $5, 'pending', 0, $6, $7, $9 FROM contact_methods m WHERE m.id = $8 ON CONFLICT (id) DO NOTHING",
            )
            .bind(&d.id)
            .bind(outbox_id)
            .bind(d.ticket.as_str())
            .bind(&d.user_id)
            .bind(&d.payload)
            .bind(d.due.as_second())
            .bind(at.as_second())
            .bind(&d.method_id)
            .bind(d.urgency.rank())
            .execute(&mut **tx)
            .await
            .map_err(backend_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::TO_DISPATCH;
    use stringer_app::delivery::DISPATCHED_KINDS;

    #[test]
    fn the_dispatcher_reads_every_kind_written_for_it_and_no_other() {
        let kinds = format!("o.kind IN ({})", DISPATCHED_KINDS.map(|k| format!("'{k}'")).join(", "));
        assert_eq!(TO_DISPATCH, format!("o.dispatched_at IS NULL AND {kinds}"));
        for backend in ["sqlite", "postgres"] {
            let migration = std::fs::read_to_string(format!(
                "{}/migrations/{backend}/0028_outbox_owed.sql",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            assert!(migration.contains(&TO_DISPATCH.replace("o.", "")), "the {backend} index is the query's condition");
        }
    }
}
