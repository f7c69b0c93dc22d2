//! `stringer contract show|check`.

use super::ContractSource;
use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use stringer_core::contract::{Contract, Measure, Misfit, ReviewRecipient, Target};
use stringer_core::ids::Role;

#[derive(Subcommand, Debug)]
pub enum ContractCommand {
    /// Print the contract in force as a person reads it (or as JSON / its TOML source).
    Show {
        #[command(flatten)]
        source: ContractSource,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Validate a contract file; problems are listed as FILE:LINE:COLUMN: KEY.PATH: message.
    Check {
        /// The contract file to check.
        file: PathBuf,
        /// Also check that it covers a server's data (`postgres://…` or `sqlite://FILE`):
        /// every org's tier and every open ticket's tier and severity, as `serve` does before
        /// it starts.
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Format {
    /// The support page's tables and lists.
    Text,
    /// The checked contract as JSON.
    Json,
    /// The TOML source (a starting point for your own contract).
    Toml,
}

pub fn run(command: ContractCommand) -> Result<ExitCode> {
    match command {
        ContractCommand::Show { source, format } => {
            let contract = source.load()?;
            match format {
                Format::Text => print!("{}", render(&contract)),
                Format::Json => println!("{}", serde_json::to_string_pretty(&contract)?),
                Format::Toml => print!("{}", contract.source()),
            }
            Ok(ExitCode::SUCCESS)
        }
        ContractCommand::Check { file, database } => {
            let text = crate::config::read_limited(&file)?;
            match Contract::from_toml(&text, &file.display().to_string()) {
                Ok(c) => {
                    if let Some(url) = database {
                        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                        let store = runtime.block_on(stringer_store::SqlStore::connect(&url))?;
                        let misfits = runtime.block_on(misfits(&c, &store))?;
                        if !misfits.is_empty() {
                            eprintln!(
                                "{}: does not cover the data in the database:\n{}",
                                file.display(),
                                list(&misfits)
                            );
                            return Ok(ExitCode::FAILURE);
                        }
                    }
                    println!(
                        "{}: ok ({} tiers, {} severities, {} targets, {} calendars)",
                        file.display(),
                        c.tiers.len(),
                        c.severities.len(),
                        c.targets.len(),
                        c.calendars.len()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{e}");
                    eprintln!("{}: {} problem(s)", file.display(), e.diagnostics.len());
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

/// What in `store`'s orgs and open tickets `contract` does not cover.
pub async fn misfits(contract: &Contract, store: &stringer_store::SqlStore) -> Result<Vec<Misfit>> {
    let (orgs, tickets) = store.names_in_use().await?;
    Ok(contract.misfits(&orgs, &tickets))
}

/// Misfits one a line, for people.
pub fn list(misfits: &[Misfit]) -> String {
    misfits.iter().map(|m| format!("  {m}")).collect::<Vec<_>>().join("\n")
}

fn cell_text(t: &Target) -> String {
    t.within.to_string()
}

fn role_text(r: Role) -> &'static str {
    match r {
        Role::Oncall => "on-call engineer",
        Role::Tam => "TAM",
        Role::VpEngineering => "VP of Engineering",
        Role::SupportLead => "support lead",
    }
}

fn table(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for (n, row) in rows.iter().enumerate() {
        let line: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        let _ = writeln!(out, "  {}", line.join("  ").trim_end());
        if n == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            let _ = writeln!(out, "  {}", rule.join("  "));
        }
    }
    out
}

/// The contract as the support page reads: targets table, coverage, escalation, security,
/// reports and general inquiries.
pub fn render(c: &Contract) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}{}\n", c.name, c.version.as_ref().map(|v| format!(" (version {v})")).unwrap_or_default());
    for (name, def) in &c.targets {
        let what = match def.measures {
            Measure::FirstResponse => "first response",
            Measure::NextReply => "next reply",
            Measure::Resolution => "resolution",
        };
        let pause = if def.pause_while_waiting { ", paused while waiting on the customer" } else { "" };
        let _ = writeln!(out, "SLA target \"{name}\" ({what}{pause})");
        let mut rows = vec![{
            let mut h = vec!["Severity".to_string(), "Definition".to_string()];
            h.extend(c.tiers.values().map(|t| format!("{} {}", t.name, name)));
            h
        }];
        for (sev, sd) in &c.severities {
            let mut r = vec![format!("{sev} — {}", sd.name), sd.definition.clone()];
            r.extend(def.tiers.values().map(|cells| cell_text(&cells[sev])));
            rows.push(r);
        }
        out.push_str(&table(&rows));
        out.push('\n');
    }
    let _ = writeln!(out, "Hours of coverage");
    for t in c.tiers.values() {
        let cal = &c.calendars[&t.coverage];
        let summary = t.summary.clone().unwrap_or_else(|| cal.spec.description.clone().unwrap_or_default());
        let always = if t.always_covered.is_empty() {
            String::new()
        } else {
            format!("; always covered: {}", t.always_covered.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))
        };
        let _ = writeln!(out, "  {}: {summary}  [calendar {}{always}]", t.name, t.coverage);
    }
    let _ = writeln!(out, "\nEscalation paths");
    for (tier, p) in &c.escalation {
        let _ = writeln!(out, "  {}:", c.tiers[tier].name);
        let paging: Vec<&str> = p.page_on_open.iter().map(|s| s.as_str()).collect();
        if paging.is_empty() {
            let _ = writeln!(out, "    - no severity pages on opening");
        } else {
            let _ = writeln!(out, "    - {} tickets page at once", paging.join(" and "));
        }
        for (i, s) in p.steps.iter().enumerate() {
            let when =
                if s.after.seconds == 0 { "at once".to_string() } else { format!("after {} unacknowledged", s.after) };
            let only = s
                .severities
                .as_ref()
                .map(|v| format!(" (for {})", v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")))
                .unwrap_or_default();
            let via: Vec<&str> = s
                .via
                .iter()
                .map(|v| match v {
                    stringer_core::ids::Via::OrgChannel => "the org's Slack channel",
                    stringer_core::ids::Via::ContactMethods => "their contact methods",
                })
                .collect();
            let _ =
                writeln!(out, "    {}. page the {} {when}{only} via {}", i + 1, role_text(s.notify), via.join(" and "));
        }
        let cp = &p.customer_page;
        let sevs: Vec<&str> = cp.severities.iter().map(|s| s.as_str()).collect();
        let when = if cp.opens_after.seconds == 0 {
            "at any time".to_string()
        } else {
            format!("{} after opening", cp.opens_after)
        };
        let unack = if cp.while_unacknowledged { ", while unacknowledged" } else { "" };
        let _ = writeln!(out, "    - the customer may page on-call for {} tickets {when}{unack}", sevs.join("/"));
        if !p.queue_notify.is_empty() {
            let q: Vec<&str> = p.queue_notify.iter().map(|s| s.as_str()).collect();
            let _ = writeln!(
                out,
                "    - {} tickets wait in the queue; the queue is notified during coverage hours",
                q.join("/")
            );
        }
    }
    let _ = writeln!(out, "\nSecurity incidents");
    let _ = writeln!(
        out,
        "  Every security incident is opened as {}, whatever severity is asked for.",
        c.security.severity
    );
    for (tier, r) in &c.security.tiers {
        let mut parts = Vec::new();
        if let Some(s) = &r.severity {
            parts.push(format!("opened as {s} instead"));
        }
        if let Some(s) = &r.page_as {
            parts.push(format!("page on-call at once as {s}"));
        }
        let _ = writeln!(out, "  {}: {}", c.tiers[tier].name, parts.join("; "));
    }
    let b = &c.security.bridge;
    let _ = writeln!(
        out,
        "  Join the customer's incident bridge with a {} within the \"{}\" target.",
        b.role.replace('_', " "),
        b.within_target
    );
    if !b.overdue_notify.is_empty() {
        let notify: Vec<&str> = b.overdue_notify.iter().map(|n| role_text(*n)).collect();
        let _ = writeln!(out, "  A bridge not joined in time alerts the {}.", notify.join(" and "));
    }
    let r = &c.post_incident;
    let sevs: Vec<&str> = r.severities.iter().map(|s| s.as_str()).collect();
    let cal = r.within.calendar.as_ref().map(|n| format!(" on calendar {n}")).unwrap_or_default();
    let _ = writeln!(out, "\nPost-incident reports");
    let _ = writeln!(
        out,
        "  Due {}{cal} after a {} ticket{} is resolved; sections: {}.",
        r.within.within,
        sevs.join(" or "),
        if r.security { " or any security incident" } else { "" },
        r.sections.join(", ")
    );
    let notify: Vec<&str> = r.overdue_notify.iter().map(|n| role_text(*n)).collect();
    let _ = writeln!(out, "  Overdue reports alert the {}.", notify.join(" and "));
    if let Some(q) = &c.quarterly_review {
        let tiers: Vec<&str> = q.tiers.iter().map(|t| c.tiers.get(t).map_or(t.as_str(), |d| d.name.as_str())).collect();
        let to: Vec<&str> = q
            .send_to
            .iter()
            .map(|r| match r {
                ReviewRecipient::Tam => "the TAM",
                ReviewRecipient::OrgAdmins => "the org's admins",
            })
            .collect();
        let _ = writeln!(
            out,
            "\nQuarterly operational reviews\n  Mailed to {} of each {} org when a quarter ends.",
            to.join(" and "),
            tiers.join(" or ")
        );
    }
    let g = &c.general_inquiry;
    let cal = g.calendar.as_ref().map(|n| format!(" (calendar {n})")).unwrap_or_default();
    let _ = writeln!(out, "\nGeneral inquiries\n  A real engineer replies within {}{cal}.", g.within);
    out
}
