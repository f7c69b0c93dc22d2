//! `stringer admin init`.

use super::serve_cmd::DatabaseArgs;
use anyhow::{Result, bail};
use clap::Subcommand;
use std::process::ExitCode;
use std::sync::Arc;
use stringer_web::AppState;
use stringer_web::bootstrap::first_admin;

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create the first admin and print a one-time token (refused once any user exists).
    Init {
        /// The admin's email.
        #[arg(long, default_value = "admin@stringer.example")]
        email: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

pub fn run(command: AdminCommand) -> Result<ExitCode> {
    let AdminCommand::Init { email, db } = command;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let config = db.source.config()?;
        let contract = Arc::new(crate::config::load_contract(db.source.contract.as_deref(), &config)?);
        let store = db.open(&config).await?;
        let desk = Arc::new(stringer_app::Desk::new(contract, store.clone(), stringer_engine::SystemClock));
        let state = AppState::new(crate::wiring::ports(&store, desk));
        let Some(admin) = first_admin(&state, &email).await? else {
            store.close().await;
            bail!("users exist already; ask an admin for a token");
        };
        println!("created admin {}\ntoken (shown once): {}", admin.email, admin.token);
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}
