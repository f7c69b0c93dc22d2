//! What a replay of history reads — the [`HistoryReads`] port: tickets with their timelines,
//! and the contracts the server ran under ([`ContractHistory`]).

use crate::rows::RowExt;
use crate::tickets::{TICKET_COLUMNS, ticket_from};
use crate::{Backend, SqlStore, backend_err};
use async_trait::async_trait;
use rustc_hash::FxHashMap;
use sqlx::any::AnyRow;
use std::collections::HashMap;
use stringer_app::StoreError;
use stringer_app::history::{ContractHistory, ContractRecord, EventHistory, HistoryReads, HistoryRow, TicketHistory};
use stringer_core::event::EVENT_KINDS;
use stringer_core::ids::{OrgSlug, TicketId, TicketKey, Tier};
use stringer_core::routing::RosterHistory;

fn record_from(r: &AnyRow) -> Result<ContractRecord, StoreError> {
    Ok(ContractRecord {
        at: r.col("at")?,
        name: r.col("name")?,
        version: r.col("version")?,
        sha256: r.col("sha256")?,
        source: r.col("source")?,
        stringer_version: r.col("stringer_version")?,
    })
}

#[async_trait]
impl ContractHistory for SqlStore {
    async fn record_contract(&self, record: &ContractRecord) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO contract_history (at, name, version, sha256, source, stringer_version) \
             SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM contract_history \
             WHERE id = (SELECT MAX(id) FROM contract_history) AND sha256 = $4 AND stringer_version = $6)",
        )
        .bind(record.at)
        .bind(record.name.as_str())
        .bind(record.version.as_str())
        .bind(record.sha256.as_str())
        .bind(record.source.as_str())
        .bind(record.stringer_version.as_str())
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn contracts(&self) -> Result<Vec<ContractRecord>, StoreError> {
        let sql = "SELECT at, name, version, sha256, source, stringer_version FROM contract_history ORDER BY id";
        self.rows(sqlx::query(sql), record_from).await
    }
}

/// Between two timeline rows in an aggregated read, and between a row's fields: the ASCII
/// record and unit separators, which JSON never holds unescaped.
const ROW_END: char = '\u{1e}';
const FIELD_END: char = '\u{1f}';

/// Timeline row ids a comparison's read covers per query (see [`SqlStore::event_histories`]).
const WINDOW: i64 = 20_000;

/// Tickets handed over at a time by [`SqlStore::event_histories`].
const BATCH: usize = 1_000;

/// A row's version as text, "" when it has none (written before the store kept versions).
const VERSION: &str = "COALESCE(CAST(version AS TEXT), '')";

/// The fields of a timeline row as one text (see [`fields`]): its instant, kind, version and
/// body.
fn row_fields(backend: Backend) -> String {
    fields(backend, &["at", "kind", VERSION, "body"])
}

/// The fields of an event row as a comparison reads it, as one text (see [`fields`]): its
/// ticket's id, version and body (the body holds its instant and kind).
fn event_fields(backend: Backend) -> String {
    fields(backend, &["ticket_id", VERSION, "body"])
}

/// `agg(fields, ROW_END ORDER BY id)` in the backend's words.
fn aggregate(backend: Backend, fields: &str) -> String {
    match backend {
        Backend::Sqlite => format!("group_concat({fields}, char(30) ORDER BY id)"),
        Backend::Postgres => format!("string_agg({fields}, chr(30) ORDER BY id)"),
    }
}

/// `kind IN (…the event kinds…)`.
fn is_event() -> String {
    format!("kind IN ({})", EVENT_KINDS.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", "))
}

/// A version as [`row_fields`] and [`event_fields`] write it ("" for none).
fn version(field: &str) -> Option<Option<i64>> {
    match field {
        "" => Some(None),
        v => v.parse().ok().map(Some),
    }
}

/// One row's fields, as [`row_fields`] aggregates them.
fn split_row(row: &str) -> Option<HistoryRow> {
    let mut fields = row.splitn(4, FIELD_END);
    let (at, kind, v, body) = (fields.next()?, fields.next()?, fields.next()?, fields.next()?);
    Some(HistoryRow { at: at.parse().ok()?, kind: kind.to_string(), version: version(v)?, body: body.to_string() })
}

/// The rows of a ticket's aggregated history.
fn split_history(id: &str, text: Option<&str>) -> Result<Vec<HistoryRow>, StoreError> {
    let Some(text) = text.filter(|t| !t.is_empty()) else { return Ok(Vec::new()) };
    text.split(ROW_END)
        .map(|row| {
            split_row(row)
                .ok_or_else(|| StoreError::Backend(format!("the timeline of ticket {id}: a row does not read")))
        })
        .collect()
}

/// Tickets a comparison's read asks for at a time.
const PAGE: usize = 20_000;

/// `fields` as one text, each after [`FIELD_END`] but the first.
fn fields(backend: Backend, fields: &[&str]) -> String {
    let (chr, text) = match backend {
        Backend::Sqlite => ("char", ""),
        Backend::Postgres => ("chr", "::text"),
    };
    fields.iter().map(|f| format!("({f}){text}")).collect::<Vec<_>>().join(&format!(" || {chr}(31) || "))
}

/// A ticket of a comparison's window before its rows are read, kept small (a window may
/// hold millions): its id, org (of those asked, by index), number, opening instant, tier (of
/// those met, by index) and the ids of its first and last timeline rows (0 when it has none).
struct Head {
    id: Box<str>,
    org: u32,
    number: i64,
    opened_at: i64,
    tier: u32,
    first: i64,
    last: i64,
}

impl Head {
    /// A ticket as the read aggregates it (see [`fields`]): its org looked up in `orgs` (by
    /// slug, to its index among those asked), its tier in (or added to) `tiers`.
    fn read(line: &str, orgs: &HashMap<&str, u32>, tiers: &mut Vec<Tier>) -> Option<Head> {
        let mut f = line.split(FIELD_END);
        let (id, org) = (f.next()?.into(), *orgs.get(f.next()?)?);
        let (number, opened_at) = (f.next()?.parse().ok()?, f.next()?.parse().ok()?);
        let tier = tier_index(tiers, &Tier::from(f.next().filter(|t| !t.is_empty())?));
        let (first, last) = (f.next()?.parse().ok()?, f.next()?.parse().ok()?);
        Some(Head { id, org, number, opened_at, tier, first, last })
    }

    /// The ticket as a comparison replays it, its rows still to come; it is the `order`-th
    /// of the read.
    fn history(&self, order: usize, orgs: &[OrgSlug], tiers: &[Tier]) -> Result<EventHistory, StoreError> {
        let opened_at = jiff::Timestamp::from_second(self.opened_at).map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(EventHistory {
            id: TicketId(self.id.to_string()),
            key: TicketKey { org: orgs[self.org as usize].clone(), number: self.number },
            tier: tiers[self.tier as usize].clone(),
            opened_at,
            order: order as u64,
            rows: Default::default(),
        })
    }
}

impl SqlStore {
    /// The tickets of `orgs` opened in `[from, until)` by opening instant and id (not in a
    /// comparison's order: see [`SqlStore::event_histories`]), page by page, each page read
    /// as one aggregated text (a row per ticket cost the read more than the ticket's
    /// columns); with the tiers they name.
    async fn heads(&self, orgs: &[OrgSlug], from: i64, until: i64) -> Result<(Vec<Head>, Vec<Tier>), StoreError> {
        let (mut heads, mut tiers): (Vec<Head>, Vec<Tier>) = (Vec::new(), Vec::new());
        if orgs.is_empty() {
            return Ok((heads, tiers));
        }
        let fields = fields(
            self.backend,
            &[
                "id",
                "org",
                "number",
                "opened_at",
                "COALESCE(tier, '')",
                "COALESCE(first_row, 0)",
                "COALESCE(last_row, 0)",
            ],
        );
        // The aggregate keeps the database's order: the next page starts after the last
        // ticket in the database's collation of ids, which need not be Rust's byte order.
        // SQLite's group_concat(… ORDER BY) would sort the page again in a table of its own;
        // the page comes off tickets_opened in that order already, and it aggregates its rows
        // as the ordered subquery gives them.
        let agg = match self.backend {
            Backend::Sqlite => format!("group_concat({fields}, char(30))"),
            Backend::Postgres => format!("string_agg({fields}, chr(30) ORDER BY opened_at, id)"),
        };
        // The tickets are read off tickets_opened (opening instant, id, then the columns read:
        // the tickets' rows are never visited), about the order they were written in;
        // `org || ''` keeps the planners off tickets(org, opened_at), whose order reads each
        // page of the timeline's index once per org it holds.
        let asked = (0..orgs.len()).map(|i| format!("${}", i + 5)).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {agg} AS heads FROM (SELECT id, org, number, opened_at, tier, \
             (SELECT MIN(id) FROM timeline WHERE ticket_id = tickets.id) AS first_row, \
             (SELECT MAX(id) FROM timeline WHERE ticket_id = tickets.id) AS last_row \
             FROM tickets WHERE opened_at >= $1 AND opened_at < $2 AND (opened_at > $1 OR id > $3) \
             AND (org || '') IN ({asked}) ORDER BY opened_at, id LIMIT $4) AS page"
        );
        let index: HashMap<&str, u32> = orgs.iter().enumerate().map(|(i, o)| (o.as_str(), i as u32)).collect();
        // The next page starts at the last ticket's instant, after its id: its instant is the
        // lower bound of the index's range (the same instant is not read again page by page).
        let mut after = (from, String::new());
        loop {
            let mut read = sqlx::query(&sql).bind(after.0).bind(until).bind(&after.1).bind(PAGE as i64);
            for org in orgs {
                read = read.bind(org.as_str());
            }
            let text: Option<String> = read.fetch_one(&self.read).await.map_err(backend_err)?.col("heads")?;
            let before = heads.len();
            for line in text.as_deref().unwrap_or_default().split(ROW_END).filter(|l| !l.is_empty()) {
                let bad = || StoreError::Backend(format!("a ticket does not read: {line:?}"));
                heads.push(Head::read(line, &index, &mut tiers).ok_or_else(bad)?);
            }
            match heads.last() {
                Some(last) if heads.len() - before == PAGE => after = (last.opened_at, last.id.to_string()),
                _ => break,
            }
        }
        Ok((heads, tiers))
    }
}

/// `tier`'s place in `tiers`, added when it is not there.
fn tier_index(tiers: &mut Vec<Tier>, tier: &Tier) -> u32 {
    match tiers.iter().position(|t| t == tier) {
        Some(i) => i as u32,
        None => {
            tiers.push(tier.clone());
            tiers.len() as u32 - 1
        }
    }
}

#[async_trait]
impl HistoryReads for SqlStore {
    async fn histories(
        &self,
        org: &OrgSlug,
        from: i64,
        until: i64,
        after: Option<(i64, TicketId)>,
        limit: i64,
    ) -> Result<Vec<TicketHistory>, StoreError> {
        // The page starts at the instant of the ticket `after` names, after its id: that instant
        // is the lower bound of the index's range.
        let (from, after) = match after {
            Some((at, id)) if at >= from => (at, id.0),
            _ => (from, String::new()),
        };
        let history = aggregate(self.backend, &row_fields(self.backend));
        let sql = format!(
            "SELECT {TICKET_COLUMNS}, (SELECT {history} FROM timeline WHERE ticket_id = tickets.id) AS history \
             FROM tickets WHERE org = $1 AND opened_at >= $2 AND opened_at < $3 \
             AND (opened_at > $2 OR id > $4) ORDER BY opened_at, id LIMIT $5"
        );
        let read = sqlx::query(&sql).bind(org.as_str()).bind(from).bind(until).bind(after);
        self.rows(read.bind(limit), |r| {
            let ticket = ticket_from(r)?;
            let rows = split_history(ticket.id.as_str(), r.col::<Option<String>>("history")?.as_deref())?;
            Ok(TicketHistory { ticket, rows })
        })
        .await
    }

    /// The window's tickets are read first, by opening instant (their tier, not their state), each with the ids of its first and last timeline row (from the
    /// ticket's index); then the timeline's event rows from the first such id to the last,
    /// in windows of [`WINDOW`] ids, each window one aggregated text: a read in the order
    /// the rows lie in the table, where reading ticket by ticket cost a random page per row.
    /// A ticket is held from its first row to its last.
    async fn event_histories(
        &self,
        orgs: &[OrgSlug],
        from: i64,
        until: i64,
        each: &mut (dyn FnMut(Vec<EventHistory>) -> bool + Send),
    ) -> Result<(), StoreError> {
        // Two halves of the window at once, on two connections: their reads (the database's
        // work) run side by side. Each half comes by opening instant; sorted by org (stably),
        // the tickets are in a comparison's order: the orgs as asked, each by opening instant
        // and id.
        let middle = ((i128::from(from) + i128::from(until)) / 2) as i64;
        let ((mut heads, mut tiers), (more, more_tiers)) =
            tokio::try_join!(self.heads(orgs, from, middle), self.heads(orgs, middle, until))?;
        for mut head in more {
            let tier = &more_tiers[head.tier as usize];
            head.tier = tier_index(&mut tiers, tier);
            heads.push(head);
        }
        heads.sort_by_key(|head| head.org);
        // Tickets with no row are handed over as they are; the rest (by their place in
        // `heads`, their order) when their first row is read and when their last is. Each
        // place is kept with its row id, so the sorts compare without reaching into `heads`;
        // row ids are unique, so the order does not depend on the sort.
        let mut batch = Vec::new();
        let (mut starts, mut ends): (Vec<(i64, u32)>, Vec<(i64, u32)>) = Default::default();
        for (order, head) in heads.iter().enumerate() {
            match head.first {
                0 => batch.push(head.history(order, orgs, &tiers)?),
                _ => {
                    starts.push((head.first, order as u32));
                    ends.push((head.last, order as u32));
                }
            }
        }
        starts.sort_unstable_by_key(|&(first, _)| std::cmp::Reverse(first));
        ends.sort_unstable_by_key(|&(last, _)| std::cmp::Reverse(last));
        let (Some(&(lo, _)), Some(&(hi, _))) = (starts.last(), ends.first()) else {
            if !batch.is_empty() {
                each(batch);
            }
            return Ok(());
        };
        // SQLite's group_concat(… ORDER BY id) sorts its rows again in a table of its own; the
        // rows of an id range come in id order already, so it aggregates them as an ordered
        // subquery gives them.
        let rows = format!("FROM timeline WHERE id >= $1 AND id < $2 AND {}", is_event());
        let fields = event_fields(self.backend);
        let sql = match self.backend {
            Backend::Sqlite => {
                format!("SELECT group_concat(r, char(30)) AS rows FROM (SELECT {fields} AS r {rows} ORDER BY id)")
            }
            Backend::Postgres => format!("SELECT {} AS rows {rows}", aggregate(self.backend, &fields)),
        };
        let sql = &sql;
        let window = |start: i64| async move {
            let end = start.saturating_add(WINDOW);
            let read = sqlx::query(sql).bind(start).bind(end).fetch_one(&self.read).await.map_err(backend_err)?;
            Ok::<_, StoreError>((start, end, read.col::<Option<String>>("rows")?))
        };
        // Looked up once per row read: a hash of the id's bytes that is quick on short keys.
        let mut live: FxHashMap<&str, EventHistory> = FxHashMap::default();
        let mut read = Some(window(lo).await?);
        while let Some((start, end, text)) = read.take() {
            // The next window is read while this one is taken apart.
            let next = async {
                match end <= hi {
                    true => window(end).await.map(Some),
                    false => Ok(None),
                }
            };
            let mut apart = || -> Result<bool, StoreError> {
                while let Some(&(_, i)) = starts.last().filter(|&&(first, _)| first < end) {
                    starts.pop();
                    let head = &heads[i as usize];
                    live.insert(&head.id, head.history(i as usize, orgs, &tiers)?);
                }
                for row in text.as_deref().unwrap_or_default().split(ROW_END).filter(|r| !r.is_empty()) {
                    let bad = || StoreError::Backend(format!("timeline rows {start} to {end}: a row does not read"));
                    let mut fields = row.splitn(3, FIELD_END);
                    let (ticket, v, body) = (fields.next(), fields.next(), fields.next());
                    let (Some(ticket), Some(v), Some(body)) = (ticket, v, body) else { return Err(bad()) };
                    // Rows of tickets outside the window (other orgs, other openings) are passed over.
                    if let Some(history) = live.get_mut(ticket) {
                        history.rows.push(version(v).ok_or_else(bad)?, body);
                    }
                }
                while let Some(&(_, i)) = ends.last().filter(|&&(last, _)| last < end) {
                    ends.pop();
                    batch.extend(live.remove(&*heads[i as usize].id));
                    if batch.len() >= BATCH && !each(std::mem::take(&mut batch)) {
                        return Ok(false);
                    }
                }
                Ok(true)
            };
            let (next, go_on) = tokio::join!(next, async { apart() });
            if !go_on? {
                return Ok(());
            }
            read = next?;
        }
        if !batch.is_empty() {
            each(batch);
        }
        Ok(())
    }

    async fn last_recorded(&self) -> Result<Option<i64>, StoreError> {
        let row =
            sqlx::query("SELECT MAX(at) AS last FROM timeline").fetch_one(&self.read).await.map_err(backend_err)?;
        row.col("last")
    }

    async fn rosters(&self, org: &OrgSlug) -> Result<RosterHistory, StoreError> {
        let sql = "SELECT at, roster FROM roster_history WHERE org = $1 ORDER BY id";
        let rows = self
            .rows(sqlx::query(sql).bind(org.as_str()), |r| Ok((r.col::<i64>("at")?, r.col::<String>("roster")?)))
            .await?;
        // A roster whose schedules no longer compile (written by an older version) is left
        // out, as the store's own roster leaves such a schedule out.
        let recorded = rows
            .into_iter()
            .filter_map(|(at, text)| Some((jiff::Timestamp::from_second(at).ok()?, serde_json::from_str(&text).ok()?)))
            .collect();
        let current = stringer_app::Store::roster(self, org).await?;
        Ok(RosterHistory { recorded, current })
    }
}
