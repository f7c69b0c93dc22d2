//! Status pages' records — the [`StatusPages`] port: pages, components, their status
//! intervals, incidents and maintenances with their updates. A [`StatusChange`] is one
//! transaction.

use crate::rows::{RowExt, json};
use crate::{SqlStore, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use std::collections::HashMap;
use stringer_app::StoreError;
use stringer_app::ids::seeded_ulid;
use stringer_app::keyed::Written;
use stringer_app::status::subscribers::{NoticeKind, NoticeRecord, SubscriberKind, SubscriberRecord, concerns};
use stringer_app::status::{
    Affected, ComponentRecord, IncidentRecord, PageRecord, StatusChange, StatusPages, UpdateRecord,
};
use stringer_core::ids::{OrgSlug, TicketId};
use stringer_core::status::{ComponentStatus, Impact, MaintenanceStatus, Phase, REMINDER_BEFORE, StatusInterval};

const PAGE_COLUMNS: &str = "id, org, name, host, time_zone, created_at, updated_at";
const COMPONENT_COLUMNS: &str = "id, page_id, group_id, name, description, position, is_group, \
     only_show_if_degraded, showcase, status, alert_key, created_at, updated_at";
const INCIDENT_COLUMNS: &str = "id, page_id, kind, name, status, impact, created_at, updated_at, started_at, \
     monitoring_at, resolved_at, scheduled_for, scheduled_until, ticket_id";

fn bad(what: &str, value: &str) -> StoreError {
    StoreError::Backend(format!("bad {what} {value:?} in the status tables"))
}

fn page_from(r: &AnyRow) -> Result<PageRecord, StoreError> {
    Ok(PageRecord {
        id: r.col("id")?,
        org: r.col::<Option<String>>("org")?.map(OrgSlug),
        name: r.col("name")?,
        host: r.col("host")?,
        time_zone: r.col("time_zone")?,
        created_at: r.col("created_at")?,
        updated_at: r.col("updated_at")?,
    })
}

fn component_status(text: &str) -> Result<ComponentStatus, StoreError> {
    ComponentStatus::parse(text).ok_or_else(|| bad("component status", text))
}

fn component_from(r: &AnyRow) -> Result<ComponentRecord, StoreError> {
    Ok(ComponentRecord {
        id: r.col("id")?,
        page_id: r.col("page_id")?,
        group_id: r.col("group_id")?,
        name: r.col("name")?,
        description: r.col("description")?,
        position: r.col("position")?,
        group: r.flag("is_group")?,
        only_show_if_degraded: r.flag("only_show_if_degraded")?,
        showcase: r.flag("showcase")?,
        status: component_status(&r.col::<String>("status")?)?,
        alert_key: r.col("alert_key")?,
        created_at: r.col("created_at")?,
        updated_at: r.col("updated_at")?,
    })
}

fn phase(kind: &str, status: &str) -> Result<Phase, StoreError> {
    Phase::parse(kind == "maintenance", status).ok_or_else(|| bad("status", status))
}

fn incident_from(r: &AnyRow) -> Result<IncidentRecord, StoreError> {
    let impact: String = r.col("impact")?;
    Ok(IncidentRecord {
        id: r.col("id")?,
        page_id: r.col("page_id")?,
        name: r.col("name")?,
        phase: phase(&r.col::<String>("kind")?, &r.col::<String>("status")?)?,
        impact: Impact::parse(&impact).ok_or_else(|| bad("impact", &impact))?,
        created_at: r.col("created_at")?,
        updated_at: r.col("updated_at")?,
        started_at: r.col("started_at")?,
        monitoring_at: r.col("monitoring_at")?,
        resolved_at: r.col("resolved_at")?,
        scheduled_for: r.col("scheduled_for")?,
        scheduled_until: r.col("scheduled_until")?,
        ticket: r.col::<Option<String>>("ticket_id")?.map(TicketId),
        components: Vec::new(),
        updates: Vec::new(),
    })
}

const SUBSCRIBER_COLUMNS: &str =
    "id, page_id, kind, address, components, token_hash, confirmed_at, unsubscribed_at, created_at";

fn subscriber_from(r: &AnyRow) -> Result<SubscriberRecord, StoreError> {
    let kind: String = r.col("kind")?;
    Ok(SubscriberRecord {
        id: r.col("id")?,
        page_id: r.col("page_id")?,
        kind: SubscriberKind::parse(&kind).ok_or_else(|| bad("subscriber kind", &kind))?,
        address: r.col("address")?,
        components: r.json("components")?,
        token_hash: r.col("token_hash")?,
        confirmed_at: r.col("confirmed_at")?,
        unsubscribed_at: r.col("unsubscribed_at")?,
        created_at: r.col("created_at")?,
    })
}

/// Writes a notice (once: its id is derived from the subscriber and what it tells).
async fn notice(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    subscriber: &str,
    kind: NoticeKind,
    about: (Option<&str>, Option<&str>),
    at: i64,
) -> Result<(), StoreError> {
    let seed = format!("{subscriber}:{}:{}:{}", kind.as_str(), about.0.unwrap_or(""), about.1.unwrap_or(""));
    sqlx::query(
        "INSERT INTO status_notices (id, subscriber_id, kind, incident_id, update_id, attempts, next_attempt_at, \
         sent_at, error, created_at) VALUES ($1, $2, $3, $4, $5, 0, $6, NULL, NULL, $6) ON CONFLICT (id) DO NOTHING",
    )
    .bind(seeded_ulid("stn", at * 1000, &seed))
    .bind(subscriber)
    .bind(kind.as_str())
    .bind(about.0)
    .bind(about.1)
    .bind(at)
    .execute(&mut **tx)
    .await
    .map_err(backend_err)?;
    Ok(())
}

/// Writes a notice of `kind` about an incident for each confirmed subscriber it concerns:
/// its page's, and for an incident on the public page every tenant page's too (they show it).
async fn fan_out(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    incident: &IncidentRecord,
    kind: NoticeKind,
    update: Option<&str>,
    at: i64,
) -> Result<(), StoreError> {
    let sql = format!(
        "SELECT {} FROM status_subscribers s JOIN status_pages p ON p.id = s.page_id \
         WHERE s.confirmed_at IS NOT NULL AND s.unsubscribed_at IS NULL AND (s.page_id = $1 OR (p.org IS NOT NULL \
         AND EXISTS (SELECT 1 FROM status_pages q WHERE q.id = $1 AND q.org IS NULL)))",
        SUBSCRIBER_COLUMNS.split(", ").map(|c| format!("s.{c} AS {c}")).collect::<Vec<_>>().join(", ")
    );
    let rows = sqlx::query(&sql).bind(&incident.page_id).fetch_all(&mut **tx).await.map_err(backend_err)?;
    for row in rows {
        let subscriber = subscriber_from(&row)?;
        if concerns(&subscriber.components, &incident.components) {
            notice(tx, &subscriber.id, kind, (Some(&incident.id), update), at).await?;
        }
    }
    Ok(())
}

fn kind_of(phase: Phase) -> &'static str {
    if phase.is_maintenance() { "maintenance" } else { "incident" }
}

impl SqlStore {
    /// `$first, …` (or `?, …`) for `n` parameters.
    fn marks(&self, n: usize, first: usize) -> String {
        (first..first + n).map(|i| self.backend.mark(i)).collect::<Vec<_>>().join(", ")
    }

    /// Fills in incidents' components and updates (two reads for any number of them).
    async fn complete(&self, mut incidents: Vec<IncidentRecord>) -> Result<Vec<IncidentRecord>, StoreError> {
        if incidents.is_empty() {
            return Ok(incidents);
        }
        let ids: Vec<String> = incidents.iter().map(|i| i.id.clone()).collect();
        let marks = self.marks(ids.len(), 1);
        let sql = format!(
            "SELECT incident_id, component_id FROM status_incident_components WHERE incident_id IN ({marks}) \
             ORDER BY incident_id, component_id"
        );
        let mut query = sqlx::query(&sql);
        for id in &ids {
            query = query.bind(id);
        }
        let links =
            self.rows(query, |r| Ok((r.col::<String>("incident_id")?, r.col::<String>("component_id")?))).await?;
        let sql = format!(
            "SELECT u.id AS id, u.incident_id AS incident_id, u.status AS status, u.body AS body, \
             u.affected AS affected, u.created_at AS created_at, i.kind AS kind \
             FROM status_updates u JOIN status_incidents i ON i.id = u.incident_id \
             WHERE u.incident_id IN ({marks}) ORDER BY u.created_at DESC, u.id DESC"
        );
        let mut query = sqlx::query(&sql);
        for id in &ids {
            query = query.bind(id);
        }
        let updates = self
            .rows(query, |r| {
                Ok(UpdateRecord {
                    id: r.col("id")?,
                    incident_id: r.col("incident_id")?,
                    phase: phase(&r.col::<String>("kind")?, &r.col::<String>("status")?)?,
                    body: r.col("body")?,
                    created_at: r.col("created_at")?,
                    affected: r.json::<Vec<Affected>>("affected")?,
                })
            })
            .await?;
        let index: HashMap<String, usize> = ids.into_iter().enumerate().map(|(i, id)| (id, i)).collect();
        for (incident, component) in links {
            incidents[index[&incident]].components.push(component);
        }
        for update in updates {
            let i = index[&update.incident_id];
            incidents[i].updates.push(update);
        }
        Ok(incidents)
    }
}

#[async_trait]
impl StatusPages for SqlStore {
    async fn ensure_page(&self, org: Option<&OrgSlug>, name: &str, at: i64) -> Result<PageRecord, StoreError> {
        let scope = org.map_or("", |o| o.as_str());
        sqlx::query(
            "INSERT INTO status_pages (id, scope, org, name, host, time_zone, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, NULL, 'UTC', $5, $5) ON CONFLICT (scope) DO NOTHING",
        )
        .bind(seeded_ulid("stp", at * 1000, &format!("status page:{scope}")))
        .bind(scope)
        .bind(org.map(|o| o.as_str()))
        .bind(name)
        .bind(at)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        let sql = format!("SELECT {PAGE_COLUMNS} FROM status_pages WHERE scope = $1");
        sqlx::query(&sql).bind(scope).fetch_one(&self.write).await.map_err(backend_err).and_then(|r| page_from(&r))
    }

    async fn page_of(&self, org: Option<&OrgSlug>) -> Result<Option<PageRecord>, StoreError> {
        let sql = format!("SELECT {PAGE_COLUMNS} FROM status_pages WHERE scope = $1");
        self.row(sqlx::query(&sql).bind(org.map_or("", |o| o.as_str())), page_from).await
    }

    async fn page_by_host(&self, host: &str) -> Result<Option<PageRecord>, StoreError> {
        let sql = format!("SELECT {PAGE_COLUMNS} FROM status_pages WHERE host = $1");
        self.row(sqlx::query(&sql).bind(host), page_from).await
    }

    async fn pages(&self) -> Result<Vec<PageRecord>, StoreError> {
        let sql = format!("SELECT {PAGE_COLUMNS} FROM status_pages ORDER BY scope");
        self.rows(sqlx::query(&sql), page_from).await
    }

    async fn page(&self, id: &str) -> Result<Option<PageRecord>, StoreError> {
        let sql = format!("SELECT {PAGE_COLUMNS} FROM status_pages WHERE id = $1");
        self.row(sqlx::query(&sql).bind(id), page_from).await
    }

    async fn update_page(&self, page: &PageRecord) -> Result<(), StoreError> {
        if let Some(host) = &page.host
            && self.page_by_host(host).await?.is_some_and(|other| other.id != page.id)
        {
            return Err(StoreError::Duplicate(format!("a status page at host {host}")));
        }
        sqlx::query("UPDATE status_pages SET name = $1, host = $2, time_zone = $3, updated_at = $4 WHERE id = $5")
            .bind(&page.name)
            .bind(page.host.as_deref())
            .bind(&page.time_zone)
            .bind(page.updated_at)
            .bind(&page.id)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn components(&self, pages: &[String]) -> Result<Vec<ComponentRecord>, StoreError> {
        if pages.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COMPONENT_COLUMNS} FROM status_components WHERE page_id IN ({}) ORDER BY position, created_at, id",
            self.marks(pages.len(), 1)
        );
        let mut query = sqlx::query(&sql);
        for page in pages {
            query = query.bind(page);
        }
        self.rows(query, component_from).await
    }

    async fn delete_component(&self, page: &str, component: &str, at: i64) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM status_components WHERE id = $1 AND page_id = $2")
                .bind(component)
                .bind(page)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend_err)?;
        if found.is_none() {
            return Ok(false);
        }
        for statement in [
            "DELETE FROM status_intervals WHERE component_id = $1",
            "DELETE FROM status_incident_components WHERE component_id = $1",
            "UPDATE status_components SET group_id = NULL WHERE group_id = $1",
            "DELETE FROM status_components WHERE id = $1",
        ] {
            sqlx::query(statement).bind(component).execute(&mut *tx).await.map_err(backend_err)?;
        }
        sqlx::query("UPDATE status_pages SET updated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(page)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        tx.commit().await.map_err(backend_err)?;
        Ok(true)
    }

    async fn save_component(&self, c: &ComponentRecord) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        self.mark_key(&mut tx, Written::resource("component", &c.id, 201)).await?;
        sqlx::query(
            "INSERT INTO status_components (id, page_id, group_id, name, description, position, is_group, \
             only_show_if_degraded, showcase, status, alert_key, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (id) DO UPDATE SET group_id = excluded.group_id, name = excluded.name, \
             description = excluded.description, position = excluded.position, \
             only_show_if_degraded = excluded.only_show_if_degraded, showcase = excluded.showcase, \
             alert_key = excluded.alert_key, updated_at = excluded.updated_at",
        )
        .bind(&c.id)
        .bind(&c.page_id)
        .bind(c.group_id.as_deref())
        .bind(&c.name)
        .bind(c.description.as_deref())
        .bind(c.position)
        .bind(i64::from(c.group))
        .bind(i64::from(c.only_show_if_degraded))
        .bind(i64::from(c.showcase))
        .bind(c.status.as_str())
        .bind(c.alert_key.as_deref())
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
        sqlx::query("UPDATE status_pages SET updated_at = $1 WHERE id = $2")
            .bind(c.updated_at)
            .bind(&c.page_id)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        tx.commit().await.map_err(backend_err)?;
        Ok(())
    }

    async fn alert_key_granted(&self, page: &str, key: &str) -> Result<bool, StoreError> {
        let read = sqlx::query("SELECT key_id FROM status_alert_grants WHERE page_id = $1 AND key_id = $2")
            .bind(page)
            .bind(key);
        Ok(self.row(read, |_| Ok(())).await?.is_some())
    }

    async fn grant_alert_key(&self, page: &str, key: &str, by: Option<&str>, at: i64) -> Result<(), StoreError> {
        let write = match by {
            Some(by) => sqlx::query(
                "INSERT INTO status_alert_grants (page_id, key_id, granted_by, granted_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (page_id, key_id) DO NOTHING",
            )
            .bind(page)
            .bind(key)
            .bind(by)
            .bind(at),
            None => {
                sqlx::query("DELETE FROM status_alert_grants WHERE page_id = $1 AND key_id = $2").bind(page).bind(key)
            }
        };
        write.execute(&self.write).await.map_err(backend_err)?;
        Ok(())
    }

    async fn components_by_alert_key(&self, key: &str) -> Result<Vec<ComponentRecord>, StoreError> {
        let sql = format!("SELECT {COMPONENT_COLUMNS} FROM status_components WHERE alert_key = $1 ORDER BY id");
        self.rows(sqlx::query(&sql).bind(key), component_from).await
    }

    async fn intervals(&self, components: &[String], since: i64) -> Result<Vec<(String, StatusInterval)>, StoreError> {
        if components.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT component_id, from_at, until_at, status FROM status_intervals \
             WHERE component_id IN ({}) AND (until_at IS NULL OR until_at > {})",
            self.marks(components.len(), 1),
            self.backend.mark(components.len() + 1)
        );
        let mut query = sqlx::query(&sql);
        for c in components {
            query = query.bind(c);
        }
        self.rows(query.bind(since), |r| {
            let interval = StatusInterval {
                from: r.col("from_at")?,
                until: r.col("until_at")?,
                status: component_status(&r.col::<String>("status")?)?,
            };
            Ok((r.col("component_id")?, interval))
        })
        .await
    }

    async fn incidents(
        &self,
        pages: &[String],
        maintenance: bool,
        limit: i64,
    ) -> Result<Vec<IncidentRecord>, StoreError> {
        if pages.is_empty() {
            return Ok(Vec::new());
        }
        let n = pages.len();
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS} FROM status_incidents WHERE page_id IN ({}) AND kind = {} \
             ORDER BY created_at DESC, id DESC LIMIT {}",
            self.marks(n, 1),
            self.backend.mark(n + 1),
            self.backend.mark(n + 2)
        );
        let mut query = sqlx::query(&sql);
        for page in pages {
            query = query.bind(page);
        }
        let kind = if maintenance { "maintenance" } else { "incident" };
        let incidents = self.rows(query.bind(kind).bind(limit), incident_from).await?;
        self.complete(incidents).await
    }

    async fn incident(&self, id: &str) -> Result<Option<IncidentRecord>, StoreError> {
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM status_incidents WHERE id = $1");
        let Some(incident) = self.row(sqlx::query(&sql).bind(id), incident_from).await? else { return Ok(None) };
        Ok(self.complete(vec![incident]).await?.pop())
    }

    async fn incident_of_ticket(&self, ticket: &TicketId) -> Result<Option<IncidentRecord>, StoreError> {
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS} FROM status_incidents WHERE ticket_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1"
        );
        let Some(incident) = self.row(sqlx::query(&sql).bind(ticket.as_str()), incident_from).await? else {
            return Ok(None);
        };
        Ok(self.complete(vec![incident]).await?.pop())
    }

    async fn due_maintenances(&self, now: i64) -> Result<Vec<IncidentRecord>, StoreError> {
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS} FROM status_incidents WHERE kind = 'maintenance' AND \
             ((status = $1 AND scheduled_for <= $3) OR (status = $2 AND scheduled_until <= $3)) ORDER BY id LIMIT 100"
        );
        let query = sqlx::query(&sql)
            .bind(MaintenanceStatus::Scheduled.as_str())
            .bind(MaintenanceStatus::InProgress.as_str())
            .bind(now);
        let due = self.rows(query, incident_from).await?;
        self.complete(due).await
    }

    async fn commit_status(&self, change: &StatusChange) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        if let Some(i) = &change.incident {
            self.mark_key(&mut tx, Written::resource("incident", &i.id, 201)).await?;
            sqlx::query(
                "INSERT INTO status_incidents (id, page_id, kind, name, status, impact, created_at, updated_at, \
                 started_at, monitoring_at, resolved_at, scheduled_for, scheduled_until, ticket_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, status = excluded.status, \
                 impact = excluded.impact, updated_at = excluded.updated_at, monitoring_at = excluded.monitoring_at, \
                 resolved_at = excluded.resolved_at",
            )
            .bind(&i.id)
            .bind(&i.page_id)
            .bind(kind_of(i.phase))
            .bind(&i.name)
            .bind(i.phase.as_str())
            .bind(i.impact.as_str())
            .bind(i.created_at)
            .bind(i.updated_at)
            .bind(i.started_at)
            .bind(i.monitoring_at)
            .bind(i.resolved_at)
            .bind(i.scheduled_for)
            .bind(i.scheduled_until)
            .bind(i.ticket.as_ref().map(|t| t.as_str()))
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
            for component in &i.components {
                sqlx::query(
                    "INSERT INTO status_incident_components (incident_id, component_id) VALUES ($1, $2) \
                     ON CONFLICT (incident_id, component_id) DO NOTHING",
                )
                .bind(&i.id)
                .bind(component)
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            }
        }
        if let Some(u) = &change.update {
            let done = sqlx::query(
                "INSERT INTO status_updates (id, incident_id, status, body, affected, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&u.id)
            .bind(&u.incident_id)
            .bind(u.phase.as_str())
            .bind(&u.body)
            .bind(json(&u.affected))
            .bind(u.created_at)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
            if done.rows_affected() == 0 {
                // The same update was written already (a retry, or another instance moving
                // the same maintenance): nothing more to do.
                return Ok(());
            }
            if let Some(i) = &change.incident {
                fan_out(&mut tx, i, NoticeKind::Update, Some(&u.id), change.at).await?;
            }
        }
        for (component, status) in &change.statuses {
            // Changing the component's row first takes its lock, so two changes of one
            // component at once leave one open interval.
            let changed =
                sqlx::query("UPDATE status_components SET status = $1, updated_at = $2 WHERE id = $3 AND status <> $1")
                    .bind(status.as_str())
                    .bind(change.at)
                    .bind(component)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend_err)?;
            if changed.rows_affected() == 0 {
                continue;
            }
            sqlx::query("UPDATE status_intervals SET until_at = $1 WHERE component_id = $2 AND until_at IS NULL")
                .bind(change.at)
                .bind(component)
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            if *status != ComponentStatus::Operational {
                sqlx::query(
                    "INSERT INTO status_intervals (component_id, from_at, until_at, status) VALUES ($1, $2, NULL, $3)",
                )
                .bind(component)
                .bind(change.at)
                .bind(status.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            }
        }
        sqlx::query("UPDATE status_pages SET updated_at = $1 WHERE id = $2")
            .bind(change.at)
            .bind(&change.page_id)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        // Last: the update's leaf, under the ledger's lock (an update written before returned
        // above, so a repeat appends nothing).
        if let Some(u) = &change.update {
            crate::ledger_sources::append_status_update(&mut tx, &u.id).await?;
        }
        tx.commit().await.map_err(backend_err)
    }

    async fn add_subscriber(&self, sub: &SubscriberRecord) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        self.mark_key(&mut tx, Written::resource("subscriber", &sub.id, 201)).await?;
        let existing: Option<String> = sqlx::query_scalar(
            "SELECT id FROM status_subscribers WHERE page_id = $1 AND kind = $2 AND address = $3 AND unsubscribed_at IS NULL",
        )
        .bind(&sub.page_id)
        .bind(sub.kind.as_str())
        .bind(&sub.address)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend_err)?;
        if existing.is_some() {
            return Err(StoreError::Duplicate(format!("a subscription of {} to this page", sub.address)));
        }
        sqlx::query(&format!(
            "INSERT INTO status_subscribers ({SUBSCRIBER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&sub.id)
        .bind(&sub.page_id)
        .bind(sub.kind.as_str())
        .bind(&sub.address)
        .bind(json(&sub.components))
        .bind(&sub.token_hash)
        .bind(sub.confirmed_at)
        .bind(sub.unsubscribed_at)
        .bind(sub.created_at)
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
        if sub.confirmed_at.is_none() {
            notice(&mut tx, &sub.id, NoticeKind::Confirm, (None, None), sub.created_at).await?;
        }
        tx.commit().await.map_err(backend_err)
    }

    async fn subscriber_by_token(&self, token_hash: &str) -> Result<Option<SubscriberRecord>, StoreError> {
        let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM status_subscribers WHERE token_hash = $1");
        self.row(sqlx::query(&sql).bind(token_hash), subscriber_from).await
    }

    async fn subscribers(&self, page: &str) -> Result<Vec<SubscriberRecord>, StoreError> {
        let sql = format!(
            "SELECT {SUBSCRIBER_COLUMNS} FROM status_subscribers WHERE page_id = $1 AND unsubscribed_at IS NULL ORDER BY id"
        );
        self.rows(sqlx::query(&sql).bind(page), subscriber_from).await
    }

    async fn confirm_subscriber(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE status_subscribers SET confirmed_at = COALESCE(confirmed_at, $1) WHERE id = $2 AND unsubscribed_at IS NULL",
        )
        .bind(at)
        .bind(id)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn unsubscribe(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        let done =
            sqlx::query("UPDATE status_subscribers SET unsubscribed_at = $1 WHERE id = $2 AND unsubscribed_at IS NULL")
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
        sqlx::query(
            "UPDATE status_notices SET next_attempt_at = NULL, error = 'unsubscribed' WHERE subscriber_id = $1 AND sent_at IS NULL",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
        tx.commit().await.map_err(backend_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn reminders_due(&self, now: i64) -> Result<Vec<IncidentRecord>, StoreError> {
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS} FROM status_incidents WHERE kind = 'maintenance' AND status = $1 \
             AND reminded_at IS NULL AND scheduled_for > $2 AND scheduled_for <= $3 ORDER BY id LIMIT 100"
        );
        let query = sqlx::query(&sql).bind(MaintenanceStatus::Scheduled.as_str()).bind(now).bind(now + REMINDER_BEFORE);
        let due = self.rows(query, incident_from).await?;
        self.complete(due).await
    }

    async fn remind(&self, maintenance: &IncidentRecord, at: i64) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(backend_err)?;
        let marked = sqlx::query("UPDATE status_incidents SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL")
            .bind(at)
            .bind(&maintenance.id)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        if marked.rows_affected() > 0 {
            fan_out(&mut tx, maintenance, NoticeKind::Reminder, None, at).await?;
        }
        tx.commit().await.map_err(backend_err)
    }
}

impl SqlStore {
    /// Claims the status notices due at `now` until `lease_until` (see [`stringer_app::outbox::Sendings`]).
    pub(crate) async fn claim_notices(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<NoticeRecord>, StoreError> {
        let claimed = self.claim_due("status_notices", "id", now, lease_until, limit).await?;
        let ids: Vec<String> = claimed.iter().map(|r| r.col("id")).collect::<Result<_, _>>()?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let columns = SUBSCRIBER_COLUMNS.split(", ").map(|c| format!("s.{c} AS {c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT n.id AS notice_id, n.kind AS notice_kind, n.incident_id AS incident_id, n.update_id AS update_id, \
             n.attempts AS attempts, {columns} FROM status_notices n JOIN status_subscribers s ON s.id = n.subscriber_id \
             WHERE n.id IN ({}) ORDER BY n.id",
            self.marks(ids.len(), 1)
        );
        let mut query = sqlx::query(&sql);
        for id in &ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(&self.write).await.map_err(backend_err)?;
        rows.iter()
            .map(|r| {
                let kind: String = r.col("notice_kind")?;
                Ok(NoticeRecord {
                    id: r.col("notice_id")?,
                    subscriber: subscriber_from(r)?,
                    kind: NoticeKind::parse(&kind).ok_or_else(|| bad("notice kind", &kind))?,
                    incident_id: r.col("incident_id")?,
                    update_id: r.col("update_id")?,
                    attempts: r.col("attempts")?,
                })
            })
            .collect()
    }
}
