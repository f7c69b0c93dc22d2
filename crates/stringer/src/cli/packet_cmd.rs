//! `stringer packet`: an org's welcome packet from the database `serve` uses.

use super::serve_cmd::DatabaseArgs;
use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use std::process::ExitCode;
use stringer_app::packet::Reachable;
use stringer_core::ids::OrgSlug;
use stringer_core::mail::MailAddresses;

/// Print an org's welcome packet.
#[derive(Args, Debug)]
pub struct PacketArgs {
    /// The org's slug.
    #[arg(long)]
    org: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Md)]
    format: Format,
    /// The server's address as its users reach it (as `serve --public-url`).
    #[arg(long, env = "STRINGER_PUBLIC_URL", value_name = "URL", default_value = "http://127.0.0.1:8080")]
    public_url: String,
    /// The support domain(s), as `serve --mail-domain` (none: the packet names no mail address).
    #[arg(long, env = "STRINGER_MAIL_DOMAINS", value_name = "DOMAIN", value_delimiter = ',')]
    mail_domain: Vec<String>,
    /// The local part of the security mailbox, as `serve --mail-security`.
    #[arg(long, env = "STRINGER_MAIL_SECURITY", value_name = "NAME", default_value = "security")]
    mail_security: String,
    /// The P1 phone line's number, as `serve --sms-from` (none: the packet names no line).
    #[arg(long, env = "STRINGER_SMS_FROM", value_name = "E164")]
    phone_line: Option<String>,
    #[command(flatten)]
    db: DatabaseArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Format {
    /// Markdown.
    Md,
    /// A print-friendly HTML document.
    Html,
}

pub fn run(args: PacketArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let (store, ports, config) = args.db.ports().await?;
        let domains =
            if args.mail_domain.is_empty() { config.mail_domains.unwrap_or_default() } else { args.mail_domain };
        let domains: Vec<String> =
            domains.iter().map(|d| d.trim().to_ascii_lowercase()).filter(|d| !d.is_empty()).collect();
        let reachable = Reachable {
            public_url: args.public_url,
            phone_line: args.phone_line,
            addresses: (!domains.is_empty()).then(|| MailAddresses {
                domains,
                support: "support".into(),
                security: args.mail_security.to_ascii_lowercase(),
                inquiries: Vec::new(),
            }),
        };
        let Some(org) = ports.accounts.org(&OrgSlug::from(args.org.as_str())).await? else {
            store.close().await;
            bail!("no org {:?} in this database", args.org);
        };
        let packet = stringer_app::packet::of(
            ports.accounts.as_ref(),
            ports.ledger.as_ref(),
            ports.commands.contract(),
            &org,
            &reachable,
        )
        .await;
        store.close().await;
        let packet = packet?;
        match args.format {
            Format::Md => print!("{}", stringer_app::packet::markdown(&packet)),
            Format::Html => print!("{}", stringer_app::packet::html(&packet)),
        }
        Ok(ExitCode::SUCCESS)
    })
}
