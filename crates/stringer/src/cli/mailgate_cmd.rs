//! `stringer mailgate`: hands one message read on stdin to a running server, for a mail
//! server's pipe transport (Postfix `pipe`, Exim `pipe`), as Request Tracker's `rt-mailgate`
//! does. The exit status follows sysexits.h, which mail servers understand: 0 delivered, 75
//! (try again later) when the server cannot be reached or fails, 65 when the message is
//! refused for what it is, 77 when the token is refused.

use anyhow::Result;
use clap::Args;
use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;
use stringer_app::mail::MAX_MESSAGE_BYTES;

const EX_DATAERR: u8 = 65;
const EX_TEMPFAIL: u8 = 75;
const EX_NOPERM: u8 = 77;

#[derive(Args, Debug)]
pub struct MailgateArgs {
    /// The server's address, e.g. https://support.vendor.example.
    #[arg(long, env = "STRINGER_URL", value_name = "URL")]
    url: String,
    /// A staff admin's API token (scope write); better given in the environment.
    #[arg(long, env = "STRINGER_MAILGATE_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    token: String,
    /// The envelope recipient (Postfix: ${recipient}); without it the message's headers are read.
    #[arg(long, value_name = "ADDRESS")]
    recipient: Option<String>,
    /// The envelope sender (Postfix: ${sender}).
    #[arg(long, value_name = "ADDRESS")]
    sender: Option<String>,
    /// Seconds to wait for the server.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=600))]
    timeout: u64,
}

pub fn run(args: MailgateArgs) -> Result<ExitCode> {
    let mut raw = Vec::new();
    if let Err(e) = std::io::stdin().take(MAX_MESSAGE_BYTES as u64 + 1).read_to_end(&mut raw) {
        eprintln!("stringer mailgate: cannot read the message on stdin: {e}");
        return Ok(ExitCode::from(EX_TEMPFAIL));
    }
    if raw.is_empty() {
        eprintln!("stringer mailgate: no message on stdin");
        return Ok(ExitCode::from(EX_DATAERR));
    }
    if raw.len() > MAX_MESSAGE_BYTES {
        eprintln!("stringer mailgate: the message is larger than {MAX_MESSAGE_BYTES} bytes");
        return Ok(ExitCode::from(EX_DATAERR));
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    Ok(ExitCode::from(runtime.block_on(hand_over(&args, raw))))
}

async fn hand_over(args: &MailgateArgs, raw: Vec<u8>) -> u8 {
    let client = match reqwest::Client::builder().timeout(Duration::from_secs(args.timeout)).build() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("stringer mailgate: {e}");
            return EX_TEMPFAIL;
        }
    };
    let mut query = vec![("via", "mailgate".to_string())];
    if let Some(r) = &args.recipient {
        query.push(("recipient", r.clone()));
    }
    if let Some(s) = args.sender.as_ref().filter(|s| !s.is_empty()) {
        query.push(("sender", s.clone()));
    }
    let url = format!("{}/api/v1/mail/inbound", args.url.trim_end_matches('/'));
    let sent = client
        .post(url)
        .query(&query)
        .bearer_auth(&args.token)
        .header("content-type", "message/rfc822")
        .body(raw)
        .send()
        .await;
    let response = match sent {
        Ok(r) => r,
        Err(e) => {
            eprintln!("stringer mailgate: the server did not take the message (try again later): {e}");
            return EX_TEMPFAIL;
        }
    };
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    match status.as_u16() {
        200..=299 => {
            println!("{body}");
            0
        }
        401 | 403 => {
            eprintln!("stringer mailgate: the token was refused ({status}): {body}");
            EX_NOPERM
        }
        400 | 413 | 415 | 422 => {
            eprintln!("stringer mailgate: the message was refused ({status}): {body}");
            EX_DATAERR
        }
        _ => {
            eprintln!("stringer mailgate: the server failed ({status}); try again later: {body}");
            EX_TEMPFAIL
        }
    }
}
