//! `stringer simulate`: replays a scenario (JSON Lines of org setups and ticket events) through
//! the same [`Desk`] the server runs, on a [`MemoryStore`] and a [`VirtualClock`], and reports
//! every notice in time order.
//!
//! Order at one instant: events first (in file order), then timers. So an acknowledgement at
//! the very second a step falls due stops that step, and a response at the due instant meets
//! its target.

use crate::{AppError, Desk, MemoryStore, VirtualClock};
use jiff::Timestamp;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use stringer_core::contract::Contract;
use stringer_core::event::{Event, Notice};
use stringer_core::ids::{Deployment, OrgSlug, TicketId, Tier};
use stringer_core::ticket::OrgProfile;

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
}

fn shared() -> Deployment {
    Deployment::Shared
}

/// A checked scenario: orgs, then events in time order, each with its line number.
pub struct Scenario {
    orgs: Vec<OrgProfile>,
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
        let mut orgs: HashMap<OrgSlug, OrgProfile> = HashMap::new();
        let mut org_order = Vec::new();
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
                orgs.insert(
                    o.org.clone(),
                    OrgProfile { slug: o.org, tier: o.tier, deployment: o.deployment, tam: o.tam },
                );
                continue;
            }
            let mut event: Event = serde_json::from_value(value).map_err(|e| fail(format!("{kind}: {e}")))?;
            event.truncate_to_second();
            if last.is_some_and(|l| event.at() < l) {
                return Err(fail(format!(
                    "event at {} is earlier than the line before it; events must be in time order",
                    event.at()
                )));
            }
            last = Some(event.at());
            match &event {
                Event::Opened { org, ticket, severity, .. } => {
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
                other if !opened.contains(other.ticket()) => {
                    return Err(fail(format!("unknown ticket {}; open it with ticket.opened first", other.ticket())));
                }
                _ => {}
            }
            events.push((line, event));
        }
        let orgs = org_order.into_iter().map(|slug| orgs.remove(&slug).expect("recorded above")).collect();
        Ok(Scenario { orgs, events })
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether there are no events.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Runs the scenario and returns every notice in time order. Stops at the first event the
    /// rules reject, naming its line. Timers after `until` (when given) are left pending.
    pub async fn run(self, contract: Arc<Contract>, until: Option<Timestamp>) -> Result<Vec<Notice>, ScenarioError> {
        let start = self.events.first().map_or(Timestamp::UNIX_EPOCH, |(_, e)| e.at());
        let desk = Desk::new(contract, MemoryStore::new(), VirtualClock::new(start));
        let internal = |e: AppError| ScenarioError { line: 0, message: e.to_string() };
        for org in self.orgs {
            desk.put_org(org).await.map_err(internal)?;
        }
        let mut out = Vec::new();
        for (line, event) in self.events {
            let at = event.at();
            if until.is_some_and(|u| at > u) {
                break;
            }
            run_timers(&desk, |t| t < at, &mut out).await.map_err(internal)?;
            desk.clock().set(at);
            let notices = desk.record(event).await.map_err(|e| ScenarioError { line, message: e.to_string() })?;
            out.extend(notices);
        }
        run_timers(&desk, |t| until.is_none_or(|u| t <= u), &mut out).await.map_err(internal)?;
        Ok(out)
    }
}

/// Moves the virtual clock from timer to timer while `go(next timer instant)` holds.
async fn run_timers(
    desk: &Desk<MemoryStore, VirtualClock>,
    go: impl Fn(Timestamp) -> bool,
    out: &mut Vec<Notice>,
) -> Result<(), AppError> {
    while let Some(next) = desk.next_timer_at().await? {
        if !go(next) {
            break;
        }
        desk.clock().set(next);
        out.extend(desk.tick().await?);
    }
    Ok(())
}
