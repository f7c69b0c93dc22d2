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
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
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

/// Where a scenario's lines come from. It is read twice: checked whole first (nothing is
/// simulated from a scenario with a bad line), then played line by line, so a scenario of any
/// length is never held in memory.
enum Source<'a> {
    Text(&'a str),
    File(PathBuf),
}

impl<'a> Source<'a> {
    fn lines(&self) -> Result<Lines<'a>, ScenarioError> {
        let reader: Box<dyn BufRead + 'a> = match self {
            Source::Text(text) => Box::new(text.as_bytes()),
            Source::File(path) => Box::new(BufReader::with_capacity(
                1 << 16,
                File::open(path).map_err(|e| internal(format!("cannot read {}: {e}", path.display())))?,
            )),
        };
        Ok(Lines { reader, buffer: String::new(), line: 0, bytes: 0 })
    }
}

/// A scenario's lines, numbered from 1, through one reused buffer.
struct Lines<'a> {
    reader: Box<dyn BufRead + 'a>,
    buffer: String,
    line: usize,
    bytes: usize,
}

impl Lines<'_> {
    /// The next line, trimmed, with its number; `None` at the end.
    fn next(&mut self) -> Option<Result<(usize, &str), ScenarioError>> {
        self.buffer.clear();
        self.line += 1;
        let line = self.line;
        match self.reader.read_line(&mut self.buffer) {
            Ok(0) => None,
            Ok(n) => {
                self.bytes += n;
                if self.bytes > MAX_SCENARIO_BYTES {
                    return Some(Err(ScenarioError {
                        line,
                        message: format!("the scenario is larger than {MAX_SCENARIO_BYTES} bytes"),
                    }));
                }
                Some(Ok((line, self.buffer.trim())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                Some(Err(ScenarioError { line, message: "not UTF-8 text".into() }))
            }
            Err(e) => Some(Err(ScenarioError { line, message: format!("cannot read the line: {e}") })),
        }
    }
}

/// What one line of a scenario says.
enum Line {
    /// Blank or a `#` comment.
    Nothing,
    Org(OrgLine),
    Staff(StaffLine),
    Schedule(ScheduleLine),
    Event(Event),
}

/// Reads one trimmed line. A well-formed event (nearly every line) is read straight from its
/// text; anything else goes through a JSON value first, which gives setup lines their shape
/// and every malformed line its message.
fn parse_line(line: usize, trimmed: &str) -> Result<Line, ScenarioError> {
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(Line::Nothing);
    }
    if let Ok(mut event) = serde_json::from_str::<Event>(trimmed) {
        event.truncate_to_second();
        return Ok(Line::Event(event));
    }
    let fail = |message: String| ScenarioError { line, message };
    let mut value: serde_json::Value =
        serde_json::from_str(trimmed).map_err(|e| fail(format!("not a JSON object: {e}")))?;
    let kind = value
        .get("kind")
        .and_then(|k| k.as_str())
        .map(str::to_string)
        .ok_or_else(|| fail("every line needs a \"kind\"".into()))?;
    let setup = matches!(kind.as_str(), "org" | "staff" | "schedule");
    if setup {
        value.as_object_mut().expect("has a kind, so an object").remove("kind");
    }
    Ok(match kind.as_str() {
        "org" => Line::Org(serde_json::from_value(value).map_err(|e| fail(format!("org line: {e}")))?),
        "staff" => Line::Staff(serde_json::from_value(value).map_err(|e| fail(format!("staff line: {e}")))?),
        "schedule" => Line::Schedule(serde_json::from_value(value).map_err(|e| fail(format!("schedule line: {e}")))?),
        _ => {
            let mut event: Event = serde_json::from_value(value).map_err(|e| fail(format!("{kind}: {e}")))?;
            event.truncate_to_second();
            Line::Event(event)
        }
    })
}

/// A checked scenario: orgs and who serves them, how many events and tickets it holds, and
/// the line of each ticket's last event (after it, and once no timer of the ticket is
/// pending, the simulator forgets the ticket). The events themselves are read again when
/// the scenario is played.
pub struct Scenario<'a> {
    source: Source<'a>,
    orgs: Vec<(OrgProfile, Option<String>, Vec<String>)>,
    staff: Vec<StaffMember>,
    schedules: Vec<(Option<OrgSlug>, Schedule)>,
    events: usize,
    start: Option<Timestamp>,
    last_lines: HashMap<TicketId, usize>,
}

impl<'a> Scenario<'a> {
    /// Reads and checks a scenario held in memory against a contract: every line
    /// well-formed, tiers and severities known, orgs set up and tickets opened before use,
    /// events in time order.
    pub fn parse(text: &'a str, contract: &Contract) -> Result<Scenario<'a>, ScenarioError> {
        Scenario::check(Source::Text(text), contract)
    }

    fn check(source: Source<'a>, contract: &Contract) -> Result<Scenario<'a>, ScenarioError> {
        let mut orgs: HashMap<OrgSlug, (OrgProfile, Option<String>, Vec<String>)> = HashMap::new();
        let mut org_order = Vec::new();
        let mut staff = Vec::new();
        let mut schedules = Vec::new();
        let mut last_lines: HashMap<TicketId, usize> = HashMap::new();
        let mut events = 0;
        let mut start = None;
        let mut last: Option<Timestamp> = None;
        let mut lines = source.lines()?;
        while let Some(next) = lines.next() {
            let (line, trimmed) = next?;
            let fail = |message: String| ScenarioError { line, message };
            let event = match parse_line(line, trimmed)? {
                Line::Nothing => continue,
                Line::Org(o) => {
                    if contract.tier(o.tier.as_str()).is_none() {
                        let tiers: Vec<&str> = contract.tiers.keys().map(|t| t.as_str()).collect();
                        return Err(fail(format!(
                            "unknown tier {:?}; tiers are {}",
                            o.tier.as_str(),
                            tiers.join(", ")
                        )));
                    }
                    if orgs.contains_key(&o.org) {
                        return Err(fail(format!("org {} is set up twice", o.org)));
                    }
                    org_order.push(o.org.clone());
                    let profile = OrgProfile { slug: o.org.clone(), tier: o.tier, deployment: o.deployment };
                    orgs.insert(o.org, (profile, o.tam, o.named_engineers));
                    continue;
                }
                Line::Staff(m) => {
                    if !m.role.is_staff() {
                        return Err(fail(format!("{} is a customer role; staff lines name staff", m.role)));
                    }
                    staff.push(StaffMember { id: m.user, role: m.role, federal_cleared: m.federal_cleared });
                    continue;
                }
                Line::Schedule(s) => {
                    if s.org.as_ref().is_some_and(|o| !orgs.contains_key(o)) {
                        return Err(fail("unknown org; set it up with an org line first".into()));
                    }
                    let spec = ScheduleSpec { name: s.name, layers: s.layers, overrides: vec![] };
                    let schedule = Schedule::compile(&spec).map_err(|e| fail(format!("schedule line: {e}")))?;
                    schedules.push((s.org, schedule));
                    continue;
                }
                Line::Event(event) => event,
            };
            if last.is_some_and(|l| event.at < l) {
                return Err(fail(format!(
                    "event at {} is earlier than the line before it; events must be in time order",
                    event.at
                )));
            }
            last = Some(event.at);
            start.get_or_insert(event.at);
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
                    if last_lines.insert(ticket.clone(), line).is_some() {
                        return Err(fail(format!("ticket {ticket} is opened twice")));
                    }
                }
                _ => match last_lines.get_mut(&event.ticket) {
                    Some(last_line) => *last_line = line,
                    None => {
                        return Err(fail(format!("unknown ticket {}; open it with ticket.opened first", event.ticket)));
                    }
                },
            }
            events += 1;
        }
        let orgs = org_order.into_iter().map(|slug| orgs.remove(&slug).expect("recorded above")).collect();
        Ok(Scenario { source, orgs, staff, schedules, events, start, last_lines })
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.events
    }

    /// Whether there are no events.
    pub fn is_empty(&self) -> bool {
        self.events == 0
    }

    /// Number of tickets the scenario opens.
    pub fn tickets(&self) -> usize {
        self.last_lines.len()
    }

    /// The instant of the first event (the epoch for a scenario without events).
    fn start(&self) -> Timestamp {
        self.start.unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// Runs the scenario and returns every notice in time order (see [`Scenario::stream`]).
    pub async fn run(self, contract: Arc<Contract>, until: Option<Timestamp>) -> Result<Vec<Notice>, ScenarioError> {
        let mut out = Vec::new();
        self.stream(contract, until, |notices| out.extend(notices)).await?;
        Ok(out)
    }

    /// Runs the scenario, handing the notices of each step to `out` in time order as they
    /// come. Stops at the first event the rules reject, naming its line (what came before it
    /// has been handed out: a caller that promises all or nothing holds it back). Timers after `until` (when given) are
    /// left pending. A ticket is forgotten once its last event has run and none of its timers
    /// is pending, so memory follows the tickets in flight, not the scenario's length.
    pub async fn stream(
        self,
        contract: Arc<Contract>,
        until: Option<Timestamp>,
        out: impl FnMut(Vec<Notice>),
    ) -> Result<(), ScenarioError> {
        let desk = Desk::new(contract, MemoryStore::without_timelines(), VirtualClock::new(self.start()));
        for (org, tam, named) in &self.orgs {
            desk.store().set_org_people(&org.slug, tam.clone(), named.clone());
            desk.put_org(org.clone()).await.map_err(internal)?;
        }
        for member in &self.staff {
            desk.store().add_staff(member.clone());
        }
        for (org, schedule) in &self.schedules {
            desk.store().add_schedule(org.clone(), schedule.clone());
        }
        let store = desk.store();
        self.play(&desk, until, |ticket| store.finish(ticket), out).await
    }

    /// Records each event at its instant, after the timers due before it, then the timers due
    /// by `until` (all of them without it); hands what each step caused to `out`, and each
    /// ticket whose last event has been recorded to `done`.
    async fn play<S: Store + 'static>(
        &self,
        desk: &Desk<S, VirtualClock>,
        until: Option<Timestamp>,
        mut done: impl FnMut(&TicketId),
        mut out: impl FnMut(Vec<Notice>),
    ) -> Result<(), ScenarioError> {
        let mut lines = self.source.lines()?;
        while let Some(next) = lines.next() {
            let (line, trimmed) = next?;
            let Line::Event(event) = parse_line(line, trimmed)? else { continue };
            let at = event.at;
            if until.is_some_and(|u| at > u) {
                break;
            }
            run_timers(desk, |t| t < at, &mut out).await.map_err(internal)?;
            desk.clock().set(at);
            // The id as the check stored it, when this is the ticket's last line.
            let finished = self.last_lines.get_key_value(&event.ticket).filter(|(_, last)| **last == line);
            let notices = desk.record(event).await.map_err(|e| ScenarioError { line, message: e.to_string() })?;
            if let Some((ticket, _)) = finished {
                done(ticket);
            }
            out(notices);
        }
        run_timers(desk, |t| until.is_none_or(|u| t <= u), &mut out).await.map_err(internal)
    }
}

impl Scenario<'static> {
    /// Reads and checks a scenario file as [`Scenario::parse`] does, line by line; playing it
    /// reads the file again.
    pub fn read(path: &Path, contract: &Contract) -> Result<Scenario<'static>, ScenarioError> {
        Scenario::check(Source::File(path.to_path_buf()), contract)
    }
}

fn internal(e: impl std::fmt::Display) -> ScenarioError {
    ScenarioError { line: 0, message: e.to_string() }
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
