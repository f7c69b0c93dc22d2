//! Group commit of ticket changes. Every [`Change`] goes to one committer task, which takes
//! whatever has queued up while the previous transaction ran and commits it as one
//! transaction with multi-row statements: a burst of N new tickets costs a handful of
//! statements instead of ten per ticket, which is what bounds an embedded SQLite's single
//! writer. Each change is still all-or-nothing and version-checked on its own: a change whose
//! ticket moved on is answered [`StoreError::Conflict`] and leaves no row, while the rest of
//! its batch commits. A caller is answered only after its transaction committed.

use crate::backend_err;
use sqlx::any::AnyArguments;
use sqlx::{Any, AnyPool, Row};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use stringer_app::{Change, StoreError};
use stringer_core::event::{TimerKind, TimerOp};
use stringer_core::ids::TicketId;
use stringer_core::sla::ClockState;
use stringer_core::ticket::{Status, Ticket};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// The most changes committed in one transaction.
const MAX_BATCH: usize = 256;
/// The most rows in one multi-row statement (keeps binds far below both backends' limits).
const ROWS_PER_STATEMENT: usize = 100;

/// A change waiting for its transaction, with where to send the outcome.
struct Pending {
    change: Change,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// The handle the store keeps: sends changes to the committer task.
#[derive(Clone, Debug)]
pub(crate) struct Committer {
    queue: mpsc::UnboundedSender<Pending>,
}

impl Committer {
    /// Starts the committer task on the current runtime. `lanes` transactions may run at once
    /// (1 for SQLite's single writer; more for PostgreSQL).
    pub(crate) fn start(pool: AnyPool, lanes: usize) -> Committer {
        let (queue, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(pool, rx, lanes));
        Committer { queue }
    }

    /// Commits the changes, each atomically on its own; outcomes in the same order.
    pub(crate) async fn commit_all(&self, changes: Vec<Change>) -> Vec<Result<(), StoreError>> {
        let mut waiting = Vec::with_capacity(changes.len());
        for change in changes {
            let (done, outcome) = oneshot::channel();
            let sent = self.queue.send(Pending { change, done }).is_ok();
            waiting.push((sent, outcome));
        }
        let mut out = Vec::with_capacity(waiting.len());
        for (sent, outcome) in waiting {
            out.push(match (sent, outcome.await) {
                (true, Ok(result)) => result,
                _ => Err(StoreError::Backend("the store is closed".into())),
            });
        }
        out
    }
}

async fn run(pool: AnyPool, mut rx: mpsc::UnboundedReceiver<Pending>, lanes: usize) {
    let lanes = Arc::new(Semaphore::new(lanes.max(1)));
    loop {
        // Wait for a lane first: while the previous transaction runs, changes queue up and
        // all go into the next one.
        let Ok(lane) = lanes.clone().acquire_owned().await else { return };
        let Some(first) = rx.recv().await else { return };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let pool = pool.clone();
        tokio::spawn(async move {
            commit_batch(&pool, batch).await;
            drop(lane);
        });
    }
}

/// Commits a batch; when the batch as a whole fails (a backend error, not a version
/// conflict), commits its changes one by one so each caller gets its own outcome.
async fn commit_batch(pool: &AnyPool, mut batch: Vec<Pending>) {
    // Row locks are taken in ticket order, so concurrent lanes cannot deadlock.
    batch.sort_by(|a, b| a.change.ticket.id.cmp(&b.change.ticket.id));
    let changes: Vec<&Change> = batch.iter().map(|p| &p.change).collect();
    let outcomes = match write(pool, &changes).await {
        Ok(outcomes) => outcomes,
        Err(e) if batch.len() == 1 => vec![Err(single_error(e, &batch[0].change.ticket.id))],
        Err(_) => {
            let mut outcomes = Vec::with_capacity(batch.len());
            for change in &changes {
                outcomes.push(match write(pool, &[change]).await {
                    Ok(mut one) => one.pop().unwrap_or(Ok(())),
                    Err(e) => Err(single_error(e, &change.ticket.id)),
                });
            }
            outcomes
        }
    };
    for (pending, outcome) in batch.into_iter().zip(outcomes) {
        let _ = pending.done.send(outcome);
    }
}

fn single_error(e: sqlx::Error, id: &TicketId) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::Missing(format!("ticket {id}")),
        _ => backend_err(e),
    }
}

/// One transaction for `changes`: per change `Ok` or `Conflict`; `Err` when the transaction
/// failed and nothing was written.
async fn write(pool: &AnyPool, changes: &[&Change]) -> Result<Vec<Result<(), StoreError>>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut outcomes: Vec<Result<(), StoreError>> = changes.iter().map(|_| Ok(())).collect();

    // The guards: new tickets inserted unless their id exists; changed ones updated only at
    // the version their change was decided on. Changes of one ticket go in rounds (its
    // first change in the first round, …), so they meet the database in their order.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut rounds: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        let n = seen.entry(c.ticket.id.as_str()).or_insert(0);
        if rounds.len() <= *n {
            rounds.push(Default::default());
        }
        let (inserts, updates) = &mut rounds[*n];
        if c.expected_version.is_none() {
            inserts.push(i)
        } else {
            updates.push(i)
        }
        *n += 1;
    }
    for (inserts, updates) in &rounds {
        let mut written = HashSet::new();
        for chunk in inserts.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<&Change> = chunk.iter().map(|&i| changes[i]).collect();
            let sql = insert_tickets_sql(rows.len());
            for row in bind_tickets(sqlx::query(&sql), &rows).fetch_all(&mut *tx).await? {
                written.insert(row.try_get::<String, _>("id")?);
            }
        }
        for chunk in updates.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<&Change> = chunk.iter().map(|&i| changes[i]).collect();
            let sql = update_tickets_sql(rows.len());
            for row in bind_updates(sqlx::query(&sql), &rows).fetch_all(&mut *tx).await? {
                written.insert(row.try_get::<String, _>("id")?);
            }
        }
        for &i in inserts.iter().chain(updates) {
            if !written.contains(changes[i].ticket.id.as_str()) {
                outcomes[i] = Err(StoreError::Conflict(changes[i].ticket.id.clone()));
            }
        }
    }

    // What the applied changes bring along, in their order.
    let applied: Vec<&Change> = changes.iter().zip(&outcomes).filter(|(_, o)| o.is_ok()).map(|(c, _)| *c).collect();
    let mut timeline: Vec<[Value; 5]> = Vec::new();
    let mut outbox: Vec<[Value; 5]> = Vec::new();
    let mut comments: Vec<[Value; 6]> = Vec::new();
    // The net effect on each (ticket, kind): the last operation wins.
    let mut timer_ops: HashMap<(&str, String), Option<i64>> = HashMap::new();
    let mut timer_order = Vec::new();
    for c in &applied {
        let id = c.ticket.id.as_str();
        let at = c.at.as_second();
        if let Some(event) = &c.event {
            let body = serde_json::to_value(event).expect("events serialize");
            let kind = body["kind"].as_str().unwrap_or_default().to_string();
            timeline.push([
                Value::Text(id.into()),
                Value::Int(event.at().as_second()),
                Value::Text(kind),
                Value::OptText(c.extras.actor.clone()),
                Value::Text(body.to_string()),
            ]);
        }
        for n in &c.notices {
            let body = json(n);
            let (when, kind) = (n.at.as_second(), n.body.kind().to_string());
            timeline.push([
                Value::Text(id.into()),
                Value::Int(when),
                Value::Text(kind.clone()),
                Value::OptText(None),
                Value::Text(body.clone()),
            ]);
            outbox.push([
                Value::Text(id.into()),
                Value::Int(when),
                Value::Text(kind),
                Value::Text(body),
                Value::Int(at),
            ]);
        }
        if let Some(cm) = &c.extras.comment {
            comments.push([
                Value::Text(cm.id.clone()),
                Value::Text(id.into()),
                Value::Text(cm.author.clone()),
                Value::Int(i64::from(cm.public)),
                Value::Text(cm.body.clone()),
                Value::Int(at),
            ]);
        }
        for op in &c.timers {
            let (kind, when) = match op {
                TimerOp::Set { kind, at } => (kind, Some(at.as_second())),
                TimerOp::Cancel { kind } => (kind, None),
            };
            let key = (id, timer_key(kind));
            if timer_ops.insert(key.clone(), when).is_none() {
                timer_order.push(key);
            }
        }
    }
    insert_rows(&mut tx, "timeline (ticket_id, at, kind, actor, body)", &timeline).await?;
    insert_rows(&mut tx, "outbox (ticket_id, at, kind, body, created_at)", &outbox).await?;
    insert_rows(&mut tx, "comments (id, ticket_id, author, public, body, created_at)", &comments).await?;

    let mut sets: Vec<[Value; 3]> = Vec::new();
    let mut cancels: Vec<[Value; 2]> = Vec::new();
    for key in timer_order {
        match timer_ops[&key] {
            Some(at) => sets.push([Value::Text(key.0.into()), Value::Text(key.1), Value::Int(at)]),
            None => cancels.push([Value::Text(key.0.into()), Value::Text(key.1)]),
        }
    }
    for chunk in sets.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO timers (ticket_id, kind, at) VALUES {} ON CONFLICT (ticket_id, kind) DO UPDATE SET at = excluded.at, claimed_until = NULL",
            placeholders(chunk.len(), 3)
        );
        bind_rows(sqlx::query(&sql), chunk).execute(&mut *tx).await?;
    }
    for chunk in cancels.chunks(ROWS_PER_STATEMENT) {
        let pairs: Vec<String> =
            (0..chunk.len()).map(|r| format!("(ticket_id = ${} AND kind = ${})", 2 * r + 1, 2 * r + 2)).collect();
        let sql = format!("DELETE FROM timers WHERE {}", pairs.join(" OR "));
        bind_rows(sqlx::query(&sql), chunk).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// A value bound into a multi-row statement.
#[derive(Clone)]
enum Value {
    Text(String),
    OptText(Option<String>),
    Int(i64),
}

fn bind_rows<'q, const N: usize>(
    mut q: sqlx::query::Query<'q, Any, AnyArguments<'q>>,
    rows: &[[Value; N]],
) -> sqlx::query::Query<'q, Any, AnyArguments<'q>> {
    for row in rows {
        for v in row {
            q = match v.clone() {
                Value::Text(s) => q.bind(s),
                Value::OptText(s) => q.bind(s),
                Value::Int(i) => q.bind(i),
            };
        }
    }
    q
}

/// `($1, $2, $3), ($4, $5, $6), …` for `rows` rows of `width` values.
fn placeholders(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", (1..=width).map(|c| format!("${}", r * width + c)).collect::<Vec<_>>().join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn insert_rows<const N: usize>(
    tx: &mut sqlx::Transaction<'_, Any>,
    into: &str,
    rows: &[[Value; N]],
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = format!("INSERT INTO {into} VALUES {}", placeholders(chunk.len(), N));
        bind_rows(sqlx::query(&sql), chunk).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Values bound per new ticket.
const TICKET_WIDTH: usize = 14;

/// The multi-row insert of `rows` new tickets, answering the ids it inserted.
fn insert_tickets_sql(rows: usize) -> String {
    format!(
        "INSERT INTO tickets (id, org, requester, subject, description, severity, status, security, channel, opened_at, next_due, sla_state, state, version, updated_at) VALUES {} ON CONFLICT (id) DO NOTHING RETURNING id",
        (0..rows)
            .map(|r| {
                let p: Vec<String> = (1..=TICKET_WIDTH).map(|c| format!("${}", r * TICKET_WIDTH + c)).collect();
                format!("({}, 1, {})", p[..13].join(", "), p[13])
            })
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Binds the new tickets' values in the order of [`insert_tickets_sql`].
fn bind_tickets<'q>(
    mut q: sqlx::query::Query<'q, Any, AnyArguments<'q>>,
    rows: &[&'q Change],
) -> sqlx::query::Query<'q, Any, AnyArguments<'q>> {
    for c in rows {
        let t = &c.ticket;
        let details = c.extras.details.clone().unwrap_or_default();
        q = q
            .bind(t.id.as_str())
            .bind(t.org.as_str())
            .bind(details.requester)
            .bind(details.subject)
            .bind(details.description)
            .bind(t.severity.as_str())
            .bind(status_name(t.status))
            .bind(i64::from(t.security))
            .bind(t.channel.map(|ch| json(&ch).trim_matches('"').to_string()))
            .bind(t.opened_at.as_second())
            .bind(next_due(t))
            .bind(sla_state(t))
            .bind(json(t))
            .bind(c.at.as_second());
    }
    q
}

/// The multi-row, version-checked update of `rows` tickets, answering the ids it updated.
/// The values' columns are `column1…column8` on both backends; casts type the integers.
fn update_tickets_sql(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let p = |c: usize| format!("${}", r * 8 + c);
            format!(
                "({}, CAST({} AS BIGINT), {}, {}, CAST({} AS BIGINT), {}, {}, CAST({} AS BIGINT))",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                p(6),
                p(7),
                p(8)
            )
        })
        .collect();
    format!(
        "UPDATE tickets SET severity = v.column3, status = v.column4, next_due = v.column5, sla_state = v.column6, state = v.column7, version = tickets.version + 1, updated_at = v.column8 FROM (VALUES {}) AS v WHERE tickets.id = v.column1 AND tickets.version = v.column2 RETURNING tickets.id AS id",
        values.join(", ")
    )
}

/// Binds the changed tickets' values in the order of [`update_tickets_sql`].
fn bind_updates<'q>(
    mut q: sqlx::query::Query<'q, Any, AnyArguments<'q>>,
    rows: &[&'q Change],
) -> sqlx::query::Query<'q, Any, AnyArguments<'q>> {
    for c in rows {
        let t = &c.ticket;
        q = q
            .bind(t.id.as_str())
            .bind(c.expected_version.unwrap_or_default() as i64)
            .bind(t.severity.as_str())
            .bind(status_name(t.status))
            .bind(next_due(t))
            .bind(sla_state(t))
            .bind(json(t))
            .bind(c.at.as_second());
    }
    q
}

fn timer_key(kind: &TimerKind) -> String {
    json(kind)
}

pub(crate) fn status_name(s: Status) -> &'static str {
    match s {
        Status::Open => "open",
        Status::WaitingOnCustomer => "waiting_on_customer",
        Status::Resolved => "resolved",
    }
}

/// The ticket's worst clock state, for counting: breached, running, paused, met (or `none`).
fn sla_state(t: &Ticket) -> &'static str {
    let has = |state| t.clocks.iter().any(|c| c.state == state);
    if has(ClockState::Breached) {
        "breached"
    } else if has(ClockState::Running) {
        "running"
    } else if has(ClockState::Paused) {
        "paused"
    } else if has(ClockState::Met) {
        "met"
    } else {
        "none"
    }
}

/// The earliest due time among the ticket's running clocks.
fn next_due(t: &Ticket) -> Option<i64> {
    t.clocks.iter().filter(|c| c.state == ClockState::Running).filter_map(|c| c.due).map(|d| d.as_second()).min()
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("domain values serialize")
}
