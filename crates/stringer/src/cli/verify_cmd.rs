//! `stringer verify`: a ticket's ledger bundle, or an org's quarterly-review figure bundle,
//! checked offline against a pinned key and an earlier head or bundle (docs/ledger.md,
//! "Verifying a bundle", §6.5).

use anyhow::{Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use stringer_ledger::bundle::{Bundle, Previous, REVIEW_FORMAT, ReviewBundle, verify_bundle, verify_review_bundle};
use stringer_ledger::head::PublicKey;

/// The largest bundle or head file read, in bytes.
const MAX_FILE_BYTES: u64 = 64 << 20;

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The bundle (JSON), as the ticket's proof download gives it.
    bundle: PathBuf,
    /// The log's public key to hold the bundle to (`ed25519:…`, or a file holding it), e.g.
    /// the one pinned from the welcome packet. Without it, the bundle's own key is taken, which
    /// proves the entries consistent but not whose log they are in.
    #[arg(long, value_name = "KEY|FILE")]
    key: Option<String>,
    /// An earlier signed head (JSON) or an earlier bundle of the same ticket: the log must
    /// extend it, and the earlier bundle's entries must reappear unchanged.
    #[arg(long, value_name = "FILE")]
    previous_head: Option<PathBuf>,
}

/// What `stringer verify` checks: a ticket's bundle or a review's.
enum Document {
    Ticket(Bundle),
    Review(ReviewBundle),
}

/// The bundle, the pinned key and the earlier head or bundle the arguments name.
fn inputs(args: &VerifyArgs) -> Result<(Document, Option<PublicKey>, Option<Previous>)> {
    let text = read(&args.bundle)?;
    let bundle = match is_review(&text) {
        true => ReviewBundle::from_json(&text).map(Document::Review),
        false => Bundle::from_json(&text).map(Document::Ticket),
    }
    .map_err(|e| anyhow::anyhow!("{}: {e}", args.bundle.display()))?;
    let key = match &args.key {
        None => None,
        Some(text) => {
            let text = match text.trim().starts_with("ed25519:") {
                true => text.clone(),
                false => read(Path::new(text))?,
            };
            Some(text.parse::<PublicKey>().map_err(|e| anyhow::anyhow!("--key: {e}"))?)
        }
    };
    let previous = match &args.previous_head {
        None => None,
        Some(path) => {
            let text = read(path)?;
            // An earlier review document stands for the head it was proved under.
            let previous = match is_review(&text) {
                true => ReviewBundle::from_json(&text).map(|r| Previous::Head(r.head)),
                false => Previous::from_json(&text),
            };
            Some(previous.map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?)
        }
    };
    Ok((bundle, key, previous))
}

/// Whether a document is a review's figure bundle (by its `format`).
fn is_review(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .is_ok_and(|v| v.get("format").and_then(|f| f.as_str()) == Some(REVIEW_FORMAT))
}

fn read(path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    anyhow::ensure!(meta.len() <= MAX_FILE_BYTES, "{} is larger than {MAX_FILE_BYTES} bytes", path.display());
    std::fs::read_to_string(path).with_context(|| format!("cannot read {} as UTF-8 text", path.display()))
}

/// Exit 0 when the bundle holds, 1 when it is refused (the first failure, naming its event,
/// on stdout), 2 when an input cannot be used (on stderr).
pub fn run(args: VerifyArgs) -> Result<ExitCode> {
    let (bundle, key, previous) = match inputs(&args) {
        Ok(inputs) => inputs,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(2));
        }
    };
    let verified = match &bundle {
        Document::Ticket(bundle) => verify_bundle(bundle, key.as_ref(), previous.as_ref()),
        Document::Review(review) => verify_review_bundle(review, key.as_ref(), previous.as_ref().map(Previous::head)),
    };
    match verified {
        Ok(v) => {
            let what = match &bundle {
                Document::Ticket(bundle) => format!("{} entries of {}", v.entries, bundle.ticket.key),
                Document::Review(review) => {
                    format!("the figures of {}'s {} review", review.review.org, review.review.quarter)
                }
            };
            println!(
                "verified: {what} ({} pending) in the log of key {}{}, under a head of {} entries signed at {}{}",
                v.pending,
                v.fingerprint,
                if v.pinned { " (pinned)" } else { " (not pinned: give --key to know whose log this is)" },
                v.tree_size,
                jiff::Timestamp::from_second(v.timestamp as i64).map(|t| t.to_string()).unwrap_or_default(),
                v.previous_size.map(|s| format!(", extending the earlier head of {s} entries")).unwrap_or_default(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("refused: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
