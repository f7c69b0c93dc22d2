//! `stringer sla due`.

use super::ContractSource;
use anyhow::{Result, bail};
use clap::Subcommand;
use jiff::Timestamp;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum SlaCommand {
    /// Print when a ticket's target falls due, as one JSON object.
    Due {
        #[command(flatten)]
        source: ContractSource,
        /// Tier (as in the contract, e.g. pro, enterprise).
        #[arg(long, required_unless_present = "general_inquiry")]
        tier: Option<String>,
        /// Severity (as in the contract, e.g. P1–P4).
        #[arg(long, required_unless_present = "general_inquiry")]
        severity: Option<String>,
        /// When the ticket was opened, RFC 3339 (e.g. 2026-11-27T20:00:00Z).
        #[arg(long)]
        opened: String,
        /// Which target (default: response).
        #[arg(long, default_value = "response")]
        target: String,
        /// The general-inquiry reply target instead of a ticket target.
        #[arg(long, conflicts_with_all = ["tier", "severity"])]
        general_inquiry: bool,
    },
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.collect::<Vec<_>>().join(", ")
}

pub fn run(command: SlaCommand) -> Result<ExitCode> {
    let SlaCommand::Due { source, tier, severity, opened, target, general_inquiry } = command;
    let contract = source.load()?;
    let opened: Timestamp = match opened.parse::<Timestamp>() {
        Ok(t) => Timestamp::from_second(t.as_second())?,
        Err(e) => bail!("invalid --opened {opened:?} ({e}); give an RFC 3339 instant such as 2026-11-27T20:00:00Z"),
    };
    let (lo, hi) = stringer_core::calendar::SUPPORTED_RANGE;
    if opened.as_second() < lo || opened.as_second() >= hi {
        bail!("--opened {opened} is outside the supported years 1900–2199");
    }
    let (cell, mut out) = if general_inquiry {
        (contract.general_inquiry.clone(), serde_json::json!({ "sla": "general_inquiry" }))
    } else {
        let (tier, severity) = (tier.expect("required by clap"), severity.expect("required by clap"));
        let Some(t) = contract.tier(&tier) else {
            bail!("unknown tier {tier:?}; valid tiers: {}", names(contract.tiers.keys().map(|t| t.as_str())));
        };
        let Some(s) = contract.severity(&severity) else {
            bail!(
                "unknown severity {severity:?}; valid severities: {}",
                names(contract.severities.keys().map(|s| s.as_str()))
            );
        };
        let Ok(cell) = contract.target(&target, &t, &s) else {
            bail!("unknown target {target:?}; valid targets: {}", names(contract.targets.keys().map(String::as_str)));
        };
        (cell.clone(), serde_json::json!({ "sla": target, "tier": t, "severity": s }))
    };
    let due = contract.due(&cell, opened);
    let fields = out.as_object_mut().expect("built as an object");
    fields.insert("opened".into(), opened.to_string().into());
    fields.insert("due".into(), due.to_string().into());
    fields.insert("target".into(), cell.within.to_string().into());
    fields.insert("target_seconds".into(), cell.within.seconds.into());
    fields.insert("business".into(), cell.within.business.into());
    fields.insert("calendar".into(), cell.calendar.clone().unwrap_or_else(|| "clock".into()).into());
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}
