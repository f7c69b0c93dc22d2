//! `stringer org …`: org chores run against a running server through its API (the server
//! holds the Slack app's token): `kickoff` sets up an org's shared Slack channel.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Kick off an org's shared Slack channel: create it if missing, invite its TAM and named
    /// engineers and (Slack Connect) its admins, post and pin the welcome message.
    Kickoff(KickoffArgs),
}

#[derive(Args, Debug)]
pub struct KickoffArgs {
    /// The org's slug.
    org: String,
    /// The server's address, e.g. https://support.vendor.example.
    #[arg(long, env = "STRINGER_URL", value_name = "URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// A staff admin's API token (scope admin); better given in the environment.
    #[arg(long, env = "STRINGER_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    token: String,
}

pub fn run(command: OrgCommand) -> Result<ExitCode> {
    match command {
        OrgCommand::Kickoff(args) => {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(kickoff(args))
        }
    }
}

async fn kickoff(args: KickoffArgs) -> Result<ExitCode> {
    if args.org.is_empty() || !args.org.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        bail!("{:?} is not an org slug (lowercase letters, digits and dashes)", args.org);
    }
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let url = format!("{}/api/v1/orgs/{}/kickoff", args.url.trim_end_matches('/'), args.org);
    let response = client
        .post(&url)
        .bearer_auth(&args.token)
        .send()
        .await
        .with_context(|| format!("cannot reach the server at {}", args.url))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if !status.is_success() {
        bail!("the server refused: {status}: {}", body["detail"].as_str().unwrap_or("(no detail)"));
    }
    let list = |key: &str| {
        body[key]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    };
    let created = if body["created"] == true { "created" } else { "existed" };
    println!("channel {} ({created})", body["channel"].as_str().unwrap_or_default());
    println!("invited: {}", list("invited"));
    if !list("not_invited").is_empty() {
        println!("not invited: {}", list("not_invited"));
    }
    match body["shared_refused"].as_str() {
        Some(why) => println!("Slack Connect invitations not sent: {why}"),
        None => println!("Slack Connect invitations: {}", list("shared_with")),
    }
    println!("welcome message pinned ({})", body["welcome"].as_str().unwrap_or_default());
    Ok(ExitCode::SUCCESS)
}
