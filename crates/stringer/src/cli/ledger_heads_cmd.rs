//! `stringer ledger key | sign | rotate-key`: the ledger's public key as the database records
//! it, a head signed now, and a new key endorsed by the current one (docs/ledger.md §6.1).

use super::serve_cmd::DatabaseArgs;
use crate::ledger_key;
use anyhow::{Result, anyhow};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use stringer_app::Clock;
use stringer_app::ledger::{LedgerBook, Notary, notary};
use stringer_engine::SystemClock;
use stringer_ledger::head::PublicKey;
use stringer_store::SqlStore;

/// The ledger's key and signed heads.
#[derive(Subcommand, Debug)]
pub enum HeadsCommand {
    /// Print the log's current public key, its key id and fingerprint (from the database).
    Key(DatabaseArgs),
    /// Sign the log's tree head now with the key file (as the server's notary would) and
    /// print it in its JSON form.
    Sign(KeyArgs),
    /// Endorse a new key with the current one: from then on only the new key signs (restart
    /// the server with it). The new key file is created (mode 0600) if missing.
    RotateKey(RotateArgs),
}

/// Where the ledger's signing key is.
#[derive(Args, Debug)]
pub struct KeyArgs {
    /// The ledger's signing key file [default: ledger.key in --data-dir].
    #[arg(long, env = "STRINGER_LEDGER_KEY", value_name = "FILE")]
    pub ledger_key: Option<PathBuf>,
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// The current key and the one that replaces it.
#[derive(Args, Debug)]
pub struct RotateArgs {
    /// The new key's file (created if missing).
    #[arg(long, value_name = "FILE")]
    new: PathBuf,
    #[command(flatten)]
    key: KeyArgs,
}

impl KeyArgs {
    /// The key file these arguments name (see [`ledger_key::path`]).
    pub fn path(&self, config: &crate::config::ConfigFile) -> PathBuf {
        ledger_key::path(self.ledger_key.as_deref(), self.db.data_dir.as_deref(), config)
    }
}

async fn open(db: &DatabaseArgs) -> Result<(SqlStore, crate::config::ConfigFile)> {
    let config = db.source.config()?;
    Ok((db.open(&config).await?, config))
}

pub fn run(command: HeadsCommand) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        match command {
            HeadsCommand::Key(db) => {
                let (store, _) = open(&db).await?;
                let keys = store.log_keys().await;
                store.close().await;
                let Some(key) = keys?.last().map(|k| k.public_key) else {
                    anyhow::bail!("the log has no key yet: start the server once, and it records its key");
                };
                println!("{key}\nkey_id {}\nfingerprint {}", hex_id(&key), key.fingerprint());
            }
            HeadsCommand::Sign(args) => {
                let (store, config) = open(&args.db).await?;
                let key = ledger_key::load(&args.path(&config))?;
                let signed = async {
                    let notary = Notary::open(Arc::new(store.clone()), key, Arc::new(SystemClock)).await?;
                    notary.sign_now().await
                }
                .await;
                store.close().await;
                println!("{}", serde_json::to_string(&signed.map_err(|e| anyhow!("{e}"))?)?);
            }
            HeadsCommand::RotateKey(args) => {
                let (store, config) = open(&args.key.db).await?;
                let old = ledger_key::load(&args.key.path(&config))?;
                let new = PublicKey::of(&ledger_key::load_or_create(&args.new)?);
                let rotated = notary::rotate(&store, &old, &new, SystemClock.now().as_second()).await;
                store.close().await;
                let rotation = rotated.map_err(|e| anyhow!("{e}"))?;
                println!(
                    "{}\nThe log's key is now {} (fingerprint {}); restart the server with --ledger-key {}.",
                    serde_json::to_string(&rotation)?,
                    new,
                    new.fingerprint(),
                    args.new.display()
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn hex_id(key: &PublicKey) -> String {
    key.key_id().iter().map(|b| format!("{b:02x}")).collect()
}
