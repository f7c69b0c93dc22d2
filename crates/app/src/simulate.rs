//! `stringer simulate`: replays a scenario (JSON Lines of org setups and ticket events) through
//! the same [`Desk`] the server runs, on a [`MemoryStore`] and a [`VirtualClock`], and reports
//! every notice in time order.
//!
//! Order at one instant: events first (in file order), then timers. So an acknowledgement at
//! the very second a step falls due stops that step, and a response at the due instant meets
//! its target.

use crate::{AppError, Desk, MemoryStore, Store, VirtualClock};
use jiff::Timestamp;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use stringer_core::contract::Contract;
use stringer_core::event::{Event, EventKind, Notice};
use stringer_core::ids::{Deployment, OrgSlug, TicketId, Tier, UserRole};
use stringer_core::oncall::{LayerSpec, Schedule, ScheduleSpec};
use stringer_core::routing::StaffMember;
use stringer_core::ticket::OrgProfile;

mod record;

pub use record::{Cast, RECORDER, Recorded};

/// The largest scenario accepted, in bytes.
pub const MAX_SCENARIO_BYTES: usize = 1 << 30;

/// A scenario problem, with the 1-based line it is on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ScenarioError {
    /// The line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgLine {
    org: OrgSlug,
    tier: Tier,
    #[serde(default = "shared")]
    deployment: Deployment,
    #[serde(default)]
    tam: Option<String>,
    #[serde(default)]
    named_engineers: Vec<String>,
}

/// `{"kind":"staff","user":"vera","role":"vp_engineering","federal_cleared":true}`
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StaffLine {
    user: String,
    role: UserRole,
    #[serde(default)]
    federal_cleared: bool,
}

/// `{"kind":"schedule","org":"acme","name":"primary","layers":[…]}` — an on-call schedule
/// of an org (or platform-wide without `org`), as the API takes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleLine {
    #[serde(default)]
    org: Option<OrgSlug>,
    name: String,
    layers: Vec<LayerSpec>,
}

fn shared() -> Deployment {
    Deployment::Shared
}

/// A checked scenario: orgs and who serves them, then events in time order, each with its
/// line number.
pub struct Scenario {
    orgs: Vec<(OrgProfile, Option<String>, Vec<String>)>,
    staff: Vec<StaffMember>,
    schedules: Vec<(Option<OrgSlug>, Schedule)>,
    events: Vec<(usize, Event)>,
}

impl Scenario {
    /// Reads and checks a scenario against a contract: every line well-formed, tiers and
    /// severities known, orgs set up and tickets opened before use, events in time order.
    pub fn parse(text: &str, contract: &Contract) -> Result<Scenario, ScenarioError> {
        if text.len() > MAX_SCENARIO_BYTES {
            return Err(ScenarioError {
                line: 0,
                message: format!("the scenario is larger than {MAX_SCENARIO_BYTES} bytes"),
            });
        }
        let mut orgs: HashMap<OrgSlug, (OrgProfile, Option<String>, Vec<String>)> = HashMap::new();
        let mut org_order = Vec::new();
        let mut staff = Vec::new();
        let mut schedules = Vec::new();
        let mut opened: HashSet<TicketId> = HashSet::new();
        let mut events = Vec::new();
        let mut last: Option<Timestamp> = None;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let fail = |message: String| ScenarioError { line, message };
            let mut value: serde_json::Value =
                serde_json::from_str(trimmed).map_err(|e| fail(format!("not a JSON object: {e}")))?;
            let kind = value
                .get("kind")
                .and_then(|k| k.as_str())
                .map(str::to_string)
                .ok_or_else(|| fail("every line needs a \"kind\"".into()))?;
            if kind == "org" {
                value.as_object_mut().expect("has a kind, so an object").remove("kind");
                let o: OrgLine = serde_json::from_value(value).map_err(|e| fail(format!("org line: {e}")))?;
                if contract.tier(o.tier.as_str()).is_none() {
                    let tiers: Vec<&str> = contract.tiers.keys().map(|t| t.as_str()).collect();
                    return Err(fail(format!("unknown tier {:?}; tiers are {}", o.tier.as_str(), tiers.join(", "))));
                }
                if orgs.contains_key(&o.org) {
                    return Err(fail(format!("org {} is set up twice", o.org)));
                }
                org_order.push(o.org.clone());
                let profile = OrgProfile { slug: o.org.clone(), tier: o.tier, deployment: o.deployment };
                orgs.insert(o.org, (profile, o.tam, o.named_engineers));
                continue;
            }
            if kind == "staff" {
                value.as_object_mut().expect("has a kind, so an object").remove("kind");
                let m: StaffLine = serde_json::from_value(value).map_err(|e| fail(format!("staff line: {e}")))?;
                if !m.role.is_staff() {
                    return Err(fail(format!("{} is a customer role; staff lines name staff", m.role)));
                }
                staff.push(StaffMember { id: m.user, role: m.role, federal_cleared: m.federal_cleared });
                continue;
            }
            if kind == "schedule" {
                value.as_object_mut().expect("has a kind, so an object").remove("kind");
                let line: ScheduleLine =
                    serde_json::from_value(value).map_err(|e| fail(format!("schedule line: {e}")))?;
                if line.org.as_ref().is_some_and(|o| !orgs.contains_key(o)) {
                    return Err(fail("unknown org; set it up with an org line first".into()));
                }
                let spec = ScheduleSpec { name: line.name, layers: line.layers, overrides: vec![] };
                let schedule = Schedule::compile(&spec).map_err(|e| fail(format!("schedule line: {e}")))?;
                schedules.push((line.org, schedule));
                continue;
            }
            let mut event: Event = serde_json::from_value(value).map_err(|e| fail(format!("{kind}: {e}")))?;
            event.truncate_to_second();
            if last.is_some_and(|l| event.at < l) {
                return Err(fail(format!(
                    "event at {} is earlier than the line before it; events must be in time order",
                    event.at
                )));
            }
            last = Some(event.at);
            match &event.kind {
                EventKind::Opened { org, severity, .. } => {
                    let ticket = &event.ticket;
                    if !orgs.contains_key(org) {
                        return Err(fail(format!("unknown org {org}; set it up with an org line first")));
                    }
                    if contract.severity(severity.as_str()).is_none() {
                        let list: Vec<&str> = contract.severities.keys().map(|s| s.as_str()).collect();
                        return Err(fail(format!(
                            "unknown severity {:?}; severities are {}",
                            severity.as_str(),
                            list.join(", ")
                        )));
                    }
                    if !opened.insert(ticket.clone()) {
                        return Err(fail(format!("ticket {ticket} is opened twice")));
                    }
                }
                _ if !opened.contains(&event.ticket) => {
                    return Err(fail(format!("unknown ticket {}; open it with ticket.opened first", event.ticket)));
                }
                _ => {}
            }
            events.push((line, event));
        }
        let orgs = org_order.into_iter().map(|slug| orgs.remove(&slug).expect("recorded above")).collect();
        Ok(Scenario { orgs, staff, schedules, events })
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether there are no events.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The instant of the first event (the epoch for a scenario without events).
    fn start(&self) -> Timestamp {
        self.events.first().map_or(Timestamp::UNIX_EPOCH, |(_, e)| e.at)
    }

    /// Runs the scenario and returns every notice in time order. Stops at the first event the
    /// rules reject, naming its line. Timers after `until` (when given) are left pending.
    pub async fn run(self, contract: Arc<Contract>, until: Option<Timestamp>) -> Result<Vec<Notice>, ScenarioError> {
        let desk = Desk::new(contract, MemoryStore::new(), VirtualClock::new(self.start()));
        for (org, tam, named) in self.orgs {
            desk.store().set_org_people(&org.slug, tam, named);
            desk.put_org(org).await.map_err(internal)?;
        }
        for member in self.staff {
            desk.store().add_staff(member);
        }
        for (org, schedule) in self.schedules {
            desk.store().add_schedule(org, schedule);
        }
        let mut out = Vec::new();
        play(&desk, self.events, until, |notices| out.extend(notices)).await?;
        Ok(out)
    }
}

fn internal(e: impl std::fmt::Display) -> ScenarioError {
    ScenarioError { line: 0, message: e.to_string() }
}

/// Records each event at its instant, after the timers due before it, then the timers due
/// by `until` (all of them without it); hands what each step caused to `out`.
async fn play<S: Store + 'static>(
    desk: &Desk<S, VirtualClock>,
    events: Vec<(usize, Event)>,
    until: Option<Timestamp>,
    mut out: impl FnMut(Vec<Notice>),
) -> Result<(), ScenarioError> {
    for (line, event) in events {
        let at = event.at;
        if until.is_some_and(|u| at > u) {
            break;
        }
        run_timers(desk, |t| t < at, &mut out).await.map_err(internal)?;
        desk.clock().set(at);
        out(desk.record(event).await.map_err(|e| ScenarioError { line, message: e.to_string() })?);
    }
    run_timers(desk, |t| until.is_none_or(|u| t <= u), &mut out).await.map_err(internal)
}

/// The simulator's timer schedule: moves the virtual clock from timer to timer while
/// `go(next timer instant)` holds, running at each instant every timer then due (as the
/// server's sweep would), and hands what they caused to `out`.
pub async fn run_timers<S: Store + 'static>(
    desk: &Desk<S, VirtualClock>,
    go: impl Fn(Timestamp) -> bool,
    out: &mut impl FnMut(Vec<Notice>),
) -> Result<(), AppError> {
    while let Some(next) = desk.next_timer_at().await? {
        if !go(next) {
            break;
        }
        desk.clock().set(next);
        out(desk.tick().await?);
    }
    Ok(())
}
