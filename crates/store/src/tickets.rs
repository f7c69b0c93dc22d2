//! Tickets, their timeline, comments, timers and outbox: the [`Store`] port the Desk
//! writes through, and the [`Queries`] read port the fronts show from.

use crate::accounts::USER_COLUMNS;
use crate::commit::status_name;
use crate::oncall::{SCHEDULE_COLUMNS, schedule_from};
use crate::rows::{RowExt, json, name_of, qualified};
use crate::{Backend, SqlStore, backend_err};
use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::Any;
use sqlx::any::AnyRow;
use stringer_app::ports::{Accounts, Backlog, Queries};
use stringer_app::records::{CommentRecord, DeliveryRecord, TicketFilter, TicketOrder, TicketRecord, TimelineRecord};
use stringer_app::{Change, Store, StoreError, StoredTicket, Timer};
use stringer_core::event::TimerKind;
use stringer_core::ids::{Deployment, OrgSlug, TicketId, TicketKey, UserId};
use stringer_core::oncall::Schedule;
use stringer_core::routing::{Roster, StaffMember};
use stringer_core::ticket::OrgProfile;

fn ts(secs: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_second(secs).map_err(|e| StoreError::Backend(format!("bad instant in database: {e}")))
}

pub(crate) fn ticket_from(row: &AnyRow) -> Result<TicketRecord, StoreError> {
    Ok(TicketRecord {
        id: TicketId(row.col("id")?),
        org: OrgSlug(row.col("org")?),
        number: row.col("number")?,
        requester: row.col::<Option<String>>("requester")?.map(UserId),
        subject: row.col("subject")?,
        description: row.col("description")?,
        state: row.json("state")?,
        version: row.col("version")?,
        updated_at: row.col("updated_at")?,
    })
}

fn comment_from(r: &AnyRow) -> Result<CommentRecord, StoreError> {
    Ok(CommentRecord {
        id: r.col("id")?,
        author: UserId(r.col("author")?),
        public: r.flag("public")?,
        body: r.col("body")?,
        created_at: r.col("created_at")?,
    })
}

fn timeline_from(r: &AnyRow) -> Result<TimelineRecord, StoreError> {
    Ok(TimelineRecord {
        seq: r.col("id")?,
        at: r.col("at")?,
        kind: r.col("kind")?,
        actor: r.col::<Option<String>>("actor")?.map(UserId),
        body: r.json("body")?,
    })
}

/// A delivery from columns named `prefix` + [`DELIVERY_COLUMNS`].
fn delivery_from(r: &AnyRow, prefix: &str) -> Result<DeliveryRecord, StoreError> {
    let c = |name: &str| format!("{prefix}{name}");
    Ok(DeliveryRecord {
        id: r.col(&c("id"))?,
        user_id: r.col(&c("user_id"))?,
        kind: r.named(&c("kind"))?,
        status: r.col(&c("status"))?,
        attempts: r.col(&c("attempts"))?,
        last_error: r.col(&c("last_error"))?,
        created_at: r.col(&c("created_at"))?,
        sent_at: r.col(&c("sent_at"))?,
    })
}

const DELIVERY_COLUMNS: &str = "id, user_id, kind, status, attempts, last_error, created_at, sent_at";

fn stored_from(r: &AnyRow) -> Result<StoredTicket, StoreError> {
    Ok(StoredTicket { ticket: r.json("state")?, version: r.col::<i64>("version")? as u64 })
}

fn timer_from(r: &AnyRow) -> Result<Timer, StoreError> {
    Ok(Timer { ticket: TicketId(r.col("ticket_id")?), kind: r.json::<TimerKind>("kind")?, at: ts(r.col("at")?)? })
}

pub(crate) const TICKET_COLUMNS: &str = "id, org, number, requester, subject, description, state, version, updated_at";

/// The ticket columns (as `t`) with the org's deployment, before a `WHERE`.
fn ticket_with_deployment() -> String {
    format!(
        "SELECT {}, o.deployment AS org_deployment FROM tickets t JOIN orgs o ON o.slug = t.org",
        qualified("t", TICKET_COLUMNS, "")
    )
}

/// A search as the backend's full-text engine reads it: every word must occur, and each
/// counts as the beginning of a word (`chec` finds "check"). The words are cut at
/// everything but letters and digits, as both engines' tokenizers do, so nothing typed is
/// ever query syntax. `None` when nothing searchable is left.
fn search_query(backend: Backend, words: &str) -> Option<String> {
    let terms: Vec<String> =
        words.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    if terms.is_empty() {
        return None;
    }
    Some(match backend {
        Backend::Sqlite => terms.iter().map(|t| format!("\"{t}\"*")).collect::<Vec<_>>().join(" "),
        Backend::Postgres => terms.iter().map(|t| format!("{t}:*")).collect::<Vec<_>>().join(" & "),
    })
}

/// A value bound to a dynamically built query.
enum Bind {
    Text(String),
    Int(i64),
}

impl Store for SqlStore {
    async fn put_org(&self, org: OrgProfile) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO orgs (slug, name, tier, deployment, tam, named_engineers, channel, email_tag, created_at) VALUES ($1, $1, $2, $3, NULL, '[]', NULL, $1, 0) ON CONFLICT (slug) DO UPDATE SET tier = excluded.tier, deployment = excluded.deployment",
        )
        .bind(org.slug.as_str())
        .bind(org.tier.as_str())
        .bind(name_of(&org.deployment))
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        self.rosters.clear();
        Ok(())
    }

    async fn org(&self, slug: &OrgSlug) -> Result<Option<OrgProfile>, StoreError> {
        Ok(Accounts::org(self, slug).await?.map(|o| o.profile()))
    }

    async fn ticket(&self, id: &TicketId) -> Result<Option<StoredTicket>, StoreError> {
        self.row(sqlx::query("SELECT state, version FROM tickets WHERE id = $1").bind(id.as_str()), stored_from).await
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
            out.extend(self.rows(query, stored_from).await?);
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
        // The earliest instant from the index on `at`, then the few timers at it: an `ORDER BY
        // at, ticket_id, kind` over the whole table sorted every timer (11 ms at 60,000 open
        // tickets, on every tick of an idle server).
        let sql = "SELECT ticket_id, kind, at FROM timers WHERE at = (SELECT MIN(at) FROM timers) ORDER BY ticket_id, kind LIMIT 1";
        self.row(sqlx::query(sql), timer_from).await
    }

    async fn roster(&self, org: &OrgSlug) -> Result<Roster, StoreError> {
        let miss = match self.rosters.get(org, std::time::Instant::now()) {
            Ok(roster) => return Ok(roster),
            Err(miss) => miss,
        };
        let record = Accounts::org(self, org).await?.ok_or_else(|| StoreError::Missing(format!("org {org}")))?;
        let sql =
            format!("SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE org = $1 OR org IS NULL ORDER BY org IS NULL, id");
        let specs = self.rows(sqlx::query(&sql).bind(org.as_str()), schedule_from).await?;
        // A schedule that no longer compiles (stored by an older version) covers nobody.
        let schedules = specs.iter().filter_map(|s| Schedule::compile(&s.spec).ok()).collect();
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org IS NULL AND deactivated_at IS NULL ORDER BY id");
        let staff = self
            .rows(sqlx::query(&sql), |r| {
                let user = crate::accounts::user_from(r, "")?;
                Ok(StaffMember { id: user.id.0, role: user.role, federal_cleared: user.federal_cleared })
            })
            .await?;
        let roster = Roster {
            org: record.slug,
            deployment: record.deployment,
            tam: record.tam.map(|t| t.0),
            named_engineers: record.named_engineers.into_iter().map(|e| e.0).collect(),
            schedules,
            staff,
        };
        self.rosters.put(org.clone(), roster.clone(), miss);
        Ok(roster)
    }
}

#[async_trait]
impl Queries for SqlStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.read).await.map_err(backend_err)?;
        Ok(())
    }

    async fn ticket(&self, id: &TicketId) -> Result<Option<(TicketRecord, Deployment)>, StoreError> {
        let sql = format!("{} WHERE t.id = $1", ticket_with_deployment());
        self.row(sqlx::query(&sql).bind(id.as_str()), |r| Ok((ticket_from(r)?, r.named("org_deployment")?))).await
    }

    async fn ticket_by_key(&self, key: &TicketKey) -> Result<Option<(TicketRecord, Deployment)>, StoreError> {
        let sql = format!("{} WHERE t.org = $1 AND t.number = $2", ticket_with_deployment());
        let read = sqlx::query(&sql).bind(key.org.as_str()).bind(key.number);
        self.row(read, |r| Ok((ticket_from(r)?, r.named("org_deployment")?))).await
    }

    async fn tickets(&self, filter: &TicketFilter) -> Result<Vec<TicketRecord>, StoreError> {
        let mut sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE 1 = 1");
        let mut binds = Vec::new();
        // Appends a clause, numbering its `?` placeholders after those before it.
        let mut add = |clause: &str, values: Vec<Bind>, sql: &mut String| {
            let mut pieces = clause.split('?');
            sql.push_str(pieces.next().unwrap_or_default());
            for (piece, value) in pieces.zip(values) {
                binds.push(value);
                sql.push_str(&format!("${}{piece}", binds.len()));
            }
        };
        if let Some(org) = &filter.org {
            add(" AND org = ?", vec![Bind::Text(org.to_string())], &mut sql);
        }
        if filter.hide_federal {
            sql.push_str(" AND org NOT IN (SELECT slug FROM orgs WHERE deployment = 'federal')");
        }
        if let Some(status) = filter.status {
            add(" AND status = ?", vec![Bind::Text(status_name(status).into())], &mut sql);
        }
        if let Some(severity) = &filter.severity {
            add(" AND severity = ?", vec![Bind::Text(severity.to_string())], &mut sql);
        }
        if let Some(due) = filter.due_before {
            add(" AND next_due IS NOT NULL AND next_due <= ?", vec![Bind::Int(due)], &mut sql);
        }
        if let Some(tier) = &filter.tier {
            add(" AND org IN (SELECT slug FROM orgs WHERE tier = ?)", vec![Bind::Text(tier.to_string())], &mut sql);
        }
        if filter.unresolved {
            sql.push_str(" AND status <> 'resolved'");
        }
        match &filter.assignee {
            Some(Some(who)) => add(" AND assignee = ?", vec![Bind::Text(who.to_string())], &mut sql),
            Some(None) => sql.push_str(" AND assignee IS NULL"),
            None => {}
        }
        if let Some(words) = filter.search.as_deref() {
            let public = if filter.search_internal { "" } else { " AND public = 1" };
            let text = search_query(self.backend, words).map(|query| {
                let matching = match self.backend {
                    Backend::Sqlite => "ticket_search MATCH ?",
                    Backend::Postgres => "doc @@ to_tsquery('simple', ?)",
                };
                (format!("id IN (SELECT ticket_id FROM ticket_search WHERE {matching}{public})"), query)
            });
            let key = TicketKey::parse(&words.trim().to_ascii_uppercase());
            match (text, key) {
                (Some((clause, query)), Some(key)) => add(
                    &format!(" AND ({clause} OR (org = ? AND number = ?))"),
                    vec![Bind::Text(query), Bind::Text(key.org.as_str().to_string()), Bind::Int(key.number)],
                    &mut sql,
                ),
                (Some((clause, query)), None) => add(&format!(" AND {clause}"), vec![Bind::Text(query)], &mut sql),
                (None, Some(key)) => add(
                    " AND org = ? AND number = ?",
                    vec![Bind::Text(key.org.as_str().to_string()), Bind::Int(key.number)],
                    &mut sql,
                ),
                (None, None) => sql.push_str(" AND 1 = 0"),
            }
        }
        if let Some(before) = &filter.before_id {
            add(" AND id < ?", vec![Bind::Text(before.to_string())], &mut sql);
        }
        let order = match filter.order {
            TicketOrder::Newest => " ORDER BY id DESC LIMIT ?",
            TicketOrder::DueFirst => " ORDER BY queue_key, id LIMIT ?",
        };
        add(order, vec![Bind::Int(filter.limit)], &mut sql);
        let mut query = sqlx::query::<Any>(&sql);
        for b in binds {
            query = match b {
                Bind::Text(s) => query.bind(s),
                Bind::Int(i) => query.bind(i),
            };
        }
        self.rows(query, ticket_from).await
    }

    async fn comments(&self, ticket: &TicketId) -> Result<Vec<CommentRecord>, StoreError> {
        let sql =
            "SELECT id, author, public, body, created_at FROM comments WHERE ticket_id = $1 ORDER BY created_at, id";
        self.rows(sqlx::query(sql).bind(ticket.as_str()), comment_from).await
    }

    async fn timeline(&self, ticket: &TicketId, after: i64, limit: i64) -> Result<Vec<TimelineRecord>, StoreError> {
        let sql =
            "SELECT id, at, kind, actor, body FROM timeline WHERE ticket_id = $1 AND id > $2 ORDER BY id LIMIT $3";
        self.rows(sqlx::query(sql).bind(ticket.as_str()).bind(after).bind(limit), timeline_from).await
    }

    async fn deliveries_to(
        &self,
        user: &UserId,
        limit: i64,
    ) -> Result<Vec<(DeliveryRecord, TicketRecord)>, StoreError> {
        let sql = format!(
            "SELECT {}, {} FROM deliveries d JOIN tickets t ON t.id = d.ticket_id WHERE d.user_id = $1 ORDER BY d.created_at DESC, d.id DESC LIMIT $2",
            qualified("d", DELIVERY_COLUMNS, "d_"),
            qualified("t", TICKET_COLUMNS, "")
        );
        self.rows(sqlx::query(&sql).bind(user.as_str()).bind(limit), |r| Ok((delivery_from(r, "d_")?, ticket_from(r)?)))
            .await
    }

    async fn deliveries(&self, ticket: &TicketId) -> Result<Vec<DeliveryRecord>, StoreError> {
        let sql = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE ticket_id = $1 ORDER BY created_at, id");
        self.rows(sqlx::query(&sql).bind(ticket.as_str()), |r| delivery_from(r, "")).await
    }

    async fn open_tickets_by_sla_state(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let sql = "SELECT sla_state, COUNT(*) AS n FROM tickets WHERE status <> 'resolved' GROUP BY sla_state ORDER BY sla_state";
        self.rows(sqlx::query(sql), |r| Ok((r.col("sla_state")?, r.col("n")?))).await
    }

    async fn timeline_mark(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(id), 0) AS mark FROM timeline")
            .fetch_one(&self.read)
            .await
            .map_err(backend_err)?;
        row.col("mark")
    }

    async fn backlog(&self, now: i64) -> Result<Backlog, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM timers WHERE at <= $1) AS timers_due, (SELECT COUNT(*) FROM outbox WHERE dispatched_at IS NULL) AS outbox_pending",
        )
        .bind(now)
        .fetch_one(&self.read)
        .await
        .map_err(backend_err)?;
        Ok(Backlog { timers_due: row.col("timers_due")?, outbox_pending: row.col("outbox_pending")? })
    }
}
