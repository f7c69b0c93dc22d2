//! `stringer`: the support-operations platform's one binary.

mod cli;
mod config;
mod ledger_key;
mod wiring;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc instead of the system allocator: the server and the batch commands allocate and
/// free small values on many threads (rows read on the database's threads are freed on the
/// replay's and the request's), where glibc's arenas cost a sixth of a what-if's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Logs to stderr; `RUST_LOG` filters (default: info).
fn logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// A command whose reader goes away (`stringer contract show | head`) ends quietly, as Unix
/// tools do, instead of panicking on the broken pipe: SIGPIPE gets its default action back.
fn quiet_on_closed_pipe() {
    // SAFETY: runs first in `main`, before any other thread exists, and only restores the
    // default action of one signal; no handler is installed.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    if !args.serves() {
        quiet_on_closed_pipe();
    }
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
