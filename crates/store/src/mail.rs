//! The mail channel's tables: received messages (stored before a door answers, claimed with
//! a lease for processing), bounced addresses, what each user gets by mail, each org's mail
//! rules — the [`Mailroom`] port — and what the letters worker reads.

use crate::accounts::{USER_COLUMNS, user_from};
use crate::commit::CUSTOMER_INFORM;
use crate::drop_box::{Droppable, Pending};
use crate::rows::{RowExt, json};
use crate::{SqlStore, backend_err};
use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::any::AnyRow;
use sqlx::query::Query;
use stringer_app::StoreError;
use stringer_app::keyed::Written;
use stringer_app::mail::letters::{InformEntry, LetterContext, LetterRecipient};
use stringer_app::mail::{
    Door, InboundRecord, Inform, MailOutcome, MailState, Mailroom, NewInbound, OrgMailPolicy, SettledMail,
    UnknownSenders,
};
use stringer_app::records::UserRecord;
use stringer_core::ids::{OrgSlug, TicketId, TicketKey};

const COLUMNS: &str = "id, door, envelope_from, envelope_to, raw, received_at_ms, state, reason, ticket_id, org, \
                       routed_to, sender, subject, attempts, peer, helo, auth";

impl Pending for InboundRecord {
    const TABLE: &'static str = "inbound_mail";
    const COLUMNS: &'static str = COLUMNS;

    /// The envelope's sender: the stored row's stand-in for the `From:` the mailroom orders by
    /// (which is read from the message only when it is processed).
    const SAME_KEY: &'static str = "COALESCE(e.envelope_from, '') = COALESCE(t.envelope_from, '')";

    fn from_row(row: &AnyRow) -> Result<InboundRecord, StoreError> {
        inbound_from(row)
    }
}

fn inbound_from(r: &AnyRow) -> Result<InboundRecord, StoreError> {
    let state: String = r.col("state")?;
    Ok(InboundRecord {
        id: r.col("id")?,
        door: r.named::<Door>("door")?,
        envelope_from: r.col("envelope_from")?,
        envelope_to: r.json("envelope_to")?,
        raw: r.col("raw")?,
        received_at_ms: r.col("received_at_ms")?,
        state: MailState::parse(&state).ok_or_else(|| StoreError::Backend(format!("bad mail state {state:?}")))?,
        reason: r.col("reason")?,
        ticket: r.col::<Option<String>>("ticket_id")?.map(TicketId),
        org: r.col::<Option<String>>("org")?.map(OrgSlug),
        routed_to: r.col::<Option<String>>("routed_to")?.map(OrgSlug),
        sender: r.col("sender")?,
        subject: r.col("subject")?,
        attempts: r.col("attempts")?,
        peer: r.col("peer")?,
        helo: r.col("helo")?,
        auth: r.col::<Option<String>>("auth")?.and_then(|a| serde_json::from_str(&a).ok()),
    })
}

fn outcome_columns(outcome: &MailOutcome) -> (Option<String>, Option<String>, Option<String>) {
    match outcome {
        MailOutcome::Ticket { ticket, org, what } => {
            (Some(what.clone()), Some(ticket.to_string()), Some(org.to_string()))
        }
        MailOutcome::Inquiry { id } => (Some(format!("general inquiry {id}")), None, None),
        MailOutcome::Held { reason, org } => (Some(reason.clone()), None, org.as_ref().map(|o| o.to_string())),
        MailOutcome::Ignored { reason, org } => (Some(reason.clone()), None, org.as_ref().map(|o| o.to_string())),
    }
}

#[async_trait]
impl Mailroom for SqlStore {
    async fn accept(&self, m: &NewInbound) -> Result<i64, StoreError> {
        self.mail_drop.put(m.clone(), self.current_key()).await
    }

    async fn settle_inbound(&self, settled: &[SettledMail<'_>], at: i64) -> Result<(), StoreError> {
        if settled.is_empty() {
            return Ok(());
        }
        // At most a round's batch of messages, so one statement.
        let sql = format!(
            "UPDATE inbound_mail SET state = v.column2, reason = v.column3, ticket_id = v.column4, org = v.column5, \
             sender = v.column6, subject = v.column7, message_id = v.column8, auth = v.column9, settled_at = {}, \
             claimed_until = NULL FROM (VALUES {}) AS v WHERE inbound_mail.id = v.column1",
            self.backend.mark(1),
            self.backend.value_rows(settled.len(), 9, 2)
        );
        let mut query = sqlx::query(&sql).bind(at);
        for s in settled {
            let (reason, ticket, org) = outcome_columns(s.outcome);
            query = query
                .bind(s.id)
                .bind(s.outcome.state().as_str())
                .bind(reason)
                .bind(ticket)
                .bind(org)
                .bind(&s.letter.from)
                .bind(s.letter.subject.chars().take(300).collect::<String>())
                .bind(s.letter.message_id.as_ref().map(|m| m.chars().take(500).collect::<String>()))
                .bind(json(s.auth));
        }
        query.execute(&self.write).await.map_err(backend_err)?;
        Ok(())
    }

    async fn reply_recorded(&self, comment_id: &str) -> Result<bool, StoreError> {
        let sql = "SELECT id FROM comments WHERE id = $1";
        Ok(self.row(sqlx::query(sql).bind(comment_id), |r| r.col::<String>("id")).await?.is_some())
    }

    async fn link_inbound(&self, id: i64, ticket: &TicketId, message_id: Option<&str>) -> Result<(), StoreError> {
        sqlx::query("UPDATE inbound_mail SET ticket_id = $1, message_id = $2 WHERE id = $3")
            .bind(ticket.as_str())
            .bind(message_id.map(|m| m.chars().take(500).collect::<String>()))
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn inbound(&self, id: i64) -> Result<Option<InboundRecord>, StoreError> {
        self.row(sqlx::query(&format!("SELECT {COLUMNS} FROM inbound_mail WHERE id = $1")).bind(id), inbound_from).await
    }

    async fn inbound_of_ticket(&self, ticket: &TicketId, limit: i64) -> Result<Vec<InboundRecord>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM inbound_mail WHERE ticket_id = $1 AND state = 'done' ORDER BY id LIMIT $2");
        self.rows(sqlx::query(&sql).bind(ticket.as_str()).bind(limit), inbound_from).await
    }

    async fn inbound_in(&self, state: MailState, limit: i64) -> Result<Vec<InboundRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM inbound_mail WHERE state = $1 ORDER BY id DESC LIMIT $2");
        self.rows(sqlx::query(&sql).bind(state.as_str()).bind(limit), inbound_from).await
    }

    async fn route_held(&self, id: i64, org: &OrgSlug, by: &str, at: i64) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        self.mark_key(&mut tx, Written::done("mail", id.to_string(), 202)).await?;
        let done = sqlx::query(
            "UPDATE inbound_mail SET state = 'pending', routed_to = $1, routed_by = $2, attempts = 0, \
             claimed_until = NULL, settled_at = $3 WHERE id = $4 AND state = 'held'",
        )
        .bind(org.as_str())
        .bind(by)
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
        if done.rows_affected() != 1 {
            // Not held (any more): nothing written, the key's mark is rolled back.
            return Ok(false);
        }
        tx.commit().await.map_err(backend_err)?;
        Ok(true)
    }

    async fn ticket_of_messages(&self, message_ids: &[String]) -> Result<Option<TicketId>, StoreError> {
        for id in message_ids.iter().take(20) {
            let sql = "SELECT ticket_id FROM inbound_mail WHERE message_id = $1 AND ticket_id IS NOT NULL ORDER BY id LIMIT 1";
            if let Some(t) = self.row(sqlx::query(sql).bind(id), |r| r.col::<String>("ticket_id")).await? {
                return Ok(Some(TicketId(t)));
            }
        }
        Ok(None)
    }

    async fn suppress(&self, address: &str, reason: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO mail_suppressions (address, reason, at) VALUES ($1, $2, $3) \
             ON CONFLICT (address) DO UPDATE SET reason = excluded.reason, at = excluded.at",
        )
        .bind(address.to_ascii_lowercase())
        .bind(reason)
        .bind(at)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn suppressed(&self, address: &str) -> Result<Option<String>, StoreError> {
        let sql = "SELECT reason FROM mail_suppressions WHERE address = $1";
        self.row(sqlx::query(sql).bind(address.to_ascii_lowercase()), |r| r.col("reason")).await
    }

    async fn unsuppress(&self, address: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM mail_suppressions WHERE address = $1")
            .bind(address.to_ascii_lowercase())
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn mailed(&self, delivery: &str, address: &str) -> Result<bool, StoreError> {
        let sql = "SELECT d.id FROM deliveries d LEFT JOIN contact_methods c ON c.id = d.method_id \
                   WHERE d.id = $1 AND lower(COALESCE(d.channel_address, c.address)) = $2";
        let found =
            self.row(sqlx::query(sql).bind(delivery).bind(address.to_ascii_lowercase()), |r| r.col::<String>("id"));
        Ok(found.await?.is_some())
    }

    async fn mail_updates(&self, user: &UserRecord) -> Result<Vec<Inform>, StoreError> {
        let sql = "SELECT updates FROM mail_preferences WHERE user_id = $1";
        let chosen: Option<Vec<Inform>> =
            self.row(sqlx::query(sql).bind(user.id.as_str()), |r| r.json("updates")).await?;
        Ok(chosen.unwrap_or_else(|| Inform::ALL.to_vec()))
    }

    async fn set_mail_updates(&self, user: &UserRecord, updates: &[Inform]) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO mail_preferences (user_id, updates) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET updates = excluded.updates",
        )
        .bind(user.id.as_str())
        .bind(json(&updates))
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn sender_orgs(&self, email: &str) -> Result<Vec<OrgSlug>, StoreError> {
        let sql = "SELECT DISTINCT org FROM users WHERE LOWER(email) = LOWER($1) AND org IS NOT NULL \
                   AND deactivated_at IS NULL ORDER BY org";
        self.rows(sqlx::query(sql).bind(email), |r| Ok(OrgSlug(r.col("org")?))).await
    }

    async fn mail_policy(&self, org: &OrgSlug) -> Result<OrgMailPolicy, StoreError> {
        let sql = "SELECT mail_unknown_senders, mail_subject_severity, mail_accept_domains FROM orgs WHERE slug = $1";
        let found = self
            .row(sqlx::query(sql).bind(org.as_str()), |r| {
                Ok(OrgMailPolicy {
                    unknown_senders: r.named::<UnknownSenders>("mail_unknown_senders")?,
                    subject_severity: r.flag("mail_subject_severity")?,
                    accept_domains: r.json("mail_accept_domains")?,
                })
            })
            .await?;
        Ok(found.unwrap_or_default())
    }

    async fn set_mail_policy(&self, org: &OrgSlug, policy: OrgMailPolicy) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE orgs SET mail_unknown_senders = $1, mail_subject_severity = $2, mail_accept_domains = $4 \
             WHERE slug = $3",
        )
        .bind(crate::rows::name_of(&policy.unknown_senders))
        .bind(i64::from(policy.subject_severity))
        .bind(org.as_str())
        .bind(json(&policy.accept_domains))
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(())
    }
}

impl SqlStore {
    /// Customer updates in the outbox not yet turned into letters (see `DeliveryStore`).
    pub(crate) async fn informs_undispatched(&self, limit: i64) -> Result<Vec<InformEntry>, StoreError> {
        let sql =
            "SELECT id, ticket_id, at, body FROM outbox WHERE kind = $1 AND dispatched_at IS NULL ORDER BY id LIMIT $2";
        self.rows(sqlx::query(sql).bind(CUSTOMER_INFORM).bind(limit), |r| {
            let body: serde_json::Value = r.json("body")?;
            let inform = serde_json::from_value(body["inform"].clone())
                .map_err(|e| StoreError::Backend(format!("bad customer update in the outbox: {e}")))?;
            Ok(InformEntry {
                id: r.col("id")?,
                ticket: TicketId(r.col("ticket_id")?),
                inform,
                comment: body["comment"].as_str().map(str::to_string),
                at: Timestamp::from_second(r.col("at")?).map_err(|e| StoreError::Backend(e.to_string()))?,
            })
        })
        .await
    }

    /// What a letter about a ticket needs (see `DeliveryStore`).
    pub(crate) async fn context_of_letter(
        &self,
        ticket: &TicketId,
        inform: Inform,
        comment: Option<&str>,
    ) -> Result<Option<LetterContext>, StoreError> {
        let sql = "SELECT t.org AS org, t.number AS number, t.subject AS subject, t.state AS state, \
                   t.requester AS requester, g.name AS org_name FROM tickets t JOIN orgs g ON g.slug = t.org WHERE t.id = $1";
        let Some((key, subject, state, requester, org_name)) = self
            .row(sqlx::query(sql).bind(ticket.as_str()), |r| {
                let key =
                    TicketKey { org: OrgSlug(r.col("org")?), number: r.col::<Option<i64>>("number")?.unwrap_or(0) };
                Ok((
                    key,
                    r.col::<String>("subject")?,
                    r.json("state")?,
                    r.col::<Option<String>>("requester")?,
                    r.col::<String>("org_name")?,
                ))
            })
            .await?
        else {
            return Ok(None);
        };
        let mut recipients = Vec::new();
        if let Some(requester) = requester {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
            if let Some(user) = self.row(sqlx::query(&sql).bind(&requester), |r| user_from(r, "")).await?
                && user.deactivated_at.is_none()
                && user.org.is_some()
                && self.mail_updates(&user).await?.contains(&inform)
                && self.suppressed(&user.email).await?.is_none()
            {
                recipients.push(LetterRecipient { user_id: user.id.to_string(), email: user.email, name: user.name });
            }
        }
        let comment = match comment {
            Some(id) => {
                let sql = "SELECT c.body AS body, u.name AS author FROM comments c LEFT JOIN users u ON u.id = c.author \
                           WHERE c.id = $1 AND c.public = 1";
                self.row(sqlx::query(sql).bind(id), |r| {
                    Ok((
                        r.col::<Option<String>>("author")?.unwrap_or_else(|| "Support".into()),
                        r.col::<String>("body")?,
                    ))
                })
                .await?
            }
            None => None,
        };
        let sql =
            "SELECT message_id FROM inbound_mail WHERE ticket_id = $1 AND message_id IS NOT NULL ORDER BY id LIMIT 20";
        let thread = self.rows(sqlx::query(sql).bind(ticket.as_str()), |r| r.col::<String>("message_id")).await?;
        Ok(Some(LetterContext { key, subject, org_name, state, recipients, comment, thread }))
    }
}

impl Droppable for NewInbound {
    const INSERT: &'static str =
        "INSERT INTO inbound_mail (door, envelope_from, envelope_to, raw, received_at_ms, state, attempts, peer, helo)";
    const VALUES: usize = 9;
    const KIND: &'static str = "mail";

    fn bind<'q>(&'q self, query: Query<'q, Any, AnyArguments<'q>>) -> Query<'q, Any, AnyArguments<'q>> {
        query
            .bind(crate::rows::name_of(&self.door))
            .bind(&self.envelope_from)
            .bind(json(&self.envelope_to))
            .bind(self.raw.clone())
            .bind(self.received_at_ms)
            .bind("pending")
            .bind(0i64)
            .bind(&self.peer)
            .bind(&self.helo)
    }
}
