//! `stringer simulate`.

use super::ContractSource;
use super::serve_cmd::DatabaseArgs;
use anyhow::{Context, Result, bail};
use clap::Args;
use jiff::Timestamp;
use std::io::{Seek, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use stringer_app::simulate::{Cast, MAX_SCENARIO_BYTES, Scenario, ScenarioError};
use stringer_app::{Desk, VirtualClock};
use stringer_core::contract::Contract;

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Scenario file: JSON Lines of org setups and ticket events in time order.
    scenario: PathBuf,
    #[command(flatten)]
    source: ContractSource,
    /// Stop at this instant (RFC 3339); by default run until no timer is left.
    #[arg(long)]
    until: Option<String>,
    /// Write the scenario into a new Stringer database (--database or --data-dir) through the
    /// application, as the server would have recorded it, instead of printing its notices:
    /// e.g. a generated quarter for `stringer whatif --check`.
    #[arg(long)]
    record: bool,
    /// With --record: the database URL (`postgres://…` or `sqlite://FILE`).
    #[arg(long, value_name = "URL", requires = "record", conflicts_with = "data_dir")]
    database: Option<String>,
    /// With --record: the directory of the embedded SQLite database (created if missing).
    #[arg(long, value_name = "DIR", requires = "record")]
    data_dir: Option<PathBuf>,
}

pub fn run(args: SimulateArgs) -> Result<ExitCode> {
    let contract = Arc::new(args.source.load()?);
    let until = match &args.until {
        Some(u) => Some(u.parse::<Timestamp>().with_context(|| {
            format!("invalid --until {u:?}; give an RFC 3339 instant such as 2026-12-01T00:00:00Z")
        })?),
        None => None,
    };
    let meta = std::fs::metadata(&args.scenario).with_context(|| format!("cannot read {}", args.scenario.display()))?;
    if meta.len() > MAX_SCENARIO_BYTES as u64 {
        bail!("{} is larger than {MAX_SCENARIO_BYTES} bytes", args.scenario.display());
    }
    let name = args.scenario.display().to_string();
    let located = |e: ScenarioError| anyhow::anyhow!("{name}:{}: {}", e.line, e.message);
    let scenario = Scenario::read(&args.scenario, &contract).map_err(located)?;
    if args.record {
        return record(scenario, contract, until, args.database, args.data_dir, &name);
    }
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    // The notices go to an unnamed temporary file as they come and reach stdout only when the
    // whole scenario has run: a scenario stopped by a rejected event prints nothing, and memory
    // does not grow with the output.
    let spool = tempfile::tempfile().context("cannot create a temporary file for the notices")?;
    let mut out = std::io::BufWriter::new(spool);
    let mut written: std::io::Result<()> = Ok(());
    let run = runtime.block_on(scenario.stream(contract, until, |notices| {
        for n in &notices {
            if written.is_ok() {
                written = serde_json::to_writer(&mut out, n)
                    .map_err(std::io::Error::from)
                    .and_then(|()| out.write_all(b"\n"));
            }
        }
    }));
    run.map_err(|e| located(e).context("nothing was simulated"))?;
    written.context("cannot write the notices to a temporary file")?;
    let mut spool =
        out.into_inner().map_err(|e| e.into_error()).context("cannot write the notices to a temporary file")?;
    spool.seek(std::io::SeekFrom::Start(0))?;
    let mut stdout = std::io::stdout().lock();
    std::io::copy(&mut spool, &mut stdout)?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `--record`: the scenario written into a new database through the application.
fn record(
    scenario: Scenario<'_>,
    contract: Arc<Contract>,
    until: Option<Timestamp>,
    database: Option<String>,
    data_dir: Option<PathBuf>,
    name: &str,
) -> Result<ExitCode> {
    if database.is_none() && data_dir.is_none() {
        bail!("--record writes into a database: give --database URL or --data-dir DIR");
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let source = ContractSource { contract: None, config: None };
        let db = DatabaseArgs { database, data_dir, source };
        let store = db.open(&Default::default()).await?;
        let desk = Desk::new(contract, store.clone(), VirtualClock::new(Timestamp::UNIX_EPOCH));
        let cast =
            Cast { accounts: &store, oncall: &store, contracts: &store, stringer_version: env!("CARGO_PKG_VERSION") };
        let started = std::time::Instant::now();
        eprintln!("recording {} events of {name}…", scenario.len());
        let recorded = scenario.record(&desk, &cast, until).await;
        store.close().await;
        let r = recorded.map_err(|e| anyhow::anyhow!("{name}:{}: {}", e.line, e.message))?;
        eprintln!(
            "recorded {} orgs, {} staff, {} tickets, {} events, {} notices ({} pages) in {:.1} s",
            r.orgs,
            r.staff,
            r.tickets,
            r.events,
            r.notices,
            r.pages,
            started.elapsed().as_secs_f64()
        );
        Ok(ExitCode::SUCCESS)
    })
}
