//! On-call schedules, for every door: listed and read by staff, created, changed (layers,
//! overrides) and deleted by those the access policy lets manage them, and a schedule's
//! timeline of a window, per layer and final.
//!
//! A door proves who is acting and hands the [`Principal`] to the [`ScheduleDesk`]; the desk
//! asks the access policy itself. The JSON API and the console's pages call the same
//! functions.

use crate::accounts::tokens::token_hash;
use crate::accounts::{AccountDesk, AccountError, decided};
use crate::act::Principal;
use crate::ports::{Accounts, Commands, OnCall};
use crate::records::{OrgRecord, ScheduleRecord};
use jiff::Timestamp;
use std::sync::Arc;
use stringer_core::access::{self, Action, Object};
use stringer_core::ids::OrgSlug;
use stringer_core::oncall::{LayerSpec, Override, Schedule, ScheduleSpec, Shift, SpecError};

/// Why a schedule use case did nothing.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The written form does not compile: where in it, and why.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Not found, forbidden, refused members, a conflicting override, or the store failed.
    #[error(transparent)]
    Account(#[from] AccountError),
}

impl From<crate::store::StoreError> for ScheduleError {
    fn from(e: crate::store::StoreError) -> ScheduleError {
        ScheduleError::Account(e.into())
    }
}

/// A schedule with the org it serves (`None`: platform-wide).
pub type Found = (ScheduleRecord, Option<OrgRecord>);

/// One track of a timeline: a layer alone, or the final say (layers and overrides).
#[derive(Clone, Debug)]
pub struct Track {
    /// `Some(i)` for layer `i` (from 0), `None` for the final timeline.
    pub layer: Option<usize>,
    /// Its shifts in the window, in order.
    pub shifts: Vec<Shift>,
}

/// What the schedule desk reads and changes: the schedules and the orgs they serve.
#[derive(Clone)]
pub struct SchedulePorts {
    /// Changes tickets (and tells the time and the contract).
    pub commands: Arc<dyn Commands>,
    /// Orgs, users, tokens.
    pub accounts: Arc<dyn Accounts>,
    /// Schedules, contact methods, notification rules.
    pub oncall: Arc<dyn OnCall>,
}

/// The application's schedule use cases.
#[derive(Clone)]
pub struct ScheduleDesk {
    ports: SchedulePorts,
    accounts: AccountDesk,
    new_id: crate::ids::NewId,
    new_secret: fn() -> String,
}

impl ScheduleDesk {
    /// A desk over the application's ports (and the account desk that checks members).
    pub fn new(
        ports: SchedulePorts,
        accounts: AccountDesk,
        new_id: crate::ids::NewId,
        new_secret: fn() -> String,
    ) -> Self {
        ScheduleDesk { ports, accounts, new_id, new_secret }
    }

    /// The org `slug` names (`None`: platform-wide) as the policy lets `who` take `action`
    /// on a schedule of it; an org `who` may not see is unknown.
    async fn org_for(
        &self,
        who: &Principal,
        org: Option<&str>,
        action: Action,
    ) -> Result<Option<OrgRecord>, ScheduleError> {
        let found = match org {
            None => Some(None),
            Some(slug) => self.ports.accounts.org(&OrgSlug::from(slug)).await?.map(Some),
        };
        let object = found.as_ref().map(|o| Object::Schedule(o.as_ref().map(OrgRecord::as_ref)));
        match access::decide(&who.actor(), action, object) {
            access::Decision::Allow => Ok(found.flatten()),
            access::Decision::NotFound => {
                Err(AccountError::Invalid(format!("unknown org {:?}", org.unwrap_or_default())).into())
            }
            access::Decision::Forbidden(why) => Err(AccountError::Forbidden(why.to_string()).into()),
        }
    }

    /// Whether `who` may create and change schedules of `org` (`None`: platform-wide).
    pub fn may_manage(&self, who: &Principal, org: Option<&OrgRecord>) -> bool {
        who.allowed(Action::ManageSchedule, Some(Object::Schedule(org.map(OrgRecord::as_ref))))
    }

    /// The schedules `who` may see, by id.
    pub async fn list(&self, who: &Principal) -> Result<Vec<Found>, ScheduleError> {
        let orgs = self.ports.accounts.orgs().await?;
        let mut out = Vec::new();
        for s in self.ports.oncall.schedules().await? {
            let org = match &s.org {
                Some(slug) => match orgs.iter().find(|o| &o.slug == slug) {
                    Some(o) => Some(o.clone()),
                    None => continue,
                },
                None => None,
            };
            if who.allowed(Action::ReadSchedule, Some(Object::Schedule(org.as_ref().map(OrgRecord::as_ref)))) {
                out.push((s, org));
            }
        }
        Ok(out)
    }

    /// The schedule `id` if the policy lets `who` take `action` on it, with its org.
    pub async fn get(&self, who: &Principal, id: &str, action: Action) -> Result<Found, ScheduleError> {
        if !crate::ids::is_id("sch", id) {
            return Err(AccountError::Malformed("malformed schedule id").into());
        }
        let found = match self.ports.oncall.schedule(id).await? {
            Some(s) => match &s.org {
                None => Some((s, None)),
                Some(slug) => self.ports.accounts.org(slug).await?.map(|o| (s, Some(o))),
            },
            None => None,
        };
        let object = found.as_ref().map(|(_, org)| Object::Schedule(org.as_ref().map(OrgRecord::as_ref)));
        decided(access::decide(&who.actor(), action, object), "schedule")?;
        found.ok_or(AccountError::NotFound("schedule").into())
    }

    /// Checks that everyone a schedule puts on call is staff who may serve its org.
    async fn check_members(&self, spec: &ScheduleSpec, org: Option<&OrgRecord>) -> Result<(), ScheduleError> {
        let users: Vec<&str> = spec
            .layers
            .iter()
            .flat_map(|l| l.rotation.members.iter())
            .chain(spec.overrides.iter().map(|o| &o.user))
            .map(String::as_str)
            .collect();
        Ok(self.accounts.check_servers(&users, org.map(OrgRecord::as_ref)).await?)
    }

    /// Creates a schedule named `name` for `org` (`None`: platform-wide) with its layers;
    /// answers it with the secret of its calendar feed, shown once.
    pub async fn create(
        &self,
        who: &Principal,
        name: &str,
        org: Option<&str>,
        layers: Vec<LayerSpec>,
    ) -> Result<(ScheduleRecord, String), ScheduleError> {
        let org_record = self.org_for(who, org, Action::ManageSchedule).await?;
        if name.trim().is_empty() || name.len() > 100 {
            return Err(AccountError::Invalid("name: 1 to 100 characters".into()).into());
        }
        let spec = ScheduleSpec { name: name.to_string(), layers, overrides: vec![] };
        Schedule::compile(&spec)?;
        self.check_members(&spec, org_record.as_ref()).await?;
        let secret = (self.new_secret)();
        let record = ScheduleRecord {
            id: (self.new_id)("sch"),
            name: name.to_string(),
            org: org.map(OrgSlug::from),
            spec,
            ics_secret_hash: token_hash(&secret),
            version: 1,
            created_at: self.ports.commands.now().as_second(),
        };
        self.ports.oncall.insert_schedule(&record, &who.user().id).await?;
        Ok((record, secret))
    }

    /// Changes the schedule `id`'s written form (layers and overrides) as `change` says,
    /// checked as a whole (it compiles; its people may serve its org) and written only if
    /// nobody changed it meanwhile.
    pub async fn edit(
        &self,
        who: &Principal,
        id: &str,
        change: impl FnOnce(&mut ScheduleSpec) -> Result<(), ScheduleError>,
    ) -> Result<ScheduleRecord, ScheduleError> {
        let (mut s, org) = self.get(who, id, Action::ManageSchedule).await?;
        let mut spec = s.spec.clone();
        change(&mut spec)?;
        let spec = Schedule::compile(&spec)?.to_spec();
        self.check_members(&spec, org.as_ref()).await?;
        if !self.ports.oncall.update_schedule(id, &spec, s.version).await? {
            return Err(AccountError::Conflict("the schedule changed meanwhile; retry".into()).into());
        }
        s.spec = spec;
        s.version += 1;
        Ok(s)
    }

    /// Adds an override; one overlapping another is refused naming that override.
    pub async fn add_override(&self, who: &Principal, id: &str, o: Override) -> Result<ScheduleRecord, ScheduleError> {
        self.edit(who, id, |spec| {
            let mut schedule = Schedule::compile(spec)?;
            schedule.add_override(o).map_err(|e| AccountError::Conflict(e.to_string()))?;
            *spec = schedule.to_spec();
            Ok(())
        })
        .await
    }

    /// Puts another user on an override.
    pub async fn replace_override(
        &self,
        who: &Principal,
        id: &str,
        override_id: &str,
        user: &str,
    ) -> Result<ScheduleRecord, ScheduleError> {
        self.edit(who, id, |spec| {
            let o =
                spec.overrides.iter_mut().find(|o| o.id == override_id).ok_or(AccountError::NotFound("override"))?;
            o.user = user.to_string();
            Ok(())
        })
        .await
    }

    /// Removes an override.
    pub async fn remove_override(
        &self,
        who: &Principal,
        id: &str,
        override_id: &str,
    ) -> Result<ScheduleRecord, ScheduleError> {
        self.edit(who, id, |spec| {
            let before = spec.overrides.len();
            spec.overrides.retain(|o| o.id != override_id);
            if spec.overrides.len() == before {
                return Err(AccountError::NotFound("override").into());
            }
            Ok(())
        })
        .await
    }

    /// Deletes the schedule `id`.
    pub async fn delete(&self, who: &Principal, id: &str) -> Result<(), ScheduleError> {
        let (s, _) = self.get(who, id, Action::ManageSchedule).await?;
        if !self.ports.oncall.delete_schedule(&s.id).await? {
            return Err(AccountError::NotFound("schedule").into());
        }
        Ok(())
    }

    /// A new override's id.
    pub fn new_override_id(&self) -> String {
        (self.new_id)("ovr")
    }
}

/// The timeline of `[from, to)`: each layer alone (its rotation inside its restriction), then
/// the final say with overrides — who is on call when.
pub fn timeline(spec: &ScheduleSpec, from: Timestamp, to: Timestamp) -> Result<Vec<Track>, SpecError> {
    let mut tracks = Vec::new();
    for (i, layer) in spec.layers.iter().enumerate() {
        let alone = ScheduleSpec { name: spec.name.clone(), layers: vec![layer.clone()], overrides: vec![] };
        let shifts = Schedule::compile(&alone)?.shifts(from, to).unwrap_or_default();
        tracks.push(Track { layer: Some(i), shifts });
    }
    let shifts = Schedule::compile(spec)?.shifts(from, to).unwrap_or_default();
    tracks.push(Track { layer: None, shifts });
    Ok(tracks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use stringer_core::oncall::RotationSpec;

    fn layer(members: &[&str], shift_days: u32) -> LayerSpec {
        LayerSpec {
            rotation: RotationSpec {
                name: "r".into(),
                time_zone: "UTC".into(),
                members: members.iter().map(|m| m.to_string()).collect(),
                shift_days,
                handoff: "09:00".into(),
                start: "2026-01-05".into(),
            },
            restriction: None,
        }
    }

    #[test]
    fn the_timeline_has_each_layer_then_the_final_say() {
        let spec =
            ScheduleSpec { name: "P".into(), layers: vec![layer(&["a", "b"], 7), layer(&["c"], 1)], overrides: vec![] };
        let from: Timestamp = "2026-12-07T09:00:00Z".parse().unwrap();
        let to: Timestamp = "2026-12-21T09:00:00Z".parse().unwrap();
        let tracks = timeline(&spec, from, to).unwrap();
        assert_eq!(tracks.iter().map(|t| t.layer).collect::<Vec<_>>(), vec![Some(0), Some(1), None]);
        let first: Vec<&str> = tracks[0].shifts.iter().map(|s| s.user.as_str()).collect();
        assert_eq!(first.len(), 2, "two weekly shifts of a, b: {first:?}");
        assert!(tracks[2].shifts.iter().all(|s| s.user == "c"), "the later layer wins everywhere");
    }
}

#[cfg(test)]
mod desk_tests;
