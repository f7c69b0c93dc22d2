//! What-if on real history: the tickets of a window replayed under the contract they ran
//! under and under a proposed one, and the difference ([`compare`]). What people did is read
//! back from the timeline — each recorded change's events, as one change — and replayed
//! through the core's own rules ([`stringer_core::replay`]); what the rules caused (pages,
//! escalation steps, due times, breaches, deadlines) is recomputed under each contract, so a
//! page the old contract sent is not an input of the new run. The comparison itself is the
//! core's ([`stringer_core::whatif`]); the words of docs/contract.md ("What-if on history")
//! say which recorded rows are inputs and what is assumed.

pub mod render;

use crate::act::Principal;
use crate::desk::AppError;
use crate::history::{ContractRecord, EventHistory, HistoryReads, HistoryRow, TicketHistory};
use crate::ports::Accounts;
use crate::store::StoreError;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use stringer_core::access::{self, Action, Decision, Object};
use stringer_core::contract::Contract;
use stringer_core::event::{Event, EventKind, is_event_kind};
use stringer_core::ids::{OrgSlug, Severity, TicketId, Tier};
use stringer_core::replay::{Setting, TicketRun};
use stringer_core::routing::{RosterHistory, Rosters};
use stringer_core::ticket::OrgProfile;
use stringer_core::whatif::{Run, Tally, WhatIf};

/// Tickets a check reads and replays per round.
const CHUNK: i64 = 2_000;

/// The most threads a comparison replays on.
const MAX_THREADS: usize = 4;

/// What the proposed run does with names the proposed contract lacks, and which orgs it
/// moves to another tier. The baseline run replays what was recorded, unmapped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mapping {
    /// A severity the proposed contract lacks → the one it replays as.
    pub severities: BTreeMap<Severity, Severity>,
    /// A tier the proposed contract lacks → the one it replays as.
    pub tiers: BTreeMap<Tier, Tier>,
    /// Orgs whose tickets the proposed run replays at another tier.
    pub retier: BTreeMap<OrgSlug, Tier>,
}

impl Mapping {
    /// Reads `--map severity:OLD=NEW` / `--map tier:OLD=NEW` and `--retier ORG=TIER`, and
    /// checks them against the proposed contract: a mapping names a name it lacks (`OLD`) and
    /// one it has (`NEW`), once; a retier names a tier it has.
    pub fn parse(maps: &[String], retiers: &[String], proposed: &Contract) -> Result<Mapping, String> {
        let mut mapping = Mapping::default();
        for map in maps {
            let bad = || format!("--map {map:?}: write it severity:OLD=NEW or tier:OLD=NEW");
            let (what, pair) = map.split_once(':').ok_or_else(bad)?;
            let (old, new) = pair.split_once('=').ok_or_else(bad)?;
            let (old, new) = (old.trim(), new.trim());
            let has = |name: &str| match what.trim() {
                "severity" => Some(proposed.severities.contains_key(&Severity::from(name))),
                "tier" => Some(proposed.tiers.contains_key(&Tier::from(name))),
                _ => None,
            };
            let (Some(has_old), Some(has_new)) = (has(old), has(new)) else { return Err(bad()) };
            let what = what.trim();
            if has_old {
                return Err(format!("--map {map:?}: the proposed contract has {what} {old}; map only names it lacks"));
            }
            if !has_new {
                return Err(format!("--map {map:?}: the proposed contract has no {what} {new}"));
            }
            let twice = match what {
                "severity" => mapping.severities.insert(Severity::from(old), Severity::from(new)).is_some(),
                _ => mapping.tiers.insert(Tier::from(old), Tier::from(new)).is_some(),
            };
            if twice {
                return Err(format!("--map {map:?}: {what} {old} is mapped twice"));
            }
        }
        for retier in retiers {
            let (org, tier) =
                retier.split_once('=').ok_or_else(|| format!("--retier {retier:?}: write it ORG=TIER"))?;
            let tier = Tier::from(tier.trim());
            if !proposed.tiers.contains_key(&tier) {
                return Err(format!("--retier {retier:?}: the proposed contract has no tier {tier}"));
            }
            mapping.retier.insert(OrgSlug::from(org.trim()), tier);
        }
        Ok(mapping)
    }

    /// The tier the proposed run replays a ticket of `org` opened at `tier` at.
    fn tier(&self, org: &OrgSlug, tier: &Tier) -> Tier {
        self.retier.get(org).or_else(|| self.tiers.get(tier)).unwrap_or(tier).clone()
    }

    /// An event as the proposed run replays it: its severity mapped.
    fn event(&self, event: &Event) -> Event {
        let severity = |s: &Severity| self.severities.get(s).unwrap_or(s).clone();
        let kind = match &event.kind {
            EventKind::Opened { org, severity: s, intake, security } => {
                EventKind::Opened { org: org.clone(), severity: severity(s), intake: *intake, security: *security }
            }
            EventKind::SeverityChanged { severity: s } => EventKind::SeverityChanged { severity: severity(s) },
            other => other.clone(),
        };
        Event { kind, ..event.clone() }
    }

    fn is_empty(&self) -> bool {
        self.severities.is_empty() && self.tiers.is_empty() && self.retier.is_empty()
    }
}

/// What to compare.
#[derive(Clone)]
pub struct Request {
    /// The contract the tickets ran under.
    pub baseline: Arc<Contract>,
    /// The contract proposed.
    pub proposed: Arc<Contract>,
    /// The window: tickets opened from here…
    pub from: Timestamp,
    /// …until here (excluded).
    pub until: Timestamp,
    /// The orgs whose tickets are replayed (none: every org).
    pub orgs: Vec<OrgSlug>,
    /// What the proposed run maps.
    pub mapping: Mapping,
    /// The instant the replay runs the timers up to (the history's end).
    pub as_of: Timestamp,
}

/// What a comparison read, and what it assumed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    /// The window's start.
    pub from: Timestamp,
    /// The window's end (excluded).
    pub until: Timestamp,
    /// Timers were run up to here.
    pub as_of: Timestamp,
    /// The orgs replayed.
    pub orgs: Vec<String>,
    /// The baseline contract's name and version.
    pub baseline: String,
    /// The proposed contract's name and version.
    pub proposed: String,
    /// The comparison.
    pub whatif: WhatIf,
    /// What the history lacked and what was assumed instead.
    pub notes: Vec<String>,
}

/// What a comparison reads.
#[derive(Clone)]
pub struct WhatIfPorts {
    /// Tickets with their timelines, the rosters, the contracts recorded.
    pub history: Arc<dyn HistoryReads>,
    /// Orgs and staff (their time zones).
    pub accounts: Arc<dyn Accounts>,
}

fn label(contract: &Contract) -> String {
    match &contract.version {
        Some(v) => format!("{} {v}", contract.name),
        None => contract.name.clone(),
    }
}

/// A ticket's recorded inputs, change by change, from its event rows (in the order written):
/// the rows written by one change (one version) together. A row written before the store
/// kept versions is a change of its own.
pub fn changes<'r>(rows: impl IntoIterator<Item = (Option<i64>, &'r str)>) -> Result<Vec<Vec<Event>>, String> {
    let mut changes: Vec<(Option<i64>, Vec<Event>)> = Vec::new();
    for (n, (version, body)) in rows.into_iter().enumerate() {
        let event: Event =
            serde_json::from_str(body).map_err(|e| format!("its event row {} does not read: {e}", n + 1))?;
        match changes.last_mut() {
            Some((Some(v), events)) if version == Some(*v) => events.push(event),
            _ => changes.push((version, vec![event])),
        }
    }
    Ok(changes.into_iter().map(|(_, events)| events).collect())
}

/// The orgs a request names, or every org when it names none.
async fn orgs_of(ports: &WhatIfPorts, request: &Request) -> Result<Vec<OrgSlug>, AppError> {
    Ok(match request.orgs.is_empty() {
        true => ports.accounts.orgs().await?.into_iter().map(|o| o.slug).collect(),
        false => request.orgs.clone(),
    })
}

/// The window's tickets with their whole history, org by org in pages, each page with the
/// rosters its org's notices were routed with over time: what a check reads.
struct Walk<'a> {
    ports: &'a WhatIfPorts,
    request: &'a Request,
    orgs: Vec<OrgSlug>,
    at: usize,
    roster: Option<Arc<RosterHistory>>,
    after: Option<(i64, TicketId)>,
}

impl<'a> Walk<'a> {
    /// A walk over the request's orgs (none named: every org).
    async fn new(ports: &'a WhatIfPorts, request: &'a Request) -> Result<Walk<'a>, AppError> {
        let orgs = orgs_of(ports, request).await?;
        Ok(Walk { ports, request, orgs, at: 0, roster: None, after: None })
    }

    /// The next page of tickets and its org's rosters; `None` once every org is read.
    async fn next(&mut self) -> Result<Option<(Arc<RosterHistory>, Vec<TicketHistory>)>, AppError> {
        let (from, until) = (self.request.from.as_second(), self.request.until.as_second());
        while let Some(org) = self.orgs.get(self.at) {
            let roster = match &self.roster {
                Some(roster) => roster.clone(),
                None => self.roster.insert(Arc::new(self.ports.history.rosters(org).await?)).clone(),
            };
            let page = self.ports.history.histories(org, from, until, self.after.take(), CHUNK).await?;
            match page.last() {
                Some(last) if page.len() as i64 == CHUNK => {
                    self.after = Some((last.ticket.state.opened_at.as_second(), last.ticket.id.clone()));
                }
                _ => {
                    self.at += 1;
                    self.roster = None;
                }
            }
            if !page.is_empty() {
                return Ok(Some((roster, page)));
            }
        }
        Ok(None)
    }
}

/// What one replay thread tallied: the comparison, the tickets with rows written before the
/// store kept versions, and the orgs whose tickets were routed with no recorded roster.
type Replayed = (Tally, u64, std::collections::BTreeSet<OrgSlug>);

/// Replays each ticket of the window under both contracts and compares them; `progress` is
/// told the tickets read so far after each batch.
///
/// The store reads the window's timelines once, in the order written, and hands over each
/// ticket once its rows are read ([`HistoryReads::event_histories`]); the tickets are
/// replayed (the core's work) on threads of their own, one per core, batch by batch in turn,
/// while the read goes on. Each thread tallies its tickets and the tallies merge at the end;
/// a ticket's place in the report's order comes with it, so the report does not depend on
/// the order tickets were read or which thread replayed them. At most one batch waits for
/// each thread (the read blocks until the thread takes it), so memory stays bounded by the
/// tickets being read, however long the window.
pub async fn compare(
    ports: &WhatIfPorts,
    request: &Request,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Report, AppError> {
    let orgs = orgs_of(ports, request).await?;
    let mut rosters = HashMap::new();
    for org in &orgs {
        rosters.insert(org.clone(), Arc::new(ports.history.rosters(org).await?));
    }
    let rosters = Arc::new(rosters);
    let zones: Arc<HashMap<String, TimeZone>> = Arc::new(
        ports
            .accounts
            .users(None)
            .await?
            .into_iter()
            .filter_map(|u| Some((u.id.0, TimeZone::get(u.time_zone.as_deref()?).ok()?)))
            .collect(),
    );
    // For each tier whose terms the proposal keeps but for some severities' target cells,
    // where no severity is mapped: those severities. A ticket of such a tier that never had
    // one of them would run under the proposal as it ran under the baseline, so it is
    // replayed once.
    let kept: Arc<Kept> = Arc::new(match request.mapping.severities.is_empty() {
        true => request
            .baseline
            .tiers
            .keys()
            .filter_map(|t| Some((t.clone(), request.baseline.severities_changed_for(&request.proposed, t)?)))
            .collect(),
        false => HashMap::new(),
    });
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_THREADS);
    let mut batches = Vec::with_capacity(threads);
    let mut replays = Vec::with_capacity(threads);
    for _ in 0..threads {
        let (send, read) = std::sync::mpsc::sync_channel::<Vec<EventHistory>>(1);
        let (request, rosters, zones, kept) = (request.clone(), rosters.clone(), zones.clone(), kept.clone());
        replays.push(std::thread::spawn(move || -> Result<Replayed, AppError> {
            let zone = |who: &str| zones.get(who).cloned().unwrap_or(TimeZone::UTC);
            let (mut tally, mut legacy, mut unrecorded) = (Tally::default(), 0u64, std::collections::BTreeSet::new());
            for batch in read {
                for history in &batch {
                    let org = &history.key.org;
                    let roster = rosters.get(org).ok_or_else(|| {
                        AppError::Store(StoreError::Backend(format!("{}: an org not asked for", history.key)))
                    })?;
                    if roster.recorded.is_empty() {
                        unrecorded.insert(org.clone());
                    }
                    legacy += u64::from(history.rows.iter().any(|(version, _)| version.is_none()));
                    replay_one(&request, &kept, roster, history, &mut tally, &zone)?;
                }
            }
            Ok((tally, legacy, unrecorded))
        }));
        batches.push(send);
    }
    let (mut done, mut turn) = (0u64, 0usize);
    let (from, until) = (request.from.as_second(), request.until.as_second());
    let read = ports
        .history
        .event_histories(&orgs, from, until, &mut |batch| {
            done += batch.len() as u64;
            turn = (turn + 1) % batches.len();
            // Refused only when the replay stopped on an error, which its result says.
            let taken = batches[turn].send(batch).is_ok();
            progress(done);
            taken
        })
        .await;
    drop(batches);
    let (mut tally, mut legacy, mut unrecorded) = (Tally::default(), 0u64, std::collections::BTreeSet::new());
    for replay in replays {
        let fault = || AppError::Store(StoreError::Backend("the replay stopped on a fault".into()));
        let (t, l, u) = replay.join().map_err(|_| fault())??;
        tally.merge(t);
        legacy += l;
        unrecorded.extend(u);
    }
    read?;
    let (b, p) = (&request.baseline, &request.proposed);
    let tier_rank = |t: &str| {
        b.tiers
            .get_index_of(&Tier::from(t))
            .or_else(|| p.tiers.get_index_of(&Tier::from(t)).map(|i| 1000 + i))
            .unwrap_or(usize::MAX)
    };
    let severity_rank = |s: &str| b.severities.get_index_of(&Severity::from(s)).unwrap_or(usize::MAX);
    let mut notes = vec![
        "What people did is held fixed: every acknowledgement, reply, severity change and resolution stays at its \
         recorded instant under both contracts."
            .to_string(),
        "Pages are routed with each org's roster (TAM, named engineers, schedules, staff) as it was at each \
         instant: the last one the server routed with before it."
            .to_string(),
    ];
    if !unrecorded.is_empty() {
        let orgs: Vec<&str> = unrecorded.iter().map(OrgSlug::as_str).collect();
        notes.push(format!(
            "The server recorded no roster for {} (their pages were routed before it kept them): their pages are \
             routed with the roster as it is now.",
            orgs.join(", ")
        ));
    }
    if legacy > 0 {
        notes.push(format!(
            "{legacy} tickets have rows written before the store kept where one change ends: each of their events is \
             replayed as a change of its own."
        ));
    }
    if !request.mapping.is_empty() {
        let m = &request.mapping;
        let pairs = m
            .severities
            .iter()
            .map(|(o, n)| format!("severity {o} → {n}"))
            .chain(m.tiers.iter().map(|(o, n)| format!("tier {o} → {n}")))
            .chain(m.retier.iter().map(|(o, t)| format!("{o} at tier {t}")))
            .collect::<Vec<_>>();
        notes.push(format!("The proposed run maps {}.", pairs.join(", ")));
    }
    Ok(Report {
        from: request.from,
        until: request.until,
        as_of: request.as_of,
        orgs: orgs.iter().map(ToString::to_string).collect(),
        baseline: label(b),
        proposed: label(p),
        whatif: tally.finish(&tier_rank, &severity_rank),
        notes,
    })
}

/// The tiers whose terms a proposal keeps but for the target cells of some severities, with
/// those severities ([`Contract::severities_changed_for`]).
type Kept = HashMap<Tier, BTreeSet<Severity>>;

/// Whether a ticket's recorded changes ever put it at one of `severities`: the severity it
/// was opened at (a security incident's is its tier's security severity, which the rules use
/// instead) and every severity it was changed to.
fn had_any(changes: &[Vec<Event>], severities: &BTreeSet<Severity>, contract: &Contract, tier: &Tier) -> bool {
    !severities.is_empty()
        && changes.iter().flatten().any(|event| match &event.kind {
            EventKind::Opened { severity, security, .. } => {
                severities.contains(severity) || (*security && severities.contains(contract.security_severity(tier)))
            }
            EventKind::SeverityChanged { severity } => severities.contains(severity),
            _ => false,
        })
}

/// Replays one ticket under both contracts and adds the comparison to `tally` (or lists it
/// as not comparable); once only when the proposal leaves its tier as it is and keeps every
/// term the ticket's rules read (`kept`: its tier's terms, and the target cells of each
/// severity it had).
fn replay_one(
    request: &Request,
    kept: &Kept,
    roster: &RosterHistory,
    history: &EventHistory,
    tally: &mut Tally,
    zone: &dyn Fn(&str) -> TimeZone,
) -> Result<(), AppError> {
    let (key, order, org_slug) = (history.key.to_string(), history.order, &history.key.org);
    let changes =
        changes(history.rows.iter()).map_err(|e| AppError::Store(StoreError::Backend(format!("{key}: {e}"))))?;
    let tier = history.tier.clone();
    let deployment = roster.at(history.opened_at).deployment;
    let org = OrgProfile { slug: org_slug.clone(), tier: tier.clone(), deployment };
    let setting = Setting { contract: &request.baseline, org: &org, rosters: roster };
    let baseline = TicketRun::ideal(setting, changes.iter().map(Vec::as_slice), request.as_of);
    if let Some(uncovered) = baseline.uncovered() {
        tally.not_comparable(order, &key, org_slug.as_str(), &format!("under the baseline: {uncovered}"));
        return Ok(());
    }
    let proposed_tier = request.mapping.tier(org_slug, &tier);
    let rerun: TicketRun;
    let same_terms = proposed_tier == tier
        && kept.get(&tier).is_some_and(|changed| !had_any(&changes, changed, &request.baseline, &tier));
    let proposed = if same_terms {
        &baseline
    } else {
        // Only a severity mapping changes the events: without one, the proposed run replays
        // the very events the baseline did, not a copy of them.
        let mapped: Vec<Vec<Event>>;
        let inputs = if request.mapping.severities.is_empty() {
            &changes
        } else {
            mapped = changes.iter().map(|c| c.iter().map(|e| request.mapping.event(e)).collect()).collect();
            &mapped
        };
        let proposed_org = OrgProfile { tier: proposed_tier, ..org.clone() };
        let setting = Setting { contract: &request.proposed, org: &proposed_org, rosters: roster };
        rerun = TicketRun::ideal(setting, inputs.iter().map(Vec::as_slice), request.as_of);
        &rerun
    };
    if let Some(uncovered) = proposed.uncovered() {
        let reason = uncovered.to_string().replace("the contract in force", "the proposed contract");
        tally.not_comparable(order, &key, org_slug.as_str(), &reason);
        return Ok(());
    }
    for skipped in proposed.skipped() {
        tally.skipped(&format!("{} ({})", skipped.event.name(), skipped.reason));
    }
    let (Some(b), Some(p)) = (baseline.ticket(), proposed.ticket()) else {
        tally.not_comparable(order, &key, org_slug.as_str(), "its history has no opening");
        return Ok(());
    };
    tally.add(
        order,
        &key,
        Run { ticket: b, notices: baseline.notices() },
        Run { ticket: p, notices: proposed.notices() },
        zone,
    );
    Ok(())
}

/// What `--check` found: replaying history under the contract in force must reproduce what
/// the server recorded, ticket by ticket.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Check {
    /// Tickets checked.
    pub tickets: u64,
    /// Notices compared (pages, SLA outcomes, deadlines…).
    pub notices: u64,
    /// Of them, pages.
    pub pages: u64,
    /// Timers the server ran after they fell due (its sweep's lag), and the longest lag, in
    /// seconds.
    pub late_timers: u64,
    /// The longest a timer waited for the sweep that ran it, in seconds.
    pub max_lag_seconds: i64,
    /// Timers overtaken: an input was recorded after a timer fell due and before any sweep
    /// ran it (a server that was not running, or a sweep behind), so the timer's effect never
    /// happened; a replay at the due instants would differ for these tickets.
    pub overtaken: u64,
    /// The first ticket with an overtaken timer, the timer, and by how long, if any.
    pub first_overtaken: Option<String>,
    /// The first ticket whose replay differs from its record, if any.
    pub mismatch: Option<Mismatch>,
}

/// Where a ticket's replay first differs from its record.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Mismatch {
    /// The ticket's key.
    pub ticket: String,
    /// What differs.
    pub what: String,
    /// As recorded.
    pub recorded: String,
    /// As replayed.
    pub replayed: String,
}

/// One step of a ticket's recorded schedule.
enum Step {
    /// A change someone made: its events.
    Change(Vec<Event>),
    /// A sweep of the engine that ran the ticket's due timers, at the instant of the last
    /// notice it recorded.
    Sweep(Timestamp),
    /// A version that left no row: a sweep whose timers caused no notice (an escalation
    /// step skipped, a deadline passed quietly), replayed at the instant its first timer
    /// fell due when one did before the next step — else a change the replay does not model
    /// (an edit of the ticket's fields), which changes nothing replayed.
    Quiet,
}

impl Step {
    /// The last instant at which a timer due by then would have run before this step: a
    /// change's events come before the timers of their own instant; a sweep runs the timers
    /// due at its own. A quiet step's instant is not known.
    fn last_timer_instant(&self) -> Option<Timestamp> {
        match self {
            Step::Change(events) => Some(events[0].at - jiff::SignedDuration::from_secs(1)),
            Step::Sweep(now) => Some(*now),
            Step::Quiet => None,
        }
    }
}

/// A ticket's history as it happened on the server, change by change: the changes people made
/// and the sweeps that ran its timers, each a version of the ticket up to `version`, its
/// current one; `None` when a row was written before the store kept versions (the steps
/// cannot be told apart).
fn recorded_steps(rows: &[HistoryRow], version: i64) -> Result<Option<Vec<Step>>, String> {
    let mut groups: Vec<(i64, Vec<Event>, Option<Timestamp>)> = Vec::new();
    for row in rows {
        let Some(version) = row.version else { return Ok(None) };
        if groups.last().is_none_or(|(v, _, _)| *v != version) {
            groups.push((version, Vec::new(), None));
        }
        let Some((_, events, last)) = groups.last_mut() else { continue };
        if is_event_kind(&row.kind) {
            events.push(serde_json::from_str(&row.body).map_err(|e| format!("a {} row does not read: {e}", row.kind))?);
        } else {
            let at = Timestamp::from_second(row.at).map_err(|e| e.to_string())?;
            *last = Some(last.map_or(at, |l: Timestamp| l.max(at)));
        }
    }
    let mut steps = Vec::with_capacity(groups.len());
    let mut seen = groups.first().map_or(0, |(v, _, _)| v - 1);
    for (v, events, last) in groups {
        steps.extend((seen + 1..v).map(|_| Step::Quiet));
        seen = v;
        match events.is_empty() {
            false => steps.push(Step::Change(events)),
            true => steps.extend(last.map(Step::Sweep)),
        }
    }
    steps.extend((seen + 1..=version).map(|_| Step::Quiet));
    Ok(Some(steps))
}

/// Replays each ticket of the window under `request.baseline` (the contract in force) in its
/// recorded schedule — each change people made at its instant, each sweep of the engine at
/// its instant — and compares it with its record: every notice in order (its instant, kind
/// and body with the people it reached) and the ticket's state (every clock with its due time
/// and outcome, the escalation, the customer's page, the bridge and report deadlines). Stops
/// at the first ticket that differs. The sweeps' lag and the timers an input overtook are
/// counted, not compared. A ticket written before the store kept versions is replayed with
/// its timers at their due instants and its events one by one.
pub async fn check(
    ports: &WhatIfPorts,
    request: &Request,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Check, AppError> {
    let mut walk = Walk::new(ports, request).await?;
    let mut found = Check::default();
    while let Some((roster, page)) = walk.next().await? {
        for history in &page {
            found.tickets += 1;
            if let Some(m) = check_one(request, &roster, history, &mut found) {
                found.mismatch = Some(m);
                return Ok(found);
            }
        }
        progress(found.tickets);
    }
    Ok(found)
}

fn check_one(
    request: &Request,
    roster: &RosterHistory,
    history: &TicketHistory,
    found: &mut Check,
) -> Option<Mismatch> {
    let t = &history.ticket;
    let mismatch = |what: &str, recorded: String, replayed: String| {
        Some(Mismatch { ticket: t.key().to_string(), what: what.to_string(), recorded, replayed })
    };
    let deployment = roster.at(t.state.opened_at).deployment;
    let org = OrgProfile { slug: t.org.clone(), tier: t.state.tier.clone(), deployment };
    let setting = Setting { contract: &request.baseline, org: &org, rosters: roster };
    let run = match recorded_steps(&history.rows, t.version) {
        Err(e) => return mismatch("its timeline", e, String::new()),
        Ok(Some(steps)) => {
            let mut run = TicketRun::new();
            let due = |run: &TicketRun, by: Timestamp| {
                run.timers().iter().filter(|(_, at)| **at <= by).map(|(k, at)| (*at, k.clone())).min()
            };
            for (i, step) in steps.iter().enumerate() {
                match step {
                    Step::Change(events) => {
                        let at = events[0].at;
                        if let Some((first, kind)) = step.last_timer_instant().and_then(|by| due(&run, by)) {
                            found.overtaken += 1;
                            if found.first_overtaken.is_none() {
                                let late = (at - first).get_seconds();
                                found.first_overtaken =
                                    Some(format!("{}: {kind:?} due {first}, overtaken {late} s later", t.key()));
                            }
                        }
                        run.change(setting, events);
                    }
                    Step::Sweep(now) => {
                        if let Some((first, _)) = due(&run, *now) {
                            found.late_timers += u64::from(*now > first);
                            found.max_lag_seconds = found.max_lag_seconds.max((*now - first).get_seconds());
                        }
                        run.sweep(setting, *now);
                    }
                    Step::Quiet => {
                        let by = steps[i + 1..].iter().find_map(Step::last_timer_instant);
                        if let Some((first, _)) = due(&run, by.unwrap_or(request.as_of)) {
                            run.sweep(setting, first);
                        }
                    }
                }
            }
            run
        }
        Ok(None) => {
            match changes(history.rows.iter().filter(|r| is_event_kind(&r.kind)).map(|r| (r.version, &*r.body))) {
                Ok(changes) => TicketRun::ideal(setting, changes.iter().map(Vec::as_slice), request.as_of),
                Err(e) => return mismatch("its timeline", e, String::new()),
            }
        }
    };
    if let Some(uncovered) = run.uncovered() {
        return mismatch("the contract", "covered".into(), uncovered.to_string());
    }
    if let Some(skipped) = run.skipped().first() {
        return mismatch("an input the rules refuse", skipped.event.name().into(), skipped.reason.to_string());
    }
    let mut recorded = Vec::new();
    for row in history.rows.iter().filter(|r| !is_event_kind(&r.kind)) {
        match serde_json::from_str::<stringer_core::event::Notice>(&row.body) {
            Ok(notice) => recorded.push(notice),
            Err(e) => return mismatch("a notice's row", row.body.clone(), e.to_string()),
        }
    }
    let replayed = run.notices();
    for (i, (r, p)) in recorded.iter().zip(replayed).enumerate() {
        if r != p {
            let show = |n: &stringer_core::event::Notice| serde_json::to_string(n).unwrap_or_default();
            return mismatch(&format!("notice {}", i + 1), show(r), show(p));
        }
        found.notices += 1;
        found.pages += u64::from(r.body.kind() == "page");
    }
    if recorded.len() != replayed.len() {
        let kinds = |n: &[stringer_core::event::Notice]| n.iter().map(|n| n.body.kind()).collect::<Vec<_>>().join(", ");
        return mismatch("the notices", kinds(&recorded), kinds(replayed));
    }
    let Some(ticket) = run.ticket() else { return mismatch("the opening", "opened".into(), "none".into()) };
    let (stored, replayed) = (serde_json::to_value(&t.state).ok()?, serde_json::to_value(ticket).ok()?);
    if stored != replayed {
        let field = stored
            .as_object()
            .and_then(|s| s.iter().find(|(k, v)| replayed.get(k.as_str()) != Some(*v)).map(|(k, _)| k.clone()))
            .unwrap_or_else(|| "state".into());
        return mismatch(&format!("the state's {field}"), stored[&field].to_string(), replayed[&field].to_string());
    }
    None
}

/// The contract the tickets of a window ending at `until` ran under, as the server recorded
/// it: the last one recorded before the window's end, else (a window older than every
/// record) the first one recorded.
pub fn recorded_baseline(recorded: &[ContractRecord], until: Timestamp) -> Option<&ContractRecord> {
    recorded.iter().rfind(|r| r.at < until.as_second()).or(recorded.first())
}

/// What a person asks the what-if: a proposed contract's text, a window and the orgs.
#[derive(Clone, Debug, Default)]
pub struct Ask {
    /// The proposed contract, as TOML.
    pub proposed: String,
    /// Tickets opened from here…
    pub from: Option<Timestamp>,
    /// …until here (excluded).
    pub until: Option<Timestamp>,
    /// Only these orgs (none: every org the person sees).
    pub orgs: Vec<OrgSlug>,
    /// `severity:OLD=NEW` / `tier:OLD=NEW` mappings.
    pub maps: Vec<String>,
    /// `ORG=TIER` moves.
    pub retiers: Vec<String>,
}

/// Why a what-if was not run.
#[derive(Debug, thiserror::Error)]
pub enum WhatIfError {
    /// The access policy refuses it.
    #[error("{0}")]
    Refused(&'static str),
    /// The proposed contract does not load: the located diagnostics.
    #[error("{0}")]
    Contract(String),
    /// The window, an org or a mapping is not usable.
    #[error("{0}")]
    Request(String),
    /// Another replay is running on this server.
    #[error("another what-if replay is running on this server; try again when it is done")]
    Busy,
    /// Reading the history failed.
    #[error(transparent)]
    App(#[from] AppError),
}

/// The what-if replays running on this server: one at a time, so that replays of large
/// windows asked for together cannot take every core from the desk they read.
#[derive(Debug, Default)]
pub struct Runs(std::sync::atomic::AtomicBool);

/// A replay running: the next may start once it is dropped.
struct Running<'a>(&'a Runs);

impl Runs {
    /// Starts a replay, unless one is running.
    fn start(&self) -> Option<Running<'_>> {
        use std::sync::atomic::Ordering;
        self.0.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).ok().map(|_| Running(self))
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.0.store(false, std::sync::atomic::Ordering::Release);
    }
}

impl From<StoreError> for WhatIfError {
    fn from(e: StoreError) -> WhatIfError {
        WhatIfError::App(AppError::Store(e))
    }
}

/// The most a proposed contract's text may hold, in bytes (a contract is a few KiB).
pub const MAX_CONTRACT_BYTES: usize = 256 * 1024;

/// The what-if as people run it (the console): the access policy decides who may
/// ([`Action::RunWhatIf`]) and which orgs' tickets they may replay (those they see); the
/// baseline is the contract the server recorded, else the one in force.
#[derive(Clone)]
pub struct WhatIfDesk {
    /// What the comparison reads.
    pub ports: WhatIfPorts,
    /// Tells the contract in force.
    pub commands: Arc<dyn crate::ports::Commands>,
    /// The replays running on this server (shared by every desk of one server).
    pub runs: Arc<Runs>,
}

impl WhatIfDesk {
    /// Whether `who` may run the what-if at all.
    pub fn may_run(who: &Principal) -> bool {
        access::decide(&who.actor(), Action::RunWhatIf, Some(Object::Staff)).allowed()
    }

    /// The orgs `who` may replay (those they see), by slug.
    pub async fn orgs(&self, who: &Principal) -> Result<Vec<OrgSlug>, WhatIfError> {
        self.refused(who)?;
        let actor = who.actor();
        Ok(self.ports.accounts.orgs().await?.into_iter().filter(|o| actor.sees(o.as_ref())).map(|o| o.slug).collect())
    }

    fn refused(&self, who: &Principal) -> Result<(), WhatIfError> {
        match access::decide(&who.actor(), Action::RunWhatIf, Some(Object::Staff)) {
            Decision::Allow => Ok(()),
            Decision::Forbidden(why) => Err(WhatIfError::Refused(why)),
            Decision::NotFound => Err(WhatIfError::Refused("the what-if on history is for admins and support leads")),
        }
    }

    /// Runs `ask` for `who` at `now`: the proposed contract checked (its located errors),
    /// the window and orgs checked against what `who` sees, then the comparison.
    pub async fn run(&self, who: &Principal, ask: &Ask, now: Timestamp) -> Result<Report, WhatIfError> {
        let visible = self.orgs(who).await?;
        if ask.proposed.len() > MAX_CONTRACT_BYTES {
            return Err(WhatIfError::Contract(format!("the contract is over {} KiB", MAX_CONTRACT_BYTES / 1024)));
        }
        let proposed = Contract::from_toml(&ask.proposed, "the proposed contract")
            .map_err(|e| WhatIfError::Contract(e.to_string()))?;
        let (Some(from), Some(until)) = (ask.from, ask.until) else {
            return Err(WhatIfError::Request("choose the window: a quarter, or the first and last day".into()));
        };
        if from >= until {
            return Err(WhatIfError::Request("the window's first day must come before its end".into()));
        }
        for org in &ask.orgs {
            if !visible.contains(org) {
                return Err(WhatIfError::Request(format!("no org {org}")));
            }
        }
        let mapping = Mapping::parse(&ask.maps, &ask.retiers, &proposed).map_err(WhatIfError::Request)?;
        let recorded = self.ports.history.contracts().await?;
        let baseline = match recorded_baseline(&recorded, until) {
            Some(r) => Arc::new(Contract::from_toml(&r.source, "the recorded contract").map_err(|e| {
                WhatIfError::App(AppError::Store(StoreError::Backend(format!("the recorded contract: {e}"))))
            })?),
            None => Arc::new(self.commands.contract().clone()),
        };
        let orgs = if ask.orgs.is_empty() { visible } else { ask.orgs.clone() };
        let request = Request { baseline, proposed: Arc::new(proposed), from, until, orgs, mapping, as_of: now };
        let Some(_running) = self.runs.start() else { return Err(WhatIfError::Busy) };
        Ok(compare(&self.ports, &request, &mut |_| {}).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{World, org, person};
    use crate::history::{ContractHistory, HistoryReads};
    use crate::records::{OrgRecord, TicketRecord};
    use async_trait::async_trait;
    use std::sync::Mutex;
    use stringer_core::access::Scopes;
    use stringer_core::ids::{Deployment, UserRole};
    use stringer_core::routing::Roster;

    /// Tickets with their histories in memory: read in pages as the store reads them, and
    /// as a comparison reads them, in the reverse of the report's order, in batches of
    /// three, with the orgs asked for.
    #[derive(Default)]
    struct Histories {
        tickets: Vec<TicketHistory>,
        asked: Mutex<Vec<Vec<OrgSlug>>>,
    }

    impl Histories {
        /// A ticket's place in an org's order: opening instant, then id.
        fn place(h: &TicketHistory) -> (i64, TicketId) {
            (h.ticket.state.opened_at.as_second(), h.ticket.id.clone())
        }
    }

    #[async_trait]
    impl ContractHistory for Histories {
        async fn record_contract(&self, _: &ContractRecord) -> Result<bool, StoreError> {
            Ok(false)
        }
        async fn contracts(&self) -> Result<Vec<ContractRecord>, StoreError> {
            Ok(Vec::new())
        }
    }

    #[async_trait]
    impl HistoryReads for Histories {
        async fn histories(
            &self,
            org: &OrgSlug,
            from: i64,
            until: i64,
            after: Option<(i64, TicketId)>,
            limit: i64,
        ) -> Result<Vec<TicketHistory>, StoreError> {
            let mut found: Vec<TicketHistory> = self
                .tickets
                .iter()
                .filter(|h| h.ticket.org == *org && (from..until).contains(&h.ticket.state.opened_at.as_second()))
                .filter(|h| after.as_ref().is_none_or(|a| Histories::place(h) > *a))
                .cloned()
                .collect();
            found.sort_by_key(Histories::place);
            found.truncate(limit as usize);
            Ok(found)
        }
        async fn event_histories(
            &self,
            orgs: &[OrgSlug],
            from: i64,
            until: i64,
            each: &mut (dyn FnMut(Vec<EventHistory>) -> bool + Send),
        ) -> Result<(), StoreError> {
            self.asked.lock().unwrap().push(orgs.to_vec());
            let mut all = Vec::new();
            for org in orgs {
                all.extend(self.histories(org, from, until, None, i64::MAX).await?);
            }
            let mut read: Vec<EventHistory> = all
                .into_iter()
                .enumerate()
                .map(|(order, h)| EventHistory {
                    id: h.ticket.id.clone(),
                    key: h.ticket.key(),
                    tier: h.ticket.state.tier.clone(),
                    opened_at: h.ticket.state.opened_at,
                    order: order as u64,
                    rows: h.rows.iter().filter(|r| is_event_kind(&r.kind)).map(|r| (r.version, &*r.body)).collect(),
                })
                .collect();
            read.reverse();
            for batch in read.chunks(3) {
                if !each(batch.to_vec()) {
                    break;
                }
            }
            Ok(())
        }
        async fn last_recorded(&self) -> Result<Option<i64>, StoreError> {
            Ok(None)
        }
        async fn rosters(&self, org: &OrgSlug) -> Result<RosterHistory, StoreError> {
            let current = Roster {
                org: org.clone(),
                deployment: Deployment::Shared,
                tam: None,
                named_engineers: Vec::new(),
                schedules: Vec::new(),
                staff: Vec::new(),
            };
            Ok(RosterHistory { recorded: Vec::new(), current })
        }
    }

    /// `n` P3 tickets of `slug` (at `tier`) opened a minute apart from 2026-11-02 00:00 UTC,
    /// each with its opening as its whole history.
    fn opened(slug: &str, tier: &str, n: usize) -> Vec<TicketHistory> {
        let contract = Contract::default_contract();
        let profile = org(slug, tier).profile();
        (0..n)
            .map(|i| {
                let at = Timestamp::from_second(1_793_577_600 + 60 * i as i64).unwrap();
                let kind = EventKind::Opened {
                    org: profile.slug.clone(),
                    severity: Severity::from("P3"),
                    intake: None,
                    security: false,
                };
                let event = Event::new(at, TicketId(format!("{slug}-{i:05}")), kind);
                let (state, _) = stringer_core::ticket::Ticket::open(&contract, &profile, &event).unwrap();
                let body = serde_json::to_string(&event).unwrap();
                let row = HistoryRow { at: at.as_second(), kind: "ticket.opened".into(), version: Some(1), body };
                let ticket = TicketRecord {
                    id: event.ticket.clone(),
                    org: profile.slug.clone(),
                    number: i as i64 + 1,
                    requester: None,
                    subject: String::new(),
                    description: String::new(),
                    state,
                    version: 1,
                    updated_at: at.as_second(),
                };
                TicketHistory { ticket, rows: vec![row] }
            })
            .collect()
    }

    /// A world with acme (Enterprise), bolt (Pro) and fedco (federal), an admin not cleared for
    /// federal and an engineer; answers the desk over `tickets`.
    async fn desk(tickets: Vec<TicketHistory>) -> (WhatIfDesk, Arc<World>, Arc<Histories>) {
        let world = World::new(Contract::default_contract(), "2026-12-01T00:00:00Z".parse().unwrap());
        world.add_org(org("acme", "enterprise")).await;
        world.add_org(org("bolt", "pro")).await;
        world.add_org(OrgRecord { deployment: Deployment::Federal, ..org("fedco", "enterprise") }).await;
        world.add_user(person("ada", None, UserRole::Admin));
        world.add_user(person("nico", None, UserRole::Engineer));
        let history = Arc::new(Histories { tickets, ..Histories::default() });
        let ports = WhatIfPorts { history: history.clone(), accounts: world.clone() };
        let commands: Arc<dyn crate::ports::Commands> = world.clone();
        (WhatIfDesk { ports, commands, runs: Arc::default() }, world, history)
    }

    fn november() -> Ask {
        Ask {
            proposed: stringer_core::contract::DEFAULT_CONTRACT.to_string(),
            from: Some("2026-11-01T00:00:00Z".parse().unwrap()),
            until: Some("2026-12-01T00:00:00Z".parse().unwrap()),
            ..Ask::default()
        }
    }

    #[tokio::test]
    async fn every_ticket_of_the_orgs_seen_is_compared_once_and_listed_in_the_reports_order() {
        let mut tickets = opened("acme", "enterprise", CHUNK as usize + 5);
        tickets.extend(opened("bolt", "pro", 3));
        let (desk, world, history) = desk(tickets).await;
        let ada = world.signed_in("ada", Scopes::ALL);
        let report = desk.run(&ada, &november(), "2026-12-01T00:00:00Z".parse().unwrap()).await.unwrap();
        assert_eq!(report.whatif.tickets as i64, CHUNK + 8, "every ticket of both orgs, once");
        assert_eq!(report.orgs, ["acme", "bolt"], "the federal org is not seen by an admin not cleared for it");
        let asked = history.asked.lock().unwrap().clone();
        assert_eq!(asked, [vec![OrgSlug::from("acme"), OrgSlug::from("bolt")]], "one read of both orgs");
        assert_eq!(report.whatif.changed_tickets, 0);
        // A proposal without the Pro tier leaves every bolt ticket out: they are listed in
        // the report's order (by opening), though read in reverse.
        let renamed = stringer_core::contract::DEFAULT_CONTRACT
            .replace("[tiers.pro]", "[tiers.standard]")
            .replace("[targets.response.tiers.pro]", "[targets.response.tiers.standard]")
            .replace("[escalation.pro]", "[escalation.standard]");
        let ask = Ask { proposed: renamed, ..november() };
        let report = desk.run(&ada, &ask, "2026-12-01T00:00:00Z".parse().unwrap()).await.unwrap();
        let keys: Vec<String> = report.whatif.not_comparable.iter().map(|n| n.key.clone()).collect();
        let expected: Vec<String> = (1..=3).map(|n| format!("BOLT-{n}")).collect();
        assert_eq!(keys, expected);
    }

    #[tokio::test]
    async fn only_admins_and_support_leads_run_it_and_only_on_orgs_they_see() {
        let (desk, world, _) = desk(opened("bolt", "pro", 2)).await;
        let nico = world.signed_in("nico", Scopes::ALL);
        let now = "2026-12-01T00:00:00Z".parse().unwrap();
        let refused = desk.run(&nico, &november(), now).await.unwrap_err();
        assert_eq!(refused.to_string(), "the what-if on history is for admins and support leads");
        let ada = world.signed_in("ada", Scopes::ALL);
        let hidden = Ask { orgs: vec![OrgSlug::from("fedco")], ..november() };
        assert_eq!(desk.run(&ada, &hidden, now).await.unwrap_err().to_string(), "no org fedco");
        let broken = Ask { proposed: "[contract]\nname = 1".into(), ..november() };
        assert!(matches!(desk.run(&ada, &broken, now).await, Err(WhatIfError::Contract(_))));
        let backwards = Ask { from: november().until, until: november().from, ..november() };
        assert!(matches!(desk.run(&ada, &backwards, now).await, Err(WhatIfError::Request(_))));
    }

    #[tokio::test]
    async fn one_replay_runs_at_a_time() {
        let (desk, world, _) = desk(opened("bolt", "pro", 2)).await;
        let ada = world.signed_in("ada", Scopes::ALL);
        let now = "2026-12-01T00:00:00Z".parse().unwrap();
        let running = desk.runs.start().unwrap();
        let busy = desk.run(&ada, &november(), now).await.unwrap_err();
        assert!(matches!(busy, WhatIfError::Busy), "{busy}");
        let broken = Ask { proposed: "[contract]\nname = 1".into(), ..november() };
        assert!(matches!(desk.run(&ada, &broken, now).await, Err(WhatIfError::Contract(_))), "checked before waiting");
        drop(running);
        assert_eq!(desk.run(&ada, &november(), now).await.unwrap().whatif.tickets, 2, "free again once it ended");
    }

    #[test]
    fn a_mapping_names_what_the_proposed_contract_lacks_and_what_it_has() {
        let proposed = Contract::default_contract();
        let parse = |maps: &[&str], retiers: &[&str]| {
            let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            Mapping::parse(&owned(maps), &owned(retiers), &proposed)
        };
        let ok = parse(&["severity:P5=P4", "tier: gold = enterprise"], &["acme=pro"]).unwrap();
        assert_eq!(ok.severities[&Severity::from("P5")], Severity::from("P4"));
        assert_eq!(ok.tier(&OrgSlug::from("bolt"), &Tier::from("gold")), Tier::from("enterprise"));
        assert_eq!(ok.tier(&OrgSlug::from("acme"), &Tier::from("enterprise")), Tier::from("pro"), "a retier wins");
        for (maps, retiers, refusal) in [
            (&["severity:P4=P3"][..], &[][..], "the proposed contract has severity P4; map only names it lacks"),
            (&["severity:P5=P9"], &[], "the proposed contract has no severity P9"),
            (&["tier:gold=platinum"], &[], "the proposed contract has no tier platinum"),
            (&["severity:P5=P4", "severity:P5=P3"], &[], "severity P5 is mapped twice"),
            (&["colour:red=blue"], &[], "write it severity:OLD=NEW or tier:OLD=NEW"),
            (&["severity P5 P4"], &[], "write it severity:OLD=NEW or tier:OLD=NEW"),
            (&[], &["acme"], "write it ORG=TIER"),
            (&[], &["acme=gold"], "the proposed contract has no tier gold"),
        ] {
            let error = parse(maps, retiers).unwrap_err();
            assert!(error.ends_with(refusal), "{maps:?} {retiers:?}: {error}");
        }
    }

    #[test]
    fn the_baseline_is_the_last_contract_recorded_before_the_windows_end() {
        let record = |at: i64, name: &str| ContractRecord {
            at,
            name: name.into(),
            version: String::new(),
            sha256: String::new(),
            source: String::new(),
            stringer_version: String::new(),
        };
        let recorded = [record(100, "first"), record(200, "second"), record(300, "third")];
        let at = |s: i64| Timestamp::from_second(s).unwrap();
        assert_eq!(recorded_baseline(&recorded, at(250)).map(|r| r.name.as_str()), Some("second"));
        assert_eq!(recorded_baseline(&recorded, at(200)).map(|r| r.name.as_str()), Some("first"), "in force before");
        assert_eq!(recorded_baseline(&recorded, at(50)).map(|r| r.name.as_str()), Some("first"), "older than all");
        assert_eq!(recorded_baseline(&[], at(50)), None);
    }

    #[test]
    fn a_ticket_had_the_severities_it_opened_at_was_changed_to_or_was_opened_as_for_security() {
        let contract = Contract::default_contract();
        let pro = Tier::from("pro");
        let event = |kind: EventKind| Event { at: Timestamp::UNIX_EPOCH, ticket: TicketId::from("t"), kind };
        let opened = |severity: &str, security: bool| {
            event(EventKind::Opened {
                org: OrgSlug::from("bolt"),
                severity: Severity::from(severity),
                intake: None,
                security,
            })
        };
        let raised = |severity: &str| event(EventKind::SeverityChanged { severity: Severity::from(severity) });
        let ack = event(EventKind::Acknowledged { by: "nico".into() });
        let set = |names: &[&str]| names.iter().map(|n| Severity::from(*n)).collect::<BTreeSet<_>>();
        // What the ticket did, its changes, the severities named, whether it had one.
        type Case = (&'static str, Vec<Vec<Event>>, &'static [&'static str], bool);
        let cases: [Case; 6] = [
            ("opened at one named", vec![vec![opened("P2", false)], vec![ack.clone()]], &["P2"], true),
            ("opened at another", vec![vec![opened("P3", false)], vec![ack.clone()]], &["P2"], false),
            ("raised to one named", vec![vec![opened("P3", false)], vec![raised("P2"), ack.clone()]], &["P2"], true),
            ("raised past it", vec![vec![opened("P3", false)], vec![raised("P1")]], &["P2"], false),
            ("a security incident runs at the security severity", vec![vec![opened("P3", true)]], &["P1"], true),
            ("none named", vec![vec![opened("P2", false)], vec![raised("P1")]], &[], false),
        ];
        for (what, changes, named, had) in cases {
            assert_eq!(had_any(&changes, &set(named), &contract, &pro), had, "{what}");
        }
    }
}
