//! Running status pages, for every door: pages (name, host binding, zone), components and
//! groups, incidents and scheduled maintenances and their updates, and an incident opened
//! from a ticket. Each use takes the door's [`Principal`] and asks the access policy: reading
//! needs the page to be visible, every change is [`Action::ManageStatus`] (staff, on the pages
//! of orgs they see). The API and the console call the same [`StatusManager`].

use super::{ComponentRecord, IncidentRecord, MAX_NAME, NewIncident, NewUpdate, PageRecord, StatusDesk};
use crate::act::{Principal, TicketRef};
use crate::alerts::Alerts;
use crate::desk::AppError;
use crate::ports::{Accounts, Commands, Queries};
use crate::records::{OrgRecord, TicketRecord};
use crate::status::StatusPages;
use crate::store::StoreError;
use std::sync::Arc;
use stringer_core::access::{self, Action, Decision, Object, OrgRef};
use stringer_core::ids::{Deployment, TicketId};
use stringer_core::status::{ComponentStatus, Impact, Phase};

/// Why running a status page did nothing.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    /// No such page, component, incident or ticket — or one the principal may not see.
    #[error("no such {0}")]
    NotFound(&'static str),
    /// The policy refused, with its reason.
    #[error("{0}")]
    Forbidden(String),
    /// What was asked cannot be (an unknown status, a malformed instant).
    #[error("{0}")]
    Invalid(String),
    /// The rules or the store refused.
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<StoreError> for ManageError {
    fn from(e: StoreError) -> ManageError {
        ManageError::App(AppError::Store(e))
    }
}

/// Changes to a page; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct PageChange {
    /// A new name.
    pub name: Option<String>,
    /// A host name to bind it to; blank unbinds.
    pub host: Option<String>,
    /// An IANA zone for its days.
    pub time_zone: Option<String>,
}

/// A component as a door was asked to write it.
#[derive(Clone, Debug)]
pub struct ComponentDraft {
    /// Its name.
    pub name: String,
    /// What it is.
    pub description: Option<String>,
    /// The group it is in.
    pub group_id: Option<String>,
    /// Its place on the page (new ones go last).
    pub position: Option<i64>,
    /// Whether it is a group (only when creating).
    pub group: bool,
    /// Shown only while not operational.
    pub only_show_if_degraded: bool,
    /// Shown with its uptime bar.
    pub showcase: bool,
    /// Its status's name.
    pub status: String,
    /// An alert's dedup key that sets its status while the alert is triggered.
    pub alert_key: Option<String>,
}

impl From<ComponentRecord> for ComponentDraft {
    fn from(c: ComponentRecord) -> ComponentDraft {
        ComponentDraft {
            name: c.name,
            description: c.description,
            group_id: c.group_id,
            position: Some(c.position),
            group: c.group,
            only_show_if_degraded: c.only_show_if_degraded,
            showcase: c.showcase,
            status: c.status.as_str().into(),
            alert_key: c.alert_key,
        }
    }
}

/// A component an incident concerns, with the status it sets.
#[derive(Clone, Debug)]
pub struct ComponentChange {
    /// The component's id (of this page, or the platform's).
    pub id: String,
    /// Its new status's name; left as is when absent.
    pub status: Option<String>,
}

/// A new incident or scheduled maintenance as a door was asked for it.
#[derive(Clone, Debug)]
pub struct IncidentDraft {
    /// Its name.
    pub name: String,
    /// Its phase's name (an incident's or a maintenance's).
    pub status: String,
    /// The impact's name (none when absent).
    pub impact: Option<String>,
    /// The first update's words.
    pub body: String,
    /// The components it concerns.
    pub components: Vec<ComponentChange>,
    /// A maintenance's planned start (RFC 3339).
    pub scheduled_for: Option<String>,
    /// A maintenance's planned end (RFC 3339).
    pub scheduled_until: Option<String>,
    /// Whether it is a scheduled maintenance.
    pub maintenance: bool,
}

/// An update of an incident or maintenance as a door was asked for it.
#[derive(Clone, Debug)]
pub struct UpdateDraft {
    /// The phase it moves to.
    pub status: String,
    /// Its words.
    pub body: String,
    /// Components' new statuses.
    pub components: Vec<ComponentChange>,
    /// A new impact.
    pub impact: Option<String>,
}

/// An incident opened from a ticket; each absent field has the ticket's default.
#[derive(Clone, Debug, Default)]
pub struct FromTicket {
    /// Its name (default: the ticket's subject).
    pub name: Option<String>,
    /// The first update's words.
    pub body: Option<String>,
    /// The components it concerns (default: every component of the org's own page, at the
    /// status the severity suggests).
    pub components: Option<Vec<ComponentChange>>,
    /// The impact (default: from the severity).
    pub impact: Option<String>,
}

/// Where and how an incident about a ticket would open, for a door to offer before it does.
#[derive(Clone, Debug)]
pub struct TicketIncident {
    /// The status page it would open on.
    pub page: PageRecord,
    /// The ticket.
    pub ticket: TicketRecord,
    /// The page's own components (no groups), by position: what it may name.
    pub components: Vec<ComponentRecord>,
    /// The impact the ticket's severity suggests.
    pub impact: Impact,
    /// The status the severity suggests for the components chosen.
    pub status: ComponentStatus,
}

/// What a ticket's severity suggests for an incident: the most severe is critical (its
/// components a major outage), the next major (a partial outage), then minor (degraded).
pub fn suggested(rank: usize) -> (Impact, ComponentStatus) {
    match rank {
        0 => (Impact::Critical, ComponentStatus::MajorOutage),
        1 => (Impact::Major, ComponentStatus::PartialOutage),
        _ => (Impact::Minor, ComponentStatus::DegradedPerformance),
    }
}

/// Why `host` (trimmed, lowercased, without a trailing dot) cannot be a status page's host
/// name, if it cannot: it must be a DNS name of two labels or more under a top-level domain
/// (no IP address, port or `localhost`), and not the host the server itself answers at
/// (`own`) — binding that would take the whole site's `/`.
pub fn host_refusal(host: &str, own: Option<&str>) -> Option<&'static str> {
    let label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let top = host.rsplit('.').next().unwrap_or_default();
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        Some("host is a host name, not an IP address")
    } else if host.contains(':') {
        Some("host is a host name without a port")
    } else if host.len() > 253 || !host.split('.').all(label) {
        Some("host is a host name such as status.vendor.example (letters, digits, hyphens and dots)")
    } else if !host.contains('.') || !top.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("host is a full host name under a top-level domain, such as status.vendor.example")
    } else if host == "localhost" || host.ends_with(".localhost") || own == Some(host) {
        Some("host is the server's own host name; a status page needs a host name of its own")
    } else {
        None
    }
}

fn component_status(name: &str) -> Result<ComponentStatus, ManageError> {
    ComponentStatus::parse(name).ok_or_else(|| {
        ManageError::Invalid(
            "a component's status is operational, degraded_performance, partial_outage, major_outage or under_maintenance"
                .into(),
        )
    })
}

fn impact(name: Option<&str>) -> Result<Option<Impact>, ManageError> {
    name.map(|n| {
        Impact::parse(n).ok_or_else(|| ManageError::Invalid("impact is none, minor, major or critical".into()))
    })
    .transpose()
}

fn phase(maintenance: bool, name: &str) -> Result<Phase, ManageError> {
    Phase::parse(maintenance, name).ok_or_else(|| {
        ManageError::Invalid(if maintenance {
            "a maintenance's status is scheduled, in_progress, verifying or completed".into()
        } else {
            "an incident's status is investigating, identified, monitoring, resolved or postmortem".into()
        })
    })
}

fn instant(what: &str, text: Option<&str>) -> Result<Option<i64>, ManageError> {
    text.map(|t| {
        t.parse::<jiff::Timestamp>()
            .map(|ts| ts.as_second())
            .map_err(|_| ManageError::Invalid(format!("{what} is an RFC 3339 instant, e.g. 2026-12-24T02:00:00Z")))
    })
    .transpose()
}

fn record(d: ComponentDraft, id: String, page: &PageRecord, position: i64) -> Result<ComponentRecord, ManageError> {
    Ok(ComponentRecord {
        id,
        page_id: page.id.clone(),
        group_id: d.group_id,
        name: d.name.trim().to_string(),
        description: d.description.filter(|d| !d.trim().is_empty()),
        position: d.position.unwrap_or(position),
        group: d.group,
        only_show_if_degraded: d.only_show_if_degraded,
        showcase: d.showcase,
        status: component_status(&d.status)?,
        alert_key: d.alert_key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty()),
        created_at: 0,
        updated_at: 0,
    })
}

fn decided(decision: Decision, what: &'static str) -> Result<(), ManageError> {
    match decision {
        Decision::Allow => Ok(()),
        Decision::NotFound => Err(ManageError::NotFound(what)),
        Decision::Forbidden(why) => Err(ManageError::Forbidden(why.to_string())),
    }
}

/// What the status manager reads and changes: the pages, the alerts that move them, and
/// the tickets and orgs they speak of.
#[derive(Clone)]
pub struct StatusPorts {
    /// Changes tickets (and tells the time and the contract).
    pub commands: Arc<dyn Commands>,
    /// The read port: tickets, comments, timelines.
    pub queries: Arc<dyn Queries>,
    /// Orgs, users, tokens.
    pub accounts: Arc<dyn Accounts>,
    /// Integration keys, alerts from monitoring and their signals.
    pub alerts: Arc<dyn Alerts>,
    /// Status pages, their components, incidents and maintenance.
    pub status: Arc<dyn StatusPages>,
}

/// Status pages as principals run them.
#[derive(Clone)]
pub struct StatusManager {
    ports: StatusPorts,
    new_id: crate::ids::NewId,
    changed: Arc<dyn Fn() + Send + Sync>,
    own_host: Option<String>,
}

impl StatusManager {
    /// A manager over the ports; `new_id` makes ids (the front makes them from the desk's
    /// clock), and `changed` is told after every change, so what was kept of a page is not
    /// served any longer. `own_host` is the host name the server answers at, which no page
    /// may take.
    pub fn new(
        ports: StatusPorts,
        new_id: crate::ids::NewId,
        changed: Arc<dyn Fn() + Send + Sync>,
        own_host: Option<String>,
    ) -> StatusManager {
        StatusManager { ports, new_id, changed, own_host }
    }

    fn desk(&self) -> StatusDesk {
        StatusDesk { pages: self.ports.status.clone() }
    }

    fn now(&self) -> i64 {
        self.ports.commands.now().as_second()
    }

    /// The public page's name: the contract's.
    fn platform_name(&self) -> String {
        self.ports.commands.contract().name.clone()
    }

    /// A page and its org, once `who` may take `action` on it (not found as for a missing
    /// page otherwise).
    pub async fn page_for(
        &self,
        who: &Principal,
        id: &str,
        action: Action,
    ) -> Result<(PageRecord, Option<OrgRecord>), ManageError> {
        let page = self.ports.status.page(id).await?;
        let org = match page.as_ref().and_then(|p| p.org.as_ref()) {
            Some(slug) => self.ports.accounts.org(slug).await?,
            None => None,
        };
        let object = page.as_ref().map(|_| Object::StatusPage(org.as_ref().map(OrgRecord::as_ref)));
        decided(access::decide(&who.actor(), action, object), "status page")?;
        let page = page.ok_or(ManageError::NotFound("status page"))?;
        Ok((page, org))
    }

    /// The pages `who` may see: the public page first, then each dedicated or federal org's
    /// (created here for orgs made before pages existed).
    pub async fn visible_pages(&self, who: &Principal) -> Result<Vec<PageRecord>, ManageError> {
        if let Decision::Forbidden(why) = access::decide(&who.actor(), Action::ViewStatusPage, None) {
            return Err(ManageError::Forbidden(why.to_string()));
        }
        let now = self.now();
        let desk = self.desk();
        let mut out = vec![desk.platform_page(&self.platform_name(), now).await?];
        for org in self.ports.accounts.orgs().await? {
            if org.deployment == Deployment::Shared
                || !who.allowed(Action::ViewStatusPage, Some(Object::StatusPage(Some(org.as_ref()))))
            {
                continue;
            }
            if let Some(page) = desk.tenant_page(&org, now).await? {
                out.push(page);
            }
        }
        Ok(out)
    }

    /// Renames page `id`, binds it to a host name, or sets its zone.
    pub async fn change_page(&self, who: &Principal, id: &str, change: PageChange) -> Result<PageRecord, ManageError> {
        let (mut page, _) = self.page_for(who, id, Action::ManageStatus).await?;
        if let Some(name) = change.name {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > MAX_NAME {
                return Err(ManageError::Invalid("a page's name is 1 to 200 characters".into()));
            }
            page.name = name.to_string();
        }
        if let Some(host) = change.host {
            self.page_for(who, id, Action::ConfigureStatusPage).await?;
            let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
            if !host.is_empty()
                && let Some(why) = host_refusal(&host, self.own_host.as_deref())
            {
                return Err(ManageError::Invalid(why.into()));
            }
            page.host = (!host.is_empty()).then_some(host);
        }
        if let Some(zone) = change.time_zone {
            if jiff::tz::TimeZone::get(&zone).is_err() {
                return Err(ManageError::Invalid(format!("unknown time zone {zone:?}")));
            }
            page.time_zone = zone;
        }
        page.updated_at = self.now();
        self.ports.status.update_page(&page).await?;
        (self.changed)();
        Ok(page)
    }

    /// Grants integration key `key` leave to set page `id`'s components from its alerts
    /// (`granted`), or takes it back: an admin's, on a page they see, for a key of an org whose
    /// integrations they manage.
    pub async fn grant_alert_key(
        &self,
        who: &Principal,
        id: &str,
        key: &str,
        granted: bool,
    ) -> Result<(), ManageError> {
        let (page, _) = self.page_for(who, id, Action::ConfigureStatusPage).await?;
        let found = self.ports.alerts.key(key).await?;
        let org = match &found {
            Some(k) => self.ports.accounts.org(&k.org).await?,
            None => None,
        };
        let object = org.as_ref().map(|o| Object::Org(o.as_ref()));
        decided(access::decide(&who.actor(), Action::ManageIntegrations, object), "integration key")?;
        let by = granted.then(|| who.user().id.0.clone());
        self.ports.status.grant_alert_key(&page.id, key, by.as_deref(), self.now()).await?;
        Ok(())
    }

    /// Page `id`'s own components and groups, by position.
    pub async fn components(&self, who: &Principal, id: &str) -> Result<Vec<ComponentRecord>, ManageError> {
        let (page, _) = self.page_for(who, id, Action::ViewStatusPage).await?;
        Ok(self.ports.status.components(std::slice::from_ref(&page.id)).await?)
    }

    /// Adds a component or group to page `id`.
    pub async fn add_component(
        &self,
        who: &Principal,
        id: &str,
        draft: ComponentDraft,
    ) -> Result<ComponentRecord, ManageError> {
        let (page, _) = self.page_for(who, id, Action::ManageStatus).await?;
        let count = self.ports.status.components(std::slice::from_ref(&page.id)).await?.len() as i64;
        let component = record(draft, (self.new_id)("stc"), &page, count + 1)?;
        let saved = self.desk().add_component(&page, component, self.now()).await?;
        (self.changed)();
        Ok(saved)
    }

    /// The component `component` of `page`, as it is.
    async fn component(&self, page: &PageRecord, component: &str) -> Result<ComponentRecord, ManageError> {
        let existing = self.ports.status.components(std::slice::from_ref(&page.id)).await?;
        existing.into_iter().find(|c| c.id == component).ok_or(ManageError::NotFound("component"))
    }

    /// Changes component `component` of page `id`: its name, place, settings and status.
    pub async fn change_component(
        &self,
        who: &Principal,
        id: &str,
        component: &str,
        draft: ComponentDraft,
    ) -> Result<ComponentRecord, ManageError> {
        let (page, _) = self.page_for(who, id, Action::ManageStatus).await?;
        let before = self.component(&page, component).await?;
        let mut changed = record(draft, before.id.clone(), &page, before.position)?;
        changed.created_at = before.created_at;
        let saved = self.desk().update_component(&page, changed, self.now()).await?;
        (self.changed)();
        Ok(saved)
    }

    /// Deletes component `component` of page `id` (not a platform component shown on a
    /// tenant's page): it leaves the page, its history with it; past updates keep its name.
    pub async fn delete_component(
        &self,
        who: &Principal,
        id: &str,
        component: &str,
    ) -> Result<ComponentRecord, ManageError> {
        let (page, _) = self.page_for(who, id, Action::ManageStatus).await?;
        let before = self.component(&page, component).await?;
        if !self.ports.status.delete_component(&page.id, &before.id, self.now()).await? {
            return Err(ManageError::NotFound("component"));
        }
        (self.changed)();
        Ok(before)
    }

    /// Moves component `component` of page `id` one place up (`up`) or down among those
    /// beside it (the same group, or none): the two swap places. At an end, nothing moves.
    pub async fn move_component(
        &self,
        who: &Principal,
        id: &str,
        component: &str,
        up: bool,
    ) -> Result<ComponentRecord, ManageError> {
        let (page, _) = self.page_for(who, id, Action::ManageStatus).await?;
        let mut siblings = self.ports.status.components(std::slice::from_ref(&page.id)).await?;
        let Some(moving) = siblings.iter().find(|c| c.id == component).cloned() else {
            return Err(ManageError::NotFound("component"));
        };
        siblings.retain(|c| c.group_id == moving.group_id);
        let at = siblings.iter().position(|c| c.id == moving.id).unwrap_or_default();
        let other = if up { at.checked_sub(1) } else { Some(at + 1) };
        let Some(other) = other.and_then(|i| siblings.get(i)).cloned() else { return Ok(moving) };
        // The two swap positions; equal ones (listed by age) are set apart by one.
        let (mine, mut theirs) = (other.position, moving.position);
        if mine == theirs {
            theirs = if up { mine + 1 } else { mine - 1 };
        }
        let desk = self.desk();
        let now = self.now();
        desk.update_component(&page, ComponentRecord { position: theirs, ..other }, now).await?;
        desk.update_component(&page, ComponentRecord { position: mine, ..moving.clone() }, now).await?;
        (self.changed)();
        Ok(moving)
    }

    /// Sets one component's status, keeping everything else about it.
    pub async fn set_status(
        &self,
        who: &Principal,
        id: &str,
        component: &str,
        status: &str,
    ) -> Result<ComponentRecord, ManageError> {
        let (page, _) = self.page_for(who, id, Action::ManageStatus).await?;
        let before = self.component(&page, component).await?;
        let draft = ComponentDraft { status: status.to_string(), ..ComponentDraft::from(before) };
        self.change_component(who, id, component, draft).await
    }

    /// Opens an incident or announces a maintenance on page `id`.
    pub async fn open_incident(
        &self,
        who: &Principal,
        id: &str,
        draft: IncidentDraft,
    ) -> Result<(PageRecord, IncidentRecord), ManageError> {
        let (page, _) = self.page_for(who, id, Action::ManageStatus).await?;
        let incident = self.open(&page, draft, None).await?;
        Ok((page, incident))
    }

    async fn open(
        &self,
        page: &PageRecord,
        draft: IncidentDraft,
        ticket: Option<TicketId>,
    ) -> Result<IncidentRecord, ManageError> {
        let from = instant("scheduled_for", draft.scheduled_for.as_deref())?;
        let until = instant("scheduled_until", draft.scheduled_until.as_deref())?;
        let components = draft
            .components
            .iter()
            .map(|c| Ok((c.id.clone(), c.status.as_deref().map(component_status).transpose()?)))
            .collect::<Result<Vec<_>, ManageError>>()?;
        let new = NewIncident {
            id: (self.new_id)("sti"),
            update_id: (self.new_id)("stu"),
            name: draft.name,
            phase: phase(draft.maintenance, &draft.status)?,
            impact: impact(draft.impact.as_deref())?.unwrap_or(Impact::None),
            body: draft.body,
            components,
            window: from.zip(until),
            ticket,
        };
        if draft.maintenance && new.window.is_none() {
            return Err(ManageError::Invalid("a maintenance needs scheduled_for and scheduled_until".into()));
        }
        let incident = self.desk().open(page, new, self.now()).await?;
        (self.changed)();
        Ok(incident)
    }

    /// Adds an update to incident `incident` of page `id`.
    pub async fn post_update(
        &self,
        who: &Principal,
        id: &str,
        incident: &str,
        draft: UpdateDraft,
    ) -> Result<(PageRecord, IncidentRecord), ManageError> {
        let (page, _) = self.page_for(who, id, Action::ManageStatus).await?;
        let Some(existing) = self.ports.status.incident(incident).await?.filter(|i| i.page_id == page.id) else {
            return Err(ManageError::NotFound("incident"));
        };
        let components = draft
            .components
            .iter()
            .map(|c| {
                let status = c
                    .status
                    .as_deref()
                    .ok_or_else(|| ManageError::Invalid("an update's component needs a status".into()))?;
                Ok((c.id.clone(), component_status(status)?))
            })
            .collect::<Result<Vec<_>, ManageError>>()?;
        let update = NewUpdate {
            id: (self.new_id)("stu"),
            phase: phase(existing.phase.is_maintenance(), &draft.status)?,
            body: draft.body,
            components,
            impact: impact(draft.impact.as_deref())?,
        };
        let incident = self.desk().update(&page, &existing.id, update, self.now()).await?;
        (self.changed)();
        Ok((page, incident))
    }

    /// Where and how an incident about `ticket` (which `who` must see with its internals)
    /// would open: its org's own status page (the public page for an org on the shared
    /// platform), the components it may name, and what the ticket's severity suggests.
    pub async fn ticket_incident(&self, who: &Principal, ticket: &TicketRef) -> Result<TicketIncident, ManageError> {
        let found = match ticket {
            TicketRef::Id(id) => self.ports.queries.ticket(id).await?,
            TicketRef::Key(key) => self.ports.queries.ticket_by_key(key).await?,
        };
        let object = found.as_ref().map(|(t, d)| Object::Ticket(OrgRef { slug: t.org.as_str(), deployment: *d }));
        decided(access::decide(&who.actor(), Action::ReadInternal, object), "ticket")?;
        let (ticket, _) = found.ok_or(ManageError::NotFound("ticket"))?;
        let org = self.ports.accounts.org(&ticket.org).await?.ok_or(ManageError::NotFound("org"))?;
        let now = self.now();
        let desk = self.desk();
        let page = match desk.tenant_page(&org, now).await? {
            Some(page) => page,
            None => desk.platform_page(&self.platform_name(), now).await?,
        };
        let object = Object::StatusPage(page.org.as_ref().map(|_| org.as_ref()));
        decided(access::decide(&who.actor(), Action::ManageStatus, Some(object)), "status page")?;
        let components = self.ports.status.components(std::slice::from_ref(&page.id)).await?;
        let components = components.into_iter().filter(|c| !c.group).collect();
        let contract = self.ports.commands.contract();
        let rank = contract.severities.get_index_of(&ticket.state.severity).unwrap_or(usize::MAX);
        let (impact, status) = suggested(rank);
        Ok(TicketIncident { page, ticket, components, impact, status })
    }

    /// Opens an incident from `ticket` (which `who` must see with its internals) on its org's
    /// own status page (the public page for an org on the shared platform), linked to it.
    pub async fn incident_from_ticket(
        &self,
        who: &Principal,
        ticket: &TicketRef,
        asked: FromTicket,
    ) -> Result<(PageRecord, IncidentRecord), ManageError> {
        let TicketIncident { page, ticket, components, impact, status } = self.ticket_incident(who, ticket).await?;
        let components = match asked.components {
            Some(list) => list,
            None if page.org.is_some() => components
                .into_iter()
                .map(|c| ComponentChange { id: c.id, status: Some(status.as_str().into()) })
                .collect(),
            None => Vec::new(),
        };
        let draft = IncidentDraft {
            name: asked.name.unwrap_or_else(|| ticket.subject.clone()),
            status: "investigating".into(),
            impact: Some(asked.impact.unwrap_or_else(|| impact.as_str().into())),
            body: asked.body.unwrap_or_else(|| "We are investigating this issue.".into()),
            components,
            scheduled_for: None,
            scheduled_until: None,
            maintenance: false,
        };
        let incident = self.open(&page, draft, Some(ticket.id.clone())).await?;
        Ok((page, incident))
    }
}

#[cfg(test)]
mod tests {
    use super::host_refusal;

    #[test]
    fn a_host_is_a_dns_name_of_its_own() {
        for host in ["status.vendor.example", "status-1.vendor.example", "xn--bcher-kva.example"] {
            assert_eq!(host_refusal(host, Some("desk.vendor.example")), None, "{host}");
        }
        for host in [
            "127.0.0.1",
            "10.1",
            "0x7f.1",
            "::1",
            "[::1]",
            "status.vendor.example:8080",
            "localhost",
            "app.localhost",
            "example",
            "status..example",
            "-status.example",
            "status-.example",
            "status_page.example",
            "status.vendor.example/x",
            "desk.vendor.example",
        ] {
            assert!(host_refusal(host, Some("desk.vendor.example")).is_some(), "{host}");
        }
    }
}

#[cfg(test)]
mod desk_tests {
    //! The status manager's decisions over in-memory ports: who may post, and what an
    //! incident, a maintenance and their updates do to the components.
    #![allow(unused_variables)]

    use super::*;
    use crate::act::Proof;
    use crate::fakes::{MemoryAlerts, Pages, World, component, org, page, user};
    use std::sync::Mutex;
    use stringer_core::access::{Scope, Scopes};
    use stringer_core::contract::Contract;
    use stringer_core::ids::UserRole;

    /// Components named by a draft, with the status each is given.
    type Named<'a> = &'a [(&'a str, Option<&'a str>)];
    /// Components with their statuses.
    type Statuses<'a> = &'a [(&'a str, &'a str)];
    /// Who acts: their role, org and scopes.
    type Who<'a> = (UserRole, Option<&'a str>, Scopes);

    async fn manager() -> (StatusManager, Arc<Pages>) {
        let world = World::new(Contract::default_contract(), "2026-03-02T10:00:00Z".parse().unwrap());
        world.add_org(OrgRecord { deployment: Deployment::Federal, ..org("fedco", "enterprise") }).await;
        let pages = Arc::new(Pages {
            pages: vec![page("pub", None), page("fed", Some("fedco"))],
            components: Mutex::new(vec![component("api", "pub"), component("web", "pub"), component("vault", "fed")]),
            ..Pages::default()
        });
        let ports = StatusPorts {
            commands: world.clone(),
            queries: world.clone(),
            accounts: world.clone(),
            alerts: Arc::new(MemoryAlerts::new(world.clone())),
            status: pages.clone(),
        };
        let new_id = |prefix: &str| format!("{prefix}_{}", prefix.len());
        (StatusManager::new(ports, Arc::new(new_id), Arc::new(|| {}), None), pages)
    }

    fn who(role: UserRole, org: Option<&str>, scopes: Scopes) -> Principal {
        Principal::new(user("someone", org, role), scopes, Proof::Session).expect("an active user")
    }

    fn draft(status: &str, components: &[(&str, Option<&str>)]) -> IncidentDraft {
        IncidentDraft {
            name: "API errors".into(),
            status: status.into(),
            impact: Some("major".into()),
            body: "We are looking into it.".into(),
            components: components
                .iter()
                .map(|(id, s)| ComponentChange { id: id.to_string(), status: s.map(str::to_string) })
                .collect(),
            scheduled_for: None,
            scheduled_until: None,
            maintenance: false,
        }
    }

    /// What a use came to, in a word the table can hold.
    fn verdict<T>(r: Result<T, ManageError>) -> String {
        match r {
            Ok(_) => "done".into(),
            Err(ManageError::Forbidden(_)) => "forbidden".into(),
            Err(ManageError::NotFound(what)) => format!("no {what}"),
            Err(e) => format!("refused: {e}"),
        }
    }

    #[tokio::test]
    async fn only_staff_who_see_the_page_post_on_it() {
        let rw = Scopes::READ_WRITE;
        let cases: &[(&str, Who, &str, &str)] = &[
            // (why, who, page, what happens)
            ("an engineer posts on the platform page", (UserRole::Engineer, None, rw), "pub", "done"),
            ("a read-only token may not", (UserRole::Engineer, None, Scopes::of(&[Scope::Read])), "pub", "forbidden"),
            ("a customer may not, even on their own page", (UserRole::OrgAdmin, Some("fedco"), rw), "fed", "forbidden"),
            (
                "an uncleared engineer does not see a federal page",
                (UserRole::Engineer, None, rw),
                "fed",
                "no status page",
            ),
            ("a missing page is not found", (UserRole::Engineer, None, rw), "nope", "no status page"),
        ];
        for (why, (role, org, scopes), page, expected) in cases {
            let (manager, _) = manager().await;
            let component = if *page == "fed" { "vault" } else { "api" };
            let caller = who(*role, *org, *scopes);
            let opened = manager.open_incident(&caller, page, draft("investigating", &[(component, None)])).await;
            assert_eq!(verdict(opened), *expected, "{why}");
        }
    }

    #[tokio::test]
    async fn an_incident_moves_the_components_it_names_and_only_those() {
        let cases: &[(&str, &str, Named, &str, Statuses)] = &[
            // (why, status, components named, what happens, the components after)
            (
                "an outage is shown",
                "investigating",
                &[("api", Some("major_outage"))],
                "done",
                &[("api", "major_outage"), ("web", "operational")],
            ),
            (
                "naming a component without a status leaves it be",
                "investigating",
                &[("api", None)],
                "done",
                &[("api", "operational"), ("web", "operational")],
            ),
            (
                "an incident opened resolved leaves its components operational",
                "resolved",
                &[("api", Some("major_outage"))],
                "done",
                &[("api", "operational"), ("web", "operational")],
            ),
            (
                "a component of another page is refused",
                "investigating",
                &[("vault", Some("major_outage"))],
                "refused: component vault is not on this page",
                &[("api", "operational"), ("web", "operational")],
            ),
            (
                "an unknown status is refused",
                "exploding",
                &[("api", None)],
                "refused: an incident's status is investigating, identified, monitoring, resolved or postmortem",
                &[("api", "operational"), ("web", "operational")],
            ),
            (
                "an unknown component status is refused",
                "investigating",
                &[("api", Some("on_fire"))],
                "refused: a component's status is operational, degraded_performance, partial_outage, major_outage or under_maintenance",
                &[("api", "operational"), ("web", "operational")],
            ),
        ];
        let staff = who(UserRole::Engineer, None, Scopes::READ_WRITE);
        for (why, status, named, expected, after) in cases {
            let (manager, pages) = manager().await;
            assert_eq!(verdict(manager.open_incident(&staff, "pub", draft(status, named)).await), *expected, "{why}");
            let platform: Vec<_> = pages.statuses().into_iter().filter(|(id, _)| id != "vault").collect();
            let after: Vec<_> = after.iter().map(|(id, s)| (id.to_string(), *s)).collect();
            assert_eq!(platform, after, "{why}");
        }
    }

    #[tokio::test]
    async fn a_maintenance_is_scheduled_and_an_incident_is_not() {
        let staff = who(UserRole::Engineer, None, Scopes::READ_WRITE);
        let window = (Some("2026-03-03T02:00:00Z"), Some("2026-03-03T04:00:00Z"));
        let cases = [
            ("a maintenance with its window", true, "scheduled", window, "done"),
            (
                "a maintenance without one",
                true,
                "scheduled",
                (None, None),
                "refused: a maintenance needs scheduled_for and scheduled_until",
            ),
            (
                "a maintenance ending before it starts",
                true,
                "scheduled",
                (window.1, window.0),
                "refused: a maintenance needs scheduled_for before scheduled_until",
            ),
            ("an incident with a window", false, "investigating", window, "refused: only a maintenance is scheduled"),
        ];
        for (why, maintenance, status, (from, until), expected) in cases {
            let (manager, pages) = manager().await;
            let d = IncidentDraft {
                maintenance,
                scheduled_for: from.map(str::to_string),
                scheduled_until: until.map(str::to_string),
                ..draft(status, &[("api", Some("under_maintenance"))])
            };
            assert_eq!(verdict(manager.open_incident(&staff, "pub", d).await), expected, "{why}");
            assert_eq!(
                pages.statuses()[0],
                ("api".into(), "operational"),
                "{why}: a scheduled maintenance holds its components"
            );
        }
    }

    #[tokio::test]
    async fn an_update_that_ends_an_incident_restores_its_components() {
        let staff = who(UserRole::Engineer, None, Scopes::READ_WRITE);
        let cases: &[(&str, &str, Named, &str, &str)] = &[
            // (why, status, components, what happens, api after)
            ("monitoring keeps the outage shown", "monitoring", &[], "done", "major_outage"),
            (
                "a new status for a component is shown",
                "identified",
                &[("api", Some("partial_outage"))],
                "done",
                "partial_outage",
            ),
            ("resolved makes every component of the incident operational", "resolved", &[], "done", "operational"),
            (
                "a component's update needs a status",
                "identified",
                &[("api", None)],
                "refused: an update's component needs a status",
                "major_outage",
            ),
            (
                "a maintenance's status does not fit an incident",
                "completed",
                &[],
                "refused: an incident's status is investigating, identified, monitoring, resolved or postmortem",
                "major_outage",
            ),
        ];
        for (why, status, named, expected, api) in cases {
            let (manager, pages) = manager().await;
            let (_, incident) = manager
                .open_incident(&staff, "pub", draft("investigating", &[("api", Some("major_outage"))]))
                .await
                .unwrap();
            let update = UpdateDraft {
                status: status.to_string(),
                body: "More news.".into(),
                components: named
                    .iter()
                    .map(|(id, s)| ComponentChange { id: id.to_string(), status: s.map(str::to_string) })
                    .collect(),
                impact: None,
            };
            assert_eq!(verdict(manager.post_update(&staff, "pub", &incident.id, update).await), *expected, "{why}");
            assert_eq!(pages.statuses()[0], ("api".into(), *api), "{why}");
        }
    }

    #[tokio::test]
    async fn an_update_finds_only_the_incidents_of_its_page() {
        let staff = who(UserRole::Engineer, None, Scopes::READ_WRITE);
        let (manager, _) = manager().await;
        let update = UpdateDraft { status: "resolved".into(), body: "Done.".into(), components: vec![], impact: None };
        assert_eq!(verdict(manager.post_update(&staff, "pub", "sti_nope", update).await), "no incident");
    }
}
