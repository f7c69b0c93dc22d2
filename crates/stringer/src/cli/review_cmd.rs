//! `stringer review`: an org's quarterly operational review from the database `serve` uses.

use super::serve_cmd::DatabaseArgs;
use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use std::io::Write;
use std::process::ExitCode;
use stringer_core::ids::OrgSlug;
use stringer_core::review::Quarter;

/// Print an org's quarterly operational review.
#[derive(Args, Debug)]
pub struct ReviewArgs {
    /// The org's slug.
    #[arg(long)]
    org: String,
    /// The quarter, e.g. 2026-Q4 (quarters run in UTC).
    #[arg(long, value_parser = parse_quarter)]
    quarter: Quarter,
    /// Output format: Markdown, HTML (the page's layout as one print-friendly file, with its
    /// charts), JSON (every figure), or CSV (one row per ticket and target, the figures' source).
    #[arg(long, value_enum, default_value_t = Format::Md)]
    format: Format,
    #[command(flatten)]
    db: DatabaseArgs,
}

fn parse_quarter(text: &str) -> Result<Quarter, String> {
    Quarter::parse(text).ok_or_else(|| format!("{text:?} is not a quarter (write e.g. 2026-Q4)"))
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Format {
    /// Markdown.
    Md,
    /// HTML.
    Html,
    /// JSON.
    Json,
    /// CSV.
    Csv,
}

pub fn run(args: ReviewArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let (store, ports, _) = args.db.ports().await?;
        let Some(org) = ports.accounts.org(&OrgSlug::from(args.org.as_str())).await? else {
            store.close().await;
            bail!("no org {:?} in this database", args.org);
        };
        let started = std::time::Instant::now();
        let mut progress = |what: &str| eprintln!("[{:>6.2} s] {what}", started.elapsed().as_secs_f64());
        let now = ports.commands.now().as_second();
        let review = stringer_app::review::review(&ports.for_review(), &org, args.quarter, now, &mut progress).await;
        // The HTML names the recommendations' author, so it is written while the database is open.
        let html = match (&review, args.format) {
            (Ok(r), Format::Html) => Some(stringer_web::pages::review::document(&ports, r, args.quarter).await),
            _ => None,
        };
        store.close().await;
        let review = review?;
        progress("done");
        let text = match args.format {
            Format::Html => html.transpose()?.unwrap_or_default(),
            Format::Md => stringer_app::review::markdown(&review),
            Format::Json => serde_json::to_string_pretty(&review)? + "\n",
            Format::Csv => stringer_app::review::csv(&review),
        };
        std::io::stdout().lock().write_all(text.as_bytes())?;
        Ok(ExitCode::SUCCESS)
    })
}
