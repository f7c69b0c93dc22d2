//! The support contract as data: calendars, severities, tiers, targets, escalation, security
//! incidents, reports and general inquiries. Loaded from TOML and checked once; afterwards
//! every reference in it (a calendar name, a severity, a tier) is known to resolve.

mod fit;
mod load;
mod raw;
mod terms;

pub use fit::{Misfit, StoredOrg, StoredTicket};
pub use load::{Diagnostic, LoadError};

use crate::calendar::{Calendar, CalendarSpec};
use crate::ids::{Role, Severity, Tier, Via};
use crate::span::Span;
use indexmap::IndexMap;

/// The contract's tables: in file order, looked up by short names on every event a ticket
/// takes, so hashed with a quick hash of the name's bytes (a contract is the vendor's own
/// file, not input an attacker chooses keys for).
pub type Table<K, V> = IndexMap<K, V, rustc_hash::FxBuildHasher>;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The seed's contract, compiled into the binary; `--contract FILE` replaces it.
pub const DEFAULT_CONTRACT: &str = include_str!("default.toml");

/// What a target measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// From opening to the first acknowledgement or public staff reply.
    FirstResponse,
    /// From each customer message to the next public staff reply.
    NextReply,
    /// From opening to resolution.
    Resolution,
}

/// What the contract in force lacks for stored data: a tier, severity, target or calendar a
/// ticket or org was written with, renamed or removed since. Every lookup by such a name
/// answers it instead of a default (docs/contract.md, "When the data no longer fits").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Uncovered {
    /// No such tier.
    #[error("the contract in force has no tier \"{0}\"")]
    Tier(Tier),
    /// No such severity.
    #[error("the contract in force has no severity \"{0}\"")]
    Severity(Severity),
    /// No such target.
    #[error("the contract in force has no target {0:?}")]
    Target(String),
    /// No such calendar.
    #[error("the contract in force has no calendar {0:?}")]
    Calendar(String),
}

/// A checked contract.
#[derive(Clone, Debug, Serialize)]
pub struct Contract {
    /// The contract's name.
    pub name: String,
    /// The contract's version label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Calendars by name.
    pub calendars: Table<String, NamedCalendar>,
    /// Severities, most severe first.
    pub severities: Table<Severity, SeverityDef>,
    /// Tiers, in file order.
    pub tiers: Table<Tier, TierDef>,
    /// Targets by name; every one has a cell for every tier × severity.
    pub targets: Table<String, TargetDef>,
    /// Escalation policy per tier.
    pub escalation: Table<Tier, EscalationPolicy>,
    /// Security-incident rules.
    pub security: SecurityRules,
    /// The post-incident report rule.
    pub post_incident: ReportRule,
    /// Which orgs are mailed their quarterly operational review at each quarter's end, and
    /// who gets it (`None`: nobody is mailed one; a review can still be made on demand).
    pub quarterly_review: Option<ReviewRule>,
    /// The reply target for general inquiries ("Contact us").
    pub general_inquiry: Target,
    #[serde(skip)]
    source: String,
}

/// A calendar with its written form and its compiled engine.
#[derive(Clone, Debug, Serialize)]
pub struct NamedCalendar {
    /// As written in the file.
    #[serde(flatten)]
    pub spec: CalendarSpec,
    /// Ready for queries.
    #[serde(skip)]
    pub engine: Calendar,
}

/// A severity's display name and definition.
#[derive(Clone, Debug, Serialize)]
pub struct SeverityDef {
    /// E.g. "Critical".
    pub name: String,
    /// What tickets of this severity are.
    pub definition: String,
}

/// A tier's coverage.
#[derive(Clone, Debug, Serialize)]
pub struct TierDef {
    /// E.g. "Pro".
    pub name: String,
    /// The calendar of the tier's coverage hours.
    pub coverage: String,
    /// Severities covered at every hour whatever the coverage calendar says.
    pub always_covered: Vec<Severity>,
    /// The coverage sentence from the support page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The severity of a request that names none (a mail without a `[P1]` marker); the
    /// least severe when the file names none.
    pub default_severity: Severity,
}

/// One promise per tier × severity, e.g. "response".
#[derive(Clone, Debug, Serialize)]
pub struct TargetDef {
    /// What it measures.
    pub measures: Measure,
    /// Whether the clock stops while the ticket waits on the customer.
    pub pause_while_waiting: bool,
    /// The cells.
    pub tiers: Table<Tier, Table<Severity, Target>>,
}

/// A length of time, in business time on a calendar or in clock time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// How long.
    pub within: Span,
    /// The calendar for business time; `None` for clock time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
}

/// How a tier's tickets page people.
#[derive(Clone, Debug, Serialize)]
pub struct EscalationPolicy {
    /// Severities that page as soon as the ticket opens (or when raised to them).
    pub page_on_open: Vec<Severity>,
    /// Steps, in order of their delay after the page.
    pub steps: Vec<EscalationStep>,
    /// When the customer may page.
    pub customer_page: CustomerPageRule,
    /// Severities whose new tickets notify the queue (during coverage hours).
    pub queue_notify: Vec<Severity>,
}

/// "Page ROLE after DELAY unacknowledged, for these severities."
#[derive(Clone, Debug, Serialize)]
pub struct EscalationStep {
    /// Who is paged.
    pub notify: Role,
    /// Clock time after the page that started the escalation.
    pub after: Span,
    /// Severities the step applies to; `None` for all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severities: Option<Vec<Severity>>,
    /// Where the page goes.
    pub via: Vec<Via>,
}

/// When a customer may page the on-call line themselves.
#[derive(Clone, Debug, Serialize)]
pub struct CustomerPageRule {
    /// Severities for which the customer may page.
    pub severities: Vec<Severity>,
    /// Clock time after opening before the customer may page.
    pub opens_after: Span,
    /// Only while the ticket is still unacknowledged.
    pub while_unacknowledged: bool,
}

/// Security-incident rules.
#[derive(Clone, Debug, Serialize)]
pub struct SecurityRules {
    /// The severity every security incident is opened as, whatever severity is asked for
    /// (a tier's rule may name another); the contract's most severe when it names none.
    pub severity: Severity,
    /// Per tier.
    pub tiers: Table<Tier, SecurityTierRule>,
    /// The incident-bridge promise.
    pub bridge: BridgeRule,
}

/// How a tier's security incidents open.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SecurityTierRule {
    /// The severity the tier's incidents are opened as, instead of `[security] severity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Escalate at once as if the ticket had this severity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_as: Option<Severity>,
}

/// "We join your incident bridge within the SLA window with a platform engineer."
#[derive(Clone, Debug, Serialize)]
pub struct BridgeRule {
    /// The staff role that must join.
    pub role: String,
    /// The target whose due time is the deadline.
    pub within_target: String,
    /// Who is alerted when nobody of the role joined by the deadline.
    pub overdue_notify: Vec<Role>,
}

/// The post-incident report rule.
#[derive(Clone, Debug, Serialize)]
pub struct ReportRule {
    /// Severities whose resolution calls for a report.
    pub severities: Vec<Severity>,
    /// Whether every security incident calls for one.
    pub security: bool,
    /// Due this long after resolution.
    pub within: Target,
    /// Who is alerted when a report is overdue.
    pub overdue_notify: Vec<Role>,
    /// Required sections.
    pub sections: Vec<String>,
}

/// The quarterly operational review's mailing: the tiers whose orgs get one when a quarter
/// ends, and who it goes to.
#[derive(Clone, Debug, Serialize)]
pub struct ReviewRule {
    /// The tiers whose orgs are owed a review.
    pub tiers: Vec<Tier>,
    /// Who it is sent to.
    pub send_to: Vec<ReviewRecipient>,
}

/// Who a quarterly review is sent to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewRecipient {
    /// The org's TAM, who completes the recommendations and presents the review.
    Tam,
    /// Each active admin of the org.
    OrgAdmins,
}

impl Contract {
    /// The built-in contract (the seed's terms).
    pub fn default_contract() -> Contract {
        Contract::from_toml(DEFAULT_CONTRACT, "<built-in default contract>").expect("the built-in contract is valid")
    }

    /// Parses and checks a contract; `origin` names the file in diagnostics.
    pub fn from_toml(text: &str, origin: &str) -> Result<Contract, LoadError> {
        load::load(text, origin)
    }

    /// The TOML text the contract was read from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The compiled calendar of that name.
    pub fn calendar(&self, name: &str) -> &Calendar {
        &self.calendars[name].engine
    }

    /// What people call the calendar of that key: its `name` in the file, else the key
    /// in words ("pro_coverage" → "pro coverage").
    pub fn calendar_name(&self, key: &str) -> String {
        self.calendars.get(key).and_then(|c| c.spec.name.clone()).unwrap_or_else(|| key.replace('_', " "))
    }

    /// A target as people read it: "8 business hours (Pro support hours)", "4 hours, around
    /// the clock".
    pub fn target_words(&self, target: &Target) -> String {
        match &target.calendar {
            Some(key) => format!("{} ({})", target.within, self.calendar_name(key)),
            None => format!("{}, around the clock", target.within),
        }
    }

    /// The severity of that name, if the contract defines it.
    pub fn severity(&self, name: &str) -> Option<Severity> {
        self.severities.get_key_value(name).map(|(k, _)| k.clone())
    }

    /// The tier of that name, if the contract defines it.
    pub fn tier(&self, name: &str) -> Option<Tier> {
        self.tiers.get_key_value(name).map(|(k, _)| k.clone())
    }

    /// The severity a request opens at when nothing says which: the tier's
    /// `default_severity`, else the contract's least severe.
    pub fn default_severity(&self, tier: &Tier) -> Severity {
        self.tiers
            .get(tier)
            .map(|t| t.default_severity.clone())
            .or_else(|| self.severities.keys().last().cloned())
            .unwrap_or_else(|| Severity(String::new()))
    }

    /// The severity a security incident of `tier` is opened as: the tier's own rule, else
    /// `[security] severity` (docs/contract.md, "Security incidents").
    pub fn security_severity(&self, tier: &Tier) -> &Severity {
        self.security.tiers.get(tier).and_then(|r| r.severity.as_ref()).unwrap_or(&self.security.severity)
    }

    /// Why a security incident of `tier` may not be reported at `asked`, naming the
    /// contract's rule; `None` when `asked` is the severity it is opened as.
    pub fn security_severity_refusal(&self, tier: &Tier, asked: &Severity) -> Option<String> {
        let s = self.security_severity(tier);
        (asked != s).then(|| {
            format!(
                "a security incident is opened as {s} under the contract's security rule; leave the severity out or give {s}"
            )
        })
    }

    /// Position of a severity, 0 being the most severe.
    pub fn rank(&self, severity: &Severity) -> Result<usize, Uncovered> {
        self.severities.get_index_of(severity).ok_or_else(|| Uncovered::Severity(severity.clone()))
    }

    /// The target cell for a tier and severity.
    pub fn target(&self, target: &str, tier: &Tier, severity: &Severity) -> Result<&Target, Uncovered> {
        let def = self.targets.get(target).ok_or_else(|| Uncovered::Target(target.to_string()))?;
        let cells = def.tiers.get(tier).ok_or_else(|| Uncovered::Tier(tier.clone()))?;
        cells.get(severity).ok_or_else(|| Uncovered::Severity(severity.clone()))
    }

    /// The escalation policy of a tier.
    pub fn escalation(&self, tier: &Tier) -> Result<&EscalationPolicy, Uncovered> {
        self.escalation.get(tier).ok_or_else(|| Uncovered::Tier(tier.clone()))
    }

    /// The definition of a tier.
    pub fn tier_def(&self, tier: &Tier) -> Result<&TierDef, Uncovered> {
        self.tiers.get(tier).ok_or_else(|| Uncovered::Tier(tier.clone()))
    }

    /// Whether a tier's coverage is open for a severity at `t`.
    pub fn covered(&self, tier: &Tier, severity: &Severity, t: Timestamp) -> Result<bool, Uncovered> {
        let def = self.tier_def(tier)?;
        self.rank(severity)?;
        Ok(def.always_covered.contains(severity) || self.calendar(&def.coverage).is_open(t))
    }

    /// The next instant at or after `t` at which a tier's coverage is open for a severity.
    pub fn next_covered(&self, tier: &Tier, severity: &Severity, t: Timestamp) -> Result<Timestamp, Uncovered> {
        let def = self.tier_def(tier)?;
        self.rank(severity)?;
        Ok(if def.always_covered.contains(severity) { t } else { self.calendar(&def.coverage).next_open(t) })
    }

    /// Whether the contract covers a stored tier and severity; else the first it lacks.
    pub fn covers(&self, tier: &Tier, severity: &Severity) -> Result<(), Uncovered> {
        self.tier_def(tier)?;
        self.rank(severity)?;
        Ok(())
    }

    /// When a target started at `start` falls due.
    pub fn due(&self, target: &Target, start: Timestamp) -> Timestamp {
        self.due_after(target, start, 0)
    }

    /// When a target started at `start`, of which `consumed` seconds are already used, falls due.
    pub fn due_after(&self, target: &Target, start: Timestamp, consumed: i64) -> Timestamp {
        let left = (target.within.seconds - consumed).max(0);
        match &target.calendar {
            Some(name) => self.calendar(name).due(start, left),
            None => start + jiff::SignedDuration::from_secs(left),
        }
    }

    /// Time counted by a target between two instants (business or clock seconds).
    pub fn elapsed(&self, target: &Target, a: Timestamp, b: Timestamp) -> i64 {
        match &target.calendar {
            Some(name) => self.calendar(name).between(a, b),
            None => b.as_second() - a.as_second(),
        }
    }
}
