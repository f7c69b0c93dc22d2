//! The quarterly operational review's figures: from the tickets an org opened in a quarter
//! (their state as the rules kept it, and the roles their pages reached), SLA attainment per
//! severity and target, first-response, acknowledgement and resolution times (median and
//! 90th percentile, nearest rank), volume by severity, channel and week against the previous
//! quarter, paging and escalation counts, one row per ticket and target for the export, and
//! the observations a TAM starts the recommendations from.
//!
//! Conventions (also in the contract notes): a ticket belongs to the quarter (UTC) in which
//! it was opened; it counts under the severity it ended with; a target is met or breached as
//! its clock says, and a clock still running is neither, nor is one withdrawn (counted apart); times are clock time in whole
//! seconds from the opening; a ticket opened on a Saturday or Sunday (UTC) is a weekend one.

use crate::contract::ReviewRule;
use crate::ids::{Intake, Role, Severity, Tier};
use crate::postmortem::{ActionItem, ItemState};
use crate::sla::ClockState;
use crate::ticket::Ticket;
use jiff::civil::{Date, Weekday};
use jiff::{Timestamp, tz::TimeZone};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A calendar quarter, e.g. 2026-Q4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Quarter {
    /// The year.
    pub year: i16,
    /// 1 to 4.
    pub number: i8,
}

impl Quarter {
    /// Reads `2026-Q4`.
    pub fn parse(text: &str) -> Option<Quarter> {
        let (year, q) = text.split_once("-Q").or_else(|| text.split_once("-q"))?;
        let plain = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
        if !plain(year, 4) || !plain(q, 1) {
            return None;
        }
        let year: i16 = year.parse().ok().filter(|y| (1970..=9998).contains(y))?;
        let number: i8 = q.parse().ok().filter(|n| (1..=4).contains(n))?;
        Some(Quarter { year, number })
    }

    /// Its first day.
    pub fn first_day(self) -> Date {
        Date::new(self.year, (self.number - 1) * 3 + 1, 1).expect("a quarter's first day exists")
    }

    /// Its first instant (UTC).
    pub fn start(self) -> Timestamp {
        self.first_day().to_zoned(TimeZone::UTC).expect("in range").timestamp()
    }

    /// The first instant after it (UTC).
    pub fn end(self) -> Timestamp {
        self.next().start()
    }

    /// The quarter before.
    pub fn previous(self) -> Quarter {
        if self.number == 1 {
            Quarter { year: self.year - 1, number: 4 }
        } else {
            Quarter { number: self.number - 1, ..self }
        }
    }

    /// The quarter after.
    pub fn next(self) -> Quarter {
        if self.number == 4 {
            Quarter { year: self.year + 1, number: 1 }
        } else {
            Quarter { number: self.number + 1, ..self }
        }
    }

    /// The quarter an instant falls in (UTC).
    pub fn of(at: Timestamp) -> Quarter {
        let date = at.to_zoned(TimeZone::UTC).date();
        Quarter { year: date.year(), number: (date.month() - 1) / 3 + 1 }
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-Q{}", self.year, self.number)
    }
}

/// How long after a quarter's end its review may still be mailed: a server that was down at
/// the turn of the quarter catches up, but one started weeks later does not mail a review
/// nobody expects any more (it can always be made on demand).
pub const MAILING_GRACE_SECONDS: i64 = 14 * 86_400;

/// The quarter whose review an org of `tier`, created at `org_created` (Unix seconds), is to
/// be mailed at `now` under `rule`: the quarter just ended, when the rule names the tier, the
/// org existed before that quarter ended, and the quarter ended at most
/// [`MAILING_GRACE_SECONDS`] ago.
pub fn mailing_owed(rule: &ReviewRule, tier: &Tier, org_created: i64, now: Timestamp) -> Option<Quarter> {
    let ended = Quarter::of(now).previous();
    let end = ended.end().as_second();
    (rule.tiers.contains(tier) && org_created < end && now.as_second() - end <= MAILING_GRACE_SECONDS).then_some(ended)
}

/// The value at percentile `p` (0–100] of ascending `sorted` by nearest rank: the smallest
/// value at least `p` % of the values are at or below. `None` when empty.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (u64::from(p) * sorted.len() as u64).div_ceil(100).max(1) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

/// A ticket as the review reads it.
#[derive(Clone, Copy, Debug)]
pub struct ReviewTicket<'a> {
    /// Its human key.
    pub key: &'a str,
    /// Its state.
    pub ticket: &'a Ticket,
    /// The roles its pages reached, in order.
    pub paged: &'a [Role],
}

/// Met and breached counts of one target at one severity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attainment {
    /// The severity.
    pub severity: String,
    /// The target (response, resolution, …).
    pub target: String,
    /// Met.
    pub met: u32,
    /// Breached.
    pub breached: u32,
    /// Still running at the review (neither).
    pub running: u32,
    /// Withdrawn: the customer resolved the ticket before any response (neither; not in the
    /// attainment's denominator).
    pub withdrawn: u32,
    /// Of them, opened at a weekend.
    pub weekend_met: u32,
    /// Of them, opened at a weekend.
    pub weekend_breached: u32,
}

impl Attainment {
    /// Met as a share of met and breached, in percent; `None` when neither.
    pub fn percent(&self) -> Option<f64> {
        let decided = self.met + self.breached;
        (decided > 0).then(|| f64::from(self.met) * 100.0 / f64::from(decided))
    }
}

/// A duration's median and 90th percentile over some tickets, in seconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spread {
    /// The severity.
    pub severity: String,
    /// How many tickets had one.
    pub count: u32,
    /// Median.
    pub p50: Option<i64>,
    /// 90th percentile.
    pub p90: Option<i64>,
}

/// A count this quarter and the previous one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    /// What is counted (a severity, a channel).
    pub key: String,
    /// This quarter.
    pub count: u32,
    /// The previous quarter.
    pub previous: u32,
}

impl Volume {
    /// The change against the previous quarter, in percent; `None` from zero.
    pub fn change(&self) -> Option<f64> {
        (self.previous > 0)
            .then(|| (f64::from(self.count) - f64::from(self.previous)) * 100.0 / f64::from(self.previous))
    }
}

/// Paging in the quarter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paging {
    /// Tickets that paged anyone.
    pub tickets_paged: u32,
    /// Pages sent (one per page notice).
    pub pages: u32,
    /// Tickets whose escalation reached the TAM.
    pub reached_tam: u32,
    /// Tickets whose escalation reached the VP of Engineering.
    pub reached_vp: u32,
    /// Tickets the customer paged on-call for.
    pub customer_pages: u32,
}

/// One ticket and target, as exported: every figure of the review can be recomputed from
/// these rows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The ticket's key.
    pub ticket: String,
    /// The severity it ended with.
    pub severity: String,
    /// Where it came in (empty when unknown).
    pub channel: String,
    /// When it was opened (RFC 3339).
    pub opened_at: String,
    /// Opened on a Saturday or Sunday (UTC).
    pub weekend: bool,
    /// The target.
    pub target: String,
    /// The target's length as the contract writes it.
    pub within: String,
    /// Its due time (RFC 3339; empty while paused).
    pub due: String,
    /// `met`, `breached`, `withdrawn` or `running`.
    pub outcome: &'static str,
    /// Seconds from opening to the first response (empty: none yet).
    pub first_response_seconds: Option<i64>,
    /// Seconds from opening to the first acknowledgement.
    pub acknowledged_seconds: Option<i64>,
    /// Seconds from opening to the (last) resolution.
    pub resolved_seconds: Option<i64>,
}

/// The review's figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Per severity and target.
    pub attainment: Vec<Attainment>,
    /// First response, per severity.
    pub first_response: Vec<Spread>,
    /// Acknowledgement, per severity.
    pub acknowledge: Vec<Spread>,
    /// Resolution, per severity.
    pub resolve: Vec<Spread>,
    /// Tickets per severity, against the previous quarter.
    pub by_severity: Vec<Volume>,
    /// Tickets per channel, against the previous quarter.
    pub by_channel: Vec<Volume>,
    /// Tickets per week of the quarter (week 1 starts on its first day).
    pub by_week: Vec<u32>,
    /// Paging.
    pub paging: Paging,
    /// The export's rows.
    pub rows: Vec<Row>,
}

/// A channel's name as JSON writes it (`portal`, `email`, …).
fn channel_name(intake: Intake) -> String {
    serde_json::to_value(intake).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

fn is_weekend(at: Timestamp) -> bool {
    matches!(at.to_zoned(TimeZone::UTC).weekday(), Weekday::Saturday | Weekday::Sunday)
}

fn outcome(state: ClockState, breached: bool) -> &'static str {
    match state {
        ClockState::Met => "met",
        ClockState::Breached => "breached",
        _ if breached => "breached",
        ClockState::Withdrawn => "withdrawn",
        _ => "running",
    }
}

fn spreads(by: BTreeMap<(usize, String), Vec<i64>>) -> Vec<Spread> {
    by.into_iter()
        .map(|((_, severity), mut v)| {
            v.sort_unstable();
            Spread { severity, count: v.len() as u32, p50: percentile(&v, 50), p90: percentile(&v, 90) }
        })
        .collect()
}

fn volumes(this: BTreeMap<String, u32>, previous: BTreeMap<String, u32>, order: &dyn Fn(&str) -> usize) -> Vec<Volume> {
    let mut keys: Vec<String> = this.keys().chain(previous.keys()).cloned().collect();
    keys.sort_by_key(|k| (order(k), k.clone()));
    keys.dedup();
    keys.into_iter()
        .map(|k| Volume {
            count: this.get(&k).copied().unwrap_or(0),
            previous: previous.get(&k).copied().unwrap_or(0),
            key: k,
        })
        .collect()
}

/// The figures of `quarter` from the tickets opened in it and those opened in the quarter
/// before; `rank` orders severities as the contract does.
pub fn figures(
    quarter: Quarter,
    tickets: &[ReviewTicket<'_>],
    previous: &[ReviewTicket<'_>],
    rank: &dyn Fn(&Severity) -> usize,
) -> Figures {
    let start = quarter.start();
    let mut f = Figures { by_week: vec![0; weeks(quarter)], ..Figures::default() };
    let mut attainment: BTreeMap<(usize, String, String), Attainment> = BTreeMap::new();
    let (mut first, mut ack, mut resolve) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let since = |t: &Ticket, at: Timestamp| at.as_second() - t.opened_at.as_second();
    for rt in tickets {
        let t = rt.ticket;
        let sev = (rank(&t.severity), t.severity.to_string());
        let weekend = is_weekend(t.opened_at);
        let first_response = t.responded_at.map(|at| since(t, at));
        let acknowledged = t.acknowledged.as_ref().map(|(at, _)| since(t, *at));
        let resolved = t.resolved_at.map(|at| since(t, at));
        for (into, value) in [(&mut first, first_response), (&mut ack, acknowledged), (&mut resolve, resolved)] {
            if let Some(v) = value {
                into.entry(sev.clone()).or_insert_with(Vec::new).push(v);
            }
        }
        for c in &t.clocks {
            let key = (sev.0, sev.1.clone(), c.target.clone());
            let a = attainment.entry(key).or_insert_with(|| Attainment {
                severity: sev.1.clone(),
                target: c.target.clone(),
                ..Attainment::default()
            });
            let out = outcome(c.state, c.breached_at.is_some());
            match out {
                "met" => {
                    a.met += 1;
                    a.weekend_met += u32::from(weekend);
                }
                "breached" => {
                    a.breached += 1;
                    a.weekend_breached += u32::from(weekend);
                }
                "withdrawn" => a.withdrawn += 1,
                _ => a.running += 1,
            }
            f.rows.push(Row {
                ticket: rt.key.to_string(),
                severity: sev.1.clone(),
                channel: t.intake.map(channel_name).unwrap_or_default(),
                opened_at: t.opened_at.to_string(),
                weekend,
                target: c.target.clone(),
                within: c.cell.within.to_string(),
                due: c.due.map(|d| d.to_string()).unwrap_or_default(),
                outcome: out,
                first_response_seconds: first_response,
                acknowledged_seconds: acknowledged,
                resolved_seconds: resolved,
            });
        }
        let week = ((t.opened_at.as_second() - start.as_second()) / (7 * 86_400)) as usize;
        if let Some(w) = f.by_week.get_mut(week) {
            *w += 1;
        }
        if !rt.paged.is_empty() {
            f.paging.tickets_paged += 1;
            f.paging.pages += rt.paged.len() as u32;
        }
        f.paging.reached_tam += u32::from(rt.paged.contains(&Role::Tam));
        f.paging.reached_vp += u32::from(rt.paged.contains(&Role::VpEngineering));
        f.paging.customer_pages += u32::from(t.escalation.as_ref().is_some_and(|e| e.by_customer));
    }
    f.attainment = attainment.into_values().collect();
    f.first_response = spreads(first);
    f.acknowledge = spreads(ack);
    f.resolve = spreads(resolve);
    let count = |list: &[ReviewTicket<'_>], key: &dyn Fn(&Ticket) -> String| {
        let mut m: BTreeMap<String, u32> = BTreeMap::new();
        for rt in list {
            *m.entry(key(rt.ticket)).or_default() += 1;
        }
        m
    };
    let severity = |t: &Ticket| t.severity.to_string();
    let channel = |t: &Ticket| t.intake.map_or_else(|| "unknown".to_string(), channel_name);
    let by_rank = |k: &str| rank(&Severity(k.to_string()));
    f.by_severity = volumes(count(tickets, &severity), count(previous, &severity), &by_rank);
    f.by_channel = volumes(count(tickets, &channel), count(previous, &channel), &|_| 0);
    f
}

/// How many weeks (started) the quarter has, counted from its first day.
fn weeks(quarter: Quarter) -> usize {
    ((quarter.end().as_second() - quarter.start().as_second()) as usize).div_ceil(7 * 86_400)
}

/// Observations a TAM starts the recommendations from, each a sentence drawn from the
/// figures: targets attained below 95 %, weekend breaches of a target kept on weekdays, a
/// severity whose volume grew by half or more.
pub fn observations(f: &Figures) -> Vec<String> {
    let mut out = Vec::new();
    for a in &f.attainment {
        if let Some(p) = a.percent().filter(|p| *p < 95.0) {
            out.push(format!(
                "{} {} target met {:.1} % of the time ({} of {}): look at what the breaches have in common.",
                a.severity,
                a.target,
                p,
                a.met,
                a.met + a.breached
            ));
        }
        let weekday_breached = a.breached - a.weekend_breached;
        if a.weekend_breached > 0 && a.weekend_breached >= weekday_breached {
            out.push(format!(
                "{} {}: {} of its {} breaches came on tickets opened at the weekend — check weekend coverage.",
                a.severity, a.target, a.weekend_breached, a.breached
            ));
        }
    }
    for v in &f.by_severity {
        if let Some(c) = v.change().filter(|c| *c >= 50.0) {
            out.push(format!(
                "{} tickets rose {:.0} % on the previous quarter ({} → {}).",
                v.key, c, v.previous, v.count
            ));
        }
    }
    out
}

/// Observations from the quarter's status-page incidents (each given as the names of the
/// components it affected) and the open action items: a component affected by more than half
/// of two or more incidents, and action items past their due date on `today`.
pub fn incident_observations(incidents: &[Vec<String>], open_items: &[ActionItem], today: Date) -> Vec<String> {
    let mut out = Vec::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for affected in incidents {
        let mut seen: Vec<&str> = affected.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for c in seen {
            *counts.entry(c).or_default() += 1;
        }
    }
    // The most affected component (the first by name among equals).
    if let Some((name, n)) = counts.iter().fold(None, |best: Option<(&str, usize)>, (c, n)| match best {
        Some((_, m)) if m >= *n => best,
        _ => Some((c, *n)),
    }) && incidents.len() >= 2
        && n * 2 > incidents.len()
    {
        out.push(format!(
            "{name} was affected in {n} of the quarter's {} incidents: a candidate for hardening first.",
            incidents.len()
        ));
    }
    let overdue = open_items.iter().filter(|i| i.state != ItemState::Done && i.due.is_some_and(|d| d < today)).count();
    if overdue > 0 {
        out.push(format!(
            "{overdue} action item{} from post-incident reports {} past due: agree new dates or close them.",
            if overdue == 1 { "" } else { "s" },
            if overdue == 1 { "is" } else { "are" }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_read_and_bound() {
        let q = Quarter::parse("2026-Q4").unwrap();
        assert_eq!(q.to_string(), "2026-Q4");
        assert_eq!(q.start().to_string(), "2026-10-01T00:00:00Z");
        assert_eq!(q.end().to_string(), "2027-01-01T00:00:00Z");
        assert_eq!(q.previous().to_string(), "2026-Q3");
        assert_eq!(Quarter::parse("2027-Q1").unwrap().previous().to_string(), "2026-Q4");
        assert_eq!(Quarter::of("2026-12-31T23:59:59Z".parse().unwrap()), q);
        for bad in [
            "2026-Q5", "2026-Q0", "2026Q4", "Q4-2026", "", "2026-Q", "99999-Q1", "+2026-Q1", "02026-Q1", "2026-Q+1",
            "1969-Q4", "9999-Q1",
        ] {
            assert_eq!(Quarter::parse(bad), None, "{bad}");
        }
        assert_eq!(weeks(q), 14, "92 days: 13 weeks and a day");
    }

    #[test]
    fn a_review_is_mailed_once_its_quarter_has_ended_within_the_grace() {
        use crate::contract::ReviewRecipient;
        let rule = ReviewRule { tiers: vec![Tier::from("enterprise")], send_to: vec![ReviewRecipient::Tam] };
        let ent = Tier::from("enterprise");
        let created: i64 = "2026-03-01T00:00:00Z".parse::<Timestamp>().unwrap().as_second();
        let q3 = Quarter::parse("2026-Q3");
        // (rule, tier, org created, now, owed)
        type Case<'a> = (&'a ReviewRule, &'a Tier, i64, &'a str, Option<Quarter>);
        let cases: [Case; 6] = [
            (&rule, &ent, created, "2026-10-01T00:00:00Z", q3),
            (&rule, &ent, created, "2026-10-15T00:00:00Z", q3),
            (&rule, &ent, created, "2026-10-15T00:00:01Z", None),
            (&rule, &Tier::from("pro"), created, "2026-10-01T00:00:00Z", None),
            (
                &rule,
                &ent,
                "2026-10-01T00:00:00Z".parse::<Timestamp>().unwrap().as_second(),
                "2026-10-02T00:00:00Z",
                None,
            ),
            (&rule, &ent, created, "2027-01-01T08:00:00Z", Quarter::parse("2026-Q4")),
        ];
        for (rule, tier, created, now, owed) in cases {
            assert_eq!(mailing_owed(rule, tier, created, now.parse().unwrap()), owed, "{tier} at {now}");
        }
    }

    #[test]
    fn incidents_and_overdue_items_make_observations() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let item = |due: &str, state| ActionItem { what: "x".into(), owner: "o".into(), due: due.parse().ok(), state };
        let today: Date = "2026-10-02".parse().unwrap();
        let three = [names(&["API", "Portal"]), names(&["API"]), names(&["Mail", "API", "API"])];
        assert_eq!(
            incident_observations(&three, &[], today),
            ["API was affected in 3 of the quarter's 3 incidents: a candidate for hardening first."]
        );
        assert!(incident_observations(&three[..1], &[], today).is_empty(), "one incident says nothing");
        let even = [names(&["API"]), names(&["Mail"])];
        assert!(incident_observations(&even, &[], today).is_empty(), "half is not most");
        let items = [
            item("2026-10-01", ItemState::Open),
            item("2026-10-01", ItemState::InProgress),
            item("2026-10-01", ItemState::Done),
            item("2026-10-02", ItemState::Open),
            item("", ItemState::Open),
        ];
        assert_eq!(
            incident_observations(&[], &items, today),
            ["2 action items from post-incident reports are past due: agree new dates or close them."]
        );
        assert_eq!(
            incident_observations(&[], &items[..1], today),
            ["1 action item from post-incident reports is past due: agree new dates or close them."]
        );
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 50), Some(5));
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&v, 100), Some(10));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[1, 2, 3], 50), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4], 50), Some(2));
    }

    #[test]
    fn attainment_and_volume_say_percent_and_change() {
        let a = Attainment { met: 3, breached: 1, ..Attainment::default() };
        assert_eq!(a.percent(), Some(75.0));
        assert_eq!(Attainment::default().percent(), None);
        assert_eq!(Volume { key: "P1".into(), count: 3, previous: 2 }.change(), Some(50.0));
        assert_eq!(Volume { key: "P1".into(), count: 3, previous: 0 }.change(), None);
    }
}
