//! Post-incident reports' records — the [`Reports`] port: the report's head, its versions,
//! comments and the announcements of its publication. A step is one transaction, guarded by
//! the revision it was decided on. (The draft of a report that falls due is written by the
//! ticket's own commit: see `commit`.)

use crate::rows::{RowExt, json, name_of};
use crate::{SqlStore, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use stringer_app::StoreError;
use stringer_app::postmortem::{
    AnnouncedTo, Announcement, ReportComment, ReportRecord, Reports, VersionRecord, Written,
};
use stringer_core::ids::{OrgSlug, TicketId, UserId};
use stringer_core::postmortem::{ReportState, Step};

const REPORT_COLUMNS: &str =
    "ticket_id, org, security, state, due, revision, text_version, created_at, updated_at, published_at";

fn report_from(r: &AnyRow) -> Result<ReportRecord, StoreError> {
    let state: String = r.col("state")?;
    Ok(ReportRecord {
        ticket: TicketId(r.col("ticket_id")?),
        org: OrgSlug(r.col("org")?),
        security: r.flag("security")?,
        state: ReportState::parse(&state).ok_or_else(|| StoreError::Backend(format!("bad report state {state:?}")))?,
        due: r.col("due")?,
        revision: r.col("revision")?,
        text_version: r.col("text_version")?,
        created_at: r.col("created_at")?,
        updated_at: r.col("updated_at")?,
        published_at: r.col("published_at")?,
    })
}

fn version_from(r: &AnyRow) -> Result<VersionRecord, StoreError> {
    Ok(VersionRecord {
        version: r.col("version")?,
        author: r.col::<Option<String>>("author")?.map(UserId),
        at: r.col("at")?,
        sections: r.json("sections")?,
        timeline: r.json("timeline")?,
    })
}

fn comment_from(r: &AnyRow) -> Result<ReportComment, StoreError> {
    Ok(ReportComment {
        id: r.col("id")?,
        author: UserId(r.col("author")?),
        at: r.col("at")?,
        step: r.col::<Option<String>>("step")?.as_deref().and_then(Step::parse),
        body: r.col("body")?,
    })
}

fn announcement_from(r: &AnyRow) -> Result<Announcement, StoreError> {
    let (channel, target): (String, String) = (r.col("channel")?, r.col("target")?);
    Ok(Announcement {
        id: r.col("id")?,
        ticket: TicketId(r.col("ticket_id")?),
        to: match channel.as_str() {
            "mail" => AnnouncedTo::Mail(target),
            "slack" => AnnouncedTo::Channel(target),
            other => return Err(StoreError::Backend(format!("bad announcement channel {other:?}"))),
        },
        attempts: r.col("attempts")?,
    })
}

#[async_trait]
impl Reports for SqlStore {
    async fn report(&self, ticket: &TicketId) -> Result<Option<ReportRecord>, StoreError> {
        let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE ticket_id = $1");
        self.row(sqlx::query(&sql).bind(ticket.as_str()), report_from).await
    }

    async fn start_report(&self, r: &ReportRecord) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        self.mark_key(&mut tx, stringer_app::keyed::Written::resource("report", r.ticket.as_str(), 201)).await?;
        let sql = format!(
            "INSERT INTO reports ({REPORT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (ticket_id) DO NOTHING"
        );
        let done = sqlx::query(&sql)
            .bind(r.ticket.as_str())
            .bind(r.org.as_str())
            .bind(i64::from(r.security))
            .bind(r.state.as_str())
            .bind(r.due)
            .bind(r.revision)
            .bind(r.text_version)
            .bind(r.created_at)
            .bind(r.updated_at)
            .bind(r.published_at)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        if done.rows_affected() == 0 {
            // It existed already: nothing written, the key's mark is rolled back.
            return Ok(false);
        }
        tx.commit().await.map_err(backend_err)?;
        Ok(true)
    }

    async fn versions(&self, ticket: &TicketId) -> Result<Vec<VersionRecord>, StoreError> {
        let sql =
            "SELECT version, author, at, sections, timeline FROM report_versions WHERE ticket_id = $1 ORDER BY version";
        self.rows(sqlx::query(sql).bind(ticket.as_str()), version_from).await
    }

    async fn report_comments(&self, ticket: &TicketId) -> Result<Vec<ReportComment>, StoreError> {
        let sql = "SELECT id, author, at, step, body FROM report_comments WHERE ticket_id = $1 ORDER BY at, id";
        self.rows(sqlx::query(sql).bind(ticket.as_str()), comment_from).await
    }

    async fn write_report(&self, ticket: &TicketId, revision: i64, w: &Written, at: i64) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        self.mark_key(&mut tx, stringer_app::keyed::Written::resource("report", ticket.as_str(), 200)).await?;
        let published = (w.state == ReportState::Published).then_some(at);
        // A publication is a step to `published` from another state, or a new text of a
        // published report: the ledger appends it (below, last).
        let was: Option<(String, i64)> =
            sqlx::query("SELECT state, text_version FROM reports WHERE ticket_id = $1 AND revision = $2")
                .bind(ticket.as_str())
                .bind(revision)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend_err)?
                .map(|r| Ok::<_, StoreError>((r.col("state")?, r.col("text_version")?)))
                .transpose()?;
        let moved = sqlx::query(
            "UPDATE reports SET state = $1, revision = revision + 1, text_version = text_version + $2, \
             updated_at = $3, published_at = COALESCE(published_at, $4) WHERE ticket_id = $5 AND revision = $6",
        )
        .bind(w.state.as_str())
        .bind(i64::from(w.version.is_some()))
        .bind(at)
        .bind(published)
        .bind(ticket.as_str())
        .bind(revision)
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
        if moved.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(v) = &w.version {
            sqlx::query(
                "INSERT INTO report_versions (ticket_id, version, author, at, sections, timeline) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(ticket.as_str())
            .bind(v.version)
            .bind(v.author.as_ref().map(|a| a.to_string()))
            .bind(v.at)
            .bind(json(&v.sections))
            .bind(json(&v.timeline))
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        }
        if let Some(c) = &w.comment {
            sqlx::query(
                "INSERT INTO report_comments (id, ticket_id, author, at, step, body) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&c.id)
            .bind(ticket.as_str())
            .bind(c.author.to_string())
            .bind(c.at)
            .bind(c.step.map(|s| name_of(&s)))
            .bind(&c.body)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        }
        for a in &w.announcements {
            let (channel, target) = match &a.to {
                AnnouncedTo::Mail(to) => ("mail", to),
                AnnouncedTo::Channel(to) => ("slack", to),
            };
            sqlx::query(
                "INSERT INTO report_announcements (id, ticket_id, channel, target, attempts, next_attempt_at) \
                 VALUES ($1, $2, $3, $4, 0, $5) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&a.id)
            .bind(ticket.as_str())
            .bind(channel)
            .bind(target)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        }
        if let (Some(at), Some((state, text_version))) = (published, was)
            && (state != ReportState::Published.as_str() || w.version.is_some())
        {
            let version = w.version.as_ref().map_or(text_version, |v| v.version);
            crate::ledger_sources::append_publication(&mut tx, ticket.as_str(), version, at).await?;
        }
        tx.commit().await.map_err(backend_err)?;
        Ok(true)
    }

    async fn reports(
        &self,
        org: Option<&OrgSlug>,
        published: Option<bool>,
        limit: i64,
    ) -> Result<Vec<ReportRecord>, StoreError> {
        let published = published.map(|p| if p { "state = 'published'" } else { "state <> 'published'" });
        let org_filter = org.map(|_| "org = $2");
        let conditions: Vec<&str> = published.into_iter().chain(org_filter).collect();
        let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let sql = format!("SELECT {REPORT_COLUMNS} FROM reports {filter} ORDER BY created_at DESC, ticket_id LIMIT $1");
        let mut query = sqlx::query(&sql).bind(limit);
        if let Some(org) = org {
            query = query.bind(org.as_str());
        }
        self.rows(query, report_from).await
    }
}

impl SqlStore {
    /// Claims the report announcements due at `now` until `lease_until` (see [`stringer_app::outbox::Sendings`]).
    pub(crate) async fn claim_announcements(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<Announcement>, StoreError> {
        let rows = self
            .claim_due("report_announcements", "id, ticket_id, channel, target, attempts", now, lease_until, limit)
            .await?;
        rows.iter().map(announcement_from).collect()
    }
}
