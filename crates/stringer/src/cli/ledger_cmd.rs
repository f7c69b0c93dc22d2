//! `stringer ledger`: the server's ledger, from its database (docs/ledger.md "Audit").
//! `backfill` appends the rows written before the ledger; `audit` recomputes every leaf from
//! its event and the tree from its leaves and names the first mismatch
//! (`stringer_app::ledger_audit`).

use super::serve_cmd::DatabaseArgs;
use anyhow::Result;
use clap::{Args, Subcommand};
use std::process::ExitCode;
use std::time::Instant;
use stringer_app::ledger_audit::{Audit, audit};
use stringer_ledger::head::PublicKey;

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Append the timeline rows written before the ledger existed, in row order (`serve` does
    /// this at start; running it again appends nothing).
    Backfill(BackfillArgs),
    /// Recompute every leaf from its stored event and the tree from the leaves; print the
    /// first mismatch, naming its event, and exit 1, or exit 0 with a summary.
    Audit(AuditArgs),
}

#[derive(Args, Debug)]
pub struct BackfillArgs {
    #[command(flatten)]
    db: DatabaseArgs,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// The log's public key as you pinned it (`ed25519:…`, or a file holding it): signed
    /// heads must be signed by it or by a key it endorsed, whatever keys the database holds.
    #[arg(long, value_name = "KEY|FILE")]
    key: Option<String>,
    #[command(flatten)]
    db: DatabaseArgs,
}

pub fn run(command: AuditCommand) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    match command {
        AuditCommand::Backfill(args) => runtime.block_on(async {
            let store = args.db.open(&args.db.source.config()?).await?;
            let appended = store.ledger_backfill().await;
            store.close().await;
            println!("appended {} rows written before the ledger", appended?);
            Ok(ExitCode::SUCCESS)
        }),
        AuditCommand::Audit(args) => runtime.block_on(run_audit(args)),
    }
}

/// Exit 0 when the log holds, 1 at its first mismatch (on stdout), 2 when it cannot be
/// audited (on stderr).
async fn run_audit(args: AuditArgs) -> Result<ExitCode> {
    let key = match args.key.as_deref().map(read_key).transpose() {
        Ok(key) => key,
        Err(e) => {
            eprintln!("error: --key: {e:#}");
            return Ok(ExitCode::from(2));
        }
    };
    let store = match args.db.source.config() {
        Ok(config) => args.db.open(&config).await,
        Err(e) => Err(e),
    };
    let store = match store {
        Ok(store) => store,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(2));
        }
    };
    let started = Instant::now();
    let outcome = audit(&store, key.as_ref()).await;
    store.close().await;
    match outcome {
        Ok(Audit::Clean { leaves, root, heads }) => {
            println!(
                "clean: {leaves} leaves checked against their events, root {}, {heads} signed heads, in {:.1} s",
                root.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(Audit::Mismatch(finding)) => {
            println!("mismatch: {finding}");
            Ok(ExitCode::from(1))
        }
        Err(e) => {
            eprintln!("error: the audit could not read the database: {e}");
            Ok(ExitCode::from(2))
        }
    }
}

fn read_key(text: &str) -> Result<PublicKey> {
    let text = match text.trim().starts_with("ed25519:") {
        true => text.to_owned(),
        false => std::fs::read_to_string(text)?,
    };
    text.trim().parse::<PublicKey>().map_err(|e| anyhow::anyhow!("{e}"))
}
