//! `stringer simulate`.

use super::ContractSource;
use anyhow::{Context, Result, bail};
use clap::Args;
use jiff::Timestamp;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use stringer_app::simulate::{MAX_SCENARIO_BYTES, Scenario, ScenarioError};

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Scenario file: JSON Lines of org setups and ticket events in time order.
    scenario: PathBuf,
    #[command(flatten)]
    source: ContractSource,
    /// Stop at this instant (RFC 3339); by default run until no timer is left.
    #[arg(long)]
    until: Option<String>,
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
    let text = std::fs::read_to_string(&args.scenario)
        .with_context(|| format!("cannot read {} as UTF-8 text", args.scenario.display()))?;
    let name = args.scenario.display().to_string();
    let located = |e: ScenarioError| anyhow::anyhow!("{name}:{}: {}", e.line, e.message);
    let scenario = Scenario::parse(&text, &contract).map_err(located)?;
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let notices =
        runtime.block_on(scenario.run(contract, until)).map_err(|e| located(e).context("nothing was simulated"))?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for n in &notices {
        serde_json::to_writer(&mut out, n)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
