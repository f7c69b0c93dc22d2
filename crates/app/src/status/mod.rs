//! Status pages: the public platform page and a page per dedicated or federal org, their
//! components, incidents and scheduled maintenance — the [`StatusPages`] port and the use
//! cases over it ([`StatusDesk`]).
//!
//! A component's status is kept as intervals (one open interval while it is not
//! operational), so its history, and with it its uptime ([`stringer_core::status`]), is
//! exact. Every change — an incident opened or updated, a component set, a maintenance
//! started by the clock — is one atomic [`StatusChange`]: the incident, its update with the
//! affected components' old and new statuses, and the components' intervals together.
//!
//! A tenant's page shows the platform's components and incidents as well as its own: a
//! dedicated or federal deployment still depends on the vendor's shared services (sign-in,
//! the portal, mail).

pub mod manage;
pub mod statuspage;
pub mod subscribers;

use crate::desk::AppError;
use crate::ids::seeded_ulid;
use crate::records::OrgRecord;
use crate::store::StoreError;
use async_trait::async_trait;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::collections::HashMap;
use std::sync::Arc;
use stringer_core::ids::{Deployment, OrgSlug, TicketId};
use stringer_core::status::{
    self as rules, ComponentStatus, DayUptime, Impact, IncidentStatus, Indicator, MaintenanceStatus, Phase,
    StatusInterval,
};
use subscribers::{NoticeRecord, SubscriberRecord};

/// How many days of uptime a page shows.
pub const UPTIME_DAYS: usize = 90;
/// The most incidents (or maintenances) a page lists, newest first (Statuspage lists 50).
pub const LISTED: i64 = 50;
/// The longest name, in characters.
pub const MAX_NAME: usize = 200;
/// The longest update body or description, in characters.
pub const MAX_BODY: usize = 20_000;
/// The most components one page may have.
pub const MAX_COMPONENTS: usize = 500;

/// A status page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRecord {
    /// Its id.
    pub id: String,
    /// The org whose page it is; `None` for the public platform page.
    pub org: Option<OrgSlug>,
    /// Its name (the vendor's, or the org's).
    pub name: String,
    /// A host name it also answers at the root of (`status.vendor.example`).
    pub host: Option<String>,
    /// The IANA zone its days (uptime bars) run in.
    pub time_zone: String,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// When anything on it last changed.
    pub updated_at: i64,
}

impl PageRecord {
    /// Where the page is served on the server: `/status`, or `/status/<org>`.
    pub fn path(&self) -> String {
        match &self.org {
            Some(org) => format!("/status/{org}"),
            None => "/status".to_string(),
        }
    }

    /// Its address on the server at `public_url`.
    pub fn url(&self, public_url: &str) -> String {
        format!("{}{}", public_url.trim_end_matches('/'), self.path())
    }
}

/// A component, or a group of components.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentRecord {
    /// Its id.
    pub id: String,
    /// The page it is on.
    pub page_id: String,
    /// The group it is in.
    pub group_id: Option<String>,
    /// Its name.
    pub name: String,
    /// What it is, for people.
    pub description: Option<String>,
    /// Its place on the page (ascending).
    pub position: i64,
    /// Whether it is a group (which holds components, and whose status is theirs).
    pub group: bool,
    /// Shown only while not operational.
    pub only_show_if_degraded: bool,
    /// Shown with its uptime bar.
    pub showcase: bool,
    /// Its status now.
    pub status: ComponentStatus,
    /// An alert's dedup key (or Alertmanager alert name) that sets its status.
    pub alert_key: Option<String>,
    /// When it was created.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

/// A component an update changed, with its status before and after (Statuspage's
/// `affected_components`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Affected {
    /// The component's id.
    pub code: String,
    /// Its name then.
    pub name: String,
    /// Its status before.
    pub old_status: ComponentStatus,
    /// Its status after.
    pub new_status: ComponentStatus,
}

/// One update of an incident or maintenance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateRecord {
    /// Its id.
    pub id: String,
    /// The incident's id.
    pub incident_id: String,
    /// The status it moved to.
    pub phase: Phase,
    /// What it says.
    pub body: String,
    /// When it was written.
    pub created_at: i64,
    /// The components it changed.
    pub affected: Vec<Affected>,
}

/// An incident, or a scheduled maintenance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncidentRecord {
    /// Its id.
    pub id: String,
    /// The page it is on.
    pub page_id: String,
    /// Its name.
    pub name: String,
    /// Where it stands (whether it is a maintenance, too).
    pub phase: Phase,
    /// How bad it is.
    pub impact: Impact,
    /// When it was created.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
    /// When it began (a maintenance: when it is scheduled to begin).
    pub started_at: i64,
    /// When it was first monitored.
    pub monitoring_at: Option<i64>,
    /// When it was resolved (or completed).
    pub resolved_at: Option<i64>,
    /// A maintenance's planned start.
    pub scheduled_for: Option<i64>,
    /// A maintenance's planned end.
    pub scheduled_until: Option<i64>,
    /// The ticket it was opened from.
    pub ticket: Option<TicketId>,
    /// The components it concerns.
    pub components: Vec<String>,
    /// Its updates, newest first.
    pub updates: Vec<UpdateRecord>,
}

/// One atomic change of a page: an incident written (created or moved on), its update, and
/// components' new statuses (each closes the component's open interval and opens one in the
/// new status unless operational).
#[derive(Clone, Debug, Default)]
pub struct StatusChange {
    /// The page whose `updated_at` moves.
    pub page_id: String,
    /// The incident as it now is (its `updates` are ignored).
    pub incident: Option<IncidentRecord>,
    /// The update to add.
    pub update: Option<UpdateRecord>,
    /// Components' new statuses.
    pub statuses: Vec<(String, ComponentStatus)>,
    /// When.
    pub at: i64,
}

/// Where status pages are kept, with the notices waiting to be sent to their subscribers.
#[async_trait]
pub trait StatusPages: crate::outbox::Sendings<NoticeRecord> {
    /// The page of an org (`None`: the platform page), creating it with `name` if absent.
    async fn ensure_page(&self, org: Option<&OrgSlug>, name: &str, at: i64) -> Result<PageRecord, StoreError>;
    /// The page of an org (`None`: the platform page).
    async fn page_of(&self, org: Option<&OrgSlug>) -> Result<Option<PageRecord>, StoreError>;
    /// The page bound to a host name.
    async fn page_by_host(&self, host: &str) -> Result<Option<PageRecord>, StoreError>;
    /// Every page.
    async fn pages(&self) -> Result<Vec<PageRecord>, StoreError>;
    /// One page.
    async fn page(&self, id: &str) -> Result<Option<PageRecord>, StoreError>;
    /// Changes a page's name, host and zone; [`StoreError::Duplicate`] when the host is
    /// another page's.
    async fn update_page(&self, page: &PageRecord) -> Result<(), StoreError>;
    /// The components of these pages, by position.
    async fn components(&self, pages: &[String]) -> Result<Vec<ComponentRecord>, StoreError>;
    /// Creates or changes a component (all but its status, which only a [`StatusChange`]
    /// sets).
    async fn save_component(&self, component: &ComponentRecord) -> Result<(), StoreError>;
    /// Deletes a component of page `page` with its status history and its place in
    /// incidents (their updates keep its name as it was); a group's members leave the group.
    /// False when the page has no such component.
    async fn delete_component(&self, page: &str, component: &str, at: i64) -> Result<bool, StoreError>;
    /// Whether integration key `key` was granted leave to set page `page`'s components.
    async fn alert_key_granted(&self, page: &str, key: &str) -> Result<bool, StoreError>;
    /// Grants integration key `key` leave to set page `page`'s components (`by` an admin at
    /// `at`), or takes it back (`by: None`); granting twice keeps the first grant.
    async fn grant_alert_key(&self, page: &str, key: &str, by: Option<&str>, at: i64) -> Result<(), StoreError>;
    /// The components whose alert key is `key`, on any page.
    async fn components_by_alert_key(&self, key: &str) -> Result<Vec<ComponentRecord>, StoreError>;
    /// The status intervals of these components that end after `since` (or last).
    async fn intervals(&self, components: &[String], since: i64) -> Result<Vec<(String, StatusInterval)>, StoreError>;
    /// The newest incidents (`maintenance: false`) or maintenances of these pages, each
    /// with its updates, newest first.
    async fn incidents(
        &self,
        pages: &[String],
        maintenance: bool,
        limit: i64,
    ) -> Result<Vec<IncidentRecord>, StoreError>;
    /// One incident or maintenance, with its updates.
    async fn incident(&self, id: &str) -> Result<Option<IncidentRecord>, StoreError>;
    /// The newest incident opened from a ticket.
    async fn incident_of_ticket(&self, ticket: &TicketId) -> Result<Option<IncidentRecord>, StoreError>;
    /// Maintenances the clock moves on at `now` (scheduled and due to start, or in
    /// progress and due to end), any page.
    async fn due_maintenances(&self, now: i64) -> Result<Vec<IncidentRecord>, StoreError>;
    /// Commits a change as one transaction: with an update, a notice for each confirmed
    /// subscriber it concerns ([`subscribers`]).
    async fn commit_status(&self, change: &StatusChange) -> Result<(), StoreError>;
    /// Adds a subscriber, with its confirmation notice (mail) in the same transaction;
    /// [`StoreError::Duplicate`] when the address already follows the page.
    async fn add_subscriber(&self, subscriber: &SubscriberRecord) -> Result<(), StoreError>;
    /// The subscriber whose token has this hash.
    async fn subscriber_by_token(&self, token_hash: &str) -> Result<Option<SubscriberRecord>, StoreError>;
    /// A page's subscribers still subscribed.
    async fn subscribers(&self, page: &str) -> Result<Vec<SubscriberRecord>, StoreError>;
    /// Confirms a subscriber; `false` when it is gone.
    async fn confirm_subscriber(&self, id: &str, at: i64) -> Result<bool, StoreError>;
    /// Ends a subscription (its pending notices are dropped); `false` when already gone.
    async fn unsubscribe(&self, id: &str, at: i64) -> Result<bool, StoreError>;
    /// Scheduled maintenances beginning within [`stringer_core::status::REMINDER_BEFORE`]
    /// of `now` whose subscribers were not reminded yet.
    async fn reminders_due(&self, now: i64) -> Result<Vec<IncidentRecord>, StoreError>;
    /// Marks a maintenance reminded and writes the reminders, in one transaction.
    async fn remind(&self, maintenance: &IncidentRecord, at: i64) -> Result<(), StoreError>;
}

/// A new incident or maintenance, as a person writes it.
#[derive(Clone, Debug)]
pub struct NewIncident {
    /// Its id (made by the front: `sti_…`).
    pub id: String,
    /// Its first update's id (`stu_…`).
    pub update_id: String,
    /// Its name.
    pub name: String,
    /// Its first status (a maintenance: normally `scheduled`).
    pub phase: Phase,
    /// How bad it is (a maintenance: `none` unless said).
    pub impact: Impact,
    /// The first update's words.
    pub body: String,
    /// The components it concerns, each with the status it sets (`None`: left as is; a
    /// scheduled maintenance sets none until it starts: [`Phase::holds_components`]).
    pub components: Vec<(String, Option<ComponentStatus>)>,
    /// A maintenance's planned start and end.
    pub window: Option<(i64, i64)>,
    /// The ticket it is opened from.
    pub ticket: Option<TicketId>,
}

/// An update of an incident or maintenance, as a person writes it.
#[derive(Clone, Debug)]
pub struct NewUpdate {
    /// Its id (made by the front, or derived from what moved it: `stu_…`).
    pub id: String,
    /// The status it moves to.
    pub phase: Phase,
    /// Its words.
    pub body: String,
    /// Components' new statuses; when empty, the phase's own rule applies
    /// ([`Phase::component_status`]) to the incident's components. A scheduled maintenance
    /// changes none ([`Phase::holds_components`]).
    pub components: Vec<(String, ComponentStatus)>,
    /// A new impact.
    pub impact: Option<Impact>,
}

/// A page as shown: the page, what it includes, and everything computed for showing.
#[derive(Clone, Debug)]
pub struct PageView {
    /// The page.
    pub page: PageRecord,
    /// The pages whose components and incidents it shows: its own, and for a tenant's page
    /// the platform's.
    pub shows: Vec<String>,
    /// Its components (a tenant's page: the platform's, then its own), groups included, each
    /// `position` its place in this list (from 1), as Statuspage numbers a page's components.
    pub components: Vec<ComponentRecord>,
    /// Each component's uptime per day, [`UPTIME_DAYS`] days to today (not for groups).
    pub uptime: HashMap<String, Vec<DayUptime>>,
    /// The newest incidents, newest first.
    pub incidents: Vec<IncidentRecord>,
    /// The newest maintenances, newest first.
    pub maintenances: Vec<IncidentRecord>,
    /// The page's overall state.
    pub indicator: Indicator,
    /// When the view was computed.
    pub at: i64,
}

impl PageView {
    /// Incidents not over.
    pub fn unresolved(&self) -> impl Iterator<Item = &IncidentRecord> {
        self.incidents.iter().filter(|i| !i.phase.is_over())
    }

    /// Maintenances announced and not begun, soonest first.
    pub fn upcoming(&self) -> Vec<&IncidentRecord> {
        let mut v: Vec<_> =
            self.maintenances.iter().filter(|m| m.phase == Phase::Maintenance(MaintenanceStatus::Scheduled)).collect();
        v.sort_by_key(|m| m.scheduled_for);
        v
    }

    /// Maintenances under way (in progress or being verified).
    pub fn active_maintenances(&self) -> impl Iterator<Item = &IncidentRecord> {
        self.maintenances.iter().filter(|m| m.phase.is_active())
    }

    /// The latest change of anything shown.
    pub fn updated_at(&self) -> i64 {
        let latest = self.incidents.iter().chain(&self.maintenances).map(|i| i.updated_at);
        let components = self.components.iter().map(|c| c.updated_at);
        latest.chain(components).fold(self.page.updated_at, i64::max)
    }

    /// The page's zone (UTC when its name is unknown to the zone database).
    pub fn zone(&self) -> TimeZone {
        TimeZone::get(&self.page.time_zone).unwrap_or(TimeZone::UTC)
    }
}

/// Status pages' use cases over the port.
#[derive(Clone)]
pub struct StatusDesk {
    /// The port.
    pub pages: Arc<dyn StatusPages>,
}

fn rejected(why: impl Into<String>) -> AppError {
    AppError::Rejected(why.into())
}

fn check_text(what: &str, text: &str, max: usize) -> Result<(), AppError> {
    if text.trim().is_empty() {
        return Err(rejected(format!("{what} must not be empty")));
    }
    if text.chars().count() > max {
        return Err(rejected(format!("{what} is longer than {max} characters")));
    }
    Ok(())
}

impl StatusDesk {
    /// The public platform page, created (named `name`) the first time it is asked for.
    pub async fn platform_page(&self, name: &str, at: i64) -> Result<PageRecord, AppError> {
        match self.pages.page_of(None).await? {
            Some(page) => Ok(page),
            None => Ok(self.pages.ensure_page(None, name, at).await?),
        }
    }

    /// An org's own page: dedicated and federal orgs have one (created with the org, or the
    /// first time it is asked for); shared orgs have none.
    pub async fn tenant_page(&self, org: &OrgRecord, at: i64) -> Result<Option<PageRecord>, AppError> {
        if org.deployment == Deployment::Shared {
            return Ok(None);
        }
        match self.pages.page_of(Some(&org.slug)).await? {
            Some(page) => Ok(Some(page)),
            None => Ok(Some(self.pages.ensure_page(Some(&org.slug), &org.name, at).await?)),
        }
    }

    /// The pages whose components and incidents a page shows: the platform's first (for a
    /// tenant's page), then its own.
    async fn shown_pages(&self, page: &PageRecord) -> Result<Vec<String>, AppError> {
        let mut ids = Vec::with_capacity(2);
        if page.org.is_some()
            && let Some(platform) = self.pages.page_of(None).await?
        {
            ids.push(platform.id);
        }
        ids.push(page.id.clone());
        Ok(ids)
    }

    /// Everything a page shows at `now`: its components (with the platform's, for a
    /// tenant's page), their uptime bars, its newest incidents and maintenances.
    pub async fn view(&self, page: PageRecord, now: i64) -> Result<PageView, AppError> {
        let ids = self.shown_pages(&page).await?;
        let mut components = self.pages.components(&ids).await?;
        // The platform's components first, then the page's own, each by position.
        components.sort_by_key(|c| (ids.iter().position(|p| *p == c.page_id), c.position, c.created_at));
        // Numbered once, in that order: the platform's and the page's own positions both start at 1.
        for (c, position) in components.iter_mut().zip(1..) {
            c.position = position;
        }
        // A group's status is the worst of its components'.
        let worst: HashMap<String, ComponentStatus> = components
            .iter()
            .filter_map(|c| c.group_id.clone().map(|g| (g, c.status)))
            .fold(HashMap::new(), |mut m, (g, s)| {
                let w = m.entry(g).or_insert(ComponentStatus::Operational);
                *w = (*w).max(s);
                m
            });
        for c in components.iter_mut().filter(|c| c.group) {
            c.status = worst.get(&c.id).copied().unwrap_or(ComponentStatus::Operational);
        }
        let incidents = self.pages.incidents(&ids, false, LISTED).await?;
        let maintenances = self.pages.incidents(&ids, true, LISTED).await?;
        let zone = TimeZone::get(&page.time_zone).unwrap_or(TimeZone::UTC);
        let today = rules::today(&zone, Timestamp::from_second(now).unwrap_or(Timestamp::UNIX_EPOCH));
        let first = today.checked_sub(jiff::Span::new().days(UPTIME_DAYS as i64)).unwrap_or(today);
        let since = rules::day_start(&zone, first);
        let leaves: Vec<String> = components.iter().filter(|c| !c.group).map(|c| c.id.clone()).collect();
        let mut history: HashMap<String, Vec<StatusInterval>> = HashMap::new();
        for (component, interval) in self.pages.intervals(&leaves, since).await? {
            history.entry(component).or_default().push(interval);
        }
        let uptime = components
            .iter()
            .filter(|c| !c.group)
            .map(|c| {
                let intervals = history.get(&c.id).map_or(&[][..], Vec::as_slice);
                (c.id.clone(), rules::uptime_days(intervals, c.created_at, now, &zone, today, UPTIME_DAYS))
            })
            .collect();
        let indicator = rules::page_indicator(
            incidents.iter().filter(|i| !i.phase.is_over()).map(|i| i.impact),
            components.iter().filter(|c| !c.group).map(|c| c.status),
            maintenances.iter().any(|m| m.phase.is_active()),
        );
        Ok(PageView { page, shows: ids, components, uptime, incidents, maintenances, indicator, at: now })
    }

    /// Adds a component (or group) to a page (its id made by the front: `stc_…`).
    pub async fn add_component(
        &self,
        page: &PageRecord,
        mut component: ComponentRecord,
        at: i64,
    ) -> Result<ComponentRecord, AppError> {
        check_text("a component's name", &component.name, MAX_NAME)?;
        let existing = self.pages.components(std::slice::from_ref(&page.id)).await?;
        if existing.len() >= MAX_COMPONENTS {
            return Err(rejected(format!("a page has at most {MAX_COMPONENTS} components")));
        }
        self.check_group(&existing, component.group_id.as_deref(), component.group)?;
        component.page_id = page.id.clone();
        component.created_at = at;
        component.updated_at = at;
        let status = component.status;
        component.status = ComponentStatus::Operational;
        self.pages.save_component(&component).await?;
        if status != ComponentStatus::Operational {
            self.set_statuses(page, vec![(component.id.clone(), status)], at).await?;
            component.status = status;
        }
        Ok(component)
    }

    fn check_group(&self, existing: &[ComponentRecord], group: Option<&str>, is_group: bool) -> Result<(), AppError> {
        let Some(group) = group else { return Ok(()) };
        if is_group {
            return Err(rejected("a group is not in a group"));
        }
        match existing.iter().find(|c| c.id == group) {
            Some(g) if g.group => Ok(()),
            _ => Err(rejected("group_id names no group of this page")),
        }
    }

    /// Changes a component's name, place and settings, and its status when it differs.
    pub async fn update_component(
        &self,
        page: &PageRecord,
        component: ComponentRecord,
        at: i64,
    ) -> Result<ComponentRecord, AppError> {
        check_text("a component's name", &component.name, MAX_NAME)?;
        let existing = self.pages.components(std::slice::from_ref(&page.id)).await?;
        let Some(before) = existing.iter().find(|c| c.id == component.id) else {
            return Err(rejected("no such component on this page"));
        };
        self.check_group(&existing, component.group_id.as_deref(), before.group)?;
        let status = component.status;
        let saved = ComponentRecord { status: before.status, updated_at: at, group: before.group, ..component };
        self.pages.save_component(&saved).await?;
        if status != before.status && !before.group {
            self.set_statuses(page, vec![(saved.id.clone(), status)], at).await?;
        }
        Ok(ComponentRecord { status: if before.group { before.status } else { status }, ..saved })
    }

    /// Sets components' statuses outside any incident (a person, or an alert bound to them).
    pub async fn set_statuses(
        &self,
        page: &PageRecord,
        statuses: Vec<(String, ComponentStatus)>,
        at: i64,
    ) -> Result<(), AppError> {
        let change = StatusChange { page_id: page.id.clone(), incident: None, update: None, statuses, at };
        Ok(self.pages.commit_status(&change).await?)
    }

    /// The components of a page and the platform's, by id (what an incident may name).
    async fn reachable(&self, page: &PageRecord) -> Result<HashMap<String, ComponentRecord>, AppError> {
        let all = self.pages.components(&self.shown_pages(page).await?).await?;
        Ok(all.into_iter().filter(|c| !c.group).map(|c| (c.id.clone(), c)).collect())
    }

    /// Opens an incident or announces a maintenance on a page.
    pub async fn open(&self, page: &PageRecord, new: NewIncident, at: i64) -> Result<IncidentRecord, AppError> {
        check_text("an incident's name", &new.name, MAX_NAME)?;
        check_text("an update's body", &new.body, MAX_BODY)?;
        let (scheduled_for, scheduled_until) = match (new.phase, new.window) {
            (Phase::Maintenance(_), Some((from, until))) if from < until => (Some(from), Some(until)),
            (Phase::Maintenance(_), _) => {
                return Err(rejected("a maintenance needs scheduled_for before scheduled_until"));
            }
            (Phase::Incident(_), Some(_)) => return Err(rejected("only a maintenance is scheduled")),
            (Phase::Incident(_), None) => (None, None),
        };
        let reachable = self.reachable(page).await?;
        let mut ids = Vec::new();
        let mut statuses = Vec::new();
        for (id, status) in &new.components {
            if !reachable.contains_key(id) {
                return Err(rejected(format!("component {id} is not on this page")));
            }
            if !ids.contains(id) {
                ids.push(id.clone());
            }
            if let Some(s) = status {
                statuses.push((id.clone(), *s));
            }
        }
        if let Some(s) = new.phase.component_status() {
            statuses = ids.iter().map(|id| (id.clone(), s)).collect();
        }
        if new.phase.holds_components() {
            statuses.clear();
        }
        let incident = IncidentRecord {
            id: new.id,
            page_id: page.id.clone(),
            name: new.name.trim().to_string(),
            phase: new.phase,
            impact: new.impact,
            created_at: at,
            updated_at: at,
            started_at: scheduled_for.unwrap_or(at),
            monitoring_at: (new.phase == Phase::Incident(IncidentStatus::Monitoring)).then_some(at),
            resolved_at: new.phase.is_over().then_some(at),
            scheduled_for,
            scheduled_until,
            ticket: new.ticket,
            components: ids,
            updates: Vec::new(),
        };
        let update = UpdateRecord {
            id: new.update_id,
            incident_id: incident.id.clone(),
            phase: new.phase,
            body: new.body.trim().to_string(),
            created_at: at,
            affected: affected(&statuses, &reachable),
        };
        self.write(page, incident, update, statuses, at).await
    }

    /// Adds an update to an incident or maintenance of a page.
    pub async fn update(
        &self,
        page: &PageRecord,
        id: &str,
        new: NewUpdate,
        at: i64,
    ) -> Result<IncidentRecord, AppError> {
        check_text("an update's body", &new.body, MAX_BODY)?;
        let Some(mut incident) = self.pages.incident(id).await?.filter(|i| i.page_id == page.id) else {
            return Err(rejected("no such incident on this page"));
        };
        if incident.phase.is_maintenance() != new.phase.is_maintenance() {
            return Err(rejected(if incident.phase.is_maintenance() {
                "a maintenance's status is scheduled, in_progress, verifying or completed"
            } else {
                "an incident's status is investigating, identified, monitoring, resolved or postmortem"
            }));
        }
        let reachable = self.reachable(page).await?;
        let mut statuses = Vec::new();
        for (component, status) in &new.components {
            if !reachable.contains_key(component) {
                return Err(rejected(format!("component {component} is not on this page")));
            }
            if !incident.components.contains(component) {
                incident.components.push(component.clone());
            }
            statuses.push((component.clone(), *status));
        }
        if statuses.is_empty()
            && let Some(s) = new.phase.component_status()
        {
            statuses = incident.components.iter().map(|c| (c.clone(), s)).collect();
        }
        if new.phase.holds_components() {
            statuses.clear();
        }
        incident.phase = new.phase;
        incident.impact = new.impact.unwrap_or(incident.impact);
        incident.updated_at = at;
        if new.phase == Phase::Incident(IncidentStatus::Monitoring) && incident.monitoring_at.is_none() {
            incident.monitoring_at = Some(at);
        }
        incident.resolved_at = if new.phase.is_over() { incident.resolved_at.or(Some(at)) } else { None };
        let update = UpdateRecord {
            id: new.id,
            incident_id: incident.id.clone(),
            phase: new.phase,
            body: new.body.trim().to_string(),
            created_at: at,
            affected: affected(&statuses, &reachable),
        };
        self.write(page, incident, update, statuses, at).await
    }
}

/// The components a change of `statuses` affects, with their statuses before (`reachable`:
/// as they are now) and after.
fn affected(statuses: &[(String, ComponentStatus)], reachable: &HashMap<String, ComponentRecord>) -> Vec<Affected> {
    statuses
        .iter()
        .filter_map(|(id, new_status)| {
            let c = reachable.get(id)?;
            Some(Affected { code: id.clone(), name: c.name.clone(), old_status: c.status, new_status: *new_status })
        })
        .collect()
}

impl StatusDesk {
    async fn write(
        &self,
        page: &PageRecord,
        incident: IncidentRecord,
        update: UpdateRecord,
        statuses: Vec<(String, ComponentStatus)>,
        at: i64,
    ) -> Result<IncidentRecord, AppError> {
        let change = StatusChange {
            page_id: page.id.clone(),
            incident: Some(incident.clone()),
            update: Some(update),
            statuses,
            at,
        };
        self.pages.commit_status(&change).await?;
        Ok(self.pages.incident(&incident.id).await?.unwrap_or(incident))
    }

    /// Moves on every maintenance the clock is due to move at `now` (starting or completing
    /// it, with its update and its components' statuses); answers how many moved.
    pub async fn run_due(&self, now: i64) -> Result<usize, AppError> {
        let due = self.pages.due_maintenances(now).await?;
        let mut moved = 0;
        for m in due {
            let (Phase::Maintenance(status), Some(from), Some(until)) = (m.phase, m.scheduled_for, m.scheduled_until)
            else {
                continue;
            };
            let Some(next) = rules::maintenance_due(status, from, until, now) else { continue };
            let Some(page) = self.pages.page(&m.page_id).await? else { continue };
            let phase = Phase::Maintenance(next);
            // Derived from what moved it, so two instances moving it at once write one update.
            let id = seeded_ulid("stu", now * 1000, &format!("{}:{}", m.id, phase.as_str()));
            let update =
                NewUpdate { id, phase, body: phase.automatic_body().into(), components: Vec::new(), impact: None };
            self.update(&page, &m.id, update, now).await?;
            moved += 1;
        }
        Ok(moved)
    }
}

#[cfg(test)]
mod desk_tests;
