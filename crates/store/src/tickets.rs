//! Tickets, their timeline, comments, timers and outbox; the [`Store`] port for the Desk;
//! idempotency keys.

use crate::commit::status_name;
use crate::{Backend, SqlStore, backend_err};
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{Any, Row};
use stringer_app::{Change, Store, StoreError, StoredTicket, Timer};
use stringer_core::event::TimerKind;
use stringer_core::ids::{Deployment, OrgSlug, TicketId};
use stringer_core::ticket::{OrgProfile, Status, Ticket};

/// A ticket as stored: descriptive fields plus the rules' state.
#[derive(Clone, Debug, PartialEq)]
pub struct TicketRecord {
    /// Identifier.
    pub id: String,
    /// The customer org.
    pub org: String,
    /// The customer user who asked.
    pub requester: Option<String>,
    /// One-line summary.
    pub subject: String,
    /// The request as written.
    pub description: String,
    /// The rules' state (severity, status, clocks, escalation …).
    pub state: Ticket,
    /// Incremented by every change.
    pub version: i64,
    /// Unix seconds of the last change.
    pub updated_at: i64,
}

/// A comment as stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CommentRecord {
    /// Identifier.
    pub id: String,
    /// Who wrote it.
    pub author: String,
    /// Visible to the customer.
    pub public: bool,
    /// The text.
    pub body: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// One timeline entry: an event or a notice, in the simulator's vocabulary.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TimelineRecord {
    /// Position in the timeline.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// `ticket.opened`, `page`, `sla.breached` …
    pub kind: String,
    /// Who caused it, when a person did.
    pub actor: Option<String>,
    /// The event or notice as JSON.
    pub body: serde_json::Value,
}

/// What claiming an idempotency key found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyClaim {
    /// The key is the caller's to use now.
    New,
    /// Another request with this key is running.
    InProgress,
    /// The key was used for a different request.
    OtherRequest,
    /// The request was done; its final response.
    Done {
        /// HTTP status.
        status: i64,
        /// The response body (without any one-time secret).
        body: String,
        /// Whether a one-time secret was taken out of the body.
        redacted: bool,
    },
}

/// Which tickets a listing returns.
#[derive(Clone, Debug, Default)]
pub struct TicketFilter {
    /// Only this org's.
    pub org: Option<String>,
    /// Hide federal orgs' tickets (for staff not cleared for federal).
    pub hide_federal: bool,
    /// Only this status.
    pub status: Option<Status>,
    /// Only this severity.
    pub severity: Option<String>,
    /// Only tickets with a running clock due at or before this instant (Unix seconds).
    pub due_before: Option<i64>,
    /// Only ids before this one (the cursor: ids sort by creation).
    pub before_id: Option<String>,
    /// At most this many.
    pub limit: i64,
}

fn ts(secs: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_second(secs).map_err(|e| StoreError::Backend(format!("bad instant in database: {e}")))
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("domain values serialize")
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Backend(format!("bad JSON in database: {e}")))
}

fn ticket_from(row: &AnyRow) -> Result<TicketRecord, StoreError> {
    Ok(TicketRecord {
        id: row.try_get("id").map_err(backend_err)?,
        org: row.try_get("org").map_err(backend_err)?,
        requester: row.try_get("requester").map_err(backend_err)?,
        subject: row.try_get("subject").map_err(backend_err)?,
        description: row.try_get("description").map_err(backend_err)?,
        state: from_json(&row.try_get::<String, _>("state").map_err(backend_err)?)?,
        version: row.try_get("version").map_err(backend_err)?,
        updated_at: row.try_get("updated_at").map_err(backend_err)?,
    })
}

const TICKET_COLUMNS: &str = "id, org, requester, subject, description, state, version, updated_at";

/// A value bound to a dynamically built query.
enum Bind {
    Text(String),
    Int(i64),
}

impl SqlStore {
    /// A ticket with its descriptive fields.
    pub async fn get_ticket(&self, id: &str) -> Result<Option<TicketRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(backend_err)?;
        row.as_ref().map(ticket_from).transpose()
    }

    /// A ticket with its org's deployment (what tenant isolation needs), in one query.
    pub async fn get_ticket_for_access(&self, id: &str) -> Result<Option<(TicketRecord, Deployment)>, StoreError> {
        let columns: Vec<String> = TICKET_COLUMNS.split(", ").map(|c| format!("t.{c} AS {c}")).collect();
        let sql = format!(
            "SELECT {}, o.deployment AS org_deployment FROM tickets t JOIN orgs o ON o.slug = t.org WHERE t.id = $1",
            columns.join(", ")
        );
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.read).await.map_err(backend_err)?;
        let Some(row) = row else { return Ok(None) };
        let deployment: String = row.try_get("org_deployment").map_err(backend_err)?;
        let deployment = serde_json::from_value(serde_json::Value::String(deployment))
            .map_err(|_| StoreError::Backend("bad deployment in database".into()))?;
        Ok(Some((ticket_from(&row)?, deployment)))
    }

    /// Tickets matching `filter`, newest first.
    pub async fn list_tickets(&self, filter: &TicketFilter) -> Result<Vec<TicketRecord>, StoreError> {
        let mut sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE 1 = 1");
        let mut binds = Vec::new();
        let mut add = |clause: &str, value: Bind, sql: &mut String| {
            binds.push(value);
            sql.push_str(&clause.replace('?', &format!("${}", binds.len())));
        };
        if let Some(org) = &filter.org {
            add(" AND org = ?", Bind::Text(org.clone()), &mut sql);
        }
        if filter.hide_federal {
            sql.push_str(" AND org NOT IN (SELECT slug FROM orgs WHERE deployment = 'federal')");
        }
        if let Some(status) = filter.status {
            add(" AND status = ?", Bind::Text(status_name(status).into()), &mut sql);
        }
        if let Some(severity) = &filter.severity {
            add(" AND severity = ?", Bind::Text(severity.clone()), &mut sql);
        }
        if let Some(due) = filter.due_before {
            add(" AND next_due IS NOT NULL AND next_due <= ?", Bind::Int(due), &mut sql);
        }
        if let Some(before) = &filter.before_id {
            add(" AND id < ?", Bind::Text(before.clone()), &mut sql);
        }
        add(" ORDER BY id DESC LIMIT ?", Bind::Int(filter.limit), &mut sql);
        let mut query = sqlx::query::<Any>(&sql);
        for b in binds {
            query = match b {
                Bind::Text(s) => query.bind(s),
                Bind::Int(i) => query.bind(i),
            };
        }
        let rows = query.fetch_all(&self.read).await.map_err(backend_err)?;
        rows.iter().map(ticket_from).collect()
    }

    /// A ticket's comments, oldest first.
    pub async fn list_comments(&self, ticket: &str) -> Result<Vec<CommentRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, author, public, body, created_at FROM comments WHERE ticket_id = $1 ORDER BY created_at, id",
        )
        .bind(ticket)
        .fetch_all(&self.read)
        .await
        .map_err(backend_err)?;
        rows.iter()
            .map(|r| {
                Ok(CommentRecord {
                    id: r.try_get("id").map_err(backend_err)?,
                    author: r.try_get("author").map_err(backend_err)?,
                    public: r.try_get::<i64, _>("public").map_err(backend_err)? != 0,
                    body: r.try_get("body").map_err(backend_err)?,
                    created_at: r.try_get("created_at").map_err(backend_err)?,
                })
            })
            .collect()
    }

    /// A ticket's timeline, oldest first.
    pub async fn timeline(&self, ticket: &str) -> Result<Vec<TimelineRecord>, StoreError> {
        let rows = sqlx::query("SELECT id, at, kind, actor, body FROM timeline WHERE ticket_id = $1 ORDER BY id")
            .bind(ticket)
            .fetch_all(&self.read)
            .await
            .map_err(backend_err)?;
        rows.iter()
            .map(|r| {
                Ok(TimelineRecord {
                    seq: r.try_get("id").map_err(backend_err)?,
                    at: r.try_get("at").map_err(backend_err)?,
                    kind: r.try_get("kind").map_err(backend_err)?,
                    actor: r.try_get("actor").map_err(backend_err)?,
                    body: from_json(&r.try_get::<String, _>("body").map_err(backend_err)?)?,
                })
            })
            .collect()
    }

    /// Claims an idempotency key for a user's request at `now`: [`KeyClaim::New`] when the
    /// key is new — or was claimed by a request that died (in progress for `lease` seconds
    /// or more, with the same request), or finished more than `expiry` seconds ago — and the
    /// caller goes on and later calls [`SqlStore::finish_idempotent`]; otherwise what was seen.
    pub async fn claim_idempotent(
        &self,
        user: &str,
        key: &str,
        request_hash: &str,
        now: i64,
        lease: i64,
        expiry: i64,
    ) -> Result<KeyClaim, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, created_at) VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT (user_id, key) DO NOTHING",
        )
        .bind(user)
        .bind(key)
        .bind(request_hash)
        .bind(now)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        if inserted.rows_affected() == 1 {
            return Ok(KeyClaim::New);
        }
        let taken_over = sqlx::query(
            "UPDATE idempotency_keys SET created_at = $3, request_hash = $4, status = 0, body = '', redacted = 0 WHERE user_id = $1 AND key = $2 AND ((status = 0 AND created_at <= $5 AND request_hash = $4) OR (status <> 0 AND created_at <= $6))",
        )
        .bind(user)
        .bind(key)
        .bind(now)
        .bind(request_hash)
        .bind(now - lease)
        .bind(now - expiry)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        if taken_over.rows_affected() == 1 {
            return Ok(KeyClaim::New);
        }
        let row = sqlx::query(
            "SELECT request_hash, status, body, redacted FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        )
        .bind(user)
        .bind(key)
        .fetch_one(&self.write)
        .await
        .map_err(backend_err)?;
        let seen_hash: String = row.try_get("request_hash").map_err(backend_err)?;
        let status: i64 = row.try_get("status").map_err(backend_err)?;
        Ok(if seen_hash != request_hash {
            KeyClaim::OtherRequest
        } else if status == 0 {
            KeyClaim::InProgress
        } else {
            KeyClaim::Done {
                status,
                body: row.try_get("body").map_err(backend_err)?,
                redacted: row.try_get::<i64, _>("redacted").map_err(backend_err)? != 0,
            }
        })
    }

    /// Records the final response of a claimed request (`redacted`: a one-time secret was
    /// taken out of `body`).
    pub async fn finish_idempotent(
        &self,
        user: &str,
        key: &str,
        status: i64,
        body: &str,
        redacted: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE idempotency_keys SET status = $1, body = $2, redacted = $3 WHERE user_id = $4 AND key = $5",
        )
        .bind(status)
        .bind(body)
        .bind(i64::from(redacted))
        .bind(user)
        .bind(key)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    /// Releases a claimed key whose request ended without a final outcome.
    pub async fn release_idempotent(&self, user: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status = 0")
            .bind(user)
            .bind(key)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    /// Forgets idempotency keys claimed at or before `before`; answers how many.
    pub async fn purge_idempotency_keys(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at <= $1")
            .bind(before)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(done.rows_affected())
    }

    /// Unresolved tickets counted by their worst SLA clock state.
    pub async fn open_tickets_by_sla_state(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query("SELECT sla_state, COUNT(*) AS n FROM tickets WHERE status <> 'resolved' GROUP BY sla_state ORDER BY sla_state")
            .fetch_all(&self.read)
            .await
            .map_err(backend_err)?;
        rows.iter()
            .map(|r| Ok((r.try_get("sla_state").map_err(backend_err)?, r.try_get("n").map_err(backend_err)?)))
            .collect()
    }
}

impl Store for SqlStore {
    async fn put_org(&self, org: OrgProfile) -> Result<(), StoreError> {
        let deployment = json(&org.deployment);
        sqlx::query(
            "INSERT INTO orgs (slug, name, tier, deployment, tam, named_engineers, slack_channel, email_tag, created_at) VALUES ($1, $1, $2, $3, $4, '[]', NULL, $1, 0) ON CONFLICT (slug) DO UPDATE SET tier = excluded.tier, deployment = excluded.deployment, tam = excluded.tam",
        )
        .bind(org.slug.as_str())
        .bind(org.tier.as_str())
        .bind(deployment.trim_matches('"'))
        .bind(org.tam)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn org(&self, slug: &OrgSlug) -> Result<Option<OrgProfile>, StoreError> {
        Ok(self.get_org(slug.as_str()).await?.map(|o| o.profile()))
    }

    async fn ticket(&self, id: &TicketId) -> Result<Option<StoredTicket>, StoreError> {
        let row = sqlx::query("SELECT state, version FROM tickets WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(backend_err)?;
        row.as_ref().map(stored_from).transpose()
    }

    async fn tickets(&self, ids: &[TicketId]) -> Result<Vec<StoredTicket>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let params: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!("SELECT state, version FROM tickets WHERE id IN ({})", params.join(", "));
            let mut query = sqlx::query::<Any>(&sql);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for r in query.fetch_all(&self.read).await.map_err(backend_err)? {
                out.push(stored_from(&r)?);
            }
        }
        Ok(out)
    }

    async fn commit(&self, change: Change) -> Result<(), StoreError> {
        self.committer.commit_all(vec![change]).await.pop().unwrap_or(Ok(()))
    }

    async fn commit_all(&self, changes: Vec<Change>) -> Vec<Result<(), StoreError>> {
        self.committer.commit_all(changes).await
    }

    async fn claim_due_timers(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<Timer>, StoreError> {
        let pick = match self.backend {
            Backend::Postgres => {
                "SELECT ticket_id, kind FROM timers WHERE at <= $2 AND (claimed_until IS NULL OR claimed_until <= $2) ORDER BY at, ticket_id, kind LIMIT $3 FOR UPDATE SKIP LOCKED"
            }
            Backend::Sqlite => {
                "SELECT ticket_id, kind FROM timers WHERE at <= $2 AND (claimed_until IS NULL OR claimed_until <= $2) ORDER BY at, ticket_id, kind LIMIT $3"
            }
        };
        let rows = sqlx::query(&format!(
            "UPDATE timers SET claimed_until = $1 WHERE (ticket_id, kind) IN ({pick}) RETURNING ticket_id, kind, at"
        ))
        .bind(lease_until.as_second())
        .bind(now.as_second())
        .bind(limit as i64)
        .fetch_all(&self.write)
        .await
        .map_err(backend_err)?;
        let mut timers = rows.iter().map(timer_from).collect::<Result<Vec<_>, _>>()?;
        timers.sort_by(|a, b| (a.at, &a.ticket, &a.kind).cmp(&(b.at, &b.ticket, &b.kind)));
        Ok(timers)
    }

    async fn release_timer(&self, timer: &Timer) -> Result<(), StoreError> {
        sqlx::query("UPDATE timers SET claimed_until = NULL WHERE ticket_id = $1 AND kind = $2")
            .bind(timer.ticket.as_str())
            .bind(json(&timer.kind))
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn next_timer(&self) -> Result<Option<Timer>, StoreError> {
        let row = sqlx::query("SELECT ticket_id, kind, at FROM timers ORDER BY at, ticket_id, kind LIMIT 1")
            .fetch_optional(&self.read)
            .await
            .map_err(backend_err)?;
        row.as_ref().map(timer_from).transpose()
    }
}

fn stored_from(r: &AnyRow) -> Result<StoredTicket, StoreError> {
    Ok(StoredTicket {
        ticket: from_json(&r.try_get::<String, _>("state").map_err(backend_err)?)?,
        version: r.try_get::<i64, _>("version").map_err(backend_err)? as u64,
    })
}

fn timer_from(r: &AnyRow) -> Result<Timer, StoreError> {
    Ok(Timer {
        ticket: TicketId(r.try_get("ticket_id").map_err(backend_err)?),
        kind: from_json::<TimerKind>(&r.try_get::<String, _>("kind").map_err(backend_err)?)?,
        at: ts(r.try_get("at").map_err(backend_err)?)?,
    })
}
