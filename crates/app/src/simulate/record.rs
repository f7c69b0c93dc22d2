//! `stringer simulate --record`: a scenario written into a real Stringer database through the
//! same [`Desk`] the server runs, on the scenario's own clock, as the server would have
//! recorded it had these events arrived at these instants: its orgs, people and schedules,
//! every ticket with its timeline and notices, and the contract in force. A what-if
//! `--check` of that database then compares the replay with a record made by the application
//! itself, at any size.

use super::{Scenario, ScenarioError, internal};
use crate::history::{ContractHistory, ContractRecord};
use crate::ports::{Accounts, OnCall};
use crate::records::{OrgRecord, ScheduleRecord, UserRecord};
use crate::{Desk, Store, VirtualClock};
use std::collections::BTreeMap;
use stringer_core::ids::{UserId, UserRole};

/// The account that set a recorded scenario up (its orgs, people and schedules): an
/// administrator deactivated from the start, so it can never sign in or act.
pub const RECORDER: &str = "stringer-simulate";

/// Where a recorded scenario's setup goes, besides the desk's store.
pub struct Cast<'a> {
    /// Orgs and users.
    pub accounts: &'a dyn Accounts,
    /// Schedules.
    pub oncall: &'a dyn OnCall,
    /// The contract in force.
    pub contracts: &'a dyn ContractHistory,
    /// This build's version, recorded with the contract.
    pub stringer_version: &'a str,
}

/// What a recorded scenario wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Orgs set up.
    pub orgs: usize,
    /// Staff accounts made.
    pub staff: usize,
    /// Tickets opened.
    pub tickets: u64,
    /// Events recorded.
    pub events: u64,
    /// Notices the application caused (pages among them).
    pub notices: u64,
    /// Pages.
    pub pages: u64,
}

impl Scenario<'_> {
    /// Writes the scenario into the database behind `desk` and `cast`, which must hold no org
    /// yet: the contract in force (as `serve` records it), an account for every staff line and
    /// every TAM or named engineer the org lines name (staff lines first; a name only an org
    /// line gives is a TAM or an engineer), the orgs with their people, the schedules, then
    /// every event at its instant with the timers due before it, and the timers due by
    /// `until`. Stops at the first event the rules reject, naming its line; what was recorded
    /// before it stays.
    pub async fn record<S: Store + 'static>(
        self,
        desk: &Desk<S, VirtualClock>,
        cast: &Cast<'_>,
        until: Option<jiff::Timestamp>,
    ) -> Result<Recorded, ScenarioError> {
        if let Some(org) = cast.accounts.orgs().await.map_err(internal)?.first() {
            return Err(internal(format!(
                "the database has orgs already ({}); record a scenario into a new database",
                org.slug
            )));
        }
        let start = self.start();
        desk.clock().set(start);
        let at = start.as_second();
        cast.contracts
            .record_contract(&ContractRecord::of(desk.contract(), at, cast.stringer_version))
            .await
            .map_err(internal)?;
        let recorder = UserId::from(RECORDER);
        let account = |id: &str, role: UserRole, federal_cleared: bool, deactivated_at: Option<i64>| UserRecord {
            id: UserId::from(id),
            email: format!("{id}@scenario.invalid"),
            name: id.to_string(),
            role,
            org: None,
            federal_cleared,
            password_hash: None,
            created_at: at,
            time_zone: None,
            deactivated_at,
        };
        cast.accounts
            .insert_user(&account(RECORDER, UserRole::Admin, false, Some(at)), None)
            .await
            .map_err(internal)?;
        let mut people: BTreeMap<String, UserRecord> = BTreeMap::new();
        for m in &self.staff {
            people.insert(m.id.clone(), account(&m.id, m.role, m.federal_cleared, None));
        }
        for (_, tam, named) in &self.orgs {
            for (name, role) in
                tam.iter().map(|t| (t, UserRole::Tam)).chain(named.iter().map(|n| (n, UserRole::Engineer)))
            {
                people.entry(name.clone()).or_insert_with(|| account(name, role, false, None));
            }
        }
        let mut recorded = Recorded { orgs: self.orgs.len(), staff: people.len(), ..Recorded::default() };
        for user in people.values() {
            cast.accounts.insert_user(user, Some(&recorder)).await.map_err(internal)?;
        }
        for (profile, tam, named) in &self.orgs {
            let org = OrgRecord {
                slug: profile.slug.clone(),
                name: profile.slug.to_string(),
                tier: profile.tier.clone(),
                deployment: profile.deployment,
                tam: tam.as_deref().map(UserId::from),
                named_engineers: named.iter().map(|n| UserId::from(n.as_str())).collect(),
                channel: None,
                email_tag: profile.slug.to_string(),
                created_at: at,
            };
            cast.accounts.insert_org(&org, Some(&recorder)).await.map_err(internal)?;
        }
        for (n, (org, schedule)) in self.schedules.iter().enumerate() {
            let spec = schedule.to_spec();
            let record = ScheduleRecord {
                id: format!("sch_scenario_{}", n + 1),
                name: spec.name.clone(),
                org: org.clone(),
                spec,
                ics_secret_hash: String::new(),
                version: 1,
                created_at: at,
            };
            cast.oncall.insert_schedule(&record, &recorder).await.map_err(internal)?;
        }
        recorded.tickets = self.tickets() as u64;
        recorded.events = self.len() as u64;
        self.play(
            desk,
            until,
            |_| {},
            |notices| {
                recorded.notices += notices.len() as u64;
                recorded.pages += notices.iter().filter(|n| n.body.kind() == "page").count() as u64;
            },
        )
        .await?;
        Ok(recorded)
    }
}
