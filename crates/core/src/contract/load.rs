//! Reading a contract file: TOML syntax and shape first (unknown keys, wrong types), then
//! meaning (references, durations, completeness). Every problem is reported with the file,
//! line, column and key path.

use super::raw::{RawContract, RawTarget};
use super::*;
use std::fmt;
use toml::de::{DeTable, DeValue};

/// One problem in a contract file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file (or origin) name.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Dotted key path, e.g. `targets.response.tiers.pro.P2.within`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() { String::new() } else { format!(" {}:", self.path) };
        write!(f, "{}:{}:{}:{} {}", self.file, self.line, self.column, path, self.message)
    }
}

/// A contract file that cannot be used, with every problem found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The problems, in file order where known.
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// The largest contract file accepted, far above any real contract.
pub const MAX_CONTRACT_BYTES: usize = 1 << 20;

pub(super) fn load(text: &str, origin: &str) -> Result<Contract, LoadError> {
    let at = |offset: usize, path: String, message: String| {
        let (line, column) = line_column(text, offset);
        LoadError { diagnostics: vec![Diagnostic { file: origin.to_string(), line, column, path, message }] }
    };
    if text.len() > MAX_CONTRACT_BYTES {
        return Err(at(0, String::new(), format!("the file is larger than {MAX_CONTRACT_BYTES} bytes")));
    }
    let deserializer = toml::de::Deserializer::parse(text)
        .map_err(|e| at(e.span().map_or(0, |s| s.start), String::new(), e.message().trim().to_string()))?;
    let raw: RawContract = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let path = if path == "." { String::new() } else { path };
        at(inner.span().map_or(0, |s| s.start), path, inner.message().trim().to_string())
    })?;
    let mut checker = Checker { problems: Vec::new() };
    let contract = checker.contract(raw, text);
    if checker.problems.is_empty() {
        Ok(contract.expect("no problems means a contract"))
    } else {
        let doc = DeTable::parse(text).expect("the text parsed above").into_inner();
        let mut diagnostics: Vec<(usize, Diagnostic)> = checker
            .problems
            .into_iter()
            .map(|(path, message)| {
                let offset = span_of(&doc, &path);
                let (line, column) = line_column(text, offset);
                (offset, Diagnostic { file: origin.to_string(), line, column, path: path.join("."), message })
            })
            .collect();
        diagnostics.sort_by_key(|(o, _)| *o);
        Err(LoadError { diagnostics: diagnostics.into_iter().map(|(_, d)| d).collect() })
    }
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Byte offset of the deepest part of `path` present in the document.
fn span_of(doc: &DeTable<'_>, path: &[String]) -> usize {
    let Some((first, rest)) = path.split_first() else { return 0 };
    let Some(mut value) = doc.get(first.as_str()) else { return 0 };
    for key in rest {
        let next = match value.get_ref() {
            DeValue::Table(t) => t.get(key.as_str()),
            DeValue::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        };
        match next {
            Some(v) => value = v,
            None => break,
        }
    }
    value.span().start
}

struct Checker {
    problems: Vec<(Vec<String>, String)>,
}

fn path(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

impl Checker {
    fn problem(&mut self, at: Vec<String>, message: impl Into<String>) {
        self.problems.push((at, message.into()));
    }

    fn contract(&mut self, raw: RawContract, text: &str) -> Option<Contract> {
        let mut calendars = Table::default();
        // References are checked against every calendar named, valid or not, so one broken
        // calendar is reported once rather than at each use.
        let calendar_names: Vec<String> = raw.calendars.keys().cloned().collect();
        if raw.calendars.is_empty() {
            self.problem(path(&["calendars"]), "define at least one calendar");
        }
        for (name, spec) in raw.calendars {
            match spec.compile() {
                Ok(engine) => {
                    calendars.insert(name, NamedCalendar { spec, engine });
                }
                Err(e) => {
                    let mut at = path(&["calendars", &name]);
                    at.extend(e.path);
                    self.problem(at, e.message);
                }
            }
        }
        if raw.severities.is_empty() {
            self.problem(path(&["severities"]), "define at least one severity");
        }
        let severities: Table<Severity, SeverityDef> = raw
            .severities
            .into_iter()
            .map(|(k, v)| (Severity(k), SeverityDef { name: v.name, definition: v.definition }))
            .collect();
        let tier_names: Vec<String> = raw.tiers.keys().cloned().collect();
        if tier_names.is_empty() {
            self.problem(path(&["tiers"]), "define at least one tier");
        }
        let ctx = Names {
            calendars: calendar_names,
            severities: severities.keys().map(|s| s.0.clone()).collect(),
            tiers: tier_names,
        };

        let mut tiers = Table::default();
        for (name, t) in raw.tiers {
            let at = path(&["tiers", &name]);
            ctx.calendar(self, &at, "coverage", &t.coverage);
            let always_covered = ctx.severity_list(self, &at, "always_covered", &t.always_covered);
            let least = severities.keys().last().cloned().unwrap_or_else(|| Severity(String::new()));
            let default_severity = match &t.default_severity {
                Some(s) => {
                    ctx.severity_list(self, &at, "default_severity", std::slice::from_ref(s)).pop().unwrap_or(least)
                }
                None => least,
            };
            tiers.insert(
                Tier(name),
                TierDef { name: t.name, coverage: t.coverage, always_covered, summary: t.summary, default_severity },
            );
        }

        let mut targets = Table::default();
        if raw.targets.is_empty() {
            self.problem(path(&["targets"]), "define at least one target (e.g. [targets.response])");
        }
        for (name, def) in raw.targets {
            let base = path(&["targets", &name, "tiers"]);
            let mut cells = Table::default();
            for (tier, row) in def.tiers {
                let mut at = base.clone();
                at.push(tier.clone());
                if !ctx.tiers.contains(&tier) {
                    self.problem(at.clone(), format!("unknown tier {tier:?}; tiers are {}", ctx.tiers.join(", ")));
                    continue;
                }
                let mut out = Table::default();
                for (severity, cell) in &row {
                    let mut at = at.clone();
                    at.push(severity.clone());
                    if !ctx.severities.contains(severity) {
                        self.problem(
                            at,
                            format!("unknown severity {severity:?}; severities are {}", ctx.severities.join(", ")),
                        );
                        continue;
                    }
                    if let Some(target) = ctx.target(self, &at, cell, false) {
                        out.insert(Severity(severity.clone()), target);
                    }
                }
                for severity in &ctx.severities {
                    if !row.contains_key(severity) {
                        self.problem(
                            at.clone(),
                            format!(
                                "missing the {severity} cell of tier {tier} (every tier × severity needs a target)"
                            ),
                        );
                    }
                }
                cells.insert(Tier(tier), out);
            }
            for tier in &ctx.tiers {
                if !cells.contains_key(tier.as_str()) {
                    self.problem(
                        path(&["targets", &name]),
                        format!("missing the row for tier {tier} (every tier × severity needs a target)"),
                    );
                }
            }
            targets.insert(
                name,
                TargetDef { measures: def.measures, pause_while_waiting: def.pause_while_waiting, tiers: cells },
            );
        }

        let mut escalation = Table::default();
        for (tier, e) in raw.escalation {
            let at = path(&["escalation", &tier]);
            if !ctx.tiers.contains(&tier) {
                self.problem(at, format!("unknown tier {tier:?}; tiers are {}", ctx.tiers.join(", ")));
                continue;
            }
            let page_on_open = ctx.severity_list(self, &at, "page_on_open", &e.page_on_open);
            let queue_notify = ctx.severity_list(self, &at, "queue_notify", &e.queue_notify);
            let mut steps: Vec<EscalationStep> = Vec::new();
            for (i, s) in e.steps.into_iter().enumerate() {
                let mut sat = at.clone();
                sat.extend(path(&["steps", &i.to_string()]));
                let after = ctx.clock_span(self, &sat, "after", &s.after, true);
                let severities = s.severities.map(|list| ctx.severity_list(self, &sat, "severities", &list));
                if let (Some(after), Some(prev)) = (after, steps.last())
                    && after.seconds < prev.after.seconds
                {
                    let mut a = sat.clone();
                    a.push("after".into());
                    self.problem(a, "steps must be listed in order of their delay");
                }
                if let Some(after) = after {
                    steps.push(EscalationStep { notify: s.notify, after, severities, via: s.via });
                }
            }
            let mut cat = at.clone();
            cat.push("customer_page".into());
            let cp = e.customer_page;
            let customer_page = CustomerPageRule {
                severities: ctx.severity_list(self, &cat, "severities", &cp.severities),
                opens_after: ctx.clock_span(self, &cat, "opens_after", &cp.opens_after, true).unwrap_or(Span::clock(0)),
                while_unacknowledged: cp.while_unacknowledged,
            };
            escalation.insert(Tier(tier), EscalationPolicy { page_on_open, steps, customer_page, queue_notify });
        }
        for tier in &ctx.tiers {
            if !escalation.contains_key(tier.as_str()) {
                self.problem(path(&["escalation"]), format!("missing the escalation policy of tier {tier}"));
            }
        }

        let security_severity = match raw.security.severity {
            Some(s) => ctx.severity_list(self, &path(&["security"]), "severity", &[s]).pop(),
            None => severities.keys().next().cloned(),
        };
        let mut security_tiers = Table::default();
        for (tier, rule) in raw.security.tiers {
            let at = path(&["security", "tiers", &tier]);
            if !ctx.tiers.contains(&tier) {
                self.problem(at, format!("unknown tier {tier:?}; tiers are {}", ctx.tiers.join(", ")));
                continue;
            }
            let severity = rule.severity.and_then(|s| ctx.severity_list(self, &at, "severity", &[s]).pop());
            let page_as = rule.page_as.and_then(|s| ctx.severity_list(self, &at, "page_as", &[s]).pop());
            security_tiers.insert(Tier(tier), SecurityTierRule { severity, page_as });
        }
        let bridge = raw.security.bridge;
        if !targets.contains_key(&bridge.within_target) {
            self.problem(
                path(&["security", "bridge", "within_target"]),
                format!(
                    "unknown target {:?}; targets are {}",
                    bridge.within_target,
                    targets.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            );
        }
        if bridge.role.trim().is_empty() {
            self.problem(path(&["security", "bridge", "role"]), "name the staff role that joins the bridge");
        }

        let r = raw.reports.post_incident;
        let rat = path(&["reports", "post_incident"]);
        let report_severities = ctx.severity_list(self, &rat, "severities", &r.severities);
        let report_within = ctx.target(self, &rat, &RawTarget { within: r.within, calendar: r.calendar }, false);
        let general = ctx.target(self, &path(&["general_inquiry"]), &raw.general_inquiry, false);
        let quarterly_review = raw.reports.quarterly_review.map(|q| {
            let at = path(&["reports", "quarterly_review"]);
            let mut tiers = Vec::new();
            for tier in q.tiers {
                if ctx.tiers.contains(&tier) {
                    tiers.push(Tier(tier));
                } else {
                    let mut p = at.clone();
                    p.push("tiers".into());
                    self.problem(p, format!("unknown tier {tier:?}; tiers are {}", ctx.tiers.join(", ")));
                }
            }
            if q.send_to.is_empty() {
                let mut p = at.clone();
                p.push("send_to".into());
                self.problem(p, "name who gets the review: \"tam\", \"org_admins\" or both");
            }
            ReviewRule { tiers, send_to: q.send_to }
        });

        if !self.problems.is_empty() {
            return None;
        }
        Some(Contract {
            name: raw.contract.name,
            version: raw.contract.version,
            calendars,
            severities,
            tiers,
            targets,
            escalation,
            security: SecurityRules {
                severity: security_severity?,
                tiers: security_tiers,
                bridge: BridgeRule {
                    role: bridge.role,
                    within_target: bridge.within_target,
                    overdue_notify: bridge.overdue_notify,
                },
            },
            post_incident: ReportRule {
                severities: report_severities,
                security: r.security,
                within: report_within?,
                overdue_notify: r.overdue_notify,
                sections: r.sections,
            },
            quarterly_review,
            general_inquiry: general?,
            source: text.to_string(),
        })
    }
}

/// The names defined in the file, for checking references.
struct Names {
    calendars: Vec<String>,
    severities: Vec<String>,
    tiers: Vec<String>,
}

impl Names {
    fn calendar(&self, c: &mut Checker, at: &[String], key: &str, name: &str) -> bool {
        let ok = self.calendars.iter().any(|n| n == name);
        if !ok {
            let mut p = at.to_vec();
            p.push(key.into());
            c.problem(p, format!("unknown calendar {name:?}; calendars are {}", self.calendars.join(", ")));
        }
        ok
    }

    fn severity_list(&self, c: &mut Checker, at: &[String], key: &str, list: &[String]) -> Vec<Severity> {
        let mut out = Vec::new();
        for s in list {
            if self.severities.contains(s) {
                out.push(Severity(s.clone()));
            } else {
                let mut p = at.to_vec();
                p.push(key.into());
                c.problem(p, format!("unknown severity {s:?}; severities are {}", self.severities.join(", ")));
            }
        }
        out
    }

    fn clock_span(&self, c: &mut Checker, at: &[String], key: &str, text: &str, zero_ok: bool) -> Option<Span> {
        let mut p = at.to_vec();
        p.push(key.into());
        match Span::parse(text) {
            Ok(s) if s.business => {
                c.problem(p, "escalation delays are clock time; drop \"business\"");
                None
            }
            Ok(s) if s.seconds == 0 && !zero_ok => {
                c.problem(p, "must be longer than zero");
                None
            }
            Ok(s) => Some(s),
            Err(e) => {
                c.problem(p, e.to_string());
                None
            }
        }
    }

    fn target(&self, c: &mut Checker, at: &[String], raw: &RawTarget, zero_ok: bool) -> Option<Target> {
        let mut within_at = at.to_vec();
        within_at.push("within".into());
        let within = match Span::parse(&raw.within) {
            Ok(s) if s.seconds == 0 && !zero_ok => {
                c.problem(within_at, "a target must be longer than zero");
                return None;
            }
            Ok(s) => s,
            Err(e) => {
                c.problem(within_at, e.to_string());
                return None;
            }
        };
        match (&raw.calendar, within.business) {
            (Some(name), true) => {
                self.calendar(c, at, "calendar", name).then(|| Target { within, calendar: Some(name.clone()) })
            }
            (None, false) => Some(Target { within, calendar: None }),
            (None, true) => {
                c.problem(within_at, "business time needs a calendar: add calendar = \"…\"");
                None
            }
            (Some(_), false) => {
                let mut p = at.to_vec();
                p.push("calendar".into());
                c.problem(
                    p,
                    "clock time ignores calendars: remove the calendar, or write \"business\" in the duration",
                );
                None
            }
        }
    }
}
