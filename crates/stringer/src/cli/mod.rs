//! Command-line interface: argument parsing and dispatch.

mod admin_cmd;
mod contract_cmd;
mod ledger_cmd;
mod ledger_heads_cmd;
mod mailgate_cmd;
mod org_cmd;
mod packet_cmd;
mod review_cmd;
mod serve_cmd;
mod simulate_cmd;
mod sla_cmd;
mod verify_cmd;
mod whatif_cmd;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Stringer keeps the promises of a support contract: SLA clocks, escalation, simulation.
#[derive(Parser, Debug)]
#[command(name = "stringer", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the contract comes from; shared by every command that uses one.
#[derive(Args, Debug, Clone)]
pub struct ContractSource {
    /// Contract file (TOML) replacing the built-in default contract.
    #[arg(long, env = "STRINGER_CONTRACT", value_name = "FILE")]
    pub contract: Option<PathBuf>,
    /// Config file (TOML) with any of: contract, listen, data_dir, database, smtp_listen,
    /// mail_domains, ledger_key (flags and STRINGER_* variables override it).
    #[arg(long, env = "STRINGER_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
}

impl ContractSource {
    fn config(&self) -> Result<crate::config::ConfigFile> {
        crate::config::ConfigFile::load(self.config.as_deref())
    }

    fn load(&self) -> Result<stringer_core::contract::Contract> {
        crate::config::load_contract(self.contract.as_deref(), &self.config()?)
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show or check a support contract.
    #[command(subcommand)]
    Contract(contract_cmd::ContractCommand),
    /// SLA computations.
    #[command(subcommand)]
    Sla(sla_cmd::SlaCommand),
    /// Replay a scenario of ticket events through the escalation engine (what-if analysis).
    Simulate(simulate_cmd::SimulateArgs),
    /// Run the support desk: HTTP API, live SLA clocks and timers, on SQLite or PostgreSQL.
    Serve(Box<serve_cmd::ServeArgs>),
    /// Administration: create the first admin.
    #[command(subcommand)]
    Admin(admin_cmd::AdminCommand),
    /// Hand one message on stdin to a running server (a mail server's pipe transport).
    Mailgate(mailgate_cmd::MailgateArgs),
    /// Org chores on a running server: kick off an org's shared Slack channel.
    #[command(subcommand)]
    Org(org_cmd::OrgCommand),
    /// Print an org's welcome packet (Markdown or HTML) from the server's database.
    Packet(packet_cmd::PacketArgs),
    /// Print an org's quarterly operational review (Markdown, JSON, or the CSV of its rows)
    /// from the server's database.
    Review(review_cmd::ReviewArgs),
    /// Replay a past window's tickets under a proposed contract and compare with the one they
    /// ran under: outcomes, pages, load on people, deadlines (text, Markdown, JSON or CSV).
    Whatif(Box<whatif_cmd::WhatIfArgs>),
    /// Check a ticket's ledger bundle offline: every event in the log under a signed head,
    /// the key pinned, the log extending an earlier head or bundle.
    Verify(verify_cmd::VerifyArgs),
    /// The tamper-evident ledger: its key and signed heads, the backfill of rows older than
    /// it, and its audit against the stored events.
    #[command(subcommand)]
    Ledger(LedgerCommand),
}

/// `stringer ledger …`: each group of subcommands lives in its own module.
#[derive(Subcommand, Debug)]
enum LedgerCommand {
    #[command(flatten)]
    Heads(ledger_heads_cmd::HeadsCommand),
    #[command(flatten)]
    Audit(ledger_cmd::AuditCommand),
}

/// Runs a parsed command line.
impl Cli {
    /// Whether the command is the long-running server (the only one that keeps Rust's ignored
    /// SIGPIPE: a client closing its connection must never end it).
    pub fn serves(&self) -> bool {
        matches!(self.command, Command::Serve(_))
    }
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Contract(c) => contract_cmd::run(c),
        Command::Sla(c) => sla_cmd::run(c),
        Command::Simulate(a) => simulate_cmd::run(a),
        Command::Serve(a) => serve_cmd::run(*a),
        Command::Admin(c) => admin_cmd::run(c),
        Command::Mailgate(a) => mailgate_cmd::run(a),
        Command::Org(c) => org_cmd::run(c),
        Command::Packet(a) => packet_cmd::run(a),
        Command::Review(a) => review_cmd::run(a),
        Command::Whatif(a) => whatif_cmd::run(*a),
        Command::Verify(a) => verify_cmd::run(a),
        Command::Ledger(LedgerCommand::Heads(c)) => ledger_heads_cmd::run(c),
        Command::Ledger(LedgerCommand::Audit(c)) => ledger_cmd::run(c),
    }
}
