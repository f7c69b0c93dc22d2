//! Contact methods, notification rules, and the deliveries made from the outbox.

use crate::{Backend, SqlStore, backend_err};
use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use stringer_app::StoreError;
use stringer_app::delivery::{
    ContactMethod, Delivery, DeliveryStore, MethodKind, NewDelivery, NotificationRule, OrgStaff, OutboxEntry, Outcome,
    Recipient, StaffMember,
};
use stringer_core::event::Notice;
use stringer_core::ids::{OrgSlug, TicketId, UserRole};

/// A contact method as stored (with its signing secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactMethodRecord {
    /// Identifier.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// How.
    pub kind: MethodKind,
    /// Where.
    pub address: String,
    /// HMAC-SHA256 key for webhook signatures.
    pub secret: String,
    /// Unix seconds.
    pub created_at: i64,
}

fn kind_from(s: &str) -> Result<MethodKind, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.into()))
        .map_err(|_| StoreError::Backend(format!("bad contact method kind {s:?}")))
}

fn method_from(r: &AnyRow) -> Result<ContactMethodRecord, StoreError> {
    Ok(ContactMethodRecord {
        id: r.try_get("id").map_err(backend_err)?,
        user_id: r.try_get("user_id").map_err(backend_err)?,
        kind: kind_from(&r.try_get::<String, _>("kind").map_err(backend_err)?)?,
        address: r.try_get("address").map_err(backend_err)?,
        secret: r.try_get("secret").map_err(backend_err)?,
        created_at: r.try_get("created_at").map_err(backend_err)?,
    })
}

/// A sent message of a ticket that can still be changed and has not been settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsettledMessage {
    /// The delivery (its idempotency key).
    pub id: String,
    /// The provider's receipt (for Slack, the message's channel and timestamp as JSON).
    pub receipt: String,
    /// What was sent (JSON), to say it again with the outcome.
    pub payload: String,
}

impl SqlStore {
    /// A ticket's sent messages that can still be changed and are not settled yet.
    pub async fn unsettled_messages(&self, ticket: &str) -> Result<Vec<UnsettledMessage>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, receipt, payload FROM deliveries WHERE ticket_id = $1 AND receipt IS NOT NULL AND settled_at IS NULL ORDER BY id",
        )
        .bind(ticket)
        .fetch_all(&self.read)
        .await
        .map_err(backend_err)?;
        rows.iter()
            .map(|r| {
                Ok(UnsettledMessage {
                    id: r.try_get("id").map_err(backend_err)?,
                    receipt: r.try_get("receipt").map_err(backend_err)?,
                    payload: r.try_get("payload").map_err(backend_err)?,
                })
            })
            .collect()
    }

    /// Records that a message was settled at `at`.
    pub async fn mark_settled(&self, id: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE deliveries SET settled_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    /// Adds a contact method.
    pub async fn insert_contact_method(&self, m: &ContactMethodRecord) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO contact_methods (id, user_id, kind, address, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&m.id)
            .bind(&m.user_id)
            .bind(m.kind.as_str())
            .bind(&m.address)
            .bind(&m.secret)
            .bind(m.created_at)
            .execute(&self.write)
            .await
            .map_err(|e| crate::accounts::insert_err(e, &format!("a {} contact method at {}", m.kind.as_str(), m.address)))?;
        Ok(())
    }

    /// A user's contact methods, oldest first.
    pub async fn contact_methods(&self, user_id: &str) -> Result<Vec<ContactMethodRecord>, StoreError> {
        let rows = sqlx::query("SELECT id, user_id, kind, address, secret, created_at FROM contact_methods WHERE user_id = $1 ORDER BY created_at, id")
            .bind(user_id)
            .fetch_all(&self.read)
            .await
            .map_err(backend_err)?;
        rows.iter().map(method_from).collect()
    }

    /// Replaces a user's notification rules.
    pub async fn set_notification_rules(
        &self,
        user_id: &str,
        rules: &[(String, String, i64)],
    ) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        sqlx::query("DELETE FROM notification_rules WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        for (id, method, after) in rules {
            sqlx::query(
                "INSERT INTO notification_rules (id, user_id, method_id, after_seconds) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(user_id)
            .bind(method)
            .bind(*after)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        }
        tx.commit().await.map_err(backend_err)?;
        Ok(())
    }

    /// The staff user whose Slack contact method is this member ID.
    pub async fn staff_by_slack_member(&self, member: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT u.id AS id FROM contact_methods m JOIN users u ON u.id = m.user_id WHERE m.kind = 'slack' AND m.address = $1 AND u.org IS NULL ORDER BY m.created_at LIMIT 1",
        )
        .bind(member)
        .fetch_optional(&self.read)
        .await
        .map_err(backend_err)?;
        row.map(|r| r.try_get("id").map_err(backend_err)).transpose()
    }

    /// Deliveries of a ticket as (id, status, attempts), for inspection.
    pub async fn deliveries_of(&self, ticket: &str) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows =
            sqlx::query("SELECT id, status, attempts FROM deliveries WHERE ticket_id = $1 ORDER BY created_at, id")
                .bind(ticket)
                .fetch_all(&self.read)
                .await
                .map_err(backend_err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id").map_err(backend_err)?,
                    r.try_get("status").map_err(backend_err)?,
                    r.try_get("attempts").map_err(backend_err)?,
                ))
            })
            .collect()
    }
}

fn staff_member_from(r: &AnyRow) -> Result<StaffMember, StoreError> {
    let role: String = r.try_get("role").map_err(backend_err)?;
    Ok(StaffMember {
        id: r.try_get("id").map_err(backend_err)?,
        role: UserRole::parse(&role).ok_or_else(|| StoreError::Backend(format!("bad role {role:?} in database")))?,
        federal_cleared: r.try_get::<i64, _>("federal_cleared").map_err(backend_err)? != 0,
    })
}

fn outcome_parts(o: &Outcome) -> (&'static str, String) {
    match o {
        Outcome::Sent(_) => ("sent", String::new()),
        Outcome::Retry(_, e) => ("retry", e.clone()),
        Outcome::Failed(e) => ("failed", e.clone()),
        Outcome::Cancelled(e) => ("cancelled", e.clone()),
    }
}

impl DeliveryStore for SqlStore {
    async fn undispatched(&self, limit: i64) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.id AS id, o.body AS body, t.org AS org FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE o.dispatched_at IS NULL AND o.kind IN ('page', 'report.overdue') ORDER BY o.id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .map_err(backend_err)?;
        rows.iter()
            .map(|r| {
                let body: String = r.try_get("body").map_err(backend_err)?;
                let notice: Notice = serde_json::from_str(&body)
                    .map_err(|e| StoreError::Backend(format!("bad notice in outbox: {e}")))?;
                Ok(OutboxEntry {
                    id: r.try_get("id").map_err(backend_err)?,
                    org: OrgSlug(r.try_get("org").map_err(backend_err)?),
                    notice,
                })
            })
            .collect()
    }

    async fn org_staff(&self, org: &OrgSlug) -> Result<OrgStaff, StoreError> {
        let o = self.get_org(org.as_str()).await?.ok_or_else(|| StoreError::Missing(format!("org {org}")))?;
        Ok(OrgStaff {
            deployment: o.deployment,
            tam: o.tam,
            named_engineers: o.named_engineers,
            slack_channel: o.slack_channel,
        })
    }

    async fn schedules_for(&self, org: &OrgSlug) -> Result<Vec<stringer_core::oncall::ScheduleSpec>, StoreError> {
        let mut all = self.list_schedules().await?;
        all.retain(|s| s.org.as_deref().is_none_or(|o| o == org.as_str()));
        all.sort_by_key(|s| s.org.is_none());
        Ok(all.into_iter().map(|s| s.spec).collect())
    }

    async fn staff_with_role(&self, role: UserRole) -> Result<Vec<StaffMember>, StoreError> {
        let rows =
            sqlx::query("SELECT id, role, federal_cleared FROM users WHERE role = $1 AND org IS NULL ORDER BY id")
                .bind(role.as_str())
                .fetch_all(&self.read)
                .await
                .map_err(backend_err)?;
        rows.iter().map(staff_member_from).collect()
    }

    async fn staff_member(&self, id: &str) -> Result<Option<StaffMember>, StoreError> {
        let row = sqlx::query("SELECT id, role, federal_cleared FROM users WHERE id = $1 AND org IS NULL")
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(backend_err)?;
        row.as_ref().map(staff_member_from).transpose()
    }

    async fn recipient(&self, user_id: &str) -> Result<Recipient, StoreError> {
        let methods = self
            .contact_methods(user_id)
            .await?
            .into_iter()
            .map(|m| ContactMethod { id: m.id, kind: m.kind, address: m.address })
            .collect();
        let rows = sqlx::query(
            "SELECT method_id, after_seconds FROM notification_rules WHERE user_id = $1 ORDER BY after_seconds, id",
        )
        .bind(user_id)
        .fetch_all(&self.read)
        .await
        .map_err(backend_err)?;
        let rules = rows
            .iter()
            .map(|r| {
                Ok(NotificationRule {
                    method_id: r.try_get("method_id").map_err(backend_err)?,
                    after_seconds: r.try_get("after_seconds").map_err(backend_err)?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Recipient { user_id: user_id.to_string(), methods, rules })
    }

    async fn dispatch(&self, outbox_id: i64, deliveries: Vec<NewDelivery>, at: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        for d in deliveries.iter().filter(|d| d.channel.is_some()) {
            sqlx::query(
                "INSERT INTO deliveries (id, outbox_id, ticket_id, user_id, method_id, kind, payload, status, attempts, next_attempt_at, created_at, channel_address) VALUES ($1, $2, $3, $4, $5, 'slack', $6, 'pending', 0, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
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
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        }
        for d in deliveries.iter().filter(|d| d.channel.is_none()) {
            sqlx::query(
                "INSERT INTO deliveries (id, outbox_id, ticket_id, user_id, method_id, kind, payload, status, attempts, next_attempt_at, created_at) SELECT $1, $2, $3, $4, m.id, m.kind, $5, 'pending', 0, $6, $7 FROM contact_methods m WHERE m.id = $8 ON CONFLICT (id) DO NOTHING",
            )
            .bind(&d.id)
            .bind(outbox_id)
            .bind(d.ticket.as_str())
            .bind(&d.user_id)
            .bind(&d.payload)
            .bind(d.due.as_second())
            .bind(at.as_second())
            .bind(&d.method_id)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        }
        sqlx::query("UPDATE outbox SET dispatched_at = $1 WHERE id = $2")
            .bind(at.as_second())
            .bind(outbox_id)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        tx.commit().await.map_err(backend_err)?;
        Ok(())
    }

    async fn claim(&self, now: Timestamp, lease_until: Timestamp, limit: i64) -> Result<Vec<Delivery>, StoreError> {
        let pick = match self.backend {
            Backend::Postgres => {
                "SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $2 ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED"
            }
            Backend::Sqlite => {
                "SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $2 ORDER BY next_attempt_at, id LIMIT $3"
            }
        };
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        let rows = sqlx::query(&format!(
            "UPDATE deliveries SET next_attempt_at = $1 WHERE id IN ({pick}) RETURNING id, ticket_id, method_id, kind, payload, attempts, outbox_id, channel_address"
        ))
        .bind(lease_until.as_second())
        .bind(now.as_second())
        .bind(limit)
        .fetch_all(&mut *tx)
        .await
        .map_err(backend_err)?;
        let mut out = Vec::new();
        for r in &rows {
            let method_id: String = r.try_get("method_id").map_err(backend_err)?;
            let outbox_id: i64 = r.try_get("outbox_id").map_err(backend_err)?;
            let channel: Option<String> = r.try_get("channel_address").map_err(backend_err)?;
            let (address, secret) = match channel {
                Some(channel) => (channel, String::new()),
                None => {
                    let m = sqlx::query("SELECT address, secret FROM contact_methods WHERE id = $1")
                        .bind(&method_id)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(backend_err)?;
                    (m.try_get("address").map_err(backend_err)?, m.try_get("secret").map_err(backend_err)?)
                }
            };
            let kind: String = sqlx::query("SELECT kind FROM outbox WHERE id = $1")
                .bind(outbox_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend_err)?
                .try_get("kind")
                .map_err(backend_err)?;
            out.push(Delivery {
                id: r.try_get("id").map_err(backend_err)?,
                ticket: TicketId(r.try_get("ticket_id").map_err(backend_err)?),
                kind: kind_from(&r.try_get::<String, _>("kind").map_err(backend_err)?)?,
                address,
                secret,
                payload: r.try_get("payload").map_err(backend_err)?,
                attempts: r.try_get("attempts").map_err(backend_err)?,
                is_page: kind == "page",
            });
        }
        tx.commit().await.map_err(backend_err)?;
        Ok(out)
    }

    async fn finish(&self, id: &str, outcome: Outcome, at: Timestamp) -> Result<(), StoreError> {
        let (name, detail) = outcome_parts(&outcome);
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        let (status, next, sent) = match &outcome {
            Outcome::Sent(_) => ("sent", at.as_second(), Some(at.as_second())),
            Outcome::Retry(when, _) => ("pending", when.as_second(), None),
            Outcome::Failed(_) => ("failed", at.as_second(), None),
            Outcome::Cancelled(_) => ("cancelled", at.as_second(), None),
        };
        let attempted = i64::from(!matches!(outcome, Outcome::Cancelled(_)));
        let receipt = match &outcome {
            Outcome::Sent(receipt) => receipt.clone(),
            _ => None,
        };
        sqlx::query("UPDATE deliveries SET status = $1, next_attempt_at = $2, sent_at = $3, attempts = attempts + $4, last_error = $5, receipt = $6 WHERE id = $7")
            .bind(status)
            .bind(next)
            .bind(sent)
            .bind(attempted)
            .bind((!detail.is_empty()).then(|| detail.clone()))
            .bind(receipt)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        sqlx::query("INSERT INTO delivery_attempts (delivery_id, at, outcome, detail) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(at.as_second())
            .bind(name)
            .bind(detail)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        tx.commit().await.map_err(backend_err)?;
        Ok(())
    }

    async fn page_moot(&self, ticket: &TicketId) -> Result<bool, StoreError> {
        Ok(self.get_ticket(ticket.as_str()).await?.is_none_or(|t| t.state.paging_over()))
    }
}
