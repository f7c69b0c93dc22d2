//! The contract file exactly as written (TOML), before references and durations are checked.

use crate::calendar::CalendarSpec;
use crate::ids::{Role, Via};
use indexmap::IndexMap;
use serde::Deserialize;

use super::{Measure, ReviewRecipient};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawContract {
    pub contract: RawMeta,
    pub calendars: IndexMap<String, CalendarSpec>,
    pub severities: IndexMap<String, RawSeverity>,
    pub tiers: IndexMap<String, RawTier>,
    pub targets: IndexMap<String, RawTargetDef>,
    pub escalation: IndexMap<String, RawEscalation>,
    pub security: RawSecurity,
    pub reports: RawReports,
    pub general_inquiry: RawTarget,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMeta {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSeverity {
    pub name: String,
    pub definition: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTier {
    pub name: String,
    pub coverage: String,
    #[serde(default)]
    pub always_covered: Vec<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub default_severity: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTargetDef {
    pub measures: Measure,
    #[serde(default)]
    pub pause_while_waiting: bool,
    pub tiers: IndexMap<String, IndexMap<String, RawTarget>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTarget {
    pub within: String,
    #[serde(default)]
    pub calendar: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEscalation {
    #[serde(default)]
    pub page_on_open: Vec<String>,
    pub steps: Vec<RawStep>,
    pub customer_page: RawCustomerPage,
    #[serde(default)]
    pub queue_notify: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub notify: Role,
    pub after: String,
    #[serde(default)]
    pub severities: Option<Vec<String>>,
    #[serde(default)]
    pub via: Vec<Via>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCustomerPage {
    pub severities: Vec<String>,
    pub opens_after: String,
    pub while_unacknowledged: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSecurity {
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub tiers: IndexMap<String, RawSecurityTier>,
    pub bridge: RawBridge,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSecurityTier {
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub page_as: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBridge {
    pub role: String,
    pub within_target: String,
    #[serde(default)]
    pub overdue_notify: Vec<Role>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReports {
    pub post_incident: RawReportRule,
    #[serde(default)]
    pub quarterly_review: Option<RawReviewRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReviewRule {
    pub tiers: Vec<String>,
    pub send_to: Vec<ReviewRecipient>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReportRule {
    pub severities: Vec<String>,
    pub security: bool,
    pub within: String,
    #[serde(default)]
    pub calendar: Option<String>,
    #[serde(default)]
    pub overdue_notify: Vec<Role>,
    #[serde(default)]
    pub sections: Vec<String>,
}
