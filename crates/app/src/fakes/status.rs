//! Status pages in memory, for the desks that read or move them.

// The stubs answer the same error whatever they are asked.
#![allow(unused_variables)]

use super::absent;
use crate::status::subscribers::{NoticeRecord, SubscriberRecord};
use crate::status::{ComponentRecord, IncidentRecord, PageRecord, StatusChange, StatusPages};
use crate::store::StoreError;
use async_trait::async_trait;
use std::sync::Mutex;
use stringer_core::ids::{OrgSlug, TicketId};
use stringer_core::status::{ComponentStatus, StatusInterval};

/// Status pages in memory: pages (those a test set up, and those made since), their
/// components (statuses changed by [`StatusPages::commit_status`]), incidents, and the
/// integration keys granted leave to set a page's components (page id, key id).
#[derive(Default)]
pub struct Pages {
    /// The pages the test set up.
    pub pages: Vec<PageRecord>,
    /// The pages made since ([`StatusPages::ensure_page`]).
    pub made: Mutex<Vec<PageRecord>>,
    /// Their components.
    pub components: Mutex<Vec<ComponentRecord>>,
    /// Incidents and maintenances, as last committed.
    pub incidents: Mutex<Vec<IncidentRecord>>,
    /// (page id, integration key id) granted.
    pub grants: Vec<(String, String)>,
}

impl Pages {
    /// The components with their statuses, in order.
    pub fn statuses(&self) -> Vec<(String, &'static str)> {
        self.components.lock().unwrap().iter().map(|c| (c.id.clone(), c.status.as_str())).collect()
    }
}

/// A page named after its id, of `org` (`None`: the platform page).
pub fn page(id: &str, org: Option<&str>) -> PageRecord {
    PageRecord {
        id: id.into(),
        org: org.map(OrgSlug::from),
        name: id.into(),
        host: None,
        time_zone: "UTC".into(),
        created_at: 0,
        updated_at: 0,
    }
}

/// An operational component of `page`, named after its id.
pub fn component(id: &str, page: &str) -> ComponentRecord {
    ComponentRecord {
        id: id.into(),
        page_id: page.into(),
        group_id: None,
        name: id.to_uppercase(),
        description: None,
        position: 0,
        group: false,
        only_show_if_degraded: false,
        showcase: false,
        status: ComponentStatus::Operational,
        alert_key: None,
        created_at: 0,
        updated_at: 0,
    }
}

no_sendings!(Pages, NoticeRecord);

#[async_trait]
impl StatusPages for Pages {
    async fn ensure_page(&self, org: Option<&OrgSlug>, name: &str, at: i64) -> Result<PageRecord, StoreError> {
        if let Some(found) = self.page_of(org).await? {
            return Ok(found);
        }
        let made =
            PageRecord { name: name.into(), ..page(&format!("stp_{}", name.to_lowercase()), org.map(OrgSlug::as_str)) };
        self.made.lock().unwrap().push(made.clone());
        Ok(made)
    }

    async fn page_of(&self, org: Option<&OrgSlug>) -> Result<Option<PageRecord>, StoreError> {
        let made = self.made.lock().unwrap();
        Ok(self.pages.iter().chain(made.iter()).find(|p| p.org.as_ref() == org).cloned())
    }

    async fn page_by_host(&self, host: &str) -> Result<Option<PageRecord>, StoreError> {
        Err(absent("page_by_host"))
    }

    async fn pages(&self) -> Result<Vec<PageRecord>, StoreError> {
        Ok(self.pages.clone())
    }

    async fn page(&self, id: &str) -> Result<Option<PageRecord>, StoreError> {
        Ok(self.pages.iter().find(|p| p.id == id).cloned())
    }

    async fn update_page(&self, page: &PageRecord) -> Result<(), StoreError> {
        Err(absent("update_page"))
    }

    async fn components(&self, pages: &[String]) -> Result<Vec<ComponentRecord>, StoreError> {
        Ok(self.components.lock().unwrap().iter().filter(|c| pages.contains(&c.page_id)).cloned().collect())
    }

    async fn save_component(&self, component: &ComponentRecord) -> Result<(), StoreError> {
        Err(absent("save_component"))
    }

    async fn delete_component(&self, page: &str, component: &str, at: i64) -> Result<bool, StoreError> {
        Err(absent("delete_component"))
    }

    async fn alert_key_granted(&self, page: &str, key: &str) -> Result<bool, StoreError> {
        Ok(self.grants.iter().any(|(p, k)| p == page && k == key))
    }

    async fn grant_alert_key(&self, page: &str, key: &str, by: Option<&str>, at: i64) -> Result<(), StoreError> {
        Err(absent("grant_alert_key"))
    }

    async fn components_by_alert_key(&self, key: &str) -> Result<Vec<ComponentRecord>, StoreError> {
        let components = self.components.lock().unwrap();
        Ok(components.iter().filter(|c| c.alert_key.as_deref() == Some(key)).cloned().collect())
    }

    async fn intervals(&self, components: &[String], since: i64) -> Result<Vec<(String, StatusInterval)>, StoreError> {
        // No history is kept: every component has been as it is.
        Ok(Vec::new())
    }

    async fn incidents(
        &self,
        pages: &[String],
        maintenance: bool,
        limit: i64,
    ) -> Result<Vec<IncidentRecord>, StoreError> {
        let incidents = self.incidents.lock().unwrap();
        let theirs =
            incidents.iter().rev().filter(|i| pages.contains(&i.page_id) && i.phase.is_maintenance() == maintenance);
        Ok(theirs.take(limit.max(0) as usize).cloned().collect())
    }

    async fn incident(&self, id: &str) -> Result<Option<IncidentRecord>, StoreError> {
        Ok(self.incidents.lock().unwrap().iter().find(|i| i.id == id).cloned())
    }

    async fn incident_of_ticket(&self, ticket: &TicketId) -> Result<Option<IncidentRecord>, StoreError> {
        Ok(self.incidents.lock().unwrap().iter().rev().find(|i| i.ticket.as_ref() == Some(ticket)).cloned())
    }

    async fn due_maintenances(&self, now: i64) -> Result<Vec<IncidentRecord>, StoreError> {
        // Every maintenance not over: the desk asks the rules which are due.
        let incidents = self.incidents.lock().unwrap();
        Ok(incidents.iter().filter(|i| i.phase.is_maintenance() && !i.phase.is_over()).cloned().collect())
    }

    async fn commit_status(&self, change: &StatusChange) -> Result<(), StoreError> {
        let mut components = self.components.lock().unwrap();
        for (id, status) in &change.statuses {
            if let Some(c) = components.iter_mut().find(|c| &c.id == id) {
                c.status = *status;
            }
        }
        if let Some(incident) = &change.incident {
            let mut incidents = self.incidents.lock().unwrap();
            incidents.retain(|i| i.id != incident.id);
            incidents.push(incident.clone());
        }
        Ok(())
    }

    async fn add_subscriber(&self, subscriber: &SubscriberRecord) -> Result<(), StoreError> {
        Err(absent("add_subscriber"))
    }

    async fn subscriber_by_token(&self, token_hash: &str) -> Result<Option<SubscriberRecord>, StoreError> {
        Err(absent("subscriber_by_token"))
    }

    async fn subscribers(&self, page: &str) -> Result<Vec<SubscriberRecord>, StoreError> {
        Err(absent("subscribers"))
    }

    async fn confirm_subscriber(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        Err(absent("confirm_subscriber"))
    }

    async fn unsubscribe(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        Err(absent("unsubscribe"))
    }

    async fn reminders_due(&self, now: i64) -> Result<Vec<IncidentRecord>, StoreError> {
        Err(absent("reminders_due"))
    }

    async fn remind(&self, maintenance: &IncidentRecord, at: i64) -> Result<(), StoreError> {
        Err(absent("remind"))
    }
}
