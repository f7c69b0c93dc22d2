//! `stringer whatif`: a past window's tickets replayed under a proposed contract and under the
//! one they ran under, from the database `serve` uses, and the difference.

use super::ContractSource;
use super::serve_cmd::DatabaseArgs;
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use jiff::Timestamp;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use stringer_app::Clock;
use stringer_app::history::ContractHistory;
use stringer_app::whatif::{Check, Mapping, Request, WhatIfPorts, check, compare, recorded_baseline, render};
use stringer_core::contract::Contract;
use stringer_core::ids::OrgSlug;
use stringer_core::review::Quarter;
use stringer_engine::SystemClock;

/// Replay a past window's tickets under a proposed contract and compare with what happened.
#[derive(Args, Debug)]
pub struct WhatIfArgs {
    /// The proposed contract (TOML). Unlike other commands, STRINGER_CONTRACT is not read here:
    /// it names the contract in force, which is the baseline.
    #[arg(long, value_name = "FILE", required_unless_present = "check")]
    contract: Option<PathBuf>,
    /// The contract the tickets ran under [default: the one `serve` recorded in the database;
    /// else the config file's, else the built-in one].
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// A quarter, e.g. 2026-Q3 (quarters run in UTC); or give --from and --to.
    #[arg(long, value_parser = parse_quarter, conflicts_with_all = ["from", "to"])]
    quarter: Option<Quarter>,
    /// The window's first day (UTC), e.g. 2026-07-01.
    #[arg(long, value_parser = parse_day, requires = "to")]
    from: Option<Timestamp>,
    /// The day after the window's last (UTC), e.g. 2026-10-01.
    #[arg(long, value_parser = parse_day, requires = "from")]
    to: Option<Timestamp>,
    /// Only these orgs (repeatable) [default: every org].
    #[arg(long = "org", value_name = "SLUG")]
    orgs: Vec<String>,
    /// A name the proposed contract lacks, and the one to replay it as: severity:P4=P3 or
    /// tier:pro=standard (repeatable). Without one, such tickets are listed as not comparable.
    #[arg(long = "map", value_name = "KIND:OLD=NEW")]
    maps: Vec<String>,
    /// Replay an org's tickets at another tier of the proposed contract: acme=premium
    /// (repeatable), e.g. to see what a new tier would have meant.
    #[arg(long = "retier", value_name = "ORG=TIER")]
    retiers: Vec<String>,
    /// Check instead of comparing: replay the window under the baseline (the contract in
    /// force), each change and each sweep of the engine at its recorded instant, and compare
    /// every notice and every ticket's state with what the server recorded; exit 1 naming the
    /// first ticket that differs.
    #[arg(long, conflicts_with_all = ["contract", "maps", "retiers"])]
    check: bool,
    /// With --check: exit 1 also when an input overtook a timer that had fallen due (the
    /// server was down or its sweep behind, so the timer's effect never happened).
    #[arg(long, requires = "check")]
    strict: bool,
    /// Output format: text (Markdown, as read in a terminal), md, html (one print-friendly
    /// file), json (every figure), csv (the tickets whose outcome changes, with both due times).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Database URL (`postgres://…` or `sqlite://FILE`) [default: stringer.db in --data-dir].
    #[arg(long, env = "STRINGER_DATABASE", value_name = "URL")]
    database: Option<String>,
    /// Directory of the embedded SQLite database.
    #[arg(long, env = "STRINGER_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Config file (TOML), as `serve` reads it.
    #[arg(long, env = "STRINGER_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
}

fn parse_quarter(text: &str) -> Result<Quarter, String> {
    Quarter::parse(text).ok_or_else(|| format!("{text:?} is not a quarter (write e.g. 2026-Q3)"))
}

fn parse_day(text: &str) -> Result<Timestamp, String> {
    let day: jiff::civil::Date = text.parse().map_err(|_| format!("{text:?} is not a day (write e.g. 2026-07-01)"))?;
    day.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()).map_err(|e| e.to_string())
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Format {
    /// Markdown, for a terminal.
    Text,
    /// Markdown.
    Md,
    /// HTML: the console page's report as one standalone, print-friendly file.
    Html,
    /// JSON.
    Json,
    /// CSV.
    Csv,
}

fn load(path: &std::path::Path) -> Result<Contract> {
    let text = crate::config::read_limited(path)?;
    Contract::from_toml(&text, &path.display().to_string()).map_err(|e| anyhow::anyhow!("{e}"))
}

pub fn run(args: WhatIfArgs) -> Result<ExitCode> {
    let (from, until) = match (args.quarter, args.from, args.to) {
        (Some(q), _, _) => (q.start(), q.end()),
        (None, Some(from), Some(to)) if from < to => (from, to),
        (None, Some(_), Some(_)) => bail!("--from must be before --to"),
        _ => bail!("give the window: --quarter 2026-Q3, or --from DAY --to DAY"),
    };
    let proposed = match &args.contract {
        Some(path) => Some(Arc::new(load(path)?)),
        None => None,
    };
    let mapping = match &proposed {
        Some(p) => Mapping::parse(&args.maps, &args.retiers, p).map_err(anyhow::Error::msg)?,
        None => Mapping::default(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let source = ContractSource { contract: None, config: args.config.clone() };
        let db = DatabaseArgs { database: args.database.clone(), data_dir: args.data_dir.clone(), source };
        let config = db.source.config()?;
        let store = db.open(&config).await?;
        let mut notes = Vec::new();
        let baseline = match &args.baseline {
            Some(path) => load(path)?,
            None => {
                let recorded = store.contracts().await?;
                let in_force = recorded.iter().filter(|r| r.at < until.as_second()).count();
                match recorded_baseline(&recorded, until) {
                    Some(record) => {
                        if in_force > 1 {
                            notes.push(format!(
                                "{} contracts were recorded before the window's end; the baseline is the last, \
                                 {} (recorded {}).",
                                in_force,
                                record.name,
                                Timestamp::from_second(record.at).map(|t| t.to_string()).unwrap_or_default()
                            ));
                        }
                        Contract::from_toml(&record.source, "the contract recorded in the database")
                            .map_err(|e| anyhow::anyhow!("{e}"))?
                    }
                    None => {
                        notes.push(
                            "The database records no contract (a server older than this command wrote it): the \
                             baseline is the config file's, or the built-in one."
                                .to_string(),
                        );
                        crate::config::load_contract(None, &config)?
                    }
                }
            }
        };
        let orgs: Vec<OrgSlug> = args.orgs.iter().map(|o| OrgSlug::from(o.as_str())).collect();
        let ports = WhatIfPorts { history: Arc::new(store.clone()), accounts: Arc::new(store.clone()) };
        for org in &orgs {
            if ports.accounts.org(org).await?.is_none() {
                store.close().await;
                bail!("no org {org:?} in this database");
            }
        }
        let baseline = Arc::new(baseline);
        let started = std::time::Instant::now();
        let Some(proposed) = proposed else {
            let last = ports.history.last_recorded().await?.unwrap_or(from.as_second());
            let as_of = Timestamp::from_second(last)?;
            let request = Request { baseline: baseline.clone(), proposed: baseline, from, until, orgs, mapping, as_of };
            eprintln!("[{:>6.2} s] checking the tickets opened from {from} until {until}, up to {as_of}", 0.0);
            let mut progress =
                |done: u64| eprintln!("[{:>6.2} s] checked {done} tickets", started.elapsed().as_secs_f64());
            let found = check(&ports, &request, &mut progress).await;
            store.close().await;
            let found = found.context("the check failed")?;
            eprintln!("[{:>6.2} s] done", started.elapsed().as_secs_f64());
            return report_check(&found, args.format, args.strict);
        };
        let request = Request { baseline, proposed, from, until, orgs, mapping, as_of: SystemClock.now() };
        eprintln!("[{:>6.2} s] replaying the tickets opened from {from} until {until}", 0.0);
        let mut progress =
            |done: u64| eprintln!("[{:>6.2} s] replayed {done} tickets", started.elapsed().as_secs_f64());
        let report = compare(&ports, &request, &mut progress).await;
        store.close().await;
        let mut report = report.context("the replay failed")?;
        report.notes.extend(notes);
        eprintln!("[{:>6.2} s] done", started.elapsed().as_secs_f64());
        let text = match args.format {
            Format::Text | Format::Md => render::markdown(&report),
            Format::Html => stringer_web::pages::whatif::document(&report)?,
            Format::Json => serde_json::to_string_pretty(&report)? + "\n",
            Format::Csv => render::csv(&report),
        };
        std::io::stdout().lock().write_all(text.as_bytes())?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Prints what a check found; exit 1 when a ticket's replay differs from its record.
fn report_check(found: &Check, format: Format, strict: bool) -> Result<ExitCode> {
    let overtaken = match &found.first_overtaken {
        Some(first) => {
            format!("; {} timers overtaken by an input before a sweep ran them (first: {first})", found.overtaken)
        }
        None => String::new(),
    };
    let text = match format {
        Format::Json => serde_json::to_string_pretty(found)? + "\n",
        _ => match &found.mismatch {
            None => format!(
                "identical: {} tickets, {} notices ({} pages) as recorded; {} timers ran late, the longest lag {} s{overtaken}\n",
                found.tickets, found.notices, found.pages, found.late_timers, found.max_lag_seconds
            ),
            Some(m) => format!(
                "differs: {} ({} tickets checked before it)\n  {}\n  recorded: {}\n  replayed: {}\n",
                m.ticket, found.tickets, m.what, m.recorded, m.replayed
            ),
        },
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    let failed = found.mismatch.is_some() || (strict && found.overtaken > 0);
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
