//! What-if: the difference two contracts make to the same tickets. Each ticket of the window is
//! replayed twice from its recorded inputs (see `replay`), under the baseline contract and
//! under the proposed one; [`Tally::add`] compares the two runs and counts what differs —
//! per tier × severity × target met, breached, withdrawn or running under each, the tickets
//! whose outcome changed (with both due times), the pages by role and the load on each person
//! (per ISO week, at night and at weekends in their time zone), the tickets whose escalation
//! reached the TAM or the VP, when the customer could page, and the bridge and post-incident
//! report deadlines. Tallies of disjoint tickets [`Tally::merge`] (a replay may run in
//! parallel chunks); [`Tally::finish`] orders them into the [`WhatIf`] report.
//!
//! The conventions (docs/contract.md, "What-if on history"): a ticket is counted under the tier
//! it was opened at and the severity it ended with in the baseline run, in both columns, so
//! each row compares one population; an outcome "changed" when a target's state differs; a
//! due time that moved with the same outcome is counted apart; pages are counted per notice
//! and per person paged.

use crate::event::{Notice, NoticeBody};
use crate::ids::Role;
use crate::review::Quarter;
use crate::sla::{ClockState, SlaClock};
use crate::ticket::Ticket;
use jiff::Timestamp;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use serde::Serialize;
use std::collections::BTreeMap;

/// The most changed tickets a report lists; the rest are counted.
pub const LISTED: usize = 10_000;

/// One run of one ticket: its state at the end and the notices it decided, in order.
#[derive(Clone, Copy, Debug)]
pub struct Run<'a> {
    /// The ticket at the end of the replay.
    pub ticket: &'a Ticket,
    /// What the rules decided, in order (pages routed to their people).
    pub notices: &'a [Notice],
}

/// Where a target stood at the end of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Met in time.
    Met,
    /// Missed.
    Breached,
    /// The customer resolved the ticket before any response.
    Withdrawn,
    /// Neither yet.
    Running,
}

impl Outcome {
    /// A clock's outcome, as the quarterly review counts it (a clock breached and then
    /// stopped counts as breached).
    pub fn of(clock: &SlaClock) -> Outcome {
        match clock.state {
            ClockState::Met => Outcome::Met,
            ClockState::Breached => Outcome::Breached,
            _ if clock.breached_at.is_some() => Outcome::Breached,
            ClockState::Withdrawn => Outcome::Withdrawn,
            ClockState::Running | ClockState::Paused => Outcome::Running,
        }
    }

    /// Its name as the reports write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Met => "met",
            Outcome::Breached => "breached",
            Outcome::Withdrawn => "withdrawn",
            Outcome::Running => "running",
        }
    }
}

/// Outcomes of one target over some tickets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Met.
    pub met: u32,
    /// Breached.
    pub breached: u32,
    /// Withdrawn.
    pub withdrawn: u32,
    /// Still running at the end of the replay.
    pub running: u32,
}

impl Counts {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Met => self.met += 1,
            Outcome::Breached => self.breached += 1,
            Outcome::Withdrawn => self.withdrawn += 1,
            Outcome::Running => self.running += 1,
        }
    }

    fn merge(&mut self, other: Counts) {
        self.met += other.met;
        self.breached += other.breached;
        self.withdrawn += other.withdrawn;
        self.running += other.running;
    }

    /// Met as a share of met and breached, in percent; `None` when neither.
    pub fn percent(&self) -> Option<f64> {
        let decided = self.met + self.breached;
        (decided > 0).then(|| f64::from(self.met) * 100.0 / f64::from(decided))
    }
}

/// A target's outcomes under both contracts, for the tickets of one tier and severity.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Row {
    /// The tier the tickets were opened at.
    pub tier: String,
    /// The severity they ended with (in the baseline run).
    pub severity: String,
    /// The target.
    pub target: String,
    /// Under the baseline contract.
    pub baseline: Counts,
    /// Under the proposed contract (a target it lacks: all zero).
    pub proposed: Counts,
    /// Tickets whose due time moved with the same outcome.
    pub due_moved: u32,
}

/// A target's due time and outcome in one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Due {
    /// Where it stood.
    pub outcome: Outcome,
    /// Its due time (`None` while paused).
    pub due: Option<Timestamp>,
}

/// A target of a ticket whose outcome differs between the two runs (or that only one of the
/// contracts has).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Changed {
    /// The ticket's key.
    pub key: String,
    /// Its org.
    pub org: String,
    /// Its tier and severity (baseline run).
    pub tier: String,
    /// Its severity (baseline run).
    pub severity: String,
    /// The target.
    pub target: String,
    /// Under the baseline contract (`None`: it has no such target).
    pub baseline: Option<Due>,
    /// Under the proposed contract.
    pub proposed: Option<Due>,
}

/// Pages of one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Pages {
    /// Page notices to on-call.
    pub oncall: u32,
    /// To the TAM.
    pub tam: u32,
    /// To the VP of Engineering.
    pub vp_engineering: u32,
    /// To the support lead.
    pub support_lead: u32,
    /// People paged, one per person per page.
    pub person_pages: u32,
    /// Of them, at night in the person's time zone.
    pub night: u32,
    /// Of them, at a weekend in the person's time zone.
    pub weekend: u32,
    /// Tickets whose escalation reached the TAM.
    pub reached_tam: u32,
    /// Tickets whose escalation reached the VP of Engineering.
    pub reached_vp: u32,
}

impl Pages {
    fn merge(&mut self, o: Pages) {
        self.oncall += o.oncall;
        self.tam += o.tam;
        self.vp_engineering += o.vp_engineering;
        self.support_lead += o.support_lead;
        self.person_pages += o.person_pages;
        self.night += o.night;
        self.weekend += o.weekend;
        self.reached_tam += o.reached_tam;
        self.reached_vp += o.reached_vp;
    }

    /// Page notices to any role.
    pub fn total(&self) -> u32 {
        self.oncall + self.tam + self.vp_engineering + self.support_lead
    }
}

/// A person's pages in one week of one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Load {
    /// Pages.
    pub pages: u32,
    /// Of them at night (their time zone).
    pub night: u32,
    /// Of them at a weekend (their time zone).
    pub weekend: u32,
}

/// A person's pages in one ISO week under both contracts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PersonWeek {
    /// Who.
    pub person: String,
    /// The ISO week (UTC), as `2026-W48`.
    pub week: String,
    /// Under the baseline contract.
    pub baseline: Load,
    /// Under the proposed contract.
    pub proposed: Load,
}

/// How a deadline (the customer's page, a bridge, a post-incident report) moved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Shift {
    /// Tickets where both contracts set it at the same instant.
    pub same: u32,
    /// Earlier under the proposed contract.
    pub earlier: u32,
    /// Later under the proposed contract.
    pub later: u32,
    /// Only the proposed contract sets it.
    pub added: u32,
    /// Only the baseline contract sets it.
    pub removed: u32,
}

impl Shift {
    fn add(&mut self, baseline: Option<Timestamp>, proposed: Option<Timestamp>) {
        match (baseline, proposed) {
            (Some(b), Some(p)) if p < b => self.earlier += 1,
            (Some(b), Some(p)) if p > b => self.later += 1,
            (Some(_), Some(_)) => self.same += 1,
            (None, Some(_)) => self.added += 1,
            (Some(_), None) => self.removed += 1,
            (None, None) => {}
        }
    }

    fn merge(&mut self, o: Shift) {
        self.same += o.same;
        self.earlier += o.earlier;
        self.later += o.later;
        self.added += o.added;
        self.removed += o.removed;
    }

    /// Whether anything moved.
    pub fn moved(&self) -> bool {
        self.earlier + self.later + self.added + self.removed > 0
    }
}

/// An org's attainment in one quarter under both contracts (what its quarterly review
/// would show).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OrgQuarter {
    /// The org.
    pub org: String,
    /// The quarter, as `2026-Q3`.
    pub quarter: String,
    /// Per severity and target.
    pub rows: Vec<Row>,
}

/// A ticket left out of the comparison, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotComparable {
    /// The ticket's key.
    pub key: String,
    /// Its org.
    pub org: String,
    /// Why (a name the proposed contract lacks, unmapped; a rule that could not run).
    pub reason: String,
}

/// What a person's local clock says of an instant: night (22:00 to 07:00) and weekend.
fn night_and_weekend(at: Timestamp, zone: &TimeZone) -> (bool, bool) {
    let local = at.to_zoned(zone.clone());
    let hour = local.hour();
    (!(7..22).contains(&hour), matches!(local.weekday(), Weekday::Saturday | Weekday::Sunday))
}

/// An instant's ISO week in UTC, as `2026-W48`.
fn iso_week(at: Timestamp) -> String {
    let week = at.to_zoned(TimeZone::UTC).date().iso_week_date();
    format!("{}-W{:02}", week.year(), week.week())
}

/// Counts as the comparison goes; tallies of disjoint tickets merge. Each ticket comes with
/// its place in the order the report lists tickets in (`order`), so that tickets may be
/// added in any order, and tallied on several threads, with the same report: the changed
/// targets listed are those of the first tickets in that order, and the tickets not
/// comparable are listed in it.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    tickets: u32,
    rows: BTreeMap<(String, String, String), Row>,
    orgs: BTreeMap<(String, String, String, String), Row>,
    /// Changed targets with their ticket's place, at most twice [`LISTED`] (see [`Tally::keep_first`]).
    changed: Vec<(u64, Changed)>,
    changed_total: u32,
    changed_tickets: u32,
    pages: (Pages, Pages),
    load: BTreeMap<(String, String), (Load, Load)>,
    customer_page: Shift,
    bridges: Shift,
    reports: Shift,
    not_comparable: Vec<(u64, NotComparable)>,
    skipped: BTreeMap<String, u32>,
}

impl Tally {
    /// Compares one ticket's two runs: `order` is its place in the report's order, `key` and
    /// `org` name it in the report, `zone` gives a person's time zone (for night and weekend
    /// pages).
    pub fn add(
        &mut self,
        order: u64,
        key: &str,
        baseline: Run<'_>,
        proposed: Run<'_>,
        zone: &dyn Fn(&str) -> TimeZone,
    ) {
        self.tickets += 1;
        let b = baseline.ticket;
        let (tier, severity) = (b.tier.to_string(), b.severity.to_string());
        let org = b.org.to_string();
        let quarter = Quarter::of(b.opened_at).to_string();
        let mut targets: Vec<&str> = b.clocks.iter().map(|c| c.target.as_str()).collect();
        for c in &proposed.ticket.clocks {
            if !targets.contains(&c.target.as_str()) {
                targets.push(&c.target);
            }
        }
        let mut changed = false;
        for target in targets {
            let find = |t: &Ticket| {
                t.clocks.iter().find(|c| c.target == target).map(|c| Due { outcome: Outcome::of(c), due: c.due })
            };
            let (before, after) = (find(b), find(proposed.ticket));
            for row in [
                self.rows.entry((tier.clone(), severity.clone(), target.to_string())).or_default(),
                self.orgs.entry((org.clone(), quarter.clone(), severity.clone(), target.to_string())).or_default(),
            ] {
                if row.target.is_empty() {
                    (row.tier, row.severity, row.target) = (tier.clone(), severity.clone(), target.to_string());
                }
                if let Some(d) = before {
                    row.baseline.add(d.outcome);
                }
                if let Some(d) = after {
                    row.proposed.add(d.outcome);
                }
                if let (Some(x), Some(y)) = (before, after)
                    && x.outcome == y.outcome
                    && x.due != y.due
                {
                    row.due_moved += 1;
                }
            }
            if before.map(|d| d.outcome) != after.map(|d| d.outcome) {
                changed = true;
                self.changed_total += 1;
                self.changed.push((
                    order,
                    Changed {
                        key: key.to_string(),
                        org: org.clone(),
                        tier: tier.clone(),
                        severity: severity.clone(),
                        target: target.to_string(),
                        baseline: before,
                        proposed: after,
                    },
                ));
            }
        }
        self.changed_tickets += u32::from(changed);
        if self.changed.len() >= 2 * LISTED {
            self.keep_first();
        }
        for (run, which) in [(baseline, 0), (proposed, 1)] {
            let pages = if which == 0 { &mut self.pages.0 } else { &mut self.pages.1 };
            let (mut tam, mut vp) = (false, false);
            for n in run.notices {
                let NoticeBody::Page { role, to, .. } = &n.body else { continue };
                match role {
                    Role::Oncall => pages.oncall += 1,
                    Role::Tam => pages.tam += 1,
                    Role::VpEngineering => pages.vp_engineering += 1,
                    Role::SupportLead => pages.support_lead += 1,
                }
                tam |= *role == Role::Tam;
                vp |= *role == Role::VpEngineering;
                for person in to {
                    let (night, weekend) = night_and_weekend(n.at, &zone(person));
                    pages.person_pages += 1;
                    pages.night += u32::from(night);
                    pages.weekend += u32::from(weekend);
                    let slot = self.load.entry((person.clone(), iso_week(n.at))).or_default();
                    let load = if which == 0 { &mut slot.0 } else { &mut slot.1 };
                    load.pages += 1;
                    load.night += u32::from(night);
                    load.weekend += u32::from(weekend);
                }
            }
            pages.reached_tam += u32::from(tam);
            pages.reached_vp += u32::from(vp);
        }
        let p = proposed.ticket;
        self.customer_page.add(b.customer_page_opens_at, p.customer_page_opens_at);
        self.bridges.add(b.bridge.as_ref().map(|x| x.due), p.bridge.as_ref().map(|x| x.due));
        self.reports.add(b.report.as_ref().map(|x| x.due), p.report.as_ref().map(|x| x.due));
    }

    /// Keeps the changed targets of the first tickets in the report's order, at most
    /// [`LISTED`]: a ticket's targets stay in the order compared.
    fn keep_first(&mut self) {
        self.changed.sort_by_key(|(order, _)| *order);
        self.changed.truncate(LISTED);
    }

    /// A ticket left out of both runs; `order` is its place in the report's order.
    pub fn not_comparable(&mut self, order: u64, key: &str, org: &str, reason: &str) {
        let ticket = NotComparable { key: key.into(), org: org.into(), reason: reason.into() };
        self.not_comparable.push((order, ticket));
    }

    /// A recorded input one run could not apply (e.g. a report published that the proposed
    /// contract does not owe), counted by what it says.
    pub fn skipped(&mut self, what: &str) {
        *self.skipped.entry(what.to_string()).or_default() += 1;
    }

    /// Adds the counts of disjoint tickets.
    pub fn merge(&mut self, other: Tally) {
        self.tickets += other.tickets;
        for (k, r) in other.rows {
            merge_row(self.rows.entry(k).or_default(), r);
        }
        for (k, r) in other.orgs {
            merge_row(self.orgs.entry(k).or_default(), r);
        }
        self.changed.extend(other.changed);
        self.keep_first();
        self.changed_total += other.changed_total;
        self.changed_tickets += other.changed_tickets;
        self.pages.0.merge(other.pages.0);
        self.pages.1.merge(other.pages.1);
        for (k, (x, y)) in other.load {
            let slot = self.load.entry(k).or_default();
            for (into, from) in [(&mut slot.0, x), (&mut slot.1, y)] {
                into.pages += from.pages;
                into.night += from.night;
                into.weekend += from.weekend;
            }
        }
        self.customer_page.merge(other.customer_page);
        self.bridges.merge(other.bridges);
        self.reports.merge(other.reports);
        self.not_comparable.extend(other.not_comparable);
        for (k, n) in other.skipped {
            *self.skipped.entry(k).or_default() += n;
        }
    }

    /// The report: rows ordered by `tier_rank` and `severity_rank` (the baseline contract's
    /// order; names it lacks last), the person-weeks whose load differs, the observations.
    pub fn finish(mut self, tier_rank: &dyn Fn(&str) -> usize, severity_rank: &dyn Fn(&str) -> usize) -> WhatIf {
        self.keep_first();
        self.not_comparable.sort_by_key(|(order, _)| *order);
        let order = |r: &Row| (tier_rank(&r.tier), severity_rank(&r.severity), r.target.clone());
        let mut rows: Vec<Row> = self.rows.into_values().collect();
        rows.sort_by_key(|r| (order(r), r.tier.clone(), r.severity.clone()));
        let mut orgs: BTreeMap<(String, String), Vec<Row>> = BTreeMap::new();
        for ((org, quarter, _, _), row) in self.orgs {
            orgs.entry((org, quarter)).or_default().push(row);
        }
        let reviews = orgs
            .into_iter()
            .map(|((org, quarter), mut rows)| {
                rows.sort_by_key(|r| (severity_rank(&r.severity), r.severity.clone(), r.target.clone()));
                OrgQuarter { org, quarter, rows }
            })
            .collect();
        let load = self
            .load
            .into_iter()
            .filter(|(_, (b, p))| b != p)
            .map(|((person, week), (baseline, proposed))| PersonWeek { person, week, baseline, proposed })
            .collect();
        let mut report = WhatIf {
            tickets: self.tickets,
            changed_tickets: self.changed_tickets,
            changed_total: self.changed_total,
            rows,
            changed: self.changed.into_iter().map(|(_, c)| c).collect(),
            pages: Comparison { baseline: self.pages.0, proposed: self.pages.1 },
            load,
            customer_page: self.customer_page,
            bridges: self.bridges,
            reports: self.reports,
            reviews,
            not_comparable: self.not_comparable.into_iter().map(|(_, n)| n).collect(),
            skipped: self.skipped,
            observations: Vec::new(),
        };
        report.observations = observations(&report);
        report
    }
}

fn merge_row(into: &mut Row, from: Row) {
    if into.target.is_empty() {
        (into.tier, into.severity, into.target) = (from.tier, from.severity, from.target);
    }
    into.baseline.merge(from.baseline);
    into.proposed.merge(from.proposed);
    into.due_moved += from.due_moved;
}

/// A figure under both contracts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Comparison<T> {
    /// Under the baseline contract.
    pub baseline: T,
    /// Under the proposed contract.
    pub proposed: T,
}

/// The comparison of two contracts over the same tickets.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WhatIf {
    /// Tickets compared.
    pub tickets: u32,
    /// Of them, tickets with a target whose outcome changed.
    pub changed_tickets: u32,
    /// Targets whose outcome changed (a ticket may count more than once).
    pub changed_total: u32,
    /// Per tier × severity × target.
    pub rows: Vec<Row>,
    /// The targets whose outcome changed, at most [`LISTED`].
    pub changed: Vec<Changed>,
    /// Pages and escalations.
    pub pages: Comparison<Pages>,
    /// The person-weeks whose paging load differs.
    pub load: Vec<PersonWeek>,
    /// When the customer could page on-call.
    pub customer_page: Shift,
    /// Security incidents' bridge deadlines.
    pub bridges: Shift,
    /// Post-incident report deadlines.
    pub reports: Shift,
    /// Per org and quarter: what its quarterly review's attainment would show.
    pub reviews: Vec<OrgQuarter>,
    /// Tickets left out of both runs.
    pub not_comparable: Vec<NotComparable>,
    /// Recorded inputs one run could not apply, by what they were.
    pub skipped: BTreeMap<String, u32>,
    /// What this means, in sentences drawn from the figures.
    pub observations: Vec<String>,
}

fn percent(c: &Counts) -> String {
    c.percent().map_or_else(|| "–".into(), |p| format!("{p:.1} %"))
}

/// Sentences a reader starts from: the targets whose attainment moves by a point or more,
/// how paging by role changes, the person-week with the largest increase, deadlines that
/// move, and what was left out.
pub fn observations(w: &WhatIf) -> Vec<String> {
    let mut out = Vec::new();
    if w.changed_tickets == 0 && w.pages.baseline == w.pages.proposed {
        out.push(format!("No outcome and no page changes over these {} tickets.", w.tickets));
    }
    for r in &w.rows {
        let (b, p) = (r.baseline.percent(), r.proposed.percent());
        if let (Some(x), Some(y)) = (b, p)
            && (x - y).abs() >= 1.0
        {
            let (more, fewer) = (
                r.proposed.breached.saturating_sub(r.baseline.breached),
                r.baseline.breached.saturating_sub(r.proposed.breached),
            );
            let how = if more > 0 { format!("{more} more breached") } else { format!("{fewer} fewer breached") };
            out.push(format!(
                "{} {} {}: met {} instead of {} ({how}).",
                r.tier,
                r.severity,
                r.target,
                percent(&r.proposed),
                percent(&r.baseline)
            ));
        }
    }
    let (b, p) = (&w.pages.baseline, &w.pages.proposed);
    for (role, x, y) in [
        ("On-call", b.oncall, p.oncall),
        ("The TAM", b.tam, p.tam),
        ("The VP of Engineering", b.vp_engineering, p.vp_engineering),
        ("The support lead", b.support_lead, p.support_lead),
    ] {
        if x != y {
            let change = if x > 0 {
                format!(" ({:+.0} %)", (f64::from(y) - f64::from(x)) * 100.0 / f64::from(x))
            } else {
                String::new()
            };
            let times = if y == 1 { "time" } else { "times" };
            out.push(format!("{role} would be paged {y} {times} instead of {x}{change}."));
        }
    }
    if b.night != p.night || b.weekend != p.weekend {
        out.push(format!(
            "Pages at night: {} instead of {}; at weekends: {} instead of {}.",
            p.night, b.night, p.weekend, b.weekend
        ));
    }
    if let Some(worst) = w
        .load
        .iter()
        .filter(|l| l.proposed.pages > l.baseline.pages)
        .max_by_key(|l| l.proposed.pages - l.baseline.pages)
    {
        out.push(format!(
            "The largest increase for one person: {} in {}, {} pages instead of {} ({} at night).",
            worst.person, worst.week, worst.proposed.pages, worst.baseline.pages, worst.proposed.night
        ));
    }
    for (what, s) in [
        ("The customer could page on-call", &w.customer_page),
        ("Bridge deadlines", &w.bridges),
        ("Post-incident report deadlines", &w.reports),
    ] {
        if s.moved() {
            out.push(format!(
                "{what}: earlier on {}, later on {}, newly on {}, no longer on {} tickets.",
                s.earlier, s.later, s.added, s.removed
            ));
        }
    }
    if !w.not_comparable.is_empty() {
        out.push(format!(
            "{} tickets are not comparable and left out (first: {}: {}).",
            w.not_comparable.len(),
            w.not_comparable[0].key,
            w.not_comparable[0].reason
        ));
    }
    for (what, n) in &w.skipped {
        out.push(format!("{n} recorded inputs were skipped under the proposed contract: {what}."));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Contract;
    use crate::event::{Event, EventKind};
    use crate::ids::{Deployment, OrgSlug, Severity, TicketId, Tier, Via};
    use crate::ticket::OrgProfile;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// A Pro P2 opened on Friday 2026-11-27 at 20:00 UTC.
    fn ticket() -> Ticket {
        let org = OrgProfile { slug: OrgSlug::from("bolt"), tier: Tier::from("pro"), deployment: Deployment::Shared };
        let kind =
            EventKind::Opened { org: org.slug.clone(), severity: Severity::from("P2"), intake: None, security: false };
        let event = Event::new(at("2026-11-27T20:00:00Z"), TicketId::from("t"), kind);
        Ticket::open(&Contract::default_contract(), &org, &event).unwrap().0
    }

    fn with_response(mut t: Ticket, state: ClockState, due: &str) -> Ticket {
        let clock = t.clocks.iter_mut().find(|c| c.target == "response").unwrap();
        (clock.state, clock.due) = (state, Some(at(due)));
        t
    }

    fn page(role: Role, to: &str, when: &str) -> Notice {
        let body = NoticeBody::Page {
            role,
            reason: "test".into(),
            to: vec![to.into()],
            via: vec![Via::ContactMethods],
            severity: Severity::from("P2"),
        };
        Notice { at: at(when), ticket: TicketId::from("t"), body }
    }

    fn utc(_: &str) -> TimeZone {
        TimeZone::UTC
    }

    #[test]
    fn a_target_met_under_one_contract_and_breached_under_the_other_is_listed_with_both_due_times() {
        let (b, p) = (
            with_response(ticket(), ClockState::Met, "2026-11-30T04:00:00Z"),
            with_response(ticket(), ClockState::Breached, "2026-11-30T00:00:00Z"),
        );
        let mut tally = Tally::default();
        tally.add(1, "BOLT-1", Run { ticket: &b, notices: &[] }, Run { ticket: &p, notices: &[] }, &utc);
        let w = tally.finish(&|_| 0, &|_| 0);
        assert_eq!((w.tickets, w.changed_tickets, w.changed_total), (1, 1, 1));
        let row = w.rows.iter().find(|r| r.target == "response").unwrap();
        assert_eq!((row.tier.as_str(), row.severity.as_str()), ("pro", "P2"));
        assert_eq!((row.baseline.met, row.baseline.breached, row.proposed.met, row.proposed.breached), (1, 0, 0, 1));
        assert_eq!(w.changed[0].baseline.unwrap().due, Some(at("2026-11-30T04:00:00Z")));
        assert_eq!(
            w.changed[0].proposed.unwrap(),
            Due { outcome: Outcome::Breached, due: Some(at("2026-11-30T00:00:00Z")) }
        );
        assert_eq!(w.reviews[0].quarter, "2026-Q4", "the org's review of the quarter it was opened in");
        assert!(
            w.observations
                .iter()
                .any(|o| o.contains("pro P2 response: met 0.0 % instead of 100.0 % (1 more breached)")),
            "{:?}",
            w.observations
        );
    }

    #[test]
    fn a_due_time_that_moves_with_the_same_outcome_is_counted_not_listed() {
        let (b, p) = (
            with_response(ticket(), ClockState::Met, "2026-11-30T04:00:00Z"),
            with_response(ticket(), ClockState::Met, "2026-11-30T00:00:00Z"),
        );
        let mut tally = Tally::default();
        tally.add(1, "BOLT-1", Run { ticket: &b, notices: &[] }, Run { ticket: &p, notices: &[] }, &utc);
        let w = tally.finish(&|_| 0, &|_| 0);
        assert_eq!((w.changed_tickets, w.changed.len()), (0, 0));
        assert_eq!(w.rows.iter().find(|r| r.target == "response").unwrap().due_moved, 1);
    }

    #[test]
    fn pages_count_by_role_person_night_and_weekend_in_the_persons_zone() {
        let t = ticket();
        // Saturday 23:30 UTC is night and weekend in UTC; in New York it is Saturday 18:30.
        let baseline = [page(Role::Oncall, "omar", "2026-11-28T23:30:00Z")];
        let proposed =
            [page(Role::Oncall, "omar", "2026-11-28T23:30:00Z"), page(Role::Tam, "tina", "2026-11-28T23:30:00Z")];
        let zone = |who: &str| if who == "tina" { TimeZone::get("America/New_York").unwrap() } else { TimeZone::UTC };
        let mut tally = Tally::default();
        tally.add(1, "BOLT-1", Run { ticket: &t, notices: &baseline }, Run { ticket: &t, notices: &proposed }, &zone);
        let w = tally.finish(&|_| 0, &|_| 0);
        let (b, p) = (w.pages.baseline, w.pages.proposed);
        assert_eq!((b.oncall, b.tam, b.person_pages, b.night, b.weekend, b.reached_tam), (1, 0, 1, 1, 1, 0));
        assert_eq!((p.oncall, p.tam, p.person_pages, p.night, p.weekend, p.reached_tam), (1, 1, 2, 1, 2, 1));
        assert_eq!(w.load.len(), 1, "only the person-week that differs: {:?}", w.load);
        assert_eq!((w.load[0].person.as_str(), w.load[0].week.as_str()), ("tina", "2026-W48"));
        assert_eq!(w.load[0].proposed, Load { pages: 1, night: 0, weekend: 1 });
        assert!(
            w.observations.iter().any(|o| o == "The TAM would be paged 1 time instead of 0."),
            "{:?}",
            w.observations
        );
    }

    #[test]
    fn tallies_of_disjoint_tickets_merge_to_the_tally_of_all_in_whatever_order_they_were_added() {
        let (b, p) = (
            with_response(ticket(), ClockState::Met, "2026-11-30T04:00:00Z"),
            with_response(ticket(), ClockState::Breached, "2026-11-30T00:00:00Z"),
        );
        let notices = [page(Role::Oncall, "omar", "2026-11-30T09:00:00Z")];
        let add = |tally: &mut Tally, order: u64, key: &str| {
            tally.add(order, key, Run { ticket: &b, notices: &notices }, Run { ticket: &p, notices: &[] }, &utc);
        };
        let reason = "the contract in force has no severity \"P5\"";
        let mut all = Tally::default();
        for (order, key) in [(1, "A-1"), (2, "A-2"), (3, "A-3")] {
            add(&mut all, order, key);
        }
        all.not_comparable(4, "A-4", "bolt", reason);
        all.not_comparable(5, "A-5", "bolt", reason);
        // The same tickets on two tallies, each out of order.
        let (mut one, mut two) = (Tally::default(), Tally::default());
        one.not_comparable(5, "A-5", "bolt", reason);
        add(&mut one, 2, "A-2");
        add(&mut two, 3, "A-3");
        two.not_comparable(4, "A-4", "bolt", reason);
        add(&mut two, 1, "A-1");
        one.merge(two);
        let (merged, expected) = (one.finish(&|_| 0, &|_| 0), all.finish(&|_| 0, &|_| 0));
        assert_eq!(merged.changed.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(), ["A-1", "A-2", "A-3"]);
        assert_eq!(merged.not_comparable.iter().map(|n| n.key.as_str()).collect::<Vec<_>>(), ["A-4", "A-5"]);
        assert_eq!(merged, expected);
    }

    #[test]
    fn the_targets_listed_are_those_of_the_first_tickets_in_the_reports_order() {
        let (b, p) = (
            with_response(ticket(), ClockState::Met, "2026-11-30T04:00:00Z"),
            with_response(ticket(), ClockState::Breached, "2026-11-30T00:00:00Z"),
        );
        let mut tally = Tally::default();
        let total = 2 * LISTED as u64 + 3;
        for order in (0..total).rev() {
            let key = format!("A-{order}");
            tally.add(order, &key, Run { ticket: &b, notices: &[] }, Run { ticket: &p, notices: &[] }, &utc);
        }
        let w = tally.finish(&|_| 0, &|_| 0);
        assert_eq!((w.changed_tickets as u64, w.changed.len()), (total, LISTED), "all counted, the first listed");
        let expected: Vec<String> = (0..LISTED).map(|order| format!("A-{order}")).collect();
        assert_eq!(w.changed.iter().map(|c| c.key.clone()).collect::<Vec<_>>(), expected);
    }
}
